"""Issues: the judged findings of a check grouped by root cause, each amber or red cause once.

One age gap shows as a disparate impact ratio, a parity, an equal opportunity and an equalized odds
difference, for ``age_band`` and again for ``sex*age_band``; a validator reads it as one problem.
A check names the root cause a finding shares with others (its ``cause``); every amber or red
finding without one is an issue of its own. A check's status is the worst of its issues, and the
pack counts issues, not rows (``docs/results.md``, "Issues").
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from validation.judging.findings import Finding, Status
from validation.judging.policy import severity

FLAGGED = ("amber", "red")


class Issue(BaseModel):
    """One root cause of a check's amber or red findings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="stable within a model: '<check>:<cause>'")
    check: str
    cause: str = Field(description="the cause the check named, else '<metric> <subject>' of its one finding")
    status: Status = Field(description="the worst status of its findings (amber or red)")
    sentence: str = Field(description="one sentence for people: the worst finding, and how many more share the cause")
    findings: list[str] = Field(description="its amber and red findings, as '<metric> <subject>', worst first")


def _number(value: float | str | None) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, str):
        return value
    return f"{value:.3g}"


def _p_text(p: float) -> str:
    """``= 0.0312`` or ``< 0.001``: a p-value as the pack prints them
    (:func:`validation.reporting.formatting.format_number`)."""
    from validation.reporting.formatting import format_number

    text = format_number(p, "p")
    return text if text.startswith(("<", ">")) else f"= {text}"


def describe(finding: Finding) -> str:
    """One clause for a judged finding: the metric, subject and value against the bound it
    crossed, with the test beside it when there is one."""
    bound = finding.red if finding.status == "red" and finding.red is not None else finding.amber
    side = {"higher_is_worse": "at or above", "lower_is_worse": "below"}.get(finding.direction)
    crossed = f" ({side} {_number(bound)})" if side and bound is not None else ""
    value = _number(finding.value)
    if bound is not None and isinstance(finding.value, (int, float)) and value == _number(bound) \
            and finding.value != bound:
        value = f"{finding.value:.6g}"  # never round a value onto the bound it crossed
    text = f"{finding.metric} of {finding.subject} is {value}{crossed}"
    tests = []
    if finding.p_value is not None:
        tests.append(f"p {_p_text(finding.p_value)}")
    if finding.p_adjusted is not None and not math.isclose(finding.p_adjusted, _p(finding), rel_tol=1e-12):
        tests.append(f"adjusted over {finding.family or 'the comparisons it was picked from'}: "
                     f"{_p_text(finding.p_adjusted).removeprefix('= ')}")
    if finding.effect is not None:
        tests.append(f"{finding.effect_measure or 'effect'} {_number(finding.effect)}")
    return text + (f" [{'; '.join(tests)}]" if tests else "")


def _p(finding: Finding) -> float:
    """The raw p-value of a test finding (its value, or its ``p_value``)."""
    if finding.p_value is not None:
        return finding.p_value
    return float(finding.value) if isinstance(finding.value, (int, float)) else math.nan


def _strength(finding: Finding) -> float:
    """Order of findings of one status within an issue: the most significant first (its p-value,
    adjusted when it was), so the sentence describes the strongest evidence; no test last."""
    if finding.p_adjusted is not None:
        return finding.p_adjusted
    p = _p(finding) if finding.p_value is not None or finding.null_hypothesis else math.nan
    return p if math.isfinite(p) else math.inf


def plain_subject(subject: str) -> str:
    """A finding's subject for a sentence: ``feature:age`` reads ``age``, ``grade:3`` ``grade 3``,
    ``period:2025-11`` ``period 2025-11``, ``age_band:<25`` ``age_band <25``.

    >>> plain_subject("feature:age"), plain_subject("grade:3"), plain_subject("age_band:<25")
    ('age', 'grade 3', 'age_band <25')
    """
    kind, _, name = subject.partition(":")
    if not name:
        return subject
    return name if kind == "feature" else f"{kind} {name}"


def plain_words(finding: Finding, meanings: Mapping[str, str]) -> str:
    """What the worst finding of an issue means, in plain words (its rule's ``meaning``), then the
    evidence (:func:`describe`); the evidence alone where the metric has no meaning."""
    meaning = meanings.get(finding.metric, "")
    evidence = describe(finding)
    if not meaning:
        return evidence
    return f"{meaning.format(subject=plain_subject(finding.subject))}: {evidence}"


def group_issues(check: str, findings: Iterable[Finding], meanings: Mapping[str, str] | None = None) -> list[Issue]:
    """The issues of one check: its amber and red findings grouped by ``cause``, worst first;
    ``meanings`` (metric: :attr:`~validation.judging.policy.Rule.meaning`) opens each sentence in
    plain words.

    Examples
    --------
    >>> from validation.judging.policy import Policy
    >>> judged = Policy().judge_all([
    ...     {"metric": "demographic_parity_difference", "subject": "age", "value": 0.3, "cause": "age=<25"},
    ...     {"metric": "disparate_impact_ratio", "subject": "age:<25", "value": 0.7, "cause": "age=<25"},
    ...     {"metric": "psi", "subject": "score", "value": 0.05}])
    >>> [(i.cause, i.status, len(i.findings)) for i in group_issues("fairness", judged)]
    [('age=<25', 'red', 2)]
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.status in FLAGGED:
            groups.setdefault(finding.cause or f"{finding.metric} {finding.subject}", []).append(finding)
    issues = []
    for cause, members in groups.items():
        members.sort(key=lambda f: (-severity(f.status), _strength(f)))
        worst = members[0]
        more = len(members) - 1
        sentence = plain_words(worst, meanings or {}) + (f"; {more} more finding{'s share' if more > 1 else ' shares'} this cause"
                                      if more else "")
        issues.append(Issue(id=f"{check}:{cause}", check=check, cause=cause, status=worst.status,
                            sentence=sentence + ".", findings=[f"{f.metric} {f.subject}" for f in members]))
    issues.sort(key=lambda i: -severity(i.status))
    return issues
