"""SHAP explanations: linear closed form, pipelines summed back to features, additivity."""

from __future__ import annotations

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


def test_monotonicity_flags_a_model_that_breaks_it(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = frame
    numeric = x[["a", "b"]]
    model = LogisticRegression().fit(numeric, y)  # PD increases in a (coefficient > 0), decreases in b
    assert model.coef_[0][0] > 0 > model.coef_[0][1]
    grid = explain.ice_grid(numeric["a"])
    curves = explain.ice_curves(model, numeric.head(50), "a", grid)
    assert curves.shape == (50, len(grid))
    assert explain.monotonicity_violation_share(curves, "increasing") == 0.0
    assert explain.monotonicity_violation_share(curves, "decreasing") == 1.0
    # partial dependence is the mean ICE curve; each point is the model's PD with a set to the grid value
    row = numeric.head(1).assign(a=grid[3])
    assert curves[0, 3] == pytest.approx(model.predict_proba(row)[0, 1])
    # a U-shaped effect breaks an "increasing" declaration on part of the curves
    u_shape = GradientBoostingClassifier(n_estimators=50, random_state=0).fit(
        numeric, ((numeric["a"] ** 2 + np.random.default_rng(0).normal(0, 0.5, len(numeric))) > 1).astype(int))
    share = explain.monotonicity_violation_share(explain.ice_curves(u_shape, numeric.head(50), "a", grid), "increasing")
    assert share > 0.5
