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
