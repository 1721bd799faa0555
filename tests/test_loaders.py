"""Native model files, loaded safely (validation/inputs/loaders.py).

Each format: a small real model of its library, fitted on seeded synthetic data (a text column and
missing values where the format takes them), saved by the library's own writer, hashed, loaded
through :func:`load_artifact`. The reference for every prediction is the fitted model itself, in
memory, as its library computes it: the loaded artifact must give the same probabilities (1e-6;
1e-5 for ONNX, whose graphs compute in float32, about 1e-7 relative) and an adapter's
``decision_function`` must be their log-odds.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, SplineTransformer, StandardScaler

from validation.errors import ArtifactError
from validation.inputs import loaders
from validation.inputs.artifacts import load_artifact, sha256_file
from validation.inputs.model_frames import with_categories

ONNX_BOUND = 1e-5  # float32 graph: probabilities agree to about 1e-7; 1e-5 leaves room
SAFE = [".skops", ".json", ".ubj", ".txt", ".cbm", ".onnx"]


def sample(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Applicants with income (10% missing), age and housing (text), and a default drawn from a
    logistic model of them."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50.0, 12.0, n)
    age = rng.integers(20, 70, n).astype(float)
    housing = rng.choice(["own", "rent", "free"], size=n, p=[0.5, 0.35, 0.15])
    logit = -0.5 - 0.06 * (income - 50) + 0.8 * (housing == "rent") - 0.02 * (age - 45)
    target = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"income": income, "age": age, "housing": housing})
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    return frame, target


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return sample(500, seed=19)


def categorical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(housing=frame["housing"].astype("category"))


def load(path: Path, *, allow_pickle: bool = False) -> Any:
    return load_artifact(path, sha256_file(path), allow_pickle=allow_pickle)


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def assert_adapter(model: Any, frame: pd.DataFrame, expected: np.ndarray, bound: float = 1e-6) -> None:
    """``predict_proba`` equals ``expected`` (probability of class 1) and ``decision_function``
    is its log-odds."""
    proba = model.predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    np.testing.assert_allclose(proba[:, 1], expected, rtol=0, atol=bound)
    scored = ~np.isnan(expected)  # a row with a missing input may have no score (statsmodels)
    np.testing.assert_allclose(proba[scored].sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.decision_function(frame), logit(proba[:, 1]), rtol=0, atol=1e-9)


# ---------------------------------------------------------------- each format loads and predicts

@pytest.mark.parametrize("suffix", [".json", ".ubj"])
def test_xgboost_native_file(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], suffix: str) -> None:
    import xgboost

    frame, target = data
    fitted = xgboost.XGBClassifier(n_estimators=20, max_depth=3, enable_categorical=True,
                                   tree_method="hist").fit(categorical(frame), target)
    path = tmp_path / f"model{suffix}"
    fitted.save_model(path)
    model = load(path)
    assert isinstance(model, xgboost.XGBClassifier)
    assert list(model.feature_names_in_) == ["income", "age", "housing"]
    arrow = dict(model.get_booster().get_categories(export_to_arrow=True).to_arrow())
    categories = {"housing": arrow["housing"].to_pylist()}
    assert categories == {"housing": ["free", "own", "rent"]}
    np.testing.assert_allclose(model.predict_proba(with_categories(frame, categories)),
                               fitted.predict_proba(categorical(frame)), rtol=0, atol=1e-6)


def test_lightgbm_text_file(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    import lightgbm

    frame, target = data
    fitted = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, min_child_samples=5,
                                     verbose=-1).fit(categorical(frame), target)
    path = tmp_path / "model.txt"
    fitted.booster_.save_model(path)
    model = load(path)
    assert isinstance(model, loaders.LightGBMModel)
    assert isinstance(model.booster_, lightgbm.Booster)
    assert model.feature_names_in_ == ["income", "age", "housing"]
    assert model.categories == {"housing": ["free", "own", "rent"]}
    expected = fitted.predict_proba(categorical(frame))[:, 1]
    assert_adapter(model, frame, expected)  # text column, cast by the adapter
    np.testing.assert_allclose(model.decision_function(frame),
                               fitted.predict(categorical(frame), raw_score=True), rtol=0, atol=1e-12)
    # a category unseen at fitting is routed as missing, as LightGBM routes a missing category
    unseen = frame.head(20).assign(housing="council")
    reference = fitted.predict_proba(unseen.assign(housing=pd.Categorical([np.nan] * 20,
                                                                          categories=["free", "own", "rent"])))
    assert_adapter(model, unseen, reference[:, 1])


def test_catboost_file(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    import catboost

    frame, target = data
    fitted = catboost.CatBoostClassifier(iterations=30, depth=3, cat_features=["housing"], random_seed=0,
                                         verbose=0, allow_writing_files=False, thread_count=1).fit(frame, target)
    path = tmp_path / "model.cbm"
    fitted.save_model(str(path))
    model = load(path)
    assert isinstance(model, catboost.CatBoostClassifier)
    assert model.feature_names_ == ["income", "age", "housing"]
    np.testing.assert_allclose(model.predict_proba(frame), fitted.predict_proba(frame), rtol=0, atol=1e-6)


def onnx_pipeline(frame: pd.DataFrame, target: np.ndarray) -> Pipeline:
    numbers = make_pipeline(SimpleImputer(), StandardScaler())
    encode = ColumnTransformer([("numbers", numbers, ["income", "age"]),
                                ("text", OneHotEncoder(handle_unknown="ignore"), ["housing"])])
    return Pipeline([("encode", encode), ("classify", LogisticRegression())]).fit(frame, target)


def save_onnx(pipeline: Pipeline, path: Path, *, zipmap: bool) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [("income", FloatTensorType([None, 1])), ("age", FloatTensorType([None, 1])),
              ("housing", StringTensorType([None, 1]))]
    graph = convert_sklearn(pipeline, initial_types=inputs, options={id(pipeline[-1]): {"zipmap": zipmap}})
    path.write_bytes(graph.SerializeToString())


@pytest.mark.parametrize("zipmap", [False, True], ids=["tensor", "zipmap"])
def test_onnx_one_input_per_column(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], zipmap: bool) -> None:
    frame, target = data
    pipeline = onnx_pipeline(frame, target)
    path = tmp_path / "model.onnx"
    save_onnx(pipeline, path, zipmap=zipmap)
    model = load(path)
    assert isinstance(model, loaders.OnnxModel)
    assert model.feature_names_in_ == ["income", "age", "housing"]
    shuffled = frame[["housing", "income", "age"]]  # inputs are matched by name, not position
    assert_adapter(model, shuffled, pipeline.predict_proba(frame)[:, 1], ONNX_BOUND)
    # missing and unseen text: scikit-learn ignores both (no category seen at fitting); the
    # adapter gives the graph the empty string, which it ignores too
    odd = frame.head(30).assign(housing=["council", None, np.nan] * 10)
    assert_adapter(model, odd, pipeline.predict_proba(odd)[:, 1], ONNX_BOUND)


def test_onnx_one_tensor_in_column_order(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    from skl2onnx import to_onnx

    frame, target = data
    numbers = frame[["income", "age"]]
    pipeline = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()).fit(numbers.to_numpy(), target)
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(pipeline, numbers.to_numpy(np.float32)[:1], options={"zipmap": False}).SerializeToString())
    model = load(path)
    assert not hasattr(model, "feature_names_in_")  # the graph takes one tensor named X
    assert_adapter(model, numbers, pipeline.predict_proba(numbers.to_numpy())[:, 1], ONNX_BOUND)
    with pytest.raises(ValueError, match="takes 2 columns but the data gives 3"):
        model.predict_proba(frame)


def test_onnx_probability_column_and_external_data(tmp_path: Path) -> None:
    """A hand-built graph, sigmoid(x @ w) with one (n, 1) output, against numpy's sigmoid; the
    same graph with its weights in an external file is refused (the hash would not cover them)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.array([[0.5], [-0.2]], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["probabilities"])],
        "logistic", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(weights, "W")])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(proto, tmp_path / "one.onnx")
    frame = pd.DataFrame({"a": [1.0, 2.0, -3.0], "b": [0.5, -1.0, 4.0]})
    expected = 1 / (1 + np.exp(-(frame.to_numpy() @ weights.astype(float))[:, 0]))
    assert_adapter(load(tmp_path / "one.onnx"), frame, expected, ONNX_BOUND)
    onnx.save_model(proto, tmp_path / "external.onnx", save_as_external_data=True, location="external.data",
                    size_threshold=0)
    with pytest.raises(ArtifactError) as caught:
        load(tmp_path / "external.onnx")
    assert caught.value.problem == loaders.ONNX_EXTERNAL_DATA


def test_onnx_adapter_pickles(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    import pickle

    frame, target = data
    path = tmp_path / "model.onnx"
    save_onnx(onnx_pipeline(frame, target), path, zipmap=False)
    model = load(path)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(frame), model.predict_proba(frame))


@pytest.fixture(scope="module")
def statsmodels_results(data: tuple[pd.DataFrame, np.ndarray]) -> dict[str, Any]:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    frame, target = data
    complete = frame.assign(default=target).dropna()
    numbers = sm.add_constant(complete[["income", "age"]])
    return {
        "formula": smf.logit("default ~ income + age + C(housing)", data=complete).fit(disp=0),
        "array": sm.Logit(complete["default"], numbers).fit(disp=0),
        "glm": sm.GLM(complete["default"], numbers, family=sm.families.Binomial()).fit(),
        "probit": sm.Probit(complete["default"], numbers).fit(disp=0),
    }


@pytest.mark.parametrize("kind", ["formula", "array", "glm", "probit"])
def test_statsmodels_result(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray],
                            statsmodels_results: dict[str, Any], kind: str) -> None:
    import statsmodels.api as sm

    frame, _ = data
    results = statsmodels_results[kind]
    path = tmp_path / "result.pickle"
    results.save(str(path))
    model = load(path, allow_pickle=True)
    assert isinstance(model, loaders.StatsmodelsModel)
    if kind == "formula":
        assert model.feature_names_in_ == ["income", "age", "housing"]
        expected = np.asarray(results.predict(frame))
    else:
        assert model.feature_names_in_ == ["income", "age"]
        expected = np.asarray(results.predict(sm.add_constant(frame[["income", "age"]])))
    assert np.isnan(expected).sum() == frame["income"].isna().sum()  # missing income: no score
    assert_adapter(model, frame, expected)
    if kind != "probit":  # logit link: the log-odds are the linear predictor
        exog = frame if kind == "formula" else sm.add_constant(frame[["income", "age"]])
        np.testing.assert_allclose(model.decision_function(frame),
                                   np.asarray(results.predict(exog, which="linear")), rtol=0, atol=1e-12)


@pytest.mark.parametrize("suffix", loaders.PICKLE_SUFFIXES)
def test_statsmodels_result_written_by_joblib(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray],
                                              statsmodels_results: dict[str, Any], suffix: str) -> None:
    frame, _ = data
    path = tmp_path / f"result{suffix}"
    joblib.dump(statsmodels_results["formula"], path)
    assert_adapter(load(path, allow_pickle=True), frame, np.asarray(statsmodels_results["formula"].predict(frame)))


def test_statsmodels_result_of_another_kind_is_refused(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    import statsmodels.api as sm

    frame, target = data
    complete = frame.assign(default=target).dropna()
    path = tmp_path / "ols.pickle"
    sm.OLS(complete["default"], sm.add_constant(complete[["income"]])).fit().save(str(path))
    with pytest.raises(ArtifactError, match="is a statsmodels OLS result, not a binary classifier; give a "
                                            "Logit, Probit or GLM"):
        load(path, allow_pickle=True)


# ---------------------------------------------------------------- skops: the reviewed extra types

def skops_models(frame: pd.DataFrame) -> dict[str, tuple[Any, pd.DataFrame]]:
    """Pure scikit-learn models whose skops files hold types outside skops' defaults."""
    text = frame.astype({"housing": object})
    numbers = frame[["income", "age"]].fillna(50.0)
    onehot = ColumnTransformer([("text", OneHotEncoder(handle_unknown="ignore"), ["housing"])],
                               remainder=make_pipeline(SimpleImputer(), StandardScaler()))
    transforms = ColumnTransformer([
        ("log", FunctionTransformer(np.log1p), ["age"]),
        ("clip", make_pipeline(SimpleImputer(), FunctionTransformer(functools.partial(np.clip, a_min=20, a_max=80))),
         ["income"]),
        ("text", OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include=object)),
    ])
    return {
        "partial-and-selector": (Pipeline([("encode", transforms), ("classify", LogisticRegression())]), text),
        "histgb-native-categorical": (HistGradientBoostingClassifier(max_iter=10, categorical_features="from_dtype",
                                                                     random_state=0), categorical(frame)),
        "calibrated-pipeline": (CalibratedClassifierCV(make_pipeline(onehot, LogisticRegression()), cv=3), text),
        "mlp": (make_pipeline(onehot, MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0)), text),
        "gradient-boosting": (GradientBoostingClassifier(n_estimators=5, random_state=0), numbers),
        "nearest-neighbours": (KNeighborsClassifier(), numbers),
        "grid-search": (GridSearchCV(LogisticRegression(), {"C": [0.5, 1.0]}, cv=3), numbers),
        "splines": (make_pipeline(SplineTransformer(n_knots=4), LogisticRegression()), numbers),
    }


@pytest.mark.parametrize("name", ["partial-and-selector", "histgb-native-categorical", "calibrated-pipeline",
                                  "mlp", "gradient-boosting", "nearest-neighbours", "grid-search", "splines"])
def test_skops_loads_pure_scikit_learn(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], name: str) -> None:
    import warnings

    import skops.io as sio
    from sklearn.exceptions import ConvergenceWarning

    frame, target = data
    fitted, x = skops_models(frame)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a 4-unit MLP on 500 rows
        fitted.fit(x, target)
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    extra = sio.get_untrusted_types(file=path)
    assert extra and set(extra) <= set(loaders.EXTRA_TRUSTED_SKOPS_TYPES)  # the list is what lets it load
    np.testing.assert_array_equal(load(path).predict_proba(x), fitted.predict_proba(x))


def test_skops_refuses_an_untrusted_function_without_running_it(tmp_path: Path) -> None:
    """``numpy.savetxt`` in a partial would write a file when the model scores: a prefix rule
    (``numpy.``) would trust it; the reviewed list does not."""
    import skops.io as sio

    target = tmp_path / "written.txt"
    model = FunctionTransformer(functools.partial(np.savetxt, str(target)))
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    with pytest.raises(ArtifactError) as caught:
        load(path)
    message = caught.value.problem
    assert message.startswith("holds types that are not trusted: numpy.savetxt;")
    assert "docs/models.md" in message and "ONNX (.onnx" in message and "model.allow_pickle: true" in message
    assert not target.exists()


def test_skops_with_a_gbm_names_its_native_format(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    import lightgbm
    import skops.io as sio

    frame, target = data
    fitted = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(frame[["income", "age"]], target)
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    with pytest.raises(ArtifactError, match=r"lightgbm\.sklearn\.LGBMClassifier.*Formats that would work: "
                                            r"LightGBM's own \.txt \(model\.booster_\.save_model\('model\.txt'\)\)"):
        load(path)


def test_the_trusted_list_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "models.md").read_text()
    rows = {line for line in doc.splitlines() if line.startswith("| `")}
    for name, reason in loaders.EXTRA_TRUSTED_SKOPS_TYPES.items():
        assert f"| `{name}` | {reason} |" in rows, name


# ---------------------------------------------------------------- refusals name the formats that work

def test_a_pickle_needs_the_opt_in(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, target = data
    fitted = LogisticRegression().fit(frame[["age"]], target)
    for suffix in loaders.PICKLE_SUFFIXES:
        path = tmp_path / f"model{suffix}"
        joblib.dump(fitted, path)
        with pytest.raises(ArtifactError) as caught:
            load(path)
        assert caught.value.problem.startswith(f"is a pickle ({suffix}): loading a pickle can run any code, "
                                               "so it loads only when the spec sets model.allow_pickle: true")
        assert all(s in caught.value.problem for s in SAFE)
        np.testing.assert_array_equal(load(path, allow_pickle=True).predict_proba(frame[["age"]]),
                                      fitted.predict_proba(frame[["age"]]))


def test_a_statsmodels_result_needs_the_opt_in(tmp_path: Path, statsmodels_results: dict[str, Any]) -> None:
    path = tmp_path / "result.pickle"
    statsmodels_results["formula"].save(str(path))
    with pytest.raises(ArtifactError, match=r"model.allow_pickle: true"):
        load(path)


def test_an_unknown_suffix_lists_every_format(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF")
    with pytest.raises(ArtifactError) as caught:
        load(path)
    assert caught.value.problem == loaders.UNKNOWN_FORMAT.format(suffix=".h5", formats=loaders.ALL_FORMATS)
    assert all(s in caught.value.problem for s in [*SAFE, *loaders.PICKLE_SUFFIXES])


@pytest.mark.parametrize(("suffix", "module", "extra"), [
    (".json", "xgboost", "xgboost"), (".ubj", "xgboost", "xgboost"), (".txt", "lightgbm", "lightgbm"),
    (".cbm", "catboost", "catboost"), (".onnx", "onnxruntime", "onnx")])
def test_a_missing_library_names_its_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           suffix: str, module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: import raises ImportError
    path = tmp_path / f"model{suffix}"
    path.write_bytes(f"{module} {tmp_path}".encode())  # unique content: never served from the cache
    with pytest.raises(ArtifactError) as caught:
        load(path)
    assert caught.value.problem.startswith(f"needs the {module} library to load")
    assert caught.value.problem.endswith(f"install it with pip install 'validation[{extra}]'")


def test_a_pickle_of_a_missing_library_names_its_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       statsmodels_results: dict[str, Any]) -> None:
    path = tmp_path / "result.pickle"
    statsmodels_results["probit"].save(str(path))
    path.write_bytes(path.read_bytes() + str(tmp_path).encode())  # trailing bytes: a fresh hash
    for name in [m for m in sys.modules if m == "statsmodels" or m.startswith("statsmodels.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ArtifactError, match=r"needs the statsmodels library to load .*"
                                            r"pip install 'validation\[statsmodels\]'"):
        load(path, allow_pickle=True)


def test_a_model_of_another_kind_is_refused(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    import catboost
    import lightgbm
    import xgboost

    frame, target = data
    numbers = frame[["income", "age"]]
    xgboost.XGBRegressor(n_estimators=2).fit(numbers, target).save_model(tmp_path / "reg.json")
    with pytest.raises(ArtifactError, match="is an XGBoost model of another kind, not a binary classifier"):
        load(tmp_path / "reg.json")
    lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(numbers, target).booster_.save_model(tmp_path / "reg.txt")
    with pytest.raises(ArtifactError, match="is a LightGBM model with objective regression, not a binary classifier"):
        load(tmp_path / "reg.txt")
    catboost.CatBoostRegressor(iterations=2, verbose=0, allow_writing_files=False).fit(numbers, target).save_model(
        str(tmp_path / "reg.cbm"))
    with pytest.raises(ArtifactError, match="is a CatBoost model with loss RMSE, not a binary classifier"):
        load(tmp_path / "reg.cbm")


def test_a_file_its_library_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"not": "a model"}))
    with pytest.raises(ArtifactError, match="could not be loaded as an XGBoost model"):
        load(path)


def test_onnx_zipmap_with_other_labels_says_how_to_export(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, target = data
    pipeline = onnx_pipeline(frame, np.where(target == 1, 2, 1))
    path = tmp_path / "model.onnx"
    save_onnx(pipeline, path, zipmap=True)
    with pytest.raises(ValueError, match=r"gives probabilities by class label \['1', '2'\], not 0 and 1; "
                                         r"convert it again with zipmap=False"):
        load(path).predict_proba(frame)


# ---------------------------------------------------------------- cache

def test_cached_by_content_and_opt_in(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, target = data
    fitted = LogisticRegression().fit(frame[["age"]], target + 0)
    first, second = tmp_path / "a" / "model.joblib", tmp_path / "b" / "model.joblib"
    for path in (first, second):
        path.parent.mkdir()
        joblib.dump(fitted, path)
    assert sha256_file(first) == sha256_file(second)
    assert load(first, allow_pickle=True) is load(second, allow_pickle=True)
    with pytest.raises(ArtifactError, match="model.allow_pickle: true"):
        load(second)  # a load with the opt-in never serves one without it


# ---------------------------------------------------------------- explained through the model-agnostic path

def test_onnx_and_statsmodels_adapters_are_explained(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray],
                                                     statsmodels_results: dict[str, Any]) -> None:
    from validation.metrics.explain import explain

    frame, target = data
    rows = frame.dropna().head(40)
    path = tmp_path / "model.onnx"
    save_onnx(onnx_pipeline(frame, target), path, zipmap=False)
    statsmodels_results["formula"].save(str(tmp_path / "result.pickle"))
    for model in (load(path), load(tmp_path / "result.pickle", allow_pickle=True)):
        explanation = explain(model, rows, background=rows.head(20))
        assert list(explanation.values.columns) == ["income", "age", "housing"]
        assert explanation.additivity_error() < 1e-6, (type(model).__name__, explanation.explainer)
