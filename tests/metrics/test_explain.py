"""SHAP explanations: linear closed form, pipelines summed back to features, additivity."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from validation.metrics import explain


@pytest.fixture(scope="module")
def frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400),
                      "colour": rng.choice(["red", "green", "blue"], size=400)})
    logit = 1.2 * x["a"] - 0.5 * x["b"] + (x["colour"] == "red") * 0.8
    y = (rng.random(400) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def test_linear_shap_is_coefficient_times_centred_value(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = frame
    numeric = x[["a", "b"]]
    model = LogisticRegression().fit(numeric, y)
    result = explain.explain(model, numeric, background=numeric)
    # closed form for a linear model with independent features (Lundberg & Lee 2017, corollary 1)
    expected = (numeric - numeric.mean()) * model.coef_[0]
    np.testing.assert_allclose(result.values.to_numpy(), expected.to_numpy(), atol=1e-10)
    assert result.explainer == "LinearExplainer" and result.units == "log-odds"
    assert result.additivity_error() < 1e-8


def test_pipeline_columns_are_summed_back_to_features(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = frame
    model = Pipeline([
        ("prep", ColumnTransformer([("cat", OneHotEncoder(sparse_output=False), ["colour"]),
                                    ("num", "passthrough", ["a", "b"])])),
        ("model", LogisticRegression()),
    ]).fit(x, y)
    result = explain.explain(model, x)
    assert list(result.values.columns) == ["a", "b", "colour"]
    assert result.additivity_error() < 1e-8
    assert result.importance().index[0] == "a"  # the strongest effect in the simulation


def test_tree_model_additivity(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = frame
    numeric = x[["a", "b"]]
    model = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(numeric, y)
    result = explain.explain(model, numeric)
    assert result.explainer == "TreeExplainer"
    assert result.additivity_error() < 1e-6


def test_rank_correlation_and_overlap() -> None:
    a = pd.Series({"x": 3.0, "y": 2.0, "z": 1.0})
    b = pd.Series({"x": 0.3, "y": 0.1, "w": 0.2})
    union = ["w", "x", "y", "z"]
    expected = stats.spearmanr(a.reindex(union, fill_value=0), b.reindex(union, fill_value=0)).statistic
    assert explain.importance_rank_correlation(a, b) == pytest.approx(expected)
    assert explain.top_k_overlap(a, b, k=2) == pytest.approx(1 / 3)  # {x, y} vs {x, w}


def _explanation(values: list[list[float]], features: list[str]) -> explain.Explanation:
    frame = pd.DataFrame(values, columns=features)
    return explain.Explanation(frame, 0.0, frame.sum(axis=1).to_numpy(), "hand-built", "log-odds")


def test_reason_codes_by_hand() -> None:
    # three unfavourable applicants and one favourable (ignored); favourable below: reasons raise the PD
    values = [[0.9, 0.1, -0.5, 0.3, 0.2],   # reasons a, d, e, b (c lowers the PD: never a reason)
              [-0.2, 0.5, 0.4, 0.0, 0.6],   # reasons e, b, c (a lowers it; d is 0: not a push)
              [0.1, 0.2, 0.3, 0.4, 0.5],    # reasons e, d, c, b
              [5.0, 5.0, 5.0, 5.0, 5.0]]    # favourable: not explained
    table = explain.reason_codes(_explanation(values, list("abcde")), np.array([1, 1, 1, 0], dtype=bool), k=4)
    assert table.attrs["unfavourable"] == 3
    assert table["reason_rate"].to_dict() == pytest.approx({"a": 1 / 3, "b": 1.0, "c": 2 / 3, "d": 2 / 3, "e": 1.0})
    assert table["first_reason_rate"].to_dict() == pytest.approx({"a": 1 / 3, "b": 0.0, "c": 0.0, "d": 0.0, "e": 2 / 3})
    # favourable above: the reasons are the features lowering the score
    flipped = explain.reason_codes(_explanation(values, list("abcde")), np.array([1, 0, 0, 0], dtype=bool),
                                   adverse_sign=-1, k=4)
    assert flipped["reason_rate"].to_dict() == pytest.approx({"a": 0.0, "b": 0.0, "c": 1.0, "d": 0.0, "e": 0.0})


def _reversal_by_double_loop(curve: np.ndarray, direction: str) -> float:
    """Brute force: the largest c_i - c_j over i < j (increasing) or c_j - c_i (decreasing), at least 0."""
    sign = 1.0 if direction == "increasing" else -1.0
    return max([0.0] + [sign * (curve[i] - curve[j]) for i in range(len(curve)) for j in range(i + 1, len(curve))])


def _policy_status(metric: str, value: float) -> str:
    from validation.judging.policy import Policy

    return Policy.for_spec(None).judge({"metric": metric, "subject": "feature:x", "value": value}).status


@pytest.mark.parametrize("direction", ["increasing", "decreasing"])
def test_largest_reversal_matches_a_double_loop(direction: str) -> None:
    rng = np.random.default_rng(11)
    curves = np.cumsum(rng.normal(0.01, 0.05, size=(60, 15)), axis=1)
    curves[0] = 0.3  # a flat curve
    expected = np.array([_reversal_by_double_loop(c, direction) for c in curves])
    np.testing.assert_allclose(explain.largest_reversal(curves, direction), expected, atol=1e-15)
    spread = curves.max(axis=1) - curves.min(axis=1)
    relative = explain.relative_reversal(curves, direction)
    assert relative[0] == 0.0
    np.testing.assert_allclose(relative[1:], expected[1:] / spread[1:], rtol=1e-12)
    mean_curve = curves.mean(axis=0)
    assert explain.monotonicity_reversal(curves, direction) == pytest.approx(
        _reversal_by_double_loop(mean_curve, direction) / (mean_curve.max() - mean_curve.min()), rel=1e-12)


def test_stepwise_increasing_curve_with_jitter_is_a_small_green_reversal() -> None:
    # the PD of a gradient boosting model: steps up from 0.26 to 0.56, with dips of at most 0.005
    steps = np.repeat([0.26, 0.31, 0.38, 0.45, 0.50, 0.56], 4)
    jitter = np.random.default_rng(2).uniform(-0.0025, 0.0025, steps.size)
    curve = (steps + jitter)[None, :]
    reversal = explain.monotonicity_reversal(curve, "increasing")
    expected = _reversal_by_double_loop(curve[0], "increasing") / np.ptp(curve)
    assert reversal == pytest.approx(expected, rel=1e-12)
    assert 0 < reversal < 0.05  # a dip of at most 0.005 in a rise of about 0.3
    assert _policy_status("monotonicity_reversal", reversal) == "green"
    # the old rule (any step down counts) called every such curve a violation
    assert explain.monotonicity_violation_share(curve, "increasing", bound=None) == 1.0


def test_decreasing_curve_declared_increasing_is_a_full_red_reversal() -> None:
    curve = np.linspace(0.6, 0.2, 10)[None, :]
    assert explain.monotonicity_reversal(curve, "increasing") == pytest.approx(1.0)
    assert explain.monotonicity_reversal(curve, "decreasing") == 0.0
    assert _policy_status("monotonicity_reversal", explain.monotonicity_reversal(curve, "increasing")) == "red"


def test_flat_curve_has_no_reversal() -> None:
    flat = np.full((3, 8), 0.12)
    for direction in ("increasing", "decreasing"):
        assert explain.monotonicity_reversal(flat, direction) == 0.0
        assert explain.monotonicity_violation_share(flat, direction, bound=0.1) == 0.0
    result = explain.monotonicity(flat, "x", "increasing", bound=0.1)
    assert result.describe() == "average PD flat at 0.12: nothing to reverse"


def test_violation_share_counts_curves_by_their_own_range() -> None:
    rng = np.random.default_rng(4)
    curves = np.cumsum(rng.normal(0.02, 0.05, size=(200, 12)), axis=1)
    from validation.judging.policy import Policy

    bound = Policy.for_spec(None).bounds("monotonicity_reversal").amber
    assert bound is not None
    by_hand = [_reversal_by_double_loop(c, "increasing") >= bound * np.ptp(c) for c in curves]
    assert explain.monotonicity_violation_share(curves, "increasing", bound=bound) == pytest.approx(np.mean(by_hand))
    assert 0 < np.mean(by_hand) < 1  # the curves are a mix: the test can tell
    with pytest.raises(ValueError, match="'increasing' or 'decreasing', got 'up'"):
        explain.monotonicity_violation_share(curves, "up", bound=bound)
    assert math.isnan(explain.monotonicity_reversal(curves[:, :1], "increasing"))


def test_monotonicity_findings_say_what_the_average_curve_does() -> None:
    curves = np.array([[0.24, 0.40, 0.38, 0.58], [0.28, 0.42, 0.40, 0.54]])  # mean 0.26, 0.41, 0.39, 0.56
    result = explain.monotonicity(curves, "duration", "increasing", bound=0.1)
    reversal, share = explain.monotonicity_findings([result])
    assert reversal["metric"] == "monotonicity_reversal" and reversal["subject"] == "feature:duration"
    assert reversal["value"] == pytest.approx(0.02 / 0.30)
    assert reversal["note"] == ("declared increasing; average PD rises from 0.26 to 0.56 (range 0.3); largest "
                                "reversal 0.02 (6.7% of its range)")
    assert share["metric"] == "monotonicity_violation_share" and share["value"] == 0.0  # 0.02/0.34, 0.02/0.26
    assert share["note"] == ("share of 2 ICE curves reversing by at least 10% of their own range; median curve: "
                             "range 0.3, largest reversal 0.02")
    assert _policy_status("monotonicity_violation_share", 0.9) == "info"


def test_monotonicity_of_fitted_models(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = frame
    numeric = x[["a", "b"]]
    model = LogisticRegression().fit(numeric, y)  # PD increases in a (coefficient > 0), decreases in b
    assert model.coef_[0][0] > 0 > model.coef_[0][1]
    grid = explain.ice_grid(numeric["a"])
    curves = explain.ice_curves(model, numeric.head(50), "a", grid)
    assert curves.shape == (50, len(grid))
    assert explain.monotonicity_reversal(curves, "increasing") == 0.0
    assert explain.monotonicity_reversal(curves, "decreasing") == pytest.approx(1.0)
    assert explain.monotonicity_violation_share(curves, "decreasing", bound=0.1) == 1.0
    # partial dependence is the mean ICE curve; each point is the model's PD with a set to the grid value
    row = numeric.head(1).assign(a=grid[3])
    assert curves[0, 3] == pytest.approx(model.predict_proba(row)[0, 1])
    # a U-shaped effect breaks an "increasing" declaration: the partial dependence falls, then rises
    u_shape = GradientBoostingClassifier(n_estimators=50, random_state=0).fit(
        numeric, ((numeric["a"] ** 2 + np.random.default_rng(0).normal(0, 0.5, len(numeric))) > 1).astype(int))
    u_curves = explain.ice_curves(u_shape, numeric.head(50), "a", grid)
    assert explain.monotonicity_reversal(u_curves, "increasing") > 0.5
    assert explain.monotonicity_violation_share(u_curves, "increasing", bound=0.25) > 0.5


def test_check_reads_the_bound_from_the_policy(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """The explainability check judges the reversal with the spec's bounds and counts curves with its amber."""
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    from conftest import synthetic_sample
    from validation.checks import run_check
    from validation.inputs.artifacts import sha256_file
    from validation.inputs.spec import load_spec
    from validation.judging.policy import Policy

    frame = synthetic_sample(300, seed=1)  # PD falls with income, rises with tenure
    model = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
                                                  ("num", StandardScaler(), ["income", "tenure"])])),
                      ("model", LogisticRegression(max_iter=500))]).fit(frame[["income", "tenure", "region"]],
                                                                        frame["default"])
    sio.dump(model, tmp_path / "m.skops")
    path = write_spec({"model": {"artifact": "m.skops", "artifact_sha256": sha256_file(tmp_path / "m.skops")},
                       "checks": {"explainability": {"sample_size": 100,
                                                     "monotone": {"income": "increasing", "tenure": "increasing"}}},
                       "thresholds": {"monotonicity_reversal": {"amber": 0.5, "red": 0.9}}})
    output = run_check("explainability", path, "1")
    policy = Policy.for_spec(load_spec(path).versions[-1])
    judged = {(f.metric, f.subject): f for f in policy.judge_all(output.findings)}
    income = judged[("monotonicity_reversal", "feature:income")]
    assert income.value == pytest.approx(1.0) and income.status == "red"
    assert "declared increasing; average PD falls from" in (income.note or "")
    assert judged[("monotonicity_reversal", "feature:tenure")].status == "green"
    share = judged[("monotonicity_violation_share", "feature:income")]
    assert share.status == "info" and share.value == 1.0
    assert "at least 50% of their own range" in (share.note or "")
    table = output.tables["monotonicity"]
    assert table.loc["income", "reversal_share_of_range"] == pytest.approx(1.0)
    assert table.loc["tenure", "reversal_share_of_range"] == 0.0


# --- the model-agnostic path ----------------------------------------------------------------------


class _BlackBox:
    """A model seen only through ``predict_proba`` on a DataFrame (as an ONNX or statsmodels adapter
    is): its log-odds is ``log_odds(frame)``."""

    def __init__(self, log_odds: Callable[[pd.DataFrame], np.ndarray]) -> None:
        self.log_odds = log_odds

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = 1 / (1 + np.exp(-self.log_odds(frame)))
        return np.column_stack([1 - p, p])


COLOUR_EFFECT = {"red": 0.8, "green": -0.3, "blue": 0.0}


def _additive(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(1.2 * frame["a"] - 0.5 * frame["b"] + frame["colour"].map(COLOUR_EFFECT).fillna(0.1), dtype=float)


def test_permutation_values_of_an_additive_black_box_are_the_closed_form(
        frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    """For a model additive in its raw inputs, interventional SHAP values are each term minus its
    mean over the background (Lundberg & Lee 2017, corollary 1), whatever the permutations; the
    base value is the mean margin over the background, taken from the explainer's output."""
    x, _ = frame
    x = x.assign(colour=x["colour"].where(np.arange(len(x)) % 17 != 0))  # text with missing values
    sample, background = x.head(40), x.iloc[100:180]
    result = explain.explain(_BlackBox(_additive), sample, background=background)
    assert result.explainer == "PermutationExplainer" and result.units == "log-odds"
    assert "neither linear nor a tree model" in result.note and "max_evals 14" in result.note
    colour = sample["colour"].map(COLOUR_EFFECT).fillna(0.1)
    expected = pd.DataFrame({"a": 1.2 * (sample["a"] - background["a"].mean()),
                             "b": -0.5 * (sample["b"] - background["b"].mean()),
                             "colour": colour - background["colour"].map(COLOUR_EFFECT).fillna(0.1).mean()})
    np.testing.assert_allclose(result.values.to_numpy(), expected.to_numpy(), atol=1e-12)
    assert result.base_value == pytest.approx(_additive(background).mean(), abs=1e-12)
    assert result.additivity_error() < 1e-12


def _exact_shapley(f: Callable[[pd.DataFrame], np.ndarray], row: pd.DataFrame, background: pd.DataFrame) -> np.ndarray:
    """Brute force over all coalitions: phi_j = sum_S |S|! (M - |S| - 1)! / M! (v(S + j) - v(S)),
    v(S) = mean over the background of f with the features in S taken from the row (Shapley 1953;
    the interventional game of Janzing et al. 2020)."""
    from itertools import combinations

    features = list(row.columns)
    m = len(features)

    def value(coalition: tuple[str, ...]) -> float:
        hybrid = background.copy()
        for feature in coalition:
            hybrid[feature] = row[feature].iloc[0]
        return float(f(hybrid).mean())

    phi = np.zeros(m)
    for j, feature in enumerate(features):
        others = [g for g in features if g != feature]
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for subset in combinations(others, size):
                phi[j] += weight * (value(subset + (feature,)) - value(subset))
    return phi


def test_permutation_values_are_exact_for_pairwise_interactions(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    """One antithetic permutation gives the exact Shapley values of a model whose interactions involve
    at most two features (shap's PermutationExplainer): checked against brute force."""
    x, _ = frame

    def pairwise(rows: pd.DataFrame) -> np.ndarray:
        red = (rows["colour"] == "red").to_numpy(dtype=float)
        return np.asarray(0.7 * rows["a"] * rows["b"] + 0.9 * red * rows["a"] - 0.2 * rows["b"] ** 2, dtype=float)

    sample, background = x.head(5), x.iloc[200:230]
    result = explain.explain(_BlackBox(pairwise), sample, background=background, seed=3)
    for i in range(len(sample)):
        np.testing.assert_allclose(result.values.iloc[i].to_numpy(),
                                   _exact_shapley(pairwise, sample.iloc[[i]], background), atol=1e-10)


def test_permutation_is_seeded_and_leaves_the_global_generator_alone(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    from sklearn.neural_network import MLPClassifier

    x, y = frame
    numeric = x[["a", "b"]]
    model = MLPClassifier((5,), max_iter=1000, random_state=0).fit(numeric, y)
    np.random.seed(123)
    first = explain.explain(model, numeric.head(30), seed=4)
    after = np.random.random()
    np.random.seed(123)
    second = explain.explain(model, numeric.head(30), seed=4)
    assert np.random.random() == after  # shap seeds numpy's global generator: restored
    pd.testing.assert_frame_equal(first.values, second.values)
    assert first.additivity_error() < 1e-6
    # the base value is the mean margin over the background (a seeded draw of the sample)
    background = numeric.head(30).sample(n=30, random_state=4)
    from validation.inputs.artifacts import margin

    assert first.base_value == pytest.approx(margin(model, background).mean(), abs=1e-12)


def test_the_black_box_receives_the_frame_it_was_given() -> None:
    """Raw columns are coded as numbers for shap's masker and decoded back with their dtypes:
    text (pandas str), categories, objects with None, integers, booleans, nullable integers."""
    frame = pd.DataFrame({
        "text": pd.array(["a", None, "b", "a"], dtype="str"),
        "cat": pd.Categorical(["x", "y", None, "x"], categories=["y", "x", "z"]),
        "obj": pd.Series(["u", None, "v", "u"], dtype=object),
        "int": np.array([1, 2, 3, 4]), "flag": np.array([True, False, True, True]),
        "nullable": pd.array([1, None, 3, 4], dtype="Int64"), "real": [0.5, np.nan, 1.5, 2.0]})
    codec = explain._Codec(frame)
    decoded = codec.decode(codec.encode(frame))
    pd.testing.assert_frame_equal(decoded, frame)
    assert decoded["obj"].iloc[1] is None


def test_random_forest_is_explained_in_probability(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    """A random forest averages its trees' probabilities: TreeExplainer is exact in probability,
    not in log-odds, and the explanation says so."""
    from sklearn.ensemble import RandomForestClassifier

    x, y = frame
    numeric = x[["a", "b"]].copy()
    numeric.loc[::9, "b"] = np.nan  # scikit-learn's trees route missing values
    model = RandomForestClassifier(n_estimators=30, max_depth=4, random_state=0).fit(numeric, y)
    result = explain.explain(model, numeric)
    assert result.explainer == "TreeExplainer" and result.units == "probability"
    np.testing.assert_allclose(result.margin, model.predict_proba(numeric)[:, 1], rtol=0, atol=0)
    assert result.additivity_error() < 1e-6
    assert "in probability" in result.note


def test_untraceable_pipeline_columns_fall_back_to_raw_columns(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    """An interaction column made from two features cannot be summed back to one: the pipeline is
    explained as a black box on its raw columns, and the note says why."""
    from sklearn.preprocessing import PolynomialFeatures

    x, y = frame
    numeric = x[["a", "b"]]
    model = Pipeline([("poly", PolynomialFeatures(2, include_bias=False)),
                      ("model", LogisticRegression())]).fit(numeric, y)
    result = explain.explain(model, numeric.head(20), background=numeric.iloc[100:150])
    assert result.explainer == "PermutationExplainer"
    assert "cannot each be traced to one input feature" in result.note
    assert list(result.values.columns) == ["a", "b"] and result.additivity_error() < 1e-6
