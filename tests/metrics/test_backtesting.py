"""Backtesting statistics against sklearn, scipy, brute force and published tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import brier_score_loss, roc_auc_score

from validation.metrics import backtesting as bt


def _delong_brute_force(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) structural components, O(m n), straight from the definition."""
    x, z = s[y == 1], s[y == 0]
    psi = (x[:, None] > z[None, :]).astype(float) + 0.5 * (x[:, None] == z[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / len(x) + v01.var(ddof=1) / len(z))


@pytest.mark.parametrize("ties", [False, True])
def test_delong_matches_definition_and_sklearn(ties: bool) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = rng.normal(y * 0.8, 1.0)
    if ties:
        s = np.round(s, 1)
    auc, var = bt.auc_delong(y, s)
    ref_auc, ref_var = _delong_brute_force(y, s)
    assert auc == pytest.approx(ref_auc, abs=1e-12)
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert var == pytest.approx(ref_var, rel=1e-10)


def test_discrimination_summary() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 500)
    s = np.clip(rng.normal(0.3 + 0.2 * y, 0.15), 0, 1)
    result = bt.discrimination(y, s)
    assert result["gini"] == pytest.approx(2 * roc_auc_score(y, s) - 1)
    assert result["ks"] == pytest.approx(stats.ks_2samp(s[y == 1], s[y == 0]).statistic)
    assert result["brier"] == pytest.approx(brier_score_loss(y, s))
    assert result["auc_ci_low"] < result["auc"] < result["auc_ci_high"]


def test_discrimination_with_one_class_is_undefined_not_an_error() -> None:
    result = bt.discrimination(np.zeros(10, dtype=int), np.linspace(0, 1, 10))
    assert math.isnan(result["auc"]) and math.isnan(result["gini"])


def test_auc_change_pvalue_is_normal_tail() -> None:
    # ECB (2019) 2.5.4.1: S = (AUC_init - AUC_curr) / s, p = 1 - Phi(S); S = 2.5 here
    assert bt.auc_change_pvalue(0.80, 0.75, 0.02**2) == pytest.approx(1 - stats.norm.cdf(2.5), rel=1e-12)
    assert bt.auc_change_pvalue(0.70, 0.75, 0.02**2) > 0.5  # an improvement is no deterioration


def test_grades_follow_the_master_scale() -> None:
    # "the first grade whose upper bound it does not exceed": a score equal to a bound stays in it
    grades = bt.assign_grades(np.array([0.0, 0.01, 0.0100001, 0.5, 1.0]), (0.01, 0.05, 1.0))
    assert grades.tolist() == [1, 1, 2, 3, 3]


def test_grade_table_jeffreys_and_binomial() -> None:
    y = np.array([0] * 95 + [1] * 5 + [0] * 40 + [1] * 10)
    s = np.array([0.03] * 100 + [0.15] * 50)
    table = bt.grade_table(y, s, (0.05, 1.0))
    assert table["n"].tolist() == [100, 50]
    assert table["defaults"].tolist() == [5, 10]
    assert table["pd"].tolist() == pytest.approx([0.03, 0.15])
    # ECB Jeffreys: BetaCDF(PD; D + 1/2, N - D + 1/2)
    assert table.loc[1, "jeffreys_pvalue"] == pytest.approx(stats.beta.cdf(0.03, 5.5, 95.5), rel=1e-12)
    # binomial: P(X >= 5), X ~ Bin(100, 0.03), as 1 - P(X <= 4) summed by hand
    by_hand = 1 - sum(math.comb(100, k) * 0.03**k * 0.97 ** (100 - k) for k in range(5))
    assert table.loc[1, "binomial_pvalue"] == pytest.approx(by_hand, rel=1e-10)


def test_binomial_pvalue_small_case() -> None:
    # all 4 default at PD 1/2: P(X >= 4) = 1/16
    assert bt.binomial_pvalue(0.5, 4, 4) == pytest.approx(1 / 16)
    assert bt.binomial_pvalue(0.5, 4, 0) == pytest.approx(1.0)


def test_hosmer_lemeshow_by_hand() -> None:
    table = pd.DataFrame({"n": [100, 50], "defaults": [5, 10], "pd": [0.03, 0.15]})
    # (5 - 3)^2 / (3 * 0.97) + (10 - 7.5)^2 / (7.5 * 0.85), K = 2 degrees of freedom out of sample
    statistic = 4 / 2.91 + 6.25 / 6.375
    result = bt.hosmer_lemeshow(table)
    assert result.statistic == pytest.approx(statistic, rel=1e-12)
    assert result.dof == 2
    assert result.pvalue == pytest.approx(math.exp(-statistic / 2), rel=1e-12)  # chi2 sf with 2 dof
    assert result.sparse_grades == 1  # grade 1 expects 3 defaults (< 5); grade 2 expects 7.5


def test_basel_traffic_light_table() -> None:
    # Basel Committee (1996), supervisory framework for backtesting, table 2: 250 days at 99%
    zones = [bt.basel_zone(x, 250, 0.99) for x in range(12)]
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 2


def test_kupiec_by_hand() -> None:
    # LR = -2 ln[(0.99^248 0.01^2) / ((248/250)^248 (2/250)^2)]
    lr = -2 * (248 * math.log(0.99) + 2 * math.log(0.01) - 248 * math.log(248 / 250) - 2 * math.log(2 / 250))
    assert bt.kupiec_pvalue(2, 250, 0.99) == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-12)
    assert bt.kupiec_pvalue(0, 250, 0.99) == pytest.approx(stats.chi2.sf(-2 * 250 * math.log(0.99), 1))


def test_christoffersen_clustered_exceptions_are_rejected() -> None:
    hits = np.zeros(250, dtype=int)
    hits[100:105] = 1  # five exceptions in a row
    spread = np.zeros(250, dtype=int)
    spread[[20, 70, 120, 170, 220]] = 1
    assert bt.christoffersen_pvalue(hits) < 0.001
    assert bt.christoffersen_pvalue(spread) > 0.5
    # by hand for the spread case: 249 transitions; each hit is entered from 0 and left to 0:
    # n01 = 5, n10 = 5, n11 = 0, n00 = 249 - 10 = 239
    n00, n01, n10, n11 = 239, 5, 5, 0
    pi = (n01 + n11) / 249
    pi0 = n01 / (n00 + n01)
    lr = -2 * ((n00 + n10) * math.log(1 - pi) + (n01 + n11) * math.log(pi)
               - n00 * math.log(1 - pi0) - n01 * math.log(pi0) - n10 * math.log(1.0))
    assert bt.christoffersen_pvalue(spread) == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-10)


def test_var_exceptions_definition() -> None:
    assert bt.var_exceptions([-5, -10, -10.1, 3], [10, 10, 10, 10]).tolist() == [0, 0, 1, 0]


# --- issue 6: published values and the new tests ------------------------------------------------


def test_basel_1996_cumulative_probabilities_and_plus_factors() -> None:
    # Basel Committee (1996), "Supervisory framework for the use of backtesting...", table 2:
    # cumulative probability of 0..10 exceptions in 250 days at 99%, and the plus factors
    published = [8.11, 28.58, 54.32, 75.81, 89.22, 95.88, 98.63, 99.60, 99.89, 99.97, 99.99]
    assert [round(100 * stats.binom.cdf(k, 250, 0.01), 2) for k in range(11)] == published
    assert [bt.plus_factor(k) for k in range(12)] == [0.0] * 5 + [0.40, 0.50, 0.65, 0.75, 0.85, 1.0, 1.0]


def test_hanley_mcneil_published_roc_study() -> None:
    # Hanley & McNeil (1982), Radiology 143:29-36, table 1: CT ratings 1-5 of 58 normal and 51
    # abnormal patients; published area 0.893 with standard error 0.032 (their formula)
    normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    score = np.r_[np.repeat(np.arange(1, 6), normal), np.repeat(np.arange(1, 6), abnormal)]
    y = np.r_[np.zeros(58, dtype=int), np.ones(51, dtype=int)]
    auc, variance = bt.auc_delong(y, score)
    assert round(auc, 3) == 0.893
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    hanley_mcneil_se = math.sqrt((auc * (1 - auc) + 50 * (q1 - auc**2) + 57 * (q2 - auc**2)) / (51 * 58))
    assert round(hanley_mcneil_se, 3) == 0.032
    # DeLong's estimator on the same data, from its definition (brute force)
    assert variance == pytest.approx(_delong_brute_force(y, score)[1], rel=1e-10)
    # and as published for these data by Stata's roctab (manual [R] roctab, example 1, hanley.dta),
    # whose default standard error is DeLong, DeLong & Clarke-Pearson (1988): area 0.8932,
    # std. err. 0.0307, asymptotic normal 95% interval 0.83295 to 0.95339
    summary = bt.discrimination(y, score / 5)  # ratings as probabilities: ranks, hence AUC and SE, unchanged
    assert (round(summary["auc"], 4), round(summary["auc_se"], 4)) == (0.8932, 0.0307)
    assert (round(summary["auc_ci_low"], 5), round(summary["auc_ci_high"], 5)) == (0.83295, 0.95339)
    assert abs(math.sqrt(variance) - hanley_mcneil_se) < 0.003  # two estimators of one quantity


def test_tuff_by_hand() -> None:
    hits = np.zeros(250, dtype=int)
    hits[49] = 1  # first failure on day 50 at 99%
    v, p = 50, 0.01
    lr = -2 * (math.log(p) + (v - 1) * math.log(1 - p)) + 2 * (math.log(1 / v) + (v - 1) * math.log(1 - 1 / v))
    assert bt.tuff_pvalue(hits, 0.99) == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-12)
    assert math.isnan(bt.tuff_pvalue(np.zeros(10, dtype=int), 0.99))


def test_conditional_coverage_is_kupiec_plus_independence() -> None:
    hits = np.zeros(250, dtype=int)
    hits[[10, 11, 12, 100, 200, 201]] = 1
    x = int(hits.sum())
    lr_pof = stats.chi2.isf(bt.kupiec_pvalue(x, 250, 0.99), 1)
    lr_ind = stats.chi2.isf(bt.christoffersen_pvalue(hits), 1)
    assert bt.conditional_coverage_pvalue(hits, 0.99) == pytest.approx(stats.chi2.sf(lr_pof + lr_ind, 2), rel=1e-9)


def test_spiegelhalter_by_hand() -> None:
    y = np.array([1, 0, 0, 1])
    p = np.array([0.8, 0.3, 0.1, 0.4])
    z = sum((yi - pi) * (1 - 2 * pi) for yi, pi in zip(y, p)) / math.sqrt(
        sum((1 - 2 * pi) ** 2 * pi * (1 - pi) for pi in p))
    assert bt.spiegelhalter_pvalue(y, p) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    assert bt.observed_expected_ratio(y, p) == pytest.approx(2 / 1.6)


def test_herfindahl_by_hand() -> None:
    # shares 0.5, 0.3, 0.2 over K = 3: CV = sqrt(3 ((1/6)^2 + (1/30)^2 + (2/15)^2))
    cv = math.sqrt(3 * ((0.5 - 1 / 3) ** 2 + (0.3 - 1 / 3) ** 2 + (0.2 - 1 / 3) ** 2))
    hi, cv_ours = bt.herfindahl(np.array([50, 30, 20]))
    assert cv_ours == pytest.approx(cv)
    assert hi == pytest.approx(1 + math.log((cv**2 + 1) / 3) / math.log(3))
    assert bt.herfindahl(np.array([0, 0, 10]))[0] == pytest.approx(1.0)  # all in one grade
    z = math.sqrt(2) * (cv - 0.0) / math.sqrt(cv**2 * (0.5 + cv**2))
    assert bt.herfindahl_change_pvalue(np.array([50, 30, 20]), np.array([10, 10, 10])) == pytest.approx(stats.norm.sf(z))


def test_edge_cases_pd_of_zero_and_one_and_empty_grades() -> None:
    assert math.isnan(bt.jeffreys_pvalue(0.0, 10, 0))  # undefined, not a false alarm
    assert bt.binomial_pvalue(0.0, 10, 0) == 1.0
    assert bt.binomial_pvalue(1.0, 10, 10) == 1.0
    table = bt.grade_table(np.array([0, 1, 0]), np.array([0.01, 0.5, 0.6]), (0.05, 0.2, 1.0))
    assert table.index.tolist() == [1, 3]  # grade 2 has no applicants: left out, not a crash


def test_var_backtest_summary_and_rolling_count() -> None:
    rng = np.random.default_rng(5)
    pnl = rng.normal(0, 1, 300)
    var = np.full(300, 2.0)
    result = bt.var_backtest(pnl, var, 0.99)
    hits = bt.var_exceptions(pnl, var)
    assert result["exceptions"] == int(hits.sum()) and result["days"] == 300
    assert result["last_250_exceptions"] == int(hits[-250:].sum())
    assert result["last_250_zone"] == bt.basel_zone(int(hits[-250:].sum()), 250, 0.99)
    zone_note = {f["metric"]: f.get("note") for f in bt.var_findings(result, level=0.99)}["basel_zone"]
    assert zone_note == f"whole window of 300 days; last 250 days: {int(hits[-250:].sum())} exceptions, {result['last_250_zone']}"
    assert result["plus_factor"] == bt.plus_factor(int(hits[-250:].sum()))
    rolling = bt.rolling_exceptions(hits)
    assert len(rolling) == 51 and rolling[-1] == hits[-250:].sum() and rolling[0] == hits[:250].sum()
    short = bt.var_backtest(pnl[:100], var[:100], 0.99)
    assert math.isnan(short["plus_factor"]) and short["last_250_exceptions"] is None
    notes = {f["metric"]: f.get("note") for f in bt.var_findings(short, level=0.99)}
    assert "only 100 days" in notes["basel_zone"]
    assert "1.00 exceptions expected" not in (notes["kupiec_pvalue"] or "")
    tiny = {f["metric"]: f.get("note") for f in bt.var_findings(bt.var_backtest(pnl[:50], var[:50], 0.99), level=0.99)}
    assert "0.50 exceptions expected in 50 days: too few" in tiny["kupiec_pvalue"]


def test_business_impact() -> None:
    frame = pd.DataFrame({"pd": [0.1, 0.2, 0.5, 0.05], "default": [0, 1, 1, 0], "ead": [100.0, 200.0, 50.0, 10.0],
                          "lgd": [0.5, 0.4, 0.6, 0.5]})
    impact = bt.business_impact(frame, score="pd", target="default", threshold=0.3, favourable="below",
                                exposure="ead", lgd="lgd")
    assert impact["approval_rate"] == 0.75
    assert impact["bad_rate_approved"] == pytest.approx(1 / 3)
    assert impact["expected_loss"] == pytest.approx(0.1 * 0.5 * 100 + 0.2 * 0.4 * 200 + 0.05 * 0.5 * 10)
    assert (impact["applicants"], impact["approved"]) == (4, 3)
    before = bt.business_impact(frame.iloc[:2], score="pd", target="default", threshold=0.3, favourable="below",
                                exposure="ead", lgd="lgd")
    notes = {f["metric"]: f.get("note") for f in bt.impact_findings(impact, before)}
    # counts are context, not findings
    assert set(notes) == {"default_rate", "approval_rate", "bad_rate_approved", "expected_loss"}
    assert impact["default_rate"] == 0.5
    assert notes["expected_loss"] == "reference 21; over 3 approved of 4 applicants (reference 2 of 2)"
    assert notes["bad_rate_approved"] == "reference 0.5"
    # issue 17, honest references: development figures replace the reference sample's where given
    notes = {f["metric"]: f.get("note") for f in bt.impact_findings(
        impact, before, development={"bad_rate_approved": 0.045}, development_label="development (5-fold CV)")}
    assert notes["bad_rate_approved"] == "development (5-fold CV) 0.045"
    assert notes["approval_rate"] == "reference 1"  # not given at development: the reference sample's


# Kupiec (1995), non-rejection regions of the proportion-of-failures test at the 5% level, as
# tabulated in Jorion, "Value at Risk" (3rd ed., 2007), table 6-3: (tail probability, days) ->
# (lowest, highest) number of exceptions not rejected. For 1% over 255 days the table gives no
# lower bound ("N < 7"); the likelihood ratio rejects N = 0 there (LR = 5.13 > 3.84), so only the
# upper bound of that cell is checked.
KUPIEC_REGIONS = {
    (0.01, 510): (2, 10), (0.01, 1000): (5, 16),
    (0.025, 255): (3, 11), (0.025, 510): (7, 20), (0.025, 1000): (16, 35),
    (0.05, 255): (7, 20), (0.05, 510): (17, 35), (0.05, 1000): (38, 64),
}


@pytest.mark.parametrize(("cell", "region"), KUPIEC_REGIONS.items(), ids=[f"{p}-{t}" for p, t in KUPIEC_REGIONS])
def test_kupiec_non_rejection_regions(cell: tuple[float, int], region: tuple[int, int]) -> None:
    p, days = cell
    accepted = [n for n in range(0, 120) if bt.kupiec_pvalue(n, days, 1 - p) >= 0.05]
    assert (min(accepted), max(accepted)) == region
    assert accepted == list(range(region[0], region[1] + 1))


def test_kupiec_region_upper_bound_at_255_days_99() -> None:
    assert bt.kupiec_pvalue(6, 255, 0.99) >= 0.05 > bt.kupiec_pvalue(7, 255, 0.99)


def _hits_with_transitions(n00: int, n01: int, n10: int, n11: int) -> np.ndarray:
    """A hit sequence that starts and ends without an exception and has exactly these day-to-day
    transition counts: ``n01 == n10`` runs of exceptions holding ``n01 + n11`` exceptions, separated
    by single quiet days, after a first quiet stretch of ``n00 + 1`` days."""
    assert n01 == n10 > 0
    runs = [1 + n11 // n01 + (1 if i < n11 % n01 else 0) for i in range(n01)]
    hits = [0] * (n00 + 1)
    for run in runs:
        hits += [1] * run + [0]
    return np.asarray(hits, dtype=int)


def _transitions(hits: np.ndarray) -> tuple[int, int, int, int]:
    prev, curr = hits[:-1], hits[1:]
    return tuple(int(((prev == i) & (curr == j)).sum()) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))  # type: ignore[return-value]


def test_christoffersen_documented_example_mathworks_varbacktest() -> None:
    # MathWorks Risk Management Toolbox documentation, varbacktest `cci` and `cc` examples
    # (EquityIndex against Normal95, VaRLevel 0.95): 1043 observations, 57 failures,
    # N00 = 932, N10 = 53, N01 = 53, N11 = 4; published LRatioCCI 0.25866, PValueCCI 0.61104,
    # LRatioPOF 0.46147, PValuePOF 0.49694, LRatioCC 0.72013, PValueCC 0.69763.
    hits = _hits_with_transitions(932, 53, 53, 4)
    assert len(hits) == 1043 and hits.sum() == 57 and _transitions(hits) == (932, 53, 53, 4)
    assert round(bt.independence_lr(hits), 5) == 0.25866
    assert round(bt.christoffersen_pvalue(hits), 5) == 0.61104
    assert round(bt.kupiec_lr(57, 1043, 0.95), 5) == 0.46147
    assert round(bt.kupiec_pvalue(57, 1043, 0.95), 5) == 0.49694
    assert round(bt.conditional_coverage_pvalue(hits, 0.95), 5) == 0.69763
    assert round(float(stats.chi2.isf(bt.conditional_coverage_pvalue(hits, 0.95), 2)), 5) == 0.72013


def test_christoffersen_documented_example_jorion() -> None:
    # Jorion, "Value at Risk" (3rd ed., 2007), chapter 6, question 10: 6 exceptions to a 99% VaR
    # over 252 days, 4 of them following an exception day; published LR_uc = 3.498 and
    # LR_ind = 25.837 (to three decimals, LR_uc truncated: 3.4988). Jorion's exception table counts 252 transitions (the day before the window
    # enters as a day without exception), so the window is preceded by one quiet day here.
    window = np.zeros(252, dtype=int)
    window[[60, 61, 62, 180, 181, 182]] = 1  # two clusters of three: 4 exceptions follow one
    hits = np.r_[0, window]
    assert _transitions(hits) == (244, 2, 2, 4)
    assert bt.independence_lr(hits) == pytest.approx(25.837, abs=1e-3)
    assert bt.kupiec_lr(6, 252, 0.99) == pytest.approx(3.498, abs=1e-3)
    assert bt.christoffersen_pvalue(hits) < 1e-6  # bunching: independence rejected


def test_slices_under_five_rows_are_pooled_and_a_tiny_pool_discloses_no_outcomes() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"segment": ["big"] * 200 + ["tiny-a"] * 2 + ["tiny-b"] * 1,
                          "pd": rng.uniform(0.05, 0.5, 203)})
    frame["default"] = (rng.random(203) < frame["pd"]).astype(int)
    table = bt.slice_table(frame, "segment", target="default", score="pd")
    assert table.index.tolist() == ["big", "(fewer than 5 rows)"]  # no small segment is named
    assert table.loc["(fewer than 5 rows)", "n"] == 3
    assert table.loc["(fewer than 5 rows)", ["defaults", "odr", "pd", "auc"]].isna().all()
    big = frame[frame["segment"] == "big"]
    assert table.loc["big", "jeffreys_pvalue"] == pytest.approx(
        stats.beta.cdf(big["pd"].mean(), big["default"].sum() + 0.5, 200 - big["default"].sum() + 0.5))
    findings = bt.slice_findings(table, "segment", min_rows=30)
    pooled = [f for f in findings if f["subject"] == "segment:(fewer than 5 rows)"]
    assert len(pooled) == 1 and pooled[0]["value"] is None and "not disclosed" in pooled[0]["note"]
    # four small segments together (8 rows) are disclosed as one pool
    more = pd.concat([frame, frame.iloc[:5].assign(segment=["c", "c", "d", "d", "d"])])
    assert bt.slice_table(more, "segment", target="default", score="pd").loc["(fewer than 5 rows)", "n"] == 8


@pytest.mark.parametrize(("exceptions", "status"), [(0, "green"), (4, "green"), (5, "amber"), (6, "amber"), (12, "amber")])
def test_any_plus_factor_is_amber(exceptions: int, status: str) -> None:
    """Issue 17: a plus factor above 0 raises the capital multiplier (Basel Committee 1996, table 2:
    0.40 from 5 exceptions in 250 days at 99%), so it is amber, never info; the red zone itself is
    basel_zone's finding, not judged twice."""
    from validation.judging.policy import Policy

    pnl = np.zeros(250)
    var = np.ones(250)
    pnl[np.arange(exceptions) * 20] = -2.0  # a loss beyond the VaR: an exception
    result = bt.var_backtest(pnl, var, 0.99)
    assert result["plus_factor"] == bt.plus_factor(exceptions)
    judged = {f.metric: f for f in Policy().judge_all(bt.var_findings(result, level=0.99))}
    assert judged["plus_factor"].status == status


# --- issue 17: effects beside every p-value, families, small slices -----------------------------


def test_brier_excess_is_the_relative_excess_over_calibrated_expectation() -> None:
    # B from sklearn; E0[B] = mean p(1 - p), the expected Brier score when y ~ Bernoulli(p)
    rng = np.random.default_rng(11)
    p = rng.uniform(0.01, 0.6, 2000)
    y = (rng.random(2000) < 1.3 * p).astype(int)
    expected = float(np.mean(p * (1 - p)))
    assert bt.brier_excess(y, p) == pytest.approx((brier_score_loss(y, p) - expected) / expected, rel=1e-10)
    assert math.isnan(bt.brier_excess(np.array([0, 1]), np.array([0.0, 1.0])))


def test_herfindahl_change_is_the_relative_change_of_the_index() -> None:
    now, before = np.array([60, 30, 10]), np.array([50, 30, 20])
    hi_now, hi_before = bt.herfindahl(now)[0], bt.herfindahl(before)[0]
    assert bt.herfindahl_change(now, before) == pytest.approx(hi_now - hi_before)
    assert bt.herfindahl_change(now, np.array([10, 10, 10])) == pytest.approx(hi_now)  # HI = 0 at reference


def test_hosmer_lemeshow_misplaced_share_by_hand() -> None:
    y = np.array([0] * 95 + [1] * 5 + [0] * 40 + [1] * 10)
    s = np.array([0.03] * 100 + [0.15] * 50)
    hl = bt.hosmer_lemeshow(bt.grade_table(y, s, (0.05, 1.0)))
    # expected 3 and 7.5 defaults, observed 5 and 10: |2| + |2.5| over 10.5
    assert hl.misplaced_share == pytest.approx(4.5 / 10.5)


@pytest.mark.parametrize(("hits", "ratio"), [
    ([0, 1, 1, 0, 0, 1, 0, 0, 0, 0], (1 / 3) / (2 / 6)),  # n11 = 1 of 3 days after a hit; n01 = 2 of 6
    ([0, 0, 1, 0, 0, 0, 1, 0, 0, 0], 0.0),  # no exception follows one: pi1 = 0
    ([1, 1, 1, 0, 0, 0], math.inf),  # exceptions only right after exceptions: pi0 = 0 < pi1
    ([0, 0, 0, 0], math.nan),  # no exception: pi1 has no day to be measured on
    ([0, 0, 0, 1], math.nan),  # an exception on the last day only: the same
    ([1, 0, 0, 0], math.nan),  # pi1 = pi0 = 0: nothing to compare
    ([1], math.nan),
], ids=["by-hand", "spread", "only-after", "none", "last-day", "first-day", "one-day"])
def test_exception_clustering_ratio(hits: list[int], ratio: float) -> None:
    value = bt.exception_clustering_ratio(np.array(hits))
    assert (math.isnan(value) and math.isnan(ratio)) or value == pytest.approx(ratio)


def test_var_findings_carry_their_effects_and_the_duration_test() -> None:
    from validation.metrics.durations import duration_independence_test

    pnl, var = np.zeros(500), np.ones(500)
    hits = np.zeros(500, dtype=int)
    hits[[47, 114, 130, 181, 300, 302, 304, 306, 308, 310, 418, 424]] = 1
    pnl[hits == 1] = -2.0
    result = bt.var_backtest(pnl, var, 0.99)
    reference = duration_independence_test(hits)
    assert (result["duration_independence_pvalue"], result["duration_shape"], result["durations"]) == (
        reference.pvalue, reference.shape, reference.durations)
    found = {f["metric"]: f for f in bt.var_findings(result, level=0.99)}
    assert found["kupiec_pvalue"]["effect"] == pytest.approx(12 / 5)  # observed / expected exceptions
    assert found["christoffersen_pvalue"]["effect"] == 0.0
    assert found["duration_independence_pvalue"]["effect"] == pytest.approx(reference.shape)
    assert {found[m]["cause"] for m in ("kupiec_pvalue", "basel_zone", "plus_factor")} == {"exception count"}
    assert {found[m]["cause"] for m in ("christoffersen_pvalue", "duration_independence_pvalue")} == {
        "exception clustering"}
    # two exceptions: one complete duration, no Weibull fit; the note says why
    few = np.zeros(250)
    few[[10, 100]] = -2.0
    found = {f["metric"]: f for f in bt.var_findings(bt.var_backtest(few, np.ones(250), 0.99), level=0.99)}
    assert found["duration_independence_pvalue"]["value"] is None
    assert "needs at least three" in found["duration_independence_pvalue"]["note"]
    # exceptions only right after exceptions: pi1 / pi0 infinite, shown as null with a note
    clustered = np.zeros(250)
    clustered[:3] = -2.0
    found = {f["metric"]: f for f in bt.var_findings(bt.var_backtest(clustered, np.ones(250), 0.99), level=0.99)}
    assert "effect" not in found["christoffersen_pvalue"] and "infinite" in found["christoffersen_pvalue"]["note"]


def test_classification_findings_families_effects_and_causes() -> None:
    y = np.array([0] * 95 + [1] * 5 + [0] * 40 + [1] * 10)
    s = np.array([0.03] * 100 + [0.15] * 50)
    grades = bt.grade_table(y, s, (0.05, 1.0))
    now = bt.discrimination(y, s)
    change = bt.auc_change(0.9, now, source="development (CV)")
    items = bt.classification_findings(now, grades, bt.hosmer_lemeshow(grades), portfolio_pd=float(s.mean()),
                                       portfolio_n=150, portfolio_defaults=15, auc_change=change)
    found = {(f["metric"], f["subject"]): f for f in items}
    for metric in ("jeffreys_pvalue", "binomial_pvalue"):
        assert found[(metric, "grade:1")]["effect"] == pytest.approx(5 / 3)  # 5 observed, 3 expected
        assert found[(metric, "grade:1")]["family"] == "grade" and found[(metric, "grade:1")]["cause"] == "grade:1"
        assert "family" not in found[(metric, "portfolio")]
        assert found[(metric, "portfolio")]["effect"] == pytest.approx(15 / s.sum())
    assert found[("auc_change_pvalue", "score")]["effect"] == pytest.approx(0.9 - now["auc"])
    assert found[("auc_change_pvalue", "score")]["note"].startswith("reference AUC 0.9000 (development (CV))")
    assert found[("hosmer_lemeshow_pvalue", "portfolio")]["effect"] == pytest.approx(4.5 / 10.5)
    assert grades.loc[2, "observed_expected_ratio"] == pytest.approx(10 / 7.5)


def test_slice_findings_family_effect_and_minimum_size() -> None:
    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"region": ["a"] * 100 + ["b"] * 20, "pd": rng.uniform(0.05, 0.3, 120)})
    frame["default"] = (rng.random(120) < frame["pd"]).astype(int)
    table = bt.slice_table(frame, "region", target="default", score="pd")
    tests = {f["subject"]: f for f in bt.slice_findings(table, "region", min_rows=30) if f["metric"] == "jeffreys_pvalue"}
    assert tests["region:a"]["family"] == "region" and "judged" not in tests["region:a"]
    assert tests["region:a"]["effect"] == pytest.approx(table.loc["a", "observed_expected_ratio"])
    assert tests["region:b"]["judged"] is False
    assert tests["region:b"]["note"].endswith("; fewer than 30 rows (min_slice_rows): reported, not judged")
    assert "judged" not in {f["subject"]: f for f in bt.slice_findings(table, "region", min_rows=20)
                            if f["metric"] == "jeffreys_pvalue"}["region:b"]


@pytest.mark.parametrize("value", [0, 100_001, True, 30.0])
def test_min_slice_rows_is_bounded_and_strict(value: object) -> None:
    from pydantic import ValidationError

    from validation.checks.backtesting import BacktestingParams

    assert BacktestingParams().min_slice_rows == 30
    with pytest.raises(ValidationError):
        BacktestingParams(min_slice_rows=value)


def test_every_var_test_carries_its_effect() -> None:
    """Issue 17: an effect beside every p-value. TUFF: the expected day of the first exception at
    99% (1 / 0.01 = 100) over the observed one (day 20): 5, too early; conditional coverage: the
    observed over the expected exceptions (3 in 500 days at 99%: 0.6). By hand."""
    pnl = np.zeros(500)
    pnl[[19, 200, 400]] = -10.0
    result = bt.var_backtest(pnl, np.ones(500), 0.99)
    found = {f["metric"]: f for f in bt.var_findings(result, level=0.99)}
    assert found["tuff_pvalue"]["effect"] == pytest.approx(5.0)
    assert found["conditional_coverage_pvalue"]["effect"] == pytest.approx(3 / 5)
    assert found["kupiec_pvalue"]["effect"] == pytest.approx(3 / 5)
