"""The paired statistics of the challenger check against independent references.

- Paired DeLong: against a brute-force computation over every (event, non-event) pair (the
  structural components and their covariance computed by plain Python loops from the definitions of
  DeLong, DeLong & Clarke-Pearson 1988, not from ranks), and against the unpaired variance of
  ``validation.metrics.backtesting.auc_delong`` when the comparator ranks every pair alike.
- Brier: against ``scipy.stats.ttest_rel`` and against the Harvey-Leybourne-Newbold modified
  Diebold-Mariano statistic computed from its own formula.
- McNemar: against ``statsmodels.stats.contingency_tables.mcnemar(exact=True)``.
- The benchmark: fitted twice on the same rows, the same coefficients.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from validation.metrics import backtesting, comparison


def _brute_force(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(AUC_a, AUC_b, Var(AUC_a - AUC_b)) by loops over every (event, non-event) pair."""
    def psi(x: float, z: float) -> float:
        return 1.0 if x > z else 0.5 if x == z else 0.0

    events = [i for i in range(len(y)) if y[i] == 1]
    others = [j for j in range(len(y)) if y[j] == 0]
    m, n = len(events), len(others)
    components = {}
    for name, s in (("a", a), ("b", b)):
        v10 = [sum(psi(s[i], s[j]) for j in others) / n for i in events]
        v01 = [sum(psi(s[i], s[j]) for i in events) / m for j in others]
        components[name] = (v10, v01)

    def cov(u: list[float], v: list[float]) -> float:
        mu, mv = sum(u) / len(u), sum(v) / len(v)
        return sum((x - mu) * (z - mv) for x, z in zip(u, v)) / (len(u) - 1)

    s = {}
    for p in ("a", "b"):
        for q in ("a", "b"):
            s[p + q] = cov(components[p][0], components[q][0]) / m + cov(components[p][1], components[q][1]) / n
    auc_a = sum(components["a"][0]) / m
    auc_b = sum(components["b"][0]) / m
    return auc_a, auc_b, s["aa"] + s["bb"] - 2 * s["ab"]


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 80
    y = (rng.random(n) < 0.3).astype(int)
    a = np.round(0.3 * y + rng.normal(0, 0.3, n), 1)  # rounded: ties within and across classes
    b = np.round(0.5 * a + 0.2 * y + rng.normal(0, 0.3, n), 1)
    return y, a, b


def test_paired_delong_matches_brute_force_over_every_pair(scored: tuple[np.ndarray, ...]) -> None:
    y, a, b = scored
    auc_a, auc_b, variance = _brute_force(y, a, b)
    result = comparison.paired_auc_difference(y, a, b)
    assert result.auc_a == pytest.approx(auc_a, abs=1e-12)
    assert result.auc_b == pytest.approx(auc_b, abs=1e-12)
    assert result.se == pytest.approx(math.sqrt(variance), rel=1e-10)
    z = (auc_a - auc_b) / math.sqrt(variance)
    assert result.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert result.pvalue_lower + result.pvalue_higher == pytest.approx(1.0)
    assert result.ci_low == pytest.approx(auc_a - auc_b - stats.norm.ppf(0.975) * math.sqrt(variance), rel=1e-9)


def test_each_auc_and_its_variance_agree_with_the_unpaired_delong(scored: tuple[np.ndarray, ...]) -> None:
    y, a, _ = scored
    v10, v01 = comparison.delong_components(y, a)
    auc, variance = backtesting.auc_delong(y, a)
    assert v10.mean() == pytest.approx(auc) and v01.mean() == pytest.approx(auc)
    assert np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01) == pytest.approx(variance, rel=1e-12)


def test_the_paired_variance_reduces_to_the_unpaired_one_against_a_constant(scored: tuple[np.ndarray, ...]) -> None:
    """A constant comparator has every component 1/2 (AUC 0.5, no variance, no covariance): the
    variance of the difference is the new score's own DeLong variance."""
    y, a, _ = scored
    result = comparison.paired_auc_difference(y, a, np.full(len(y), 0.2))
    assert result.auc_b == 0.5
    assert result.se ** 2 == pytest.approx(backtesting.auc_delong(y, a)[1], rel=1e-12)


def test_identical_scores_have_no_difference_and_no_test(scored: tuple[np.ndarray, ...]) -> None:
    y, a, _ = scored
    result = comparison.paired_auc_difference(y, a, a)
    assert result.difference == 0 and result.se == 0 and math.isnan(result.pvalue)


def test_a_single_class_is_undefined() -> None:
    result = comparison.paired_auc_difference(np.zeros(5, int), np.linspace(0, 1, 5), np.linspace(1, 0, 5))
    assert math.isnan(result.difference) and math.isnan(result.pvalue)


def test_the_brier_test_is_the_paired_t_test_and_the_modified_diebold_mariano(scored: tuple[np.ndarray, ...]) -> None:
    y, _, _ = scored
    rng = np.random.default_rng(3)
    a = np.clip(0.3 + 0.3 * y + rng.normal(0, 0.15, len(y)), 0, 1)
    b = np.clip(0.3 + 0.2 * y + rng.normal(0, 0.15, len(y)), 0, 1)
    result = comparison.paired_brier_difference(y, a, b)
    reference = stats.ttest_rel((a - y) ** 2, (b - y) ** 2)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.pvalue_higher == pytest.approx(stats.ttest_rel((a - y) ** 2, (b - y) ** 2,
                                                                 alternative="greater").pvalue, rel=1e-10)
    # Diebold & Mariano (1995) at h = 1, corrected by Harvey, Leybourne & Newbold (1997)
    d = (a - y) ** 2 - (b - y) ** 2
    n, h = len(d), 1
    dm = d.mean() / math.sqrt(np.mean((d - d.mean()) ** 2) / n)
    hln = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    assert result.statistic == pytest.approx(hln, rel=1e-10)
    assert result.difference == pytest.approx(backtesting.brier(y, a) - backtesting.brier(y, b))


@pytest.mark.parametrize(("a_only", "b_only"), [(10, 2), (0, 0), (3, 3), (0, 7), (250, 310), (1, 0)])
def test_mcnemar_matches_statsmodels_exact(a_only: int, b_only: int) -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    expected = mcnemar([[40, a_only], [b_only, 50]], exact=True).pvalue
    assert comparison.mcnemar_pvalue(a_only, b_only) == pytest.approx(min(1.0, expected), rel=1e-12)


def test_paired_decisions_count_rows_approved_by_one_model_alone() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    a = np.array([0.1, 0.6, 0.2, 0.9, 0.3, 0.1])
    b = np.array([0.1, 0.1, 0.7, 0.9, 0.8, 0.1])
    result = comparison.paired_decisions(y, a, b, threshold=0.5, favourable="below")
    # approved by a: rows 0, 2, 4, 5; by b: rows 0, 1, 5
    assert (result.a_only, result.b_only) == (2, 1)
    assert result.approval_a == pytest.approx(4 / 6) and result.approval_b == pytest.approx(3 / 6)
    assert result.bad_rate_a == pytest.approx(2 / 4) and result.bad_rate_b == pytest.approx(1 / 3)


def _reference_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    c = rng.choice(["a", "b", "c"], size=n)
    x[rng.random(n) < 0.05] = np.nan
    logit = -1 + 0.8 * np.nan_to_num(x) + (c == "b") * 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"x": x, "c": pd.Series(c).where(rng.random(n) > 0.05), "y": y})


def test_the_benchmark_is_fitted_deterministically_and_bounded() -> None:
    frame = _reference_frame(3000, seed=5)
    first = comparison.fit_benchmark(frame, ["x", "c"], "y", max_rows=1000, seed=4)
    second = comparison.fit_benchmark(frame, ["x", "c"], "y", max_rows=1000, seed=4)
    assert first is not None and second is not None
    assert first.fitted_rows == 1000 and first.available_rows == 3000
    pd.testing.assert_series_equal(first.coefficients(), second.coefficients(), check_exact=True)
    assert first.numeric == ["x"] and first.categorical == ["c"]
    assert "cat__c_(missing)" in first.coefficients().index
    # the numeric feature's effect is recovered (positive), on standardised units
    assert first.coefficients()["num__x"] > 0
    # categories unseen at fit score without error or warning
    unseen = pd.DataFrame({"x": [0.0, 1.0], "c": ["zzz", "a"]})
    assert comparison.fit_benchmark(frame, ["x", "c"], "y", max_rows=50_000, seed=0) is not None
    assert first.predict(unseen).shape == (2,)


def test_a_benchmark_needs_both_outcomes() -> None:
    frame = _reference_frame(50, seed=1).assign(y=0)
    assert comparison.fit_benchmark(frame, ["x", "c"], "y", max_rows=50_000, seed=0) is None


def test_the_calibration_curve_never_shows_a_bin_under_the_minimum() -> None:
    y = np.array([0, 1] * 12)
    table = comparison.calibration_curve(y, np.linspace(0, 1, 24), bins=10, min_rows=5)
    assert len(table) == 4 and table["n"].min() >= 5 and table["n"].sum() == 24


@pytest.mark.parametrize("text", ["str", "object"])
def test_the_benchmark_scores_as_its_pipeline_does(text: str) -> None:
    """Benchmark.predict from the coefficients equals scikit-learn's own predict_proba of the fitted
    pipeline (the reference), on rows with missing numbers, missing and unseen categories, for text
    held as pandas strings or as objects; and a column with more categories than the encoder keeps
    (infrequent ones grouped) is scored by the pipeline itself."""
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                          "c": rng.choice(["a", "b", "c"], size=n).astype(object),
                          "many": rng.choice([f"v{i}" for i in range(80)], size=n).astype(object)})
    frame.loc[rng.random(n) < 0.1, "x"] = np.nan
    frame.loc[rng.random(n) < 0.1, "c"] = None
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-frame["z"]))).astype(int)
    rows = frame.sample(500, random_state=1).copy()
    rows.loc[rows.index[:20], "c"] = "never seen"
    rows = rows.astype({"c": text, "many": text})
    for features, expected_margin in ((["x", "z", "c"], True), (["x", "c", "many"], False)):
        fitted = comparison.fit_benchmark(frame, features, "y", max_rows=50_000, seed=0)
        assert fitted is not None
        reference = fitted.pipeline.predict_proba(comparison.benchmark_frame(rows, fitted.numeric,
                                                                             fitted.categorical))[:, 1]
        assert (fitted.margin(rows) is not None) is expected_margin
        np.testing.assert_allclose(fitted.predict(rows), reference, rtol=0, atol=1e-12)
