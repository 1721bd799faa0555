"""Fairness metrics on hand-checked groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from validation.metrics import fairness
from validation.policy import judge


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
    assert judge("disparate_impact_ratio", ratio).status == "green"  # exactly 0.8: not less than 0.8
    assert judge("disparate_impact_ratio", 0.8 - 1e-16).status == "green"  # float noise at the edge
    assert judge("disparate_impact_ratio", 0.7999).status == "amber"


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
