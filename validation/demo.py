"""The demo: a champion and a challenger PD model on the Statlog German credit data, a trading
desk's VaR, validated end to end, and the champion's review.

Deterministic, from the vendored ``validation/datasets/german.csv`` (1,000 applicants; licence note
beside it) and fixed seeds; nothing is downloaded.

- ``default = 1 - risk`` (1 = bad credit risk, the event); ``applicant_id`` 1..1000 (an identifier,
  never a feature); ``age_band`` (``<25``, ``25-34``, ``35-49``, ``50+``) derived from ``age`` as a
  protected attribute beside ``sex``.
- **Development sample**: 500 applicants drawn at random (seed 20251231); the models are fitted on
  it and never see the other 500.
- **Out-of-time reference**: 150 of the other 500 at random, ``month`` 2025-06, the first months
  after development (``data.reference_kind: out_of_time``): the drift check's reference.
- **Monitoring sample**: five months (``month`` 2025-07 to 2025-11) of 60 applicants each, drawn
  *without replacement* from the last 350 applicants (300 of them; each at most once), with
  weights ``exp(-s (age - 35) / 10) * (credit_amount / median credit_amount)^(s / 2)`` (the median
  of the 350) and a shift strength ``s`` growing 0.2, 0.4, ..., 1.0 month by month: the monitored
  population gets younger and borrows more over time. The months are drawn from the most shifted
  (2025-11, ``s = 1.0``) back to the least (2025-07, ``s = 0.2``), each from the applicants not yet
  drawn, so the young applicants with large loans are not used up before the month that shifts
  most. A seeded re-sampling: the outcomes are the applicants' real outcomes, and the rows are
  independent, as every test assumes.
- **Version 1, the champion**: a logistic regression (L2 penalty ``C = 0.1``, the best of 0.01 to
  10 in the development sample's cross-validation) on one-hot categoricals and standardised
  numerics, without ``age`` and without ``housing``, which stands in for it (46% of the applicants
  under 25 rent their home, 11% of those aged 35-49).
  **Version 2, the challenger**: gradient boosting (200 trees of depth 3, learning rate 0.05,
  subsample 0.8, seed 7) on the same inputs plus ``housing`` and ``age``.
  Both are fitted on the development sample and saved with skops; their sha256 goes into the spec.
- Each version's development figures, under ``reference_metrics``, are measured out of sample: the
  mean AUC over the five folds of a stratified 5-fold cross-validation of the same pipeline on the
  development sample (folds shuffled with seed 20251231), and the approval rate and bad rate among
  the approved of the same folds' out-of-fold PDs at the decision threshold.
- The spec ``params/german_credit_pd.yaml`` lists both versions. Its decision threshold (approve
  when PD < 0.35) and master scale are fixed here, before any result is seen, and no threshold of
  the policy is changed; whatever the statistics then say is what the packs say.
- **The trading desk** (:func:`trading_desk`): a VaR estimated on a year of P&L meets a stress
  period it reacts to slowly.
- **The review** (:func:`record_review`): after the runs, the champion's pack gets a completed
  review: a rating, a conclusion written from the pack's figures, two raised issues (register
  items with owner, due date and remediation) and one accepted finding.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from validation.inputs.artifacts import sha256_file

if TYPE_CHECKING:
    from validation.governance.registry import Registry

SEED = 20251231
DEMO_MODEL = "german_credit_pd"
CHAMPION_FEATURES = ["checking_account", "saving_accounts", "credit_amount", "duration", "purpose", "job"]
"""The champion's inputs: neither ``age`` nor ``housing``, whose ``rent`` recreates it (46% of the
applicants under 25 rent their home, 11% of those aged 35-49)."""
CHALLENGER_FEATURES = [*CHAMPION_FEATURES, "housing", "age"]
"""The challenger's inputs: the champion's, with ``housing`` and ``age`` added back."""
FEATURES = CHALLENGER_FEATURES
"""The spec's top-level ``data.features``: every input of either version; each version names its own."""
CATEGORICAL = ["checking_account", "saving_accounts", "purpose", "housing"]
NUMERIC = ["credit_amount", "duration", "job", "age"]
THRESHOLD = 0.35
MASTER_SCALE = [0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.55, 0.70, 1.0]
CHAMPION, CHALLENGER = "1", "2"
CHAMPION_C = 0.1
"""Inverse L2 penalty of the champion's logistic regression: of :data:`CHAMPION_C_GRID`, the one of
the highest cross-validated AUC on the development sample (0.759)."""
CHAMPION_C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 10.0)


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


DEVELOPMENT_SIZE = 500
"""Applicants the models are fitted on."""
REFERENCE_SIZE = 150
"""Applicants of the out-of-time reference sample, held out of development."""
REFERENCE_MONTH = "2025-06"
MONTHS = ["2025-07", "2025-08", "2025-09", "2025-10", "2025-11"]
MONTH_SIZE = 60
"""Applicants drawn per month: 300 of the 350 neither in development nor in the reference, each at most once."""
REFERENCE_SOURCE = "5-fold cross-validation on the development sample"


def shift_weights(applicants: pd.DataFrame, strength: float, median_amount: float) -> np.ndarray:
    """Sampling weights of a month of shift ``strength``: younger applicants and larger loans more
    likely, ``exp(-s (age - 35) / 10) * (credit_amount / median_amount)^(s / 2)``."""
    weights = (np.exp(-strength * (applicants["age"] - 35) / 10)
               * (applicants["credit_amount"] / median_amount) ** (0.5 * strength))
    return weights.to_numpy(dtype=float)


def build_samples(frame: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Development, out-of-time reference and monitoring samples (see the module docstring)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    development = frame.iloc[order[:DEVELOPMENT_SIZE]].reset_index(drop=True)
    held_out = frame.iloc[order[DEVELOPMENT_SIZE:]].reset_index(drop=True)
    reference = held_out.iloc[:REFERENCE_SIZE].assign(month=REFERENCE_MONTH).reset_index(drop=True)
    pool = held_out.iloc[REFERENCE_SIZE:].reset_index(drop=True)
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
    return development, reference, monitoring


def version_features() -> dict[str, list[str]]:
    """The inputs of each version: the champion's (no age, no housing) and the challenger's."""
    return {CHAMPION: list(CHAMPION_FEATURES), CHALLENGER: list(CHALLENGER_FEATURES)}


def pipelines() -> dict[str, Any]:
    """The champion (a regularised logistic regression) and the challenger (gradient boosting),
    not fitted; fixed seeds."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def encoder() -> OneHotEncoder:
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False)

    def columns(version: str, kinds: list[str]) -> list[str]:
        return [c for c in version_features()[version] if c in kinds]

    champion = Pipeline([
        ("prep", ColumnTransformer([("cat", encoder(), columns(CHAMPION, CATEGORICAL)),
                                    ("num", StandardScaler(), columns(CHAMPION, NUMERIC))])),
        ("model", LogisticRegression(C=CHAMPION_C, max_iter=2000)),
    ])
    challenger = Pipeline([
        ("prep", ColumnTransformer([("cat", encoder(), columns(CHALLENGER, CATEGORICAL)),
                                    ("num", "passthrough", columns(CHALLENGER, NUMERIC))])),
        ("model", GradientBoostingClassifier(n_estimators=200, max_depth=3, learning_rate=0.05,
                                             subsample=0.8, random_state=7)),
    ])
    return {CHAMPION: champion, CHALLENGER: challenger}


def train_models(development: pd.DataFrame) -> dict[str, Any]:
    """The champion and the challenger (:func:`pipelines`) fitted on the development sample, each
    on its own features."""
    features, y = version_features(), development["default"]
    return {version: pipeline.fit(development[features[version]], y) for version, pipeline in pipelines().items()}


def cross_validated_auc(pipeline: Any, development: pd.DataFrame, features: list[str], *, folds: int = 5,
                        seed: int = SEED) -> float:
    """The development AUC of a pipeline measured out of sample: the mean of the AUCs of the
    ``folds`` held-out folds of a stratified k-fold cross-validation (folds shuffled with ``seed``),
    each scored by a copy of the pipeline fitted on the other folds (Hastie, Tibshirani and
    Friedman 2009, section 7.10). Unlike the AUC of the fitted model on its own training data, it
    is what the model can be expected to reach on new applicants from the same population."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(pipeline, development[features], development["default"], cv=splits,
                             scoring="roc_auc")
    return float(np.mean(scores))


def cross_validated_decisions(pipeline: Any, development: pd.DataFrame, features: list[str], *, folds: int = 5,
                              seed: int = SEED) -> dict[str, float]:
    """The business figures at the decision threshold measured out of sample: every applicant of
    the development sample scored by the pipeline fitted on the other folds (the same folds as
    :func:`cross_validated_auc`), approved when the PD is below :data:`THRESHOLD`; returns the
    ``approval_rate`` and the ``bad_rate_approved`` (the default rate among the approved)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(pipeline, development[features], development["default"], cv=splits,
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

    Writes ``demo/data/{development,reference,monitoring}.parquet``,
    ``demo/models/german_credit_v{1,2}.skops`` and ``params/german_credit_pd.yaml``; returns the
    spec's path. The data files also hold each version's scores, ``pd_v1`` and ``pd_v2``, for
    scores-only specs such as ``params/example_pd.yaml``: a skops file's sha256 changes with every
    write (the zip holds its write time), so a committed spec cannot pin the artifacts.
    """
    import skops.io as sio

    from validation.inputs.artifacts import predict_scores

    root = root or project_root()
    development, reference, monitoring = build_samples(german_credit())
    models = train_models(development)
    features = version_features()
    for version, model in models.items():
        for sample in (development, reference, monitoring):
            sample[f"pd_v{version}"] = predict_scores(model, sample[features[version]])
    data_dir, model_dir = root / "demo" / "data", root / "demo" / "models"
    for name, sample in (("development", development), ("reference", reference), ("monitoring", monitoring)):
        _write_atomic(data_dir / f"{name}.parquet", lambda p, s=sample: s.to_parquet(p, index=False))
    versions = []
    unfitted = pipelines()
    for version, model in models.items():
        artifact = model_dir / f"german_credit_v{version}.skops"
        _write_atomic(artifact, lambda p, m=model: sio.dump(m, p))
        auc = round(cross_validated_auc(unfitted[version], development, features[version]), 4)
        decisions = {k: round(v, 4) for k, v in
                     cross_validated_decisions(unfitted[version], development, features[version]).items()}
        versions.append({"version": version,
                         "artifact": os.path.relpath(artifact, root / "params"),
                         "artifact_sha256": sha256_file(artifact),
                         "data": {"features": features[version]},
                         "reference_metrics": {"auc": auc, **decisions, "source": REFERENCE_SOURCE}})
    spec_path = root / "params" / f"{DEMO_MODEL}.yaml"
    spec = pd_spec(versions, data_dir=os.path.relpath(data_dir, spec_path.parent))
    header = ("# Written by `validation demo` (validation/demo.py); re-created on every demo run.\n"
              "# Version 1 is the champion, version 2 the challenger; scores are computed from each\n"
              "# version's artifact.\n")
    _write_atomic(spec_path, lambda p: p.write_text(header + yaml.safe_dump(spec, sort_keys=False)))
    return spec_path


def pd_spec(versions: list[dict[str, Any]], *, data_dir: str) -> dict[str, Any]:
    """The spec of the German credit model: ``versions`` (the champion first), its data under
    ``data_dir`` (relative to the spec's folder), the decision and master scale fixed before any
    result is seen, and the model card."""
    return {
        "model": {
            "name": DEMO_MODEL,
            "version": versions[-1]["version"],
            "type": "classification",
            "owner": "Retail Credit Risk (demo)",
            "purpose": "Probability of default of consumer loan applicants (Statlog German credit data)",
            "tier": 2,
            "materiality": "medium",
            "currency": "DEM",
            "intended_use": f"Approval of consumer loan applications: approve when the PD is below {THRESHOLD}",
            "out_of_scope_use": "Behavioural scoring of existing customers; business lending",
            "training_data": (f"{DEVELOPMENT_SIZE} applicants of the Statlog German credit data, drawn at random "
                              "(demo/data/development.parquet)"),
            "limitations": ("Small samples (1,000 applicants in all); outcomes of rejected applicants are not "
                            "observed (no reject inference)"),
            "ethical_considerations": ("Sex and age are protected attributes. Version 1 (the champion) uses neither, "
                                       "nor housing, which stands in for age; version 2 (the challenger) adds age "
                                       "and housing"),
            "caveats": ("The out-of-time months are a seeded re-sampling of held-out applicants, shifted on purpose "
                        "towards younger applicants and larger loans (validation/demo.py)"),
        },
        "data": {
            "reference": f"{data_dir}/reference.parquet",
            "current": f"{data_dir}/monitoring.parquet",
            "reference_kind": "out_of_time",
            "target": "default",
            "features": list(FEATURES),  # each version names its own: the champion's leave age and housing out
            "protected": ["sex", "age_band"],
            "ids": ["applicant_id"],
            "time": "month",
            "segments": ["housing"],
            "exposure": "credit_amount",
            # this copy's label for Statlog's A14 ("no checking account"), declared so that its share is
            # reported; the models keep it as a category of its own
            "missing_values": {"checking_account": ["not_known"]},
        },
        "decision": {"threshold": THRESHOLD, "favourable": "below"},
        "grades": MASTER_SCALE,
        "checks": {"data_quality": {}, "drift": {}, "fairness": {"intersections": [["sex", "age_band"]]},
                   "explainability": {"monotone": {"duration": "increasing"}}, "backtesting": {}, "challenger": {}},
        "versions": versions,
    }


DESK_MODEL = "trading_desk_var"


DESK_DAYS = 250
"""Business days of the backtest window, the Basel traffic light's 250 (and of the history before it)."""
DESK_VOLATILITY = 1e6
"""The desk's daily P&L standard deviation in calm markets (EUR)."""
STRESS_START, STRESS_DAYS, STRESS_FACTOR = 120, 100, 1.6
"""The stress period: from day 120 of the backtest window, 100 business days (about five months) at
1.6 times the calm volatility."""


def trading_desk(seed: int = SEED, *, stress_days: int | None = None) -> pd.DataFrame:
    """A seeded synthetic trading desk: 500 business days of P&L and the desk's 99% VaR, the first
    250 a calm reference period, the next 250 the backtest window.

    The P&L is normal with a standard deviation of :data:`DESK_VOLATILITY`, times
    :data:`STRESS_FACTOR` for ``stress_days`` (default :data:`STRESS_DAYS`) days from day
    :data:`STRESS_START` of the backtest window (a stress period). The VaR model is the normal 99%
    quantile of the standard deviation of the last 250 days' P&L (one year, the Basel minimum
    observation period; the first day's from 250 days of P&L before the reference period): right
    in calm markets, it reacts slowly when the volatility rises, so the exceptions fall in the
    stress. Over seeds 0 to 149 the desks average 1.3 exceptions on the 150 calm days and 5.3 in
    the stress; the Basel zone is yellow for 66% of them (green 20%, red 14%), and some backtest is
    red for 36% (the count or the bunching significant at 1%). The demo's seed gives 7
    exceptions, all in the stress: yellow, and no test red.
    """
    rng = np.random.default_rng(seed)
    days = 3 * DESK_DAYS  # the VaR's first year of history, the reference period, the backtest window
    volatility = np.full(days, DESK_VOLATILITY)
    stress = 2 * DESK_DAYS + STRESS_START
    volatility[stress:stress + (STRESS_DAYS if stress_days is None else stress_days)] *= STRESS_FACTOR
    pnl = rng.standard_normal(days) * volatility
    from scipy import stats

    rolling_sd = pd.Series(pnl).rolling(DESK_DAYS).std().shift(1).to_numpy()  # the 250 days before each day
    var = stats.norm.ppf(0.99) * rolling_sd
    dates = pd.bdate_range("2024-01-01", periods=days).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates, "pnl": pnl, "var_99": var})
    return frame.iloc[DESK_DAYS:].reset_index(drop=True)


def stress_window() -> tuple[str, str]:
    """The first and last dates of the stress period (inclusive)."""
    dates = trading_desk()["date"]
    first = DESK_DAYS + STRESS_START
    return str(dates.iloc[first]), str(dates.iloc[first + STRESS_DAYS - 1])


def prepare_var_demo(root: Path | None = None) -> Path:
    """Write the trading desk's data (reference: the calm 250 days; current: the 250-day backtest
    window, whose exceptions set the Basel zone) and its spec ``params/trading_desk_var.yaml``;
    returns the spec's path."""
    root = root or project_root()
    desk = trading_desk()
    data_dir = root / "demo" / "data"
    for name, part in (("desk_reference", desk.iloc[:DESK_DAYS]), ("desk_current", desk.iloc[DESK_DAYS:])):
        _write_atomic(data_dir / f"{name}.parquet", lambda p, f=part: f.to_parquet(p, index=False))
    first, last = stress_window()
    spec = {
        "model": {"name": DESK_MODEL, "version": "1", "type": "var", "owner": "Markets Risk (demo)",
                  "purpose": "99% one-day VaR of a synthetic trading desk (a stress period in the backtest window)",
                  "tier": 1, "materiality": "high", "currency": "EUR",
                  "intended_use": "Daily 99% one-day VaR of the desk's trading book, for limits and capital",
                  "limitations": ("Normal quantile of the last 250 days of P&L: it reacts slowly when the "
                                  "volatility rises"),
                  "caveats": (f"Synthetic P&L with a stress period from {first} to {last}, twice the calm "
                              "volatility (validation/demo.py)")},
        "data": {"reference": os.path.relpath(data_dir / "desk_reference.parquet", root / "params"),
                 "current": os.path.relpath(data_dir / "desk_current.parquet", root / "params"),
                 "pnl": "pnl", "var": "var_99", "var_level": 0.99, "time": "date", "features": []},
        "checks": ["backtesting"],
    }
    spec_path = root / "params" / f"{DESK_MODEL}.yaml"
    header = "# Written by `validation demo` (validation/demo.py); re-created on every demo run.\n"
    _write_atomic(spec_path, lambda p: p.write_text(header + yaml.safe_dump(spec, sort_keys=False)))
    return spec_path


REVIEWER = "Demo Validator (Model Validation)"
"""Who signs the demo's review."""
RATING = "satisfactory with findings"
"""The demo review's rating, the middle of the default ratings (``governance.ratings``)."""
MODEL_OWNER = "Retail Credit Risk (demo)"
FAIRNESS_TARGET = "fairness:disparate_impact_ratio:age_band:<25"
"""The finding behind the review's second raised issue: the approval of applicants under 25."""
AUC_TARGET = "backtesting:auc_change_pvalue:score"
"""The finding the review accepts: the out-of-time AUC against the development AUC."""


def pack_results(pack: Path) -> dict[str, Any]:
    """A pack's ``results.json``."""
    import json

    document: dict[str, Any] = json.loads((pack / "results.json").read_text(encoding="utf-8"))
    return document


def _finding(results: dict[str, Any], target: str) -> dict[str, Any]:
    """The finding ``<check>:<metric>:<subject>`` of a pack."""
    check, metric, subject = target.split(":", 2)
    for entry in results["checks"]:
        for finding in entry["findings"] if entry["name"] == check else []:
            if finding["metric"] == metric and finding["subject"] == subject:
                return dict(finding)
    raise KeyError(f"{target}: no such finding in {results['model']['name']} v{results['model']['version']}")


def _issues(results: dict[str, Any], status: str) -> list[dict[str, Any]]:
    return [issue for check in results["checks"] for issue in check["issues"] if issue["status"] == status]


def _due(results: dict[str, Any], days: int) -> str:
    """The date ``days`` after the pack's run finished, ``YYYY-MM-DD``."""
    from datetime import datetime, timedelta

    finished = datetime.fromisoformat(str(results["run"]["finished_at"]))
    return (finished + timedelta(days=days)).date().isoformat()


REMEDIATION = {
    "drift": ("Find out with the business why the applicant mix moved (the out-of-time months draw younger "
              "applicants with larger loans), repeat the drift check on the next quarter's applicants, and "
              "recalibrate if the score's own PSI reaches its amber bound."),
    "backtesting": "Re-run the backtest on the next quarter's applicants; recalibrate if the finding persists.",
    "fairness": "Re-test the gap on the next quarter's applicants; if it persists, revisit the model's inputs.",
    "explainability": "Explain the change of the model's behaviour with the developers before the next release.",
}
"""How the demo review asks to remediate an amber issue of each check."""


def _auc_sentence(results: dict[str, Any]) -> str:
    """The out-of-time AUC against the development AUC (the AUC change test's reference) and the
    test's p-value, from a pack's findings."""
    auc, change = _finding(results, "backtesting:auc:score"), _finding(results, AUC_TARGET)
    return (f"AUC {auc['value']:.3f} out of time against {auc['value'] + change['effect']:.3f} at development "
            f"({REFERENCE_SOURCE}): ECB AUC change test p = {change['value']:.3f}")


def _concern(champion: dict[str, Any]) -> dict[str, Any]:
    """The first raised issue: the champion's first amber issue, else (a green pack) the drift of
    its score, the first thing to watch on a model in use: ``target``, ``check``, ``sentence``."""
    amber = _issues(champion, "amber")
    if amber:
        return {"target": amber[0]["id"], "check": amber[0]["check"], "sentence": amber[0]["sentence"]}
    psi = _finding(champion, "drift:psi:score")
    return {"target": "drift:psi:score", "check": "drift",
            "sentence": f"the score's PSI is {psi['value']:.3f}, green: watch it as the applicant mix moves."}


def champion_assessments(champion: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo review's assessments of the champion's pack: raise its first amber issue (medium,
    due in three months) and the thin evidence behind the approval of applicants under 25 (low,
    due in six months); accept the out-of-time AUC."""
    concern = _concern(champion)
    young = _finding(champion, FAIRNESS_TARGET)
    return [
        {"target": concern["target"], "action": "raise", "title": f"{concern['check'].capitalize()}: "
         f"{concern['sentence']}", "severity": "medium", "owner": MODEL_OWNER, "due": _due(champion, 91),
         "remediation": REMEDIATION.get(concern["check"], REMEDIATION["backtesting"]),
         "rationale": "Material enough to follow up, not a reason to stop using the model."},
        {"target": FAIRNESS_TARGET, "action": "raise",
         "title": (f"Applicants under 25 are approved at {young['value']:.2f} the rate of the most-approved age "
                   "band, measured on few of them"),
         "severity": "low", "owner": MODEL_OWNER, "due": _due(champion, 182),
         "remediation": ("Pool two more quarters of applicants and re-test the approval of applicants under 25 "
                         "against the four-fifths rule; this sample cannot rule out a ratio below 0.8 "
                         f"({young['note']})."),
         "rationale": "Green, but the interval of the gap is wide: the evidence is thin."},
        {"target": AUC_TARGET, "action": "accept",
         "rationale": f"{_auc_sentence(champion)}; the drop is not significant."},
    ]


def champion_conclusion(champion: dict[str, Any], challenger: dict[str, Any] | None) -> str:
    """The demo review's written conclusion, from the figures of the champion's (and the
    challenger's) pack."""
    young, concern = _finding(champion, FAIRNESS_TARGET), _concern(champion)
    calibration = _finding(champion, "backtesting:hosmer_lemeshow_pvalue:portfolio")
    text = (f"Version 1, a regularised logistic regression that uses neither age nor housing, is fit for use. "
            f"{_auc_sentence(champion)}; Hosmer-Lemeshow p = {calibration['value']:.2f}; applicants under 25 are "
            f"approved at {young['value']:.2f} the rate of the most-approved age band (adjusted Fisher p = "
            f"{young['p_adjusted']:.2f}). Two issues are raised: the {concern['check']} finding "
            f"({concern['sentence'].rstrip('.')}), and the few young applicants behind the fairness result.")
    red = _issues(challenger, "red") if challenger is not None else []
    if challenger is not None and [issue["id"] for issue in red] == ["fairness:age_band"]:
        harmed = _finding(challenger, FAIRNESS_TARGET)
        text += (f" The challenger, version 2, is not approved: it uses age, and approves applicants under 25 at "
                 f"{harmed['value']:.2f} the rate of the most-approved age band (adjusted Fisher p = "
                 f"{harmed['p_adjusted']:.3f}), below the four-fifths rule.")
    elif red:
        text += " The challenger, version 2, is not approved: " + " ".join(issue["sentence"] for issue in red)
    return text


def record_review(packs: list[Path], registry: Registry) -> dict[str, Any] | None:
    """Record the demo's completed review on the champion's pack (version 1 of the German credit
    model, among ``packs``): :data:`RATING`, a conclusion, two raised issues and one accepted
    finding, with the register items in ``registry``. Returns the review, or None when the
    champion's pack is not among ``packs`` or a check of it did not complete (nothing to sign)."""
    from validation.governance.review import add_review

    by_version = {(r["model"]["name"], r["model"]["version"]): (pack, r)
                  for pack in packs for r in [pack_results(pack)]}
    pack, champion = by_version.get((DEMO_MODEL, CHAMPION), (None, None))
    if pack is None or champion is None or any(c["status"] in ("error", "not_applicable") for c in champion["checks"]):
        return None
    challenger = by_version.get((DEMO_MODEL, CHALLENGER), (None, None))[1]
    return add_review(pack, reviewer=REVIEWER, rating=RATING, conclusion=champion_conclusion(champion, challenger),
                      assessments=not_raised_twice(champion_assessments(champion), registry), registry=registry)


def not_raised_twice(assessments: list[dict[str, Any]], registry: Registry) -> list[dict[str, Any]]:
    """``assessments`` with a raise of a target the register already holds open (an earlier
    ``make demo``) turned into an acceptance that names the open item, as a validator would: the
    register keeps one item per problem however often the demo runs."""
    open_items = {item["target"]: item["id"] for item in registry.register_items(model=DEMO_MODEL)
                  if item["status"] != "closed"}
    return [{"target": a["target"], "action": "accept",
             "rationale": f"Already raised as {open_items[a['target']]}, still open."}
            if a["action"] == "raise" and a["target"] in open_items else a for a in assessments]


def ensure_demo(root: Path | None = None) -> Path:
    """The demo spec's path, building the demo first if it is not there yet."""
    root = root or project_root()
    spec_path = root / "params" / f"{DEMO_MODEL}.yaml"
    if not spec_path.is_file():
        return prepare_demo(root)
    return spec_path
