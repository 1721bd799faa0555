"""Issues: a check's amber and red findings grouped by root cause (issue 17, "Root causes": one age
gap is one issue, listing its metrics and the intersections where it shows)."""

from __future__ import annotations

from validation.judging.findings import finding
from validation.judging.issues import group_issues
from validation.judging.policy import Policy

POLICY = Policy()


def _age_gap() -> list[dict]:
    """The demo's age gap as the fairness check reports it: four metrics on age_band and on the
    sex*age_band intersection, one cause."""
    cause = "age_band=<25"
    return [
        finding("demographic_parity_difference", "age_band", 0.34, cause=cause),
        finding("equal_opportunity_difference", "age_band", 0.35, cause=cause),
        finding("disparate_impact_ratio", "age_band:<25", 0.46, p_value=2e-7, family="age_band", cause=cause),
        finding("disparate_impact_ratio", "age_band:35-49", 1.0, p_value=1.0, family="age_band", cause="age_band=35-49"),
        finding("demographic_parity_difference", "sex*age_band", 0.39, cause=cause),
        finding("disparate_impact_ratio", "sex*age_band:female*<25", 0.51, p_value=7.6e-5, family="sex*age_band",
                cause=cause),
        finding("approval_rate", "age_band:<25", 0.4, judged=False, cause=cause),
    ]


def test_one_age_gap_is_one_issue_listing_its_metrics_and_intersections() -> None:
    judged = POLICY.judge_all(_age_gap())
    issues = group_issues("fairness", judged)
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.id, issue.status) == ("fairness:age_band=<25", "red")
    assert issue.findings[0].split()[0] in ("demographic_parity_difference", "equal_opportunity_difference",
                                            "disparate_impact_ratio")  # a red one first
    assert set(issue.findings) == {"demographic_parity_difference age_band", "equal_opportunity_difference age_band",
                                   "disparate_impact_ratio age_band:<25", "demographic_parity_difference sex*age_band",
                                   "disparate_impact_ratio sex*age_band:female*<25"}
    assert "4 more findings share this cause" in issue.sentence


def test_findings_without_a_cause_are_issues_of_their_own_and_green_or_info_never_are() -> None:
    judged = POLICY.judge_all([
        finding("psi", "feature:age", 0.30), finding("psi", "feature:duration", 0.12),
        finding("psi", "score", 0.01), finding("ks_pvalue", "score", 1e-9, effect=0.01)])
    issues = group_issues("drift", judged)
    assert [(i.cause, i.status) for i in issues] == [("psi feature:age", "red"), ("psi feature:duration", "amber")]
    assert issues[0].sentence.startswith("psi of feature:age is 0.3 (at or above 0.25)")


def test_the_sentence_names_the_test_its_adjustment_and_effect() -> None:
    judged = POLICY.judge_all([finding("jeffreys_pvalue", f"grade:{g}", p, effect=e, family="grade")
                               for g, p, e in ((1, 1e-6, 1.4), (2, 0.5, 1.0), (3, 0.3, 1.1))])
    [issue] = group_issues("backtesting", judged)
    assert issue.findings == ["jeffreys_pvalue grade:1"]
    assert issue.sentence.startswith("jeffreys_pvalue of grade:1 is 1e-06 (below 0.001)")
    # p-values as the pack prints them (issue 18): below 0.001 they read "< 0.001"
    assert "adjusted over grade: < 0.001" in issue.sentence and "observed / expected defaults 1.4" in issue.sentence


def test_a_value_is_never_rounded_onto_the_bound_it_crossed() -> None:
    """Review of issue 17: 'disparate_impact_ratio of age:<25 is 0.8 (below 0.8)'."""
    [issue] = group_issues("fairness", POLICY.judge_all([
        finding("disparate_impact_ratio", "age:<25", 0.79981, p_value=1e-4, cause="age")]))
    assert issue.sentence.startswith("disparate_impact_ratio of age:<25 is 0.79981 (below 0.8)")


def test_the_sentence_describes_the_strongest_evidence_of_its_status() -> None:
    """Review of issue 17: the demo's age issue was described by its weakest red finding (a
    ratio of 0.79 at p 0.03) rather than the under-25s' (0.48 at p 2e-5)."""
    [issue] = group_issues("fairness", POLICY.judge_all([
        finding("disparate_impact_ratio", "age:25-34", 0.79, p_value=0.03, cause="age"),
        finding("disparate_impact_ratio", "age:<25", 0.48, p_value=2e-5, cause="age")]))
    assert issue.findings[0] == "disparate_impact_ratio age:<25"


def test_an_issue_opens_in_plain_words_then_gives_its_evidence() -> None:
    """Issue 18: each red or amber issue on the summary is explained in plain words."""
    from validation.judging.policy import DEFAULT_POLICY

    judged = POLICY.judge_all([finding("psi", "feature:checking_account", 0.30)])
    meanings = {metric: rule.meaning for metric, rule in DEFAULT_POLICY.items()}
    [issue] = group_issues("drift", judged, meanings)
    assert issue.sentence == ("The distribution of checking_account has shifted from the reference sample: psi of "
                              "feature:checking_account is 0.3 (at or above 0.25).")


def test_every_judged_default_rule_says_what_its_breach_means() -> None:
    from validation.judging.policy import DEFAULT_POLICY

    judged = [metric for metric, rule in DEFAULT_POLICY.items() if rule.direction != "none"]
    assert [metric for metric in judged if not DEFAULT_POLICY[metric].meaning] == []
    for metric in judged:  # a meaning is one clause: the issue sentence goes on after it
        assert not DEFAULT_POLICY[metric].meaning.endswith("."), metric
