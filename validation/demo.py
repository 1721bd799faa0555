"""The demo: two versions of a PD model on the Statlog German credit data, validated end to end.

Deterministic, from the vendored ``validation/datasets/german.csv`` (1,000 applicants; licence note
beside it) and fixed seeds:

- ``default = 1 - risk`` (1 = bad credit risk, the event); ``applicant_id`` 1..1000 (an identifier,
  never a feature); ``age_band`` (``<25``, ``25-34``, ``35-49``, ``50+``) derived from ``age`` as a
  protected attribute beside ``sex``.
- **Development sample**: 600 applicants drawn at random (seed 20251231).
- **Monitoring sample**: five months (``month`` 2025-07 to 2025-11) of 60 applicants each, drawn
  *without replacement* from the other 400 applicants (300 of them; each at most once), with
  weights ``exp(-s (age - 35) / 10) * (credit_amount / median credit_amount)^(s / 2)`` (the median
  of the 400) and a shift strength ``s`` growing 0.2, 0.4, ..., 1.0 month by month: the monitored
  population gets younger and borrows more over time. The months are drawn from the most shifted
  (2025-11, ``s = 1.0``) back to the least (2025-07, ``s = 0.2``), each from the applicants not yet
  drawn, so the young applicants with large loans are not used up before the month that shifts
  most. A seeded re-sampling: the outcomes are the applicants' real outcomes, and the rows are
  independent, as every test assumes.
- **v1**: logistic regression on one-hot categoricals and standardised numerics.
  **v2**: gradient boosting (200 trees of depth 3, learning rate 0.05, subsample 0.8, seed 7).
  Both are fitted on the development sample and saved with skops; their sha256 goes into the spec.
- The development sample is the one the models are fitted on, so the spec says
  ``data.reference_kind: training``, and gives each version its development AUC measured honestly
  under ``reference_metrics``: the mean AUC over the five folds of a stratified 5-fold
  cross-validation of the same pipeline on the development sample (folds shuffled with seed
  20251231), not the in-sample AUC, and the approval rate and bad rate among the approved of the
  same folds' out-of-fold PDs at the decision threshold.
- The spec ``params/german_credit_pd.yaml`` lists both versions. Its decision threshold (approve
  when PD < 0.35) and master scale are fixed here, before any result is seen; whatever the
  statistics then say is what the packs say.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from validation.inputs.artifacts import sha256_file

SEED = 20251231
DEMO_MODEL = "german_credit_pd"
FEATURES = ["checking_account", "saving_accounts", "credit_amount", "duration", "purpose",
            "housing", "job", "age"]
CATEGORICAL = ["checking_account", "saving_accounts", "purpose", "housing"]
NUMERIC = ["credit_amount", "duration", "job", "age"]
THRESHOLD = 0.35
MASTER_SCALE = [0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.55, 0.70, 1.0]


def project_root() -> Path:
    """Where the demo lives: ``VALIDATION_DEMO_ROOT`` if set, else the checkout this package is
    installed from (editable install), else the working folder."""
    configured = os.environ.get("VALIDATION_DEMO_ROOT")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def german_credit() -> pd.DataFrame:
    """The vendored German credit data with ``default``, ``applicant_id`` and ``age_band``."""
    raw = pd.read_csv(Path(__file__).resolve().parent / "datasets" / "german.csv")
    frame = raw.drop(columns=["risk"]).copy()
    frame.insert(0, "applicant_id", np.arange(1, len(raw) + 1))
    frame["default"] = (1 - raw["risk"]).astype(np.int64)
    frame["age_band"] = pd.cut(raw["age"], bins=[0, 24, 34, 49, 200],
                               labels=["<25", "25-34", "35-49", "50+"]).astype(str)
    return frame


MONTHS = ["2025-07", "2025-08", "2025-09", "2025-10", "2025-11"]
MONTH_SIZE = 60
"""Applicants drawn per month: 300 of the 400 not in the development sample, each at most once."""
REFERENCE_SOURCE = "5-fold cross-validation on the development sample"


def shift_weights(applicants: pd.DataFrame, strength: float, median_amount: float) -> np.ndarray:
    """Sampling weights of a month of shift ``strength``: younger applicants and larger loans more
    likely, ``exp(-s (age - 35) / 10) * (credit_amount / median_amount)^(s / 2)``."""
    weights = (np.exp(-strength * (applicants["age"] - 35) / 10)
               * (applicants["credit_amount"] / median_amount) ** (0.5 * strength))
    return weights.to_numpy(dtype=float)


def build_samples(frame: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Development and monitoring samples (see the module docstring)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    development = frame.iloc[order[:600]].reset_index(drop=True)
    pool = frame.iloc[order[600:]].reset_index(drop=True)
    median_amount = float(pool["credit_amount"].median())
    left = np.arange(len(pool))  # positions in the pool of the applicants not drawn yet
    months: dict[str, pd.DataFrame] = {}
    for index in range(len(MONTHS), 0, -1):  # the most shifted month first
        strength = index / len(MONTHS)  # 0.2, 0.4, ..., 1.0 from the first month to the last
        weights = shift_weights(pool.iloc[left], strength, median_amount)
        drawn = rng.choice(len(left), size=MONTH_SIZE, replace=False, p=weights / weights.sum())
        months[MONTHS[index - 1]] = pool.iloc[left[drawn]].assign(month=MONTHS[index - 1])
        left = np.delete(left, drawn)
    monitoring = pd.concat([months[month] for month in MONTHS], ignore_index=True)
    return development, monitoring


def pipelines() -> dict[str, Any]:
    """v1 (logistic regression) and v2 (gradient boosting), not fitted; fixed seeds."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def encoder() -> OneHotEncoder:
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False)

    v1 = Pipeline([
        ("prep", ColumnTransformer([("cat", encoder(), CATEGORICAL), ("num", StandardScaler(), NUMERIC)])),
        ("model", LogisticRegression(max_iter=2000)),
    ])
    v2 = Pipeline([
        ("prep", ColumnTransformer([("cat", encoder(), CATEGORICAL), ("num", "passthrough", NUMERIC)])),
        ("model", GradientBoostingClassifier(n_estimators=200, max_depth=3, learning_rate=0.05,
                                             subsample=0.8, random_state=7)),
    ])
    return {"1": v1, "2": v2}


def train_models(development: pd.DataFrame) -> dict[str, Any]:
    """v1 and v2 (:func:`pipelines`) fitted on the development sample."""
    x, y = development[FEATURES], development["default"]
    return {version: pipeline.fit(x, y) for version, pipeline in pipelines().items()}


def cross_validated_auc(pipeline: Any, development: pd.DataFrame, *, folds: int = 5,
                        seed: int = SEED) -> float:
    """The development AUC of a pipeline measured out of sample: the mean of the AUCs of the
    ``folds`` held-out folds of a stratified k-fold cross-validation (folds shuffled with ``seed``),
    each scored by a copy of the pipeline fitted on the other folds (Hastie, Tibshirani and
    Friedman 2009, section 7.10). Unlike the AUC of the fitted model on its own training data, it
    is what the model can be expected to reach on new applicants from the same population."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(pipeline, development[FEATURES], development["default"], cv=splits,
                             scoring="roc_auc")
    return float(np.mean(scores))


def cross_validated_decisions(pipeline: Any, development: pd.DataFrame, *, folds: int = 5,
                              seed: int = SEED) -> dict[str, float]:
    """The business figures at the decision threshold measured out of sample: every applicant of
    the development sample scored by the pipeline fitted on the other folds (the same folds as
    :func:`cross_validated_auc`), approved when the PD is below :data:`THRESHOLD`; returns the
    ``approval_rate`` and the ``bad_rate_approved`` (the default rate among the approved)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(pipeline, development[FEATURES], development["default"], cv=splits,
                               method="predict_proba")[:, 1]
    approved = scores < THRESHOLD
    return {"approval_rate": float(approved.mean()),
            "bad_rate_approved": float(development["default"].to_numpy()[approved].mean())}


def _write_atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def prepare_demo(root: Path | None = None) -> Path:
    """Build the demo data, models and spec under ``root`` (default: the project root).

    Writes ``demo/data/{development,monitoring}.parquet``, ``demo/models/german_credit_v{1,2}.skops``
    and ``params/german_credit_pd.yaml``; returns the spec's path. The data files also hold each
    version's scores, ``pd_v1`` and ``pd_v2``, for scores-only specs such as
    ``params/example_pd.yaml``: a skops file's sha256 changes with every write (the zip holds its
    write time), so a committed spec cannot pin the artifacts.
    """
    import skops.io as sio

    from validation.inputs.artifacts import predict_scores

    root = root or project_root()
    development, monitoring = build_samples(german_credit())
    models = train_models(development)
    for version, model in models.items():
        for sample in (development, monitoring):
            sample[f"pd_v{version}"] = predict_scores(model, sample[FEATURES])
    data_dir, model_dir = root / "demo" / "data", root / "demo" / "models"
    for name, sample in (("development", development), ("monitoring", monitoring)):
        _write_atomic(data_dir / f"{name}.parquet", lambda p, s=sample: s.to_parquet(p, index=False))
    versions = []
    unfitted = pipelines()
    for version, model in models.items():
        artifact = model_dir / f"german_credit_v{version}.skops"
        _write_atomic(artifact, lambda p, m=model: sio.dump(m, p))
        auc = round(cross_validated_auc(unfitted[version], development), 4)
        decisions = {k: round(v, 4) for k, v in cross_validated_decisions(unfitted[version], development).items()}
        versions.append({"version": version,
                         "artifact": os.path.relpath(artifact, root / "params"),
                         "artifact_sha256": sha256_file(artifact),
                         "reference_metrics": {"auc": auc, **decisions, "source": REFERENCE_SOURCE}})
    spec = {
        "model": {
            "name": DEMO_MODEL,
            "version": versions[-1]["version"],
            "type": "classification",
            "owner": "Retail Credit Risk (demo)",
            "purpose": "Probability of default of consumer loan applicants (Statlog German credit data)",
            "tier": 2,
        },
        "data": {
            "reference": os.path.relpath(data_dir / "development.parquet", root / "params"),
            "current": os.path.relpath(data_dir / "monitoring.parquet", root / "params"),
            "reference_kind": "training",
            "target": "default",
            "features": FEATURES,
            "protected": ["sex", "age_band"],
            "ids": ["applicant_id"],
            "time": "month",
            "segments": ["housing"],
            "exposure": "credit_amount",
        },
        "decision": {"threshold": THRESHOLD, "favourable": "below"},
        "grades": MASTER_SCALE,
        "checks": {"drift": {}, "fairness": {"intersections": [["sex", "age_band"]]},
                   "explainability": {"monotone": {"duration": "increasing"}}, "backtesting": {}},
        "versions": versions,
    }
    spec_path = root / "params" / f"{DEMO_MODEL}.yaml"
    header = ("# Written by `validation demo` (validation/demo.py); re-created on every demo run.\n"
              "# Two versions of one PD model; scores are computed from each version's artifact.\n")
    _write_atomic(spec_path, lambda p: p.write_text(header + yaml.safe_dump(spec, sort_keys=False)))
    return spec_path


DESK_MODEL = "trading_desk_var"


def trading_desk(seed: int = SEED) -> pd.DataFrame:
    """A seeded synthetic trading desk: 500 business days of P&L and the desk's 99% VaR.

    P&L is Student-t with 4 degrees of freedom (fat tails), volatility 1.0m, rising to 2.5m for
    60 days from day 330 (a stress period). The VaR model is the normal 99% quantile of the last
    60 days' P&L standard deviation: it ignores fat tails and reacts late to the stress, so it
    under-estimates risk exactly when it matters.
    """
    rng = np.random.default_rng(seed)
    days = 500 + 60
    volatility = np.ones(days)
    volatility[60 + 330:60 + 390] = 2.5
    pnl = rng.standard_t(4, size=days) / np.sqrt(2.0) * volatility * 1e6  # t4 has variance 2
    rolling_sd = pd.Series(pnl).rolling(60).std().shift(1).to_numpy()
    from scipy import stats

    var = stats.norm.ppf(0.99) * rolling_sd
    dates = pd.bdate_range("2024-01-01", periods=days).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates, "pnl": pnl, "var_99": var}).iloc[60:].reset_index(drop=True)
    return frame


def prepare_var_demo(root: Path | None = None) -> Path:
    """Write the trading desk's data (reference: the first, calm 250 days; current: all 500 days,
    the backtest window, whose last 250 days set the Basel zone's plus factor) and its spec
    ``params/trading_desk_var.yaml``; returns the spec's path."""
    root = root or project_root()
    desk = trading_desk()
    data_dir = root / "demo" / "data"
    for name, part in (("desk_reference", desk.iloc[:250]), ("desk_current", desk)):
        _write_atomic(data_dir / f"{name}.parquet", lambda p, f=part: f.to_parquet(p, index=False))
    spec = {
        "model": {"name": DESK_MODEL, "version": "1", "type": "var", "owner": "Markets Risk (demo)",
                  "purpose": "99% one-day VaR of a synthetic trading desk (fat-tailed P&L, a stress period)",
                  "tier": 1},
        "data": {"reference": os.path.relpath(data_dir / "desk_reference.parquet", root / "params"),
                 "current": os.path.relpath(data_dir / "desk_current.parquet", root / "params"),
                 "pnl": "pnl", "var": "var_99", "var_level": 0.99, "time": "date", "features": []},
        "checks": ["backtesting"],
    }
    spec_path = root / "params" / f"{DESK_MODEL}.yaml"
    header = "# Written by `validation demo` (validation/demo.py); re-created on every demo run.\n"
    _write_atomic(spec_path, lambda p: p.write_text(header + yaml.safe_dump(spec, sort_keys=False)))
    return spec_path


def ensure_demo(root: Path | None = None) -> Path:
    """The demo spec's path, building the demo first if it is not there yet."""
    root = root or project_root()
    spec_path = root / "params" / f"{DEMO_MODEL}.yaml"
    if not spec_path.is_file():
        return prepare_demo(root)
    return spec_path
