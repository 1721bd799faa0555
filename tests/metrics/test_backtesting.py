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
    # ECB (2019) 2.5.3.1: S = (AUC_init - AUC_curr) / s, p = 1 - Phi(S); S = 2.5 here
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
