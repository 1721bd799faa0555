"""Fairness metrics on hand-checked groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from validation.metrics import fairness
from validation.judging.policy import Policy


def judge(metric: str, value: float) -> str:
    return Policy.for_spec(None).status(metric, value)


def _applicants() -> tuple[np.ndarray, np.ndarray, pd.Series]:
    # group a: 50 applicants, 25 approved; group b: 50, 20 approved; group c: 10, 1 approved
    groups = pd.Series(["a"] * 50 + ["b"] * 50 + ["c"] * 10)
    approved = np.array([1] * 25 + [0] * 25 + [1] * 20 + [0] * 30 + [1] + [0] * 9)
    # outcomes: in a, 5 of the approved and 20 of the declined defaulted; in b, 2 and 18; in c, none
    y = np.array([1] * 5 + [0] * 20 + [1] * 20 + [0] * 5 + [1] * 2 + [0] * 18 + [1] * 18 + [0] * 12 + [0] * 10)
    return y, approved, groups


def test_group_table_by_hand() -> None:
    y, approved, groups = _applicants()
    table = fairness.group_table(y, approved, groups, min_group_size=30)
    assert table["n"].tolist() == [50, 50, 10]
    assert table["approval_rate"].tolist() == pytest.approx([0.5, 0.4, 0.1])
    assert table["judged"].tolist() == [True, True, False]
    # ratio against the highest judged rate (a: 0.5): b = 0.4 / 0.5 = 0.8 exactly
    assert table["disparate_impact_ratio"].tolist() == pytest.approx([1.0, 0.8, 0.2])
    # approval among non-events: a 20 / 25, b 18 / 30; among events: a 5 / 25, b 2 / 20
    assert table.loc["a", "approval_rate_nonevents"] == pytest.approx(20 / 25)
    assert table.loc["b", "approval_rate_nonevents"] == pytest.approx(18 / 30)
    assert table.loc["b", "approval_rate_events"] == pytest.approx(2 / 20)
    differences = fairness.attribute_differences(table)
    assert differences["demographic_parity_difference"] == pytest.approx(0.1)
    assert differences["equal_opportunity_difference"] == pytest.approx(0.8 - 0.6)
    assert differences["equalized_odds_difference"] == pytest.approx(max(0.2, 0.2 - 0.1))


def test_four_fifths_boundary_is_not_flagged() -> None:
    y, approved, groups = _applicants()
    ratio = fairness.group_table(y, approved, groups).loc["b", "disparate_impact_ratio"]
    assert judge("disparate_impact_ratio", ratio) == "green"  # exactly 0.8: not less than 0.8
    assert judge("disparate_impact_ratio", 0.8 - 1e-16) == "green"  # float noise at the edge
    assert judge("disparate_impact_ratio", 0.7999) == "amber"


def test_small_groups_are_reported_not_judged() -> None:
    y, approved, groups = _applicants()
    table = fairness.group_table(y, approved, groups, min_group_size=30)
    items = fairness.fairness_findings("sex", table, min_group_size=30)
    small = [f for f in items if f["subject"] == "sex:c" and f["metric"] == "disparate_impact_ratio"][0]
    assert small["judged"] is False and "insufficient data" in small["note"]


def test_single_judged_group_has_no_differences() -> None:
    y = np.array([0, 1] * 20)
    table = fairness.group_table(y, np.ones(40, dtype=int), pd.Series(["only"] * 40))
    assert all(math.isnan(v) for v in fairness.attribute_differences(table).values())
    items = fairness.fairness_findings("sex", table, min_group_size=30)
    assert all(f.get("judged") is False for f in items if f["subject"] == "sex")


def test_favourable_direction() -> None:
    assert fairness.favourable_decision([0.1, 0.2, 0.3], 0.2, "below").tolist() == [1, 0, 0]
    assert fairness.favourable_decision([0.1, 0.2, 0.3], 0.2, "above").tolist() == [0, 1, 1]


def test_missing_attribute_is_its_own_group() -> None:
    table = fairness.group_table(np.zeros(3, dtype=int), np.ones(3, dtype=int), pd.Series(["a", None, "a"]))
    assert set(table.index) == {"a", fairness.MISSING_GROUP}


# --- issue 4: published example, significance, bootstrap, groups -----------------------------

# fairlearn user guide, "Advanced Usage of MetricFrame" (v0.10): the 18 applicants used in all its
# examples. Read y_true as "good payer" (our event is 1 - y_true) and y_pred as "approved".
GUIDE_Y_TRUE = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
GUIDE_Y_PRED = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
GUIDE_SF = ["b", "b", "a", "b", "b", "c", "c", "c", "a", "a", "c", "a", "b", "c", "c", "b", "c", "c"]


def test_fairlearn_user_guide_example() -> None:
    from fairlearn.metrics import (demographic_parity_difference, equal_opportunity_difference,
                                   equalized_odds_difference)

    events = 1 - np.array(GUIDE_Y_TRUE)
    table = fairness.group_table(events, np.array(GUIDE_Y_PRED), pd.Series(GUIDE_SF), min_group_size=1)
    # by hand from the published arrays: a approves 3 of 4, b 3 of 6, c 4 of 8
    assert table["approval_rate"].to_dict() == pytest.approx({"a": 0.75, "b": 0.5, "c": 0.5})
    assert table["disparate_impact_ratio"].to_dict() == pytest.approx({"a": 1.0, "b": 2 / 3, "c": 2 / 3})
    ours = fairness.attribute_differences(table)
    # fairlearn's own top-level functions on the guide's data (independent code path from MetricFrame)
    assert ours["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(GUIDE_Y_TRUE, GUIDE_Y_PRED, sensitive_features=GUIDE_SF))
    assert ours["equal_opportunity_difference"] == pytest.approx(
        equal_opportunity_difference(GUIDE_Y_TRUE, GUIDE_Y_PRED, sensitive_features=GUIDE_SF))
    assert ours["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(GUIDE_Y_TRUE, GUIDE_Y_PRED, sensitive_features=GUIDE_SF))


def test_two_proportion_test_equals_chi_square_on_the_2x2_table() -> None:
    from scipy import stats

    for x1, n1, x2, n2 in [(40, 100, 60, 100), (5, 12, 30, 40), (300, 1000, 330, 1000)]:
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        expected = stats.chi2_contingency(table, correction=False).pvalue  # z^2 = chi^2 (1 dof)
        assert fairness.two_proportion_pvalue(x1, n1, x2, n2) == pytest.approx(expected, rel=1e-10)


def test_fisher_by_hand() -> None:
    # table [[1, 3], [3, 1]]: hypergeometric probabilities of tables with the same margins
    # (rows 4 and 4, 4 approvals): P(k) = C(4,k) C(4,4-k) / C(8,4) for k = 0..4 = 1,16,36,16,1 over 70;
    # two-sided: tables at most as likely as the observed (k = 1: 16/70): k = 0, 1, 3, 4 -> 34/70
    assert fairness.fisher_pvalue(1, 4, 3, 4) == pytest.approx(34 / 70, rel=1e-12)


def test_significance_separates_big_and_small_gaps() -> None:
    # ratio 0.80 on 2,000 applicants per group vs 0.70 on 12 applicants (issue 4's example)
    big = fairness.fisher_pvalue(800, 2000, 1000, 2000)
    small = fairness.fisher_pvalue(7, 12, 10, 12)  # 0.583 / 0.833 = 0.70
    assert big < 0.001 and small > 0.05


def test_bootstrap_matches_resampling_and_is_seeded() -> None:
    rng = np.random.default_rng(9)
    groups = pd.Series(rng.choice(["a", "b"], size=600, p=[0.6, 0.4]))
    y = rng.integers(0, 2, 600)
    approved = (rng.random(600) < np.where(groups == "a", 0.6, 0.45)).astype(int)
    ours = fairness.bootstrap_differences(y, approved, groups, judged=["a", "b"], draws=4000, seed=1)
    assert ours == fairness.bootstrap_differences(y, approved, groups, judged=["a", "b"], draws=4000, seed=1)
    # brute force: resample applicants with replacement within each (group, outcome) cell
    draws = []
    for _ in range(4000):
        rates = []
        for g in ("a", "b"):
            picked = []
            for outcome in (0, 1):
                cell = approved[(groups == g).to_numpy() & (y == outcome)]
                picked.append(rng.choice(cell, size=len(cell), replace=True))
            rates.append(np.concatenate(picked).mean())
        draws.append(max(rates) - min(rates))
    low, high = np.percentile(draws, [2.5, 97.5])
    assert ours["demographic_parity_difference"][0] == pytest.approx(low, abs=0.015)
    assert ours["demographic_parity_difference"][1] == pytest.approx(high, abs=0.015)


def test_bands_and_intersections() -> None:
    frame = pd.DataFrame({"age": [19, 25, 40, 70, None] * 5, "sex": ["f", "m", "f", "m", "f"] * 5,
                          "band": ["x", "y", "x", "y", None] * 5})
    assert fairness.group_labels(frame, "age", bands={"age": [25, 50]}).tolist()[:5] == [
        "<25", "[25, 50)", "[25, 50)", ">=50", "(missing)"]
    crossed = fairness.group_labels(frame, "sex*band")
    assert crossed.tolist()[:5] == ["f*x", "m*y", "f*x", "m*y", "f*(missing)"]
    # a banded attribute is banded inside an intersection too (raw ages would make one group each)
    banded = fairness.group_labels(frame, "sex*age", bands={"age": [25, 50]})
    assert banded.tolist()[:5] == ["f*<25", "m*[25, 50)", "f*[25, 50)", "m*>=50", "f*(missing)"]
    # a group of fewer than five applicants is never shown on its own
    tiny = fairness.group_labels(frame.assign(sex=["f"] * 24 + ["z"]), "sex")
    assert set(tiny) == {"f", fairness.SMALL_GROUPS}


def test_calibration_and_auc_per_group() -> None:
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    y = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    score = np.array([0.1, 0.8, 0.2, 0.6, 0.3, 0.4, 0.35, 0.9])
    groups = pd.Series(["a"] * 4 + ["b"] * 4)
    table = fairness.group_table(y, np.ones(8, dtype=int), groups, score=score, min_group_size=1)
    assert table.loc["a", "mean_pd"] == pytest.approx(0.425)
    # two-sided Jeffreys (ECB IRB instructions 2.5.3.1, both tails): 2 min(F, 1 - F), F the posterior
    # Beta(D + 1/2, N - D + 1/2) at the mean PD, from scipy
    posterior = stats.beta(2 + 0.5, 4 - 2 + 0.5)
    assert table.loc["a", "calibration_pvalue"] == pytest.approx(2 * min(posterior.cdf(0.425), posterior.sf(0.425)))
    assert table.loc["b", "auc"] == pytest.approx(roc_auc_score(y[4:], score[4:]))


def test_headline_says_what_moved_and_whether_it_is_significant() -> None:
    y, approved, groups = _applicants()
    text = fairness.headline({"sex": fairness.group_table(y, approved, groups.where(groups != "c"))})
    assert text.startswith("sex: b approved at 0.80 times the rate of a (within the bound 0.8; Fisher p = ")
    assert "10 applicants have no value (group (missing))" in text
    # a spec that sets its own bound gets a headline that agrees with its findings
    from validation.inputs.spec import Threshold

    stricter = Policy({**Policy.for_spec(None).rules}, {"disparate_impact_ratio": Threshold(amber=0.9, red=None)})
    text = fairness.headline({"sex": fairness.group_table(y, approved, groups.where(groups != "c"))}, stricter)
    assert text.startswith("sex: b approved at 0.80 times the rate of a (below the bound 0.9; Fisher p = ")


def test_group_table_matches_a_row_level_groupby() -> None:
    # the cell-collapsed MetricFrame must equal plain per-row means (pandas groupby, independent code)
    rng = np.random.default_rng(12)
    groups = pd.Series(rng.choice(["a", "b", "c"], size=5000, p=[0.5, 0.3, 0.2]))
    y = rng.integers(0, 2, 5000)
    approved = rng.integers(0, 2, 5000)
    table = fairness.group_table(y, approved, groups)
    frame = pd.DataFrame({"g": groups, "y": y, "f": approved})
    by = frame.groupby("g")
    np.testing.assert_allclose(table["approval_rate"], by["f"].mean(), rtol=1e-12)
    np.testing.assert_allclose(table["default_rate"], by["y"].mean(), rtol=1e-12)
    np.testing.assert_allclose(table["approval_rate_nonevents"], frame[frame.y == 0].groupby("g")["f"].mean(), rtol=1e-12)
    np.testing.assert_allclose(table["approval_rate_events"], frame[frame.y == 1].groupby("g")["f"].mean(), rtol=1e-12)
    assert table["n"].tolist() == by.size().tolist()


def test_per_group_calibration_is_two_sided_and_says_which_way() -> None:
    """Issue 17, direction: the demo's under-25 group had a mean PD of 0.448 against an observed
    default rate of 0.324. The one-sided Jeffreys p (0.995) called that green, although the
    overstated risk is what refuses the group more often. Two-sided it is significant, and the note
    says which way. Reference: scipy's Beta posterior (ECB IRB instructions 2.5.3.1), both tails."""
    from scipy import stats

    from validation.judging.policy import Policy

    n_young, n_old = 250, 250
    y = np.r_[np.repeat([1, 0], [81, n_young - 81]), np.repeat([1, 0], [88, n_old - 88])]  # 0.324, 0.352
    score = np.r_[np.full(n_young, 0.448), np.full(n_old, 0.25)]  # overstated, understated
    groups = pd.Series(["<25"] * n_young + ["25+"] * n_old)
    table = fairness.group_table(y, (score < 0.35).astype(int), groups, score=score, min_group_size=30)
    for group, mean_pd, defaults, n in (("<25", 0.448, 81, n_young), ("25+", 0.25, 88, n_old)):
        posterior = stats.beta(defaults + 0.5, n - defaults + 0.5)
        expected = 2 * min(posterior.cdf(mean_pd), posterior.sf(mean_pd))
        assert table.loc[group, "calibration_pvalue"] == pytest.approx(expected, rel=1e-9)
    assert stats.beta(81.5, 169.5).cdf(0.448) > 0.99  # the one-sided test saw nothing
    judged = {f.subject: f for f in Policy().judge_all(fairness.fairness_findings("age", table, min_group_size=30))
              if f.metric == "calibration_pvalue"}
    assert judged["age:<25"].status == "red" and "overstates this group's risk" in str(judged["age:<25"].note)
    assert judged["age:25+"].status == "red" and "understates this group's risk" in str(judged["age:25+"].note)


@pytest.mark.parametrize(("approved", "n", "status"), [
    ((300, 180), 500, "red"),    # ratio 0.60, Fisher p ~ 1e-16: material and significant
    ((6, 4), 10, "amber"),       # ratio 0.67 on 10 applicants each (p ~ 0.66): material, could be noise
    ((300, 285), 500, "green"),  # ratio 0.95: within the four-fifths bound, whatever its p-value
])
def test_a_significant_four_fifths_breach_is_red(approved: tuple[int, int], n: int, status: str) -> None:
    """Issue 17, severity: a four-fifths breach with a Fisher p of 3.4e-4 was only amber, because
    the metric had no red bound. Red now needs both the breach (29 CFR 1607.4(D)) and its
    significance (Fisher's exact test, scipy), amber the breach alone."""
    from scipy import stats

    from validation.judging.policy import Policy

    a, b = approved
    y = np.zeros(2 * n, dtype=int)
    favourable = np.r_[np.repeat([1, 0], [a, n - a]), np.repeat([1, 0], [b, n - b])]
    groups = pd.Series(["men"] * n + ["women"] * n)
    table = fairness.group_table(y, favourable, groups, min_group_size=5)
    p = stats.fisher_exact([[b, n - b], [a, n - a]])[1]
    assert table.loc["women", "fisher_pvalue"] == pytest.approx(p)
    judged = {f.subject: f for f in Policy().judge_all(fairness.fairness_findings("sex", table, min_group_size=5))
              if f.metric == "disparate_impact_ratio"}
    assert judged["sex:women"].status == status
    assert judged["sex:women"].p_value == pytest.approx(p)
    assert judged["sex:men"].status == "green" and judged["sex:men"].p_value is None  # the comparator
