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


# Issue 17: materiality and significance together; multiplicity within a family.

def test_a_significant_test_of_an_immaterial_effect_is_green_and_says_so() -> None:
    """At 200k rows a 2% PD bias has p ~ 1e-9 yet observed/expected 1.02: not a finding."""
    immaterial = DEFAULTS.judge(finding("jeffreys_pvalue", "grade:3", 1e-9, effect=1.02))
    assert immaterial.status == "green" and "not material" in (immaterial.note or "")
    assert immaterial.effect == 1.02 and immaterial.null_hypothesis
    material = DEFAULTS.judge(finding("jeffreys_pvalue", "grade:3", 1e-9, effect=1.30))
    assert material.status == "red"
    at_bound = DEFAULTS.judge(finding("jeffreys_pvalue", "grade:3", 1e-9, effect=1.25))
    assert at_bound.status == "red"  # the interval is open: the bound itself is material
    unknown = DEFAULTS.judge(finding("jeffreys_pvalue", "grade:3", 1e-9))
    assert unknown.status == "red"  # no effect reported: judged on significance alone
    not_significant = DEFAULTS.judge(finding("jeffreys_pvalue", "grade:3", 0.4, effect=2.0))
    assert not_significant.status == "green" and not not_significant.note


def test_a_spec_sets_its_own_materiality() -> None:
    strict = Policy(overrides={"jeffreys_pvalue": Threshold(amber=0.05, red=0.001, immaterial=[None, 1.01])})
    assert strict.judge(finding("jeffreys_pvalue", "grade:3", 1e-9, effect=1.02)).status == "red"
    assert strict.judge(finding("jeffreys_pvalue", "grade:3", 1e-9, effect=0.5)).status == "green"


def test_p_values_are_adjusted_within_their_family_and_judged_on_the_adjusted_value() -> None:
    """Holm (1979) over one metric's tests of one family; other families and metrics untouched.
    Reference: statsmodels' multipletests."""
    from statsmodels.stats.multitest import multipletests

    raw = [0.01, 0.04, 0.03, 0.20]
    findings = [finding("jeffreys_pvalue", f"grade:{i}", p, effect=2.0, family="grade") for i, p in enumerate(raw)]
    findings.append(finding("jeffreys_pvalue", "portfolio", 0.04, effect=2.0))  # no family: as is
    findings.append(finding("jeffreys_pvalue", "period:1", 0.04, effect=2.0, family="period"))  # a family of one
    judged = DEFAULTS.judge_all(findings)
    expected = multipletests(raw, method="holm")[1]
    assert [f.p_adjusted for f in judged[:4]] == pytest.approx(list(expected))
    assert [f.status for f in judged[:4]] == ["amber", "green", "green", "green"]  # 0.04, 0.09, 0.09, 0.2
    assert judged[4].p_adjusted is None and judged[4].status == "amber"
    assert judged[5].p_adjusted == pytest.approx(0.04) and judged[5].status == "amber"
    assert all(f.value == p for f, p in zip(judged, raw))  # the raw p-value is kept beside


def test_benjamini_hochberg_and_none_by_spec() -> None:
    """The spec's multiplicity: bh (Benjamini and Hochberg 1995), or none."""
    from statsmodels.stats.multitest import multipletests

    raw = [0.01, 0.02, 0.03, 0.04]
    findings = [finding("jeffreys_pvalue", f"grade:{i}", p, effect=2.0, family="grade") for i, p in enumerate(raw)]
    bh = Policy(multiplicity="bh").judge_all(findings)
    assert [f.p_adjusted for f in bh] == pytest.approx(list(multipletests(raw, method="fdr_bh")[1]))
    assert [f.status for f in bh] == ["amber"] * 4  # every q-value 0.04
    holm = Policy(multiplicity="holm").judge_all(findings)
    assert [f.status for f in holm] == ["amber", "green", "green", "green"]  # 0.04, 0.06, 0.06, 0.06
    none = Policy(multiplicity="none").judge_all(findings)
    assert [f.status for f in none] == ["amber"] * 4 and all(f.p_adjusted == f.value for f in none)


def test_a_ratio_with_a_significance_test_is_red_on_the_adjusted_p_value() -> None:
    """disparate_impact_ratio: four-fifths breach, Fisher p 0.03 in a family of three -> Holm 0.09:
    the breach could be noise among three groups: not flagged (green, with a note)."""
    items = [finding("disparate_impact_ratio", f"age:{g}", 0.7, p_value=p, family="age")
             for g, p in (("a", 0.03), ("b", 0.5), ("c", 0.6))]
    judged = DEFAULTS.judge_all(items)
    assert judged[0].p_value == 0.03 and judged[0].p_adjusted == pytest.approx(0.09)
    assert judged[0].status == "green" and "could be noise" in str(judged[0].note)
    alone = DEFAULTS.judge(items[0])
    assert alone.status == "red"


def test_unjudged_findings_are_kept_out_of_families() -> None:
    items = [finding("jeffreys_pvalue", "grade:1", 0.01, effect=2.0, family="grade"),
             finding("jeffreys_pvalue", "grade:2", 0.001, effect=2.0, family="grade", judged=False)]
    judged = DEFAULTS.judge_all(items)
    assert judged[0].p_adjusted == pytest.approx(0.01) and judged[1].status == "info"


@pytest.mark.parametrize(("p_value", "status"), [(0.30, "green"), (0.01, "red"), (None, "red")])
def test_a_gap_beyond_its_red_bound_needs_significance_to_be_red(p_value: float | None, status: str) -> None:
    """significance on a rule with a red bound: beyond it but possibly noise is green; a
    finding with no test is judged by its bounds alone."""
    judged = DEFAULTS.judge(finding("demographic_parity_difference", "age", 0.25, p_value=p_value))
    assert judged.status == status
