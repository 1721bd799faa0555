"""Any model explained: one real model of each family, scored and explained on applicants with text
columns, missing values and categories unseen in training.

Each family is fitted on the same seeded synthetic portfolio, where income drives the default far
more than anything else (log-odds slope -2 per standard deviation; region and age add a little).
For each: :func:`predict_scores` scores rows holding a region and a housing type never seen in
training and missing values; :func:`explain` gives one column per input feature whose values add
up to the model's own margin (base + sum = margin within 1e-6 log-odds, or XGBoost's stated float32
bound) and rank income first. The references are the models themselves: their library's own
prediction on a frame the test builds by hand, their own margin, and for the fallbacks the reason
they exist (shap's TreeExplainer is not additive on a HistGradientBoosting model with native
categorical features).

Then each family's artifact, saved as a bank would hand it over (skops for scikit-learn, each
library's own file otherwise, ONNX, a statsmodels result), runs the explainability check end to end
from a spec.

Run with ``-s`` to see the time each family takes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from validation.errors import DataError
from validation.inputs.artifacts import margin, predict_scores
from validation.metrics import explain

FEATURES = ["income", "age", "region", "housing"]
TEXT = ["region", "housing"]
BLACK_BOX_ROWS = 40  # rows a permutation explanation covers here (each costs 2 x 9 x 40 model rows)


def portfolio(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Applicants: income (standardised) drives the default; age (8% missing) and region add a
    little; housing (text, 8% missing) nothing."""
    rng = np.random.default_rng(seed)
    income = rng.normal(0.0, 1.0, n)
    age = rng.normal(45.0, 12.0, n)
    region = rng.choice(["north", "south", "east"], size=n, p=[0.4, 0.35, 0.25])
    housing = rng.choice(["own", "rent", "free"], size=n, p=[0.5, 0.35, 0.15])
    logit = -1.0 - 2.0 * income + 0.015 * (age - 45) + 0.4 * (region == "north")
    target = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"income": income, "age": age, "region": region, "housing": housing})
    frame.loc[rng.random(n) < 0.08, "age"] = np.nan
    frame.loc[rng.random(n) < 0.08, "housing"] = None
    return frame, target


@pytest.fixture(scope="module")
def train() -> tuple[pd.DataFrame, np.ndarray]:
    return portfolio(1200, seed=19)


@pytest.fixture(scope="module")
def applicants() -> pd.DataFrame:
    """Rows to explain: a region and a housing type unseen in training, and missing values."""
    frame, _ = portfolio(BLACK_BOX_ROWS, seed=20)
    frame.loc[:4, "region"] = "west"
    frame.loc[5:8, "housing"] = "houseboat"
    frame.loc[9:11, "age"] = np.nan
    frame.loc[12:14, "housing"] = None
    return frame


def preprocessing() -> ColumnTransformer:
    return ColumnTransformer([
        ("text", Pipeline([("fill", SimpleImputer(strategy="constant", fill_value="missing")),
                           ("onehot", OneHotEncoder(handle_unknown="ignore"))]), TEXT),
        ("numbers", Pipeline([("fill", SimpleImputer()), ("scale", StandardScaler())]), ["income", "age"])])


def as_categories(frame: pd.DataFrame, fitted: pd.DataFrame) -> pd.DataFrame:
    """The text columns as pandas categories of the values seen in ``fitted``, a value outside them
    missing: built by hand here, as the reference for the library's own prediction."""
    out = frame.copy()
    for column in TEXT:
        known = sorted(fitted[column].dropna().unique())
        out[column] = pd.Categorical([v if v in known else np.nan for v in frame[column]], categories=known)
    return out


def catboost_text(frame: pd.DataFrame) -> pd.DataFrame:
    """CatBoost takes no missing category: the modeller filled them with 'NA' before fitting."""
    return frame.fillna({"housing": "NA"})


def fit(family: str, x: pd.DataFrame, y: np.ndarray) -> Any:
    if family == "sklearn linear":
        return Pipeline([("prep", preprocessing()), ("model", LogisticRegression())]).fit(x, y)
    if family == "sklearn tree":
        return Pipeline([("prep", preprocessing()),
                         ("model", GradientBoostingClassifier(n_estimators=60, max_depth=2, random_state=0))]).fit(x, y)
    if family == "MLP":
        return Pipeline([("prep", preprocessing()),
                         ("model", MLPClassifier((8,), alpha=1e-3, max_iter=2000, random_state=0))]).fit(x, y)
    if family == "calibrated":
        return CalibratedClassifierCV(Pipeline([("prep", preprocessing()), ("model", LogisticRegression())]),
                                      cv=3).fit(x, y)
    if family == "HistGB native categorical":
        return HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=60,
                                              random_state=0).fit(as_categories(x, x), y)
    if family == "XGBoost":
        import xgboost

        return xgboost.XGBClassifier(n_estimators=60, max_depth=3, enable_categorical=True, tree_method="hist",
                                     random_state=0, n_jobs=1).fit(as_categories(x, x), y)
    if family == "LightGBM":
        import lightgbm

        return lightgbm.LGBMClassifier(n_estimators=60, num_leaves=7, random_state=0, n_jobs=1,
                                       verbose=-1).fit(as_categories(x, x), y)
    assert family == "CatBoost"
    import catboost

    return catboost.CatBoostClassifier(iterations=60, depth=3, cat_features=TEXT, random_seed=0, verbose=0,
                                       thread_count=1, allow_writing_files=False).fit(catboost_text(x), y)


def reference_scores(family: str, model: Any, rows: pd.DataFrame, fitted: pd.DataFrame) -> np.ndarray:
    """The library's own probability on the rows as that library takes them, built by the test."""
    if family in ("XGBoost", "LightGBM"):
        return model.predict_proba(as_categories(rows, fitted))[:, 1]
    return model.predict_proba(rows)[:, 1]


#: family: (explainer, model-agnostic)
FAMILIES = {
    "sklearn linear": ("LinearExplainer", False),
    "sklearn tree": ("TreeExplainer", False),
    "MLP": ("PermutationExplainer", True),
    "calibrated": ("PermutationExplainer", True),
    "HistGB native categorical": ("PermutationExplainer", True),
    "XGBoost": ("XGBoost pred_contribs", False),
    "LightGBM": ("LightGBM pred_contrib", False),
    "CatBoost": ("CatBoost ShapValues", False),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_family_is_scored_and_explained(family: str, train: tuple[pd.DataFrame, np.ndarray],
                                             applicants: pd.DataFrame) -> None:
    x, y = train
    rows = applicants
    if family == "CatBoost":
        x, rows = catboost_text(x), catboost_text(applicants)
    model = fit(family, x, y)

    scores = predict_scores(model, rows)  # text, unseen categories and missing values, as read from a CSV
    np.testing.assert_allclose(scores, reference_scores(family, model, rows, x), rtol=0, atol=1e-12)
    assert np.all((scores > 0) & (scores < 1))

    started = time.perf_counter()
    explanation = explain.explain(model, rows, seed=0)
    seconds = time.perf_counter() - started
    expected_explainer, agnostic = FAMILIES[family]
    assert explanation.explainer == expected_explainer
    assert explain.choose_explainer(model, FEATURES).model_agnostic is agnostic
    assert list(explanation.values.columns) == FEATURES and len(explanation.values) == len(rows)
    assert explanation.units == "log-odds"
    # local accuracy against the model's own margin, computed apart from the explainer
    np.testing.assert_allclose(explanation.margin, margin(model, rows), rtol=0, atol=0)
    error = explanation.additivity_error()
    if family == "XGBoost":  # float32 arithmetic: the stated bound, at most 1e-5 of the largest row total
        assert explanation.additivity_bound > 1e-6 and error < explanation.additivity_bound
    else:
        assert explanation.additivity_bound == 1e-6
    assert error < explanation.additivity_bound
    # the simulation makes income by far the strongest driver
    importance = explanation.importance()
    assert importance.index[0] == "income" and importance["income"] > 2 * importance.iloc[1]
    print(f"\n| {family} | {explanation.explainer} | {error:.1e} | {seconds:.2f} s |")


def save_model_file(kind: str, folder: Path, x: pd.DataFrame, y: np.ndarray) -> Path:
    """A model saved by its library's own writer (an ONNX graph converted by skl2onnx; a statsmodels
    formula Logit result by its ``save``)."""
    if kind in (".json", ".txt", ".cbm"):
        family = {".json": "XGBoost", ".txt": "LightGBM", ".cbm": "CatBoost"}[kind]
        model = fit(family, x, y)
        path = folder / f"model{kind}"
        if kind == ".txt":
            model.booster_.save_model(path)
        else:
            model.save_model(str(path))
        return path
    if kind == ".onnx":
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType, StringTensorType

        prep = ColumnTransformer([("numbers", Pipeline([("fill", SimpleImputer()), ("scale", StandardScaler())]),
                                   ["income", "age"]), ("text", OneHotEncoder(handle_unknown="ignore"), TEXT)])
        pipeline = Pipeline([("prep", prep), ("model", LogisticRegression())]).fit(x.fillna({"housing": ""}), y)
        inputs = [(c, FloatTensorType([None, 1])) for c in ["income", "age"]] + [
            (c, StringTensorType([None, 1])) for c in TEXT]
        graph = convert_sklearn(pipeline, initial_types=inputs, options={id(pipeline[-1]): {"zipmap": False}})
        path = folder / "model.onnx"
        path.write_bytes(graph.SerializeToString())
        return path
    import statsmodels.formula.api as smf

    path = folder / "result.pickle"
    smf.logit("default ~ income + age + C(region) + C(housing)",
              data=x.assign(default=y).dropna()).fit(disp=0).save(str(path))
    return path


#: model file: (explainer, explained rows are the applicants (unseen categories, missing values) or complete rows)
MODEL_FILES = {
    ".json": ("XGBoost pred_contribs", "applicants"),
    ".txt": ("LightGBM pred_contrib", "applicants"),
    ".cbm": ("CatBoost ShapValues", "no missing housing"),
    ".onnx": ("PermutationExplainer", "applicants"),
    "statsmodels": ("PermutationExplainer", "complete rows of seen categories"),
}


@pytest.mark.parametrize("kind", list(MODEL_FILES))
def test_model_files_are_explained(kind: str, tmp_path: Path, train: tuple[pd.DataFrame, np.ndarray],
                                   applicants: pd.DataFrame) -> None:
    """Native model files and ONNX graphs loaded by their own loaders (validation.inputs.loaders),
    and a statsmodels result (pickle opt-in), explained like the fitted models: the library's own
    TreeSHAP, or the model-agnostic path on the adapter's predict_proba. statsmodels' formulas
    take no category unseen at fitting and score no row with a missing value (patsy): they are
    explained on complete rows of seen categories."""
    from validation.inputs.artifacts import load_artifact, sha256_file

    x, y = train
    path = save_model_file(kind, tmp_path, catboost_text(x) if kind == ".cbm" else x, y)
    model = load_artifact(path, sha256_file(path), allow_pickle=kind == "statsmodels")
    rows = {"applicants": applicants, "no missing housing": catboost_text(applicants),
            "complete rows of seen categories": applicants.iloc[15:].dropna()}[MODEL_FILES[kind][1]]
    assert np.all(np.isfinite(predict_scores(model, rows)))
    started = time.perf_counter()
    explanation = explain.explain(model, rows, seed=0)
    seconds = time.perf_counter() - started
    assert explanation.explainer == MODEL_FILES[kind][0]
    assert list(explanation.values.columns) == FEATURES
    error = explanation.additivity_error()
    assert error < explanation.additivity_bound and explanation.additivity_bound <= 1e-4
    assert explanation.importance().index[0] == "income"
    print(f"\n| {kind} file ({type(model).__name__}) | {explanation.explainer} | {error:.1e} | {seconds:.2f} s |")


def test_histgradientboosting_fallback_says_why(train: tuple[pd.DataFrame, np.ndarray],
                                                 applicants: pd.DataFrame) -> None:
    """shap's TreeExplainer does not add up on native categorical splits (the reason for the
    fallback: if this fails, shap became exact there and the route can change)."""
    import shap

    x, y = train
    model = fit("HistGB native categorical", x, y)
    explanation = explain.explain(model, applicants, seed=0)
    assert "native categorical features: shap's TreeExplainer is not exact here" in explanation.note
    assert "black box on the raw input columns" in explanation.note
    codes = as_categories(x, x)
    for column in TEXT:
        codes[column] = codes[column].cat.codes.replace(-1, np.nan)
    tree = shap.TreeExplainer(model)
    values = tree.shap_values(codes.to_numpy(dtype=float), check_additivity=False)
    tree_error = np.max(np.abs(float(np.ravel(tree.expected_value)[-1]) + values.sum(axis=1)
                               - model.decision_function(as_categories(x, x))))
    assert tree_error > 0.1  # log-odds: far from additive


def test_native_tree_shap_matches_shaps_treeexplainer(train: tuple[pd.DataFrame, np.ndarray]) -> None:
    """Without categorical features shap's TreeExplainer reads XGBoost and LightGBM models itself:
    an independent implementation of the same TreeSHAP (Lundberg et al. 2020) our values must match."""
    import lightgbm
    import shap
    import xgboost

    x, y = train
    numbers = x[["income", "age"]]
    for model, tolerance in [
        (xgboost.XGBClassifier(n_estimators=40, max_depth=3, random_state=0, n_jobs=1).fit(numbers, y), 1e-5),
        (lightgbm.LGBMClassifier(n_estimators=40, num_leaves=7, random_state=0, n_jobs=1, verbose=-1).fit(numbers, y),
         1e-9),
    ]:
        ours = explain.explain(model, numbers.head(200))
        reference = shap.TreeExplainer(model).shap_values(numbers.head(200))
        reference = reference[1] if isinstance(reference, list) else np.asarray(reference)
        np.testing.assert_allclose(ours.values.to_numpy(), reference, rtol=0, atol=tolerance)


def test_categories_are_cast_as_the_model_was_fitted(train: tuple[pd.DataFrame, np.ndarray],
                                                     applicants: pd.DataFrame) -> None:
    """Text read from a CSV, or categories in another order, score as the fitted categories: LightGBM
    and XGBoost give the same scores for the text, for categories in reversed order and for the
    hand-built frame; the columns given in another order are put back in the model's."""
    from validation.inputs.model_frames import fitted_categories

    x, y = train
    for family in ("XGBoost", "LightGBM"):
        model = fit(family, x, y)
        categories = fitted_categories(model)
        assert categories == {c: sorted(x[c].dropna().unique()) for c in TEXT}
        expected = reference_scores(family, model, applicants, x)
        reversed_order = applicants.assign(**{c: pd.Categorical(applicants[c], categories=sorted(
            applicants[c].dropna().unique(), reverse=True)) for c in TEXT})
        for rows in (applicants, reversed_order, applicants[FEATURES[::-1]]):
            np.testing.assert_allclose(predict_scores(model, rows), expected, rtol=0, atol=1e-12)


def test_scoring_errors_name_the_column_and_the_fix(train: tuple[pd.DataFrame, np.ndarray],
                                                    applicants: pd.DataFrame) -> None:
    x, y = train
    catboost_model = fit("CatBoost", x, y)
    with pytest.raises(DataError) as caught:
        predict_scores(catboost_model, applicants)  # housing still has missing values
    assert caught.value.column == "housing"
    assert "CatBoost takes none in a categorical feature (cat_features): fill them" in caught.value.problem

    lightgbm_model = fit("LightGBM", x, y)
    with pytest.raises(DataError) as caught:
        predict_scores(lightgbm_model, applicants.assign(income=applicants["income"].map("{:.2f}".format)),
                       source="data/current.csv", role="data.current")
    assert caught.value.column == "income" and caught.value.role == "data.current"
    assert "is not a number, but the model was fitted on it as one" in caught.value.problem

    linear = fit("sklearn linear", x, y)
    with pytest.raises(DataError) as caught:
        predict_scores(linear, applicants.drop(columns="age"), source="data/current.csv")
    assert str(caught.value).startswith("the model could not score these rows (ValueError: ")
    assert "check data.features (names, order and types) against the model's inputs (data/current.csv)" in str(
        caught.value)


def test_black_box_check_end_to_end(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """The explainability check on CalibratedClassifierCV(Pipeline(one-hot, MLP)) saved with skops
    (the issue: 'could not convert string to float' and no expected_value): the current data hold a
    region unseen in training and missing incomes."""
    import skops.io as sio

    from conftest import synthetic_sample
    from validation.checks import run_check
    from validation.checks.explainability import PERMUTATION_ROWS
    from validation.inputs.artifacts import sha256_file
    from validation.inputs.spec import load_spec
    from validation.judging.policy import Policy

    reference = synthetic_sample(400, seed=1)  # PD falls with income
    current = synthetic_sample(300, seed=2, shift=0.3)
    current.loc[:9, "region"] = "west"
    current.loc[10:19, "income"] = np.nan
    features = ["income", "tenure", "region"]
    prep = ColumnTransformer([("text", OneHotEncoder(handle_unknown="ignore"), ["region"]),
                              ("numbers", Pipeline([("fill", SimpleImputer()), ("log", StandardScaler())]),
                               ["income", "tenure"])])
    model = CalibratedClassifierCV(Pipeline([("prep", prep), ("mlp", MLPClassifier((6,), max_iter=2000,
                                                                                   random_state=0))]), cv=3)
    model.fit(reference[features], reference["default"])
    sio.dump(model, tmp_path / "calibrated.skops")
    path = write_spec({"model": {"artifact": "calibrated.skops",
                                 "artifact_sha256": sha256_file(tmp_path / "calibrated.skops")},
                       "checks": {"explainability": {"sample_size": 300, "monotone": {"income": "decreasing"}}}},
                      reference=reference, current=current)
    started = time.perf_counter()
    output = run_check("explainability", path, "1")
    seconds = time.perf_counter() - started
    assert output.summary["explainer"] == "PermutationExplainer"
    assert output.summary["explained_rows"] == PERMUTATION_ROWS
    assert "CalibratedClassifierCV averages calibrated probabilities" in output.summary["explainer_note"]
    policy = Policy.for_spec(load_spec(path).versions[-1])
    judged = {(f.metric, f.subject): f for f in policy.judge_all(output.findings)}
    additivity = judged[("shap_additivity_error", "score")]
    assert additivity.value < 1e-6 and additivity.status == "green"
    importance = output.tables["importance"]["shap_importance"]
    assert importance.index[0] == "income"
    assert judged[("monotonicity_reversal", "feature:income")].status == "green"
    assert any(metric == "reason_code_rate" for metric, _ in judged)
    print(f"\n| calibrated MLP, check end to end | {output.summary['explainer']} | {additivity.value:.1e} | "
          f"{seconds:.2f} s |")


#: family: (how its artifact is saved, explainer); sklearn families as skops files, the others in their own formats
CHECK_MATRIX = {
    "sklearn linear": (".skops", "LinearExplainer"),
    "sklearn tree": (".skops", "TreeExplainer"),
    "MLP": (".skops", "PermutationExplainer"),
    "calibrated": (".skops", "PermutationExplainer"),
    "HistGB native categorical": (".skops", "PermutationExplainer"),
    "XGBoost": (".json", "XGBoost pred_contribs"),
    "LightGBM": (".txt", "LightGBM pred_contrib"),
    "CatBoost": (".cbm", "CatBoost ShapValues"),
    "ONNX": (".onnx", "PermutationExplainer"),
    "statsmodels": ("statsmodels", "PermutationExplainer"),
}


@pytest.mark.parametrize("family", list(CHECK_MATRIX))
def test_each_family_runs_the_explainability_check(family: str, write_spec: Callable[..., Path], tmp_path: Path,
                                                    train: tuple[pd.DataFrame, np.ndarray],
                                                    applicants: pd.DataFrame) -> None:
    """The explainability check end to end on each family's artifact, as a spec names it (hash
    pinned, loaded by validation.inputs.loaders, scored into the score column, explained on the
    current sample): its judged additivity finding is under the stated bound (1e-6 log-odds, or
    XGBoost's float32 bound) and green, and income leads the importance."""
    import skops.io as sio

    from validation.checks import run_check
    from validation.inputs.artifacts import sha256_file
    from validation.inputs.spec import load_spec
    from validation.judging.policy import Policy

    x, y = train
    current = applicants.assign(default=portfolio(BLACK_BOX_ROWS, seed=20)[1])
    if family == "CatBoost":
        x, current = catboost_text(x), catboost_text(current)
    if family == "statsmodels":  # patsy scores no missing value and no category unseen at fitting
        keep = x.notna().all(axis=1).to_numpy()
        x, y, current = x[keep], y[keep], current.iloc[15:].dropna()
    kind, expected = CHECK_MATRIX[family]
    if kind == ".skops":
        artifact = tmp_path / "model.skops"
        sio.dump(fit(family, x, y), artifact)
    else:
        artifact = save_model_file(kind, tmp_path, x, y)
    pickle = "  allow_pickle: true\n" if family == "statsmodels" else ""
    path = write_spec(raw=f"""model:
  name: matrix
  version: "1"
  owner: Tests <QA>
  artifact: {artifact.name}
  artifact_sha256: {sha256_file(artifact)}
{pickle}data:
  reference: data/ref.parquet
  current: data/cur.parquet
  target: default
  features: [income, age, region, housing]
decision: {{threshold: 0.2, favourable: below}}
checks:
  explainability: {{sample_size: {len(current)}}}
""", reference=x.assign(default=y), current=current)
    started = time.perf_counter()
    output = run_check("explainability", path, "1")
    seconds = time.perf_counter() - started
    assert output.summary["explainer"] == expected
    policy = Policy.for_spec(load_spec(path).versions[-1])
    judged = {(f.metric, f.subject): f for f in policy.judge_all(output.findings)}
    additivity = judged[("shap_additivity_error", "score")]
    assert additivity.value < output.summary["additivity_bound"] <= 1e-4
    assert additivity.status == "green"
    assert output.tables["importance"]["shap_importance"].index[0] == "income"
    print(f"\n| {family} ({kind}), check end to end | {expected} | {additivity.value:.1e} | {seconds:.2f} s |")
