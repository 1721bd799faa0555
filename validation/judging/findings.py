"""Findings: what a check reports, one metric for one subject, raw and judged.

A *raw* finding (from a check, glued by its notebook) is ``{"metric", "subject", "value"}`` with
optional ``judged`` (False: report, never judge), ``note`` and ``thresholds`` (bounds of its own,
e.g. a PSI's critical values). :meth:`validation.judging.policy.Policy.judge` turns it into a
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
            p_value: float | None = None) -> dict[str, Any]:
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
        also significant (:attr:`validation.judging.policy.Rule.red_if_significant`).
    """
    item: dict[str, Any] = {"metric": metric, "subject": subject, "value": plain(value)}
    if not judged:
        item["judged"] = False
    if note:
        item["note"] = note
    if thresholds is not None:
        item["thresholds"] = {"amber": plain(thresholds.get("amber")), "red": plain(thresholds.get("red"))}
    if p_value is not None and plain(p_value) is not None:
        item["p_value"] = plain(p_value)
    return item


class Finding(BaseModel):
    """A judged finding, exactly as ``results.json`` holds it.

    ``amber`` and ``red`` are the bounds applied (``null`` when none was, e.g. a reported-only
    finding); ``note`` is left out when there is none; ``p_value``, the test of the same effect that
    can make a breach red, is left out when there is none.
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

    @model_serializer(mode="wrap")
    def _without_empty_note(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for optional in ("note", "p_value"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data
