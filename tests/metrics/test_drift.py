"""Drift statistics against scipy and hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from validation.judging.policy import Policy

POLICY = Policy.for_spec(None)
from validation.metrics import drift
from validation.metrics.drift import column_sample


def test_reference_deciles_give_exact_tenths() -> None:
    # 1,000 distinct values binned at their own deciles: exactly 100 per bin (docs/results.md convention)
    values = pd.Series(np.random.default_rng(0).normal(size=1000))
    sample = column_sample(values)
    binning = drift.fit_bins(sample, sample)
    assert binning.kind == "numeric"
    assert drift.shares(binning.counts(sample)).tolist() == [0.1] * 10
    assert drift.column_drift(values, values).psi == 0.0


def test_psi_hand_example() -> None:
    # by hand: 0.1 * ln(0.6/0.5) + (-0.1) * ln(0.4/0.5) = 0.0405465...
    expected = 0.1 * math.log(0.6 / 0.5) - 0.1 * math.log(0.4 / 0.5)
    assert drift.psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])) == pytest.approx(expected, abs=1e-15)


def test_psi_with_an_empty_bin_and_a_current_only_category_by_hand() -> None:
    # reference a:10 b:10 (b absent now); current a:5 c:15 (c new): bins a, b, c
    result = drift.column_drift(pd.Series(["a"] * 10 + ["b"] * 10, name="x"),
                                pd.Series(["a"] * 5 + ["c"] * 15, name="x"))
    assert result.binning.labels() == ["a", "b", "c"]
    e, a = [0.5, 0.5, 0.0], [0.25, 0.0, 0.75]
    floor = lambda x: max(x, 1e-4)  # noqa: E731
    by_hand = sum((floor(ai) - floor(ei)) * math.log(floor(ai) / floor(ei)) for ei, ai in zip(e, a))
    assert result.psi == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize(("n_ref", "n_cur"), [(2000, 1500), (30_000, 12_000)])
def test_statistics_match_scipy(n_ref: int, n_cur: int) -> None:
    # the second case exceeds 10,000 rows: scipy's asymptotic p-value, which we must reproduce
    rng = np.random.default_rng(1)
    ref = pd.Series(np.round(rng.normal(0, 1, n_ref), 2), name="x")  # rounded: ties
    cur = pd.Series(np.round(rng.normal(0.05, 1.2, n_cur), 2), name="x")
    result = drift.column_drift(ref, cur)
    ks = stats.ks_2samp(ref, cur)
    assert result.ks_stat == pytest.approx(ks.statistic, abs=1e-15)
    assert result.ks_pvalue == pytest.approx(ks.pvalue, rel=1e-9)
    assert result.wasserstein_norm == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-9)
    table = np.vstack([result.reference_counts, result.current_counts])
    assert result.chi2_pvalue == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-12)
    e, a = table[0] / table[0].sum(), table[1] / table[1].sum()
    # JS distance from its definition (natural log), and as scipy computes it
    m = (e + a) / 2
    kl = lambda p, q: float(np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0.0)))  # noqa: E731
    assert result.js_distance == pytest.approx(math.sqrt((kl(e, m) + kl(a, m)) / 2), rel=1e-12)
    assert result.js_distance == pytest.approx(jensenshannon(e, a), rel=1e-12)


def test_psi_critical_values() -> None:
    # chi2_{0.95, 9} = 16.918978 (statistical tables); (1/1000 + 1/500) = 0.003
    assert drift.psi_critical_value(10, 1000, 500, 0.95) == pytest.approx(16.918978 * 0.003, rel=1e-6)
    assert drift.psi_critical_value(10, 1000, 500, 0.999) == pytest.approx(27.877165 * 0.003, rel=1e-6)
    # the same PSI is red at N = 500,000 under the critical rule and green at N = 500
    big = drift.psi_critical_value(10, 500_000, 500_000, 0.999)
    small = drift.psi_critical_value(10, 500, 500, 0.95)
    assert big < 0.01 < small


def test_psi_rule_critical_judges_against_each_columns_critical_values() -> None:
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(size=20_000)})
    cur = pd.DataFrame({"x": rng.normal(0.05, 1, size=20_000)})
    table, _ = drift.drift_table(ref, cur, ["x"])
    psi = table.loc["x", "psi"]
    assert psi < 0.10  # green under the fixed rule
    fixed = [f for f in drift.drift_findings(table, None) if f["metric"] == "psi"][0]
    critical = [f for f in drift.drift_findings(table, None, psi_rule="critical") if f["metric"] == "psi"][0]
    assert POLICY.judge(fixed).status == "green"
    judged = POLICY.judge(critical).model_dump()
    assert judged["amber"] == pytest.approx(table.loc["x", "psi_critical_95"])
    assert judged["status"] == ("red" if psi >= table.loc["x", "psi_critical_999"] else "amber")
    with pytest.raises(ValueError, match="psi_rule"):
        drift.drift_findings(table, None, psi_rule="strict")


def test_missing_values_and_new_categories_keep_their_own_bins() -> None:
    result = drift.column_drift(pd.Series(["a"] * 10 + ["b"] * 5 + [None] * 5, name="c"),
                                pd.Series(["a"] * 5 + ["c"] * 10, name="c"))
    table = result.bin_table()
    assert table.index.tolist() == ["a", "b", "c", drift.MISSING_LABEL]
    assert table["reference_count"].tolist() == [10, 5, 0, 5]
    assert table["current_count"].tolist() == [5, 0, 10, 0]
    assert math.isnan(result.ks_stat)  # no KS for categorical columns


def test_few_distinct_numeric_values_are_binned_by_value() -> None:
    ref, cur = column_sample(pd.Series([1, 2, 3, 4] * 25)), column_sample(pd.Series([1, 1, 2, 5]))
    binning = drift.fit_bins(ref, cur)
    assert binning.kind == "discrete"
    assert binning.labels() == ["1", "2", "3", "4", "5"]
    assert binning.counts(cur).tolist() == [2, 1, 0, 0, 1]
    assert binning.assign(pd.Series([5, 1])).tolist() == [4, 0]


def test_values_on_an_edge_fall_in_the_lower_bin() -> None:
    # right-closed bins: (-inf, q1], (q1, q2], ...
    ref = column_sample(pd.Series(np.arange(1, 21, dtype=float)))
    binning = drift.fit_bins(ref, ref, bins=2)
    assert binning.edges == (10.5,)
    assert binning.counts(column_sample(pd.Series([10.5, 10.6]))).tolist() == [1, 1]
    assert binning.assign(pd.Series([10.5, 10.6])).tolist() == [0, 1]


def test_many_categories_are_capped_with_an_other_bin() -> None:
    rng = np.random.default_rng(3)
    ref = pd.Series(rng.integers(0, 2000, 20_000).astype(str), name="merchant")
    cur = pd.Series(rng.integers(0, 2500, 10_000).astype(str), name="merchant")
    result = drift.column_drift(ref, cur, max_categories=50)
    assert result.binning.n_bins == 50 and result.binning.labels()[-1] == drift.OTHER_LABEL
    assert result.reference_counts.sum() == 20_000 and result.current_counts.sum() == 10_000
    assert "pooled in (other)" in result.notes[0]


def test_all_missing_and_constant_columns_are_handled_visibly() -> None:
    gone = drift.column_drift(pd.Series([np.nan] * 50, name="x"), pd.Series(np.arange(50.0), name="x"))
    assert gone.psi > 5  # from all-missing to present: a huge shift, not a NaN
    assert any("no reference values" in n for n in gone.notes)
    assert math.isnan(gone.ks_stat)
    constant = drift.column_drift(pd.Series([3.0] * 50, name="x"), pd.Series([3.0] * 40, name="x"))
    assert constant.psi == 0.0 and math.isnan(constant.chi2_pvalue) and math.isnan(constant.wasserstein_norm)
    assert any("chi-square undefined" in n for n in constant.notes)


def test_infinite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="infinite"):
        column_sample(pd.Series([1.0, np.inf], name="x"))


def test_psi_by_period_matches_per_period_comparisons() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=3000)})
    cur = pd.DataFrame({"x": np.r_[rng.normal(size=1000), rng.normal(0.5, 1, size=1000)],
                        "month": ["2025-02"] * 1000 + ["2025-01"] * 1000})
    table, details = drift.drift_table(ref, cur, ["x"])
    by_period = drift.psi_by_period(details, cur, "month")
    assert by_period.columns.tolist() == ["2025-01", "2025-02"]  # in time order
    for month in ("2025-01", "2025-02"):
        part = column_sample(cur.loc[cur["month"] == month, "x"])
        counts = details["x"].binning.counts(part)
        expected = drift.psi(drift.shares(details["x"].reference_counts), drift.shares(counts))
        assert by_period.loc["x", month] == pytest.approx(expected, rel=1e-12)
    assert by_period.loc["x", "2025-01"] > by_period.loc["x", "2025-02"]


def test_a_period_of_few_rows_does_not_disclose_its_default_rate() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"score": rng.uniform(size=500), "default": rng.integers(0, 2, 500)})
    cur = pd.DataFrame({"score": rng.uniform(size=203), "default": rng.integers(0, 2, 203),
                        "month": ["2025-01"] * 200 + ["2025-02"] * 3})
    _, details = drift.drift_table(ref, cur, ["score"])
    by_period = drift.psi_by_period(details, cur, "month")
    found = {f["subject"]: f for f in drift.period_findings(by_period, details, cur, time="month", score="score",
                                                             target="default", reference_default_rate=0.5)
             if f["metric"] == "default_rate"}
    assert found["period:2025-01"]["value"] == pytest.approx(cur["default"][:200].mean())
    assert found["period:2025-02"]["value"] is None and "not disclosed" in found["period:2025-02"]["note"]


def test_drift_table_findings_and_headline() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"stable": rng.normal(size=500), "moved": rng.normal(size=500), "s": rng.random(500)})
    cur = pd.DataFrame({"stable": rng.normal(size=500), "moved": rng.normal(1, 1, size=500), "s": rng.random(500)})
    table, details = drift.drift_table(ref, cur, ["s", "stable", "moved"])
    assert table.index[0] == "moved"
    findings = drift.drift_findings(table, score="s")
    assert {f["metric"] for f in findings} == {"psi", "ks_stat", "ks_pvalue", "chi2_pvalue", "js_distance",
                                              "wasserstein_norm"}
    assert {f["subject"] for f in findings} == {"score", "feature:stable", "feature:moved"}
    statuses = {c: POLICY.judge(f).status for c, f in zip(table.index, [f for f in findings if f["metric"] == "psi"])}
    text = drift.headline(table, statuses, "s")
    assert text.startswith("1 of 2 features at amber or red; the largest is moved (PSI ")
    assert "The score's PSI is" in text


def test_rare_categories_are_pooled_never_shown() -> None:
    # "ZED" occurs once in each sample: an individual's value must not become a bin of its own
    ref = pd.Series(["a"] * 20 + ["b"] * 20 + ["ZED"], name="x")
    cur = pd.Series(["a"] * 20 + ["b"] * 15 + ["ZED"] + ["c"] * 6, name="x")
    result = drift.column_drift(ref, cur)
    assert result.binning.labels() == ["a", "b", "c", drift.OTHER_LABEL]
    assert result.reference_counts.tolist() == [20, 20, 0, 1]
    assert result.current_counts.tolist() == [20, 15, 6, 1]
    assert "fewer than 5 times" in result.notes[0]
