"""Drift statistics against scipy and hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from validation.metrics import drift


def test_reference_deciles_give_exact_tenths() -> None:
    # 1,000 distinct values binned at their own deciles: exactly 100 per bin (DESIGN.md convention)
    values = pd.Series(np.random.default_rng(0).normal(size=1000))
    binning = drift.fit_bins(values, values)
    assert binning.kind == "numeric"
    assert drift.shares(binning.counts(values)).tolist() == [0.1] * 10
    assert drift.column_drift(values, values).psi == 0.0


def test_psi_hand_example() -> None:
    # by hand: 0.1 * ln(0.6/0.5) + (-0.1) * ln(0.4/0.5) = 0.0405465...
    expected = 0.1 * math.log(0.6 / 0.5) - 0.1 * math.log(0.4 / 0.5)
    assert drift.psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])) == pytest.approx(expected, abs=1e-15)


def test_psi_floors_empty_bins_at_1e4() -> None:
    # current bin empty: share floored at 1e-4 (not renormalised); by hand
    e, a = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    expected = (1.0 - 0.5) * math.log(1.0 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert drift.psi(e, a) == pytest.approx(expected, rel=1e-12)


def test_statistics_match_scipy() -> None:
    rng = np.random.default_rng(1)
    ref = pd.Series(rng.normal(0, 1, 2000), name="x")
    cur = pd.Series(rng.normal(0.3, 1.2, 1500), name="x")
    result = drift.column_drift(ref, cur)
    ks = stats.ks_2samp(ref, cur)
    assert result.ks_stat == pytest.approx(ks.statistic, abs=1e-15)
    assert result.ks_pvalue == pytest.approx(ks.pvalue, rel=1e-12)
    table = np.vstack([result.reference_counts, result.current_counts])
    assert result.chi2_pvalue == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-12)
    e, a = table[0] / table[0].sum(), table[1] / table[1].sum()
    # JS distance from its definition (natural log), independently of scipy's implementation
    m = (e + a) / 2
    kl = lambda p, q: float(np.sum(np.where(p > 0, p * np.log(p / q), 0.0)))  # noqa: E731
    assert result.js_distance == pytest.approx(math.sqrt((kl(e, m) + kl(a, m)) / 2), rel=1e-12)
    assert result.js_distance == pytest.approx(jensenshannon(e, a), rel=1e-12)
    # PSI from the bin counts, computed longhand
    assert result.psi == pytest.approx(float(np.sum((a - e) * np.log(np.maximum(a, 1e-4) / np.maximum(e, 1e-4)))), rel=1e-12)


def test_missing_values_and_new_categories_keep_their_own_bins() -> None:
    ref = pd.Series(["a", "a", "b", None], name="c")
    cur = pd.Series(["a", "c", "c"], name="c")
    result = drift.column_drift(ref, cur)
    table = result.bin_table()
    assert table.index.tolist() == ["a", "b", "c", drift.MISSING_LABEL]
    assert table["reference_count"].tolist() == [2, 1, 0, 1]
    assert table["current_count"].tolist() == [1, 0, 2, 0]
    assert math.isnan(result.ks_stat)  # no KS for categorical columns


def test_few_distinct_numeric_values_are_binned_by_value() -> None:
    ref = pd.Series([1, 2, 3, 4] * 25, name="tenure")
    cur = pd.Series([1, 1, 2, 5], name="tenure")
    binning = drift.fit_bins(ref, cur)
    assert binning.kind == "discrete"
    assert binning.labels() == ["1", "2", "3", "4", "5"]
    assert binning.counts(cur).tolist() == [2, 1, 0, 0, 1]


def test_values_on_an_edge_fall_in_the_lower_bin() -> None:
    # right-closed bins: (-inf, q1], (q1, q2], ...
    ref = pd.Series(np.arange(1, 21, dtype=float))
    binning = drift.fit_bins(ref, ref, bins=2)
    assert binning.edges == (10.5,)
    assert binning.counts(pd.Series([10.5, 10.6])).tolist() == [1, 1]


def test_drift_table_is_sorted_by_psi() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"stable": rng.normal(size=500), "moved": rng.normal(size=500)})
    cur = pd.DataFrame({"stable": rng.normal(size=500), "moved": rng.normal(1, 1, size=500)})
    table, details = drift.drift_table(ref, cur, ["stable", "moved"])
    assert table.index.tolist() == ["moved", "stable"]
    assert set(details) == {"stable", "moved"}
    findings = drift.drift_findings(table, score=None)
    assert {f["metric"] for f in findings} == {"psi", "ks_stat", "ks_pvalue", "chi2_pvalue", "js_distance"}
    assert {f["subject"] for f in findings} == {"feature:stable", "feature:moved"}
