"""Judgement of values into statuses (DESIGN.md conventions)."""

from __future__ import annotations

import pytest

from validation.judging.policy import DEFAULT_POLICY, exit_code, judge, worst
from validation.inputs.spec import Threshold


@pytest.mark.parametrize(("value", "status"), [(0.0999, "green"), (0.10, "amber"), (0.2499, "amber"),
                                               (0.25, "red"), (0.1 + 0.2 - 0.2, "amber")])
def test_psi_bounds_are_inclusive(value: float, status: str) -> None:
    assert judge("psi", value).status == status


@pytest.mark.parametrize(("value", "status"), [(0.06, "green"), (0.05, "green"), (0.0499, "amber"),
                                               (0.001, "amber"), (0.00099, "red")])
def test_p_values_are_flagged_strictly_below(value: float, status: str) -> None:
    assert judge("jeffreys_pvalue", value).status == status


def test_spec_overrides_and_info() -> None:
    overrides = {"psi": Threshold(amber=0.2, red=0.3)}
    verdict = judge("psi", 0.15, overrides)
    assert (verdict.status, verdict.amber, verdict.red) == ("green", 0.2, 0.3)
    assert judge("ks_pvalue", 1e-9).status == "info"
    assert judge("psi", None).status == "info"
    assert judge("basel_zone", "yellow").status == "amber"


def test_worst_and_exit_codes() -> None:
    assert worst(["green", "info", "not_applicable", "amber"]) == "amber"
    assert worst(["info", "not_applicable"]) == "info"
    assert worst(["red", "error"]) == "error"
    assert [exit_code(s) for s in ("green", "amber", "info", "red", "error")] == [0, 0, 0, 1, 3]


def test_every_default_rule_is_ordered() -> None:
    for metric, rule in DEFAULT_POLICY.items():
        if rule.amber is not None and rule.red is not None:
            if rule.direction == "higher_is_worse":
                assert rule.red >= rule.amber, metric
            else:
                assert rule.red <= rule.amber, metric


def test_a_finding_reported_without_judgement_shows_no_bounds() -> None:
    # a period's AUC is reported, not judged: its policy bounds (0.70 / 0.60) must not appear beside
    # an "info" status, where a reader could take them as applied
    from validation.judging.findings import finding, judge_finding

    reported = judge_finding(finding("auc", "period:2025-01", 0.65, judged=False))
    assert (reported["status"], reported["amber"], reported["red"], reported["direction"]) == ("info", None, None, "none")
    judged = judge_finding(finding("auc", "score", 0.65))
    assert (judged["status"], judged["amber"], judged["red"]) == ("amber", 0.70, 0.60)
