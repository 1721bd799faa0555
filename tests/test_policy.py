"""Judgement of values into statuses under one policy (docs/results.md conventions)."""

from __future__ import annotations

import pytest

from validation.inputs.spec import Threshold
from validation.judging.findings import finding
from validation.judging.policy import DEFAULT_POLICY, Policy, exit_code, worst

DEFAULTS = Policy.for_spec(None)


@pytest.mark.parametrize(("value", "status"), [(0.0999, "green"), (0.10, "amber"), (0.2499, "amber"),
                                               (0.25, "red"), (0.1 + 0.2 - 0.2, "amber")])
def test_psi_bounds_are_inclusive(value: float, status: str) -> None:
    assert DEFAULTS.status("psi", value) == status


@pytest.mark.parametrize(("value", "status"), [(0.06, "green"), (0.05, "green"), (0.0499, "amber"),
                                               (0.001, "amber"), (0.00099, "red")])
def test_p_values_are_flagged_strictly_below(value: float, status: str) -> None:
    assert DEFAULTS.status("jeffreys_pvalue", value) == status


def test_spec_overrides_and_info() -> None:
    class Spec:
        thresholds = {"psi": Threshold(amber=0.2, red=0.3)}

    policy = Policy.for_spec(Spec())
    verdict = policy.judge(finding("psi", "score", 0.15))
    assert (verdict.status, verdict.amber, verdict.red) == ("green", 0.2, 0.3)
    assert (policy.bounds("psi").amber, policy.bounds("psi").red) == (0.2, 0.3)
    assert DEFAULTS.status("ks_pvalue", 1e-9) == "info"
    assert DEFAULTS.status("psi", None) == "info"
    assert DEFAULTS.status("basel_zone", "yellow") == "amber"
    assert DEFAULTS.bounds("basel_zone").amber is None  # its status comes from the zone's name


def test_a_findings_own_thresholds_take_precedence() -> None:
    judged = DEFAULTS.judge(finding("psi", "score", 0.05, thresholds={"amber": 0.04, "red": 0.06}))
    assert (judged.status, judged.amber, judged.red) == ("amber", 0.04, 0.06)


def test_worst_and_exit_codes() -> None:
    assert worst(["green", "info", "not_applicable", "amber"]) == "amber"
    assert worst(["info", "not_applicable"]) == "info"
    assert worst(["red", "error"]) == "error"
    assert [exit_code(s) for s in ("green", "amber", "info", "red", "error")] == [0, 0, 0, 1, 3]


def test_every_default_rule_is_ordered_and_sourced() -> None:
    for metric, rule in DEFAULT_POLICY.items():
        assert rule.source, metric
        if rule.amber is not None and rule.red is not None:
            if rule.direction == "higher_is_worse":
                assert rule.red >= rule.amber, metric
            else:
                assert rule.red <= rule.amber, metric


def test_a_finding_reported_without_judgement_shows_no_bounds() -> None:
    # a period's AUC is reported, not judged: its policy bounds (0.70 / 0.60) must not appear beside
    # an "info" status, where a reader could take them as applied
    reported = DEFAULTS.judge(finding("auc", "period:2025-01", 0.65, judged=False))
    assert (reported.status, reported.amber, reported.red, reported.direction) == ("info", None, None, "none")
    assert "note" not in reported.model_dump()
    judged = DEFAULTS.judge(finding("auc", "score", 0.65, note="n = 10"))
    assert (judged.status, judged.amber, judged.red, judged.model_dump()["note"]) == ("amber", 0.70, 0.60, "n = 10")
