"""Findings: what a check reports, one metric for one subject, raw and judged.

A *raw* finding (from a check, glued by its notebook) is ``{"metric", "subject", "value"}`` with
optional ``judged`` (False: report, never judge), ``note``, ``thresholds`` (bounds of its own,
e.g. a PSI's critical values), and for a statistical test ``p_value``, ``effect`` (the size of what
it tests, judged against the rule's materiality bounds), ``family`` (the tests its p-value is
adjusted with for multiplicity) and ``cause`` (the root cause it shares with other findings, which
the pack groups into one issue). :meth:`validation.judging.policy.Policy.judge` turns it into a
:class:`Finding`: the typed form ``results.json`` holds (``docs/results.md``).
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, model_serializer

Direction = Literal["higher_is_worse", "lower_is_worse", "categorical", "none"]
Status = Literal["green", "amber", "red", "error", "info", "not_applicable"]


def plain(value: Any) -> Any:
    """JSON-safe values: numpy scalars to Python, non-finite floats to ``None``."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def finding(metric: str, subject: str, value: Any, *, judged: bool = True,
            note: str | None = None, thresholds: Mapping[str, Any] | None = None,
            p_value: float | None = None, effect: float | None = None, family: str | None = None,
            cause: str | None = None, p_adjusted: float | None = None) -> dict[str, Any]:
    """One raw finding.

    Parameters
    ----------
    metric
        A metric name (``docs/results.md``, "Metrics").
    subject
        ``score``, ``feature:<column>``, ``<attribute>:<group>``, ``<attribute>``, ``grade:<n>``,
        ``portfolio`` or ``period:<value>``.
    value
        A number (``None`` when undefined), or a zone name for ``basel_zone``.
    judged
        False to report without judging (a group below the minimum size, say).
    note
        A short remark shown beside the finding.
    thresholds
        ``{"amber": x, "red": y}`` for this finding alone (e.g. a PSI's own critical values),
        taking precedence over the policy and the spec.
    p_value
        The p-value of a test of the same effect, for a metric whose rule is red when a breach is
        also significant (:attr:`validation.judging.policy.Rule.significance`).
    effect
        The effect a test measures, in the unit its rule names (:attr:`Rule.effect`), e.g. the
        observed/expected defaults of a grade beside its Jeffreys p-value: a significant test of
        an immaterial effect is green.
    family
        The tests this one is adjusted with for multiplicity, e.g. ``grade`` for every grade of the
        master scale; the policy adjusts the p-values of one metric within one family.
    cause
        A root cause this finding shares with others (e.g. ``age_band``): the pack counts the
        findings of one cause as one issue.
    p_adjusted
        The p-value already adjusted by the check (the largest of several gaps was picked, and
        the check adjusted for that choice by the policy's method); the policy then judges on it.
    """
    item: dict[str, Any] = {"metric": metric, "subject": subject, "value": plain(value)}
    if not judged:
        item["judged"] = False
    if note:
        item["note"] = note
    if thresholds is not None:
        item["thresholds"] = {"amber": plain(thresholds.get("amber")), "red": plain(thresholds.get("red"))}
    for key, extra in (("p_value", p_value), ("effect", effect), ("p_adjusted", p_adjusted)):
        if extra is not None and plain(extra) is not None:
            item[key] = plain(extra)
    for key, label in (("family", family), ("cause", cause)):
        if label:
            item[key] = str(label)
    return item


OPTIONAL_FIELDS = ("note", "p_value", "effect", "effect_measure", "p_adjusted", "family", "null_hypothesis", "cause")
"""Fields of a judged finding left out of ``results.json`` when empty."""


class Finding(BaseModel):
    """A judged finding, exactly as ``results.json`` holds it.

    ``amber`` and ``red`` are the bounds applied (``null`` when none was, e.g. a reported-only
    finding). The optional fields are left out when empty: ``note``; ``p_value``, the test of the
    same effect that can make a breach red; for a test, ``effect`` (its size) and
    ``effect_measure`` (what that number measures, the rule's ``effect``), ``p_adjusted`` (adjusted within its ``family`` for multiplicity: the value
    judged) and ``null_hypothesis`` (what the p-value tests, one line); ``cause``, the root cause
    the pack groups it by.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    subject: str
    value: float | str | None
    status: Status
    amber: float | None
    red: float | None
    direction: Direction
    note: str | None = None
    p_value: float | None = None
    effect: float | None = None
    effect_measure: str | None = None
    p_adjusted: float | None = None
    family: str | None = None
    null_hypothesis: str | None = None
    cause: str | None = None

    @model_serializer(mode="wrap")
    def _without_empty_note(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for optional in OPTIONAL_FIELDS:
            if data.get(optional) is None:
                data.pop(optional, None)
        return data
