"""Findings: what a check reports, one metric for one subject.

A raw finding (from a notebook) is ``{"metric", "subject", "value"}`` with optional ``judged``
(False: report, never judge) and ``note``. :func:`judge_finding` adds the status and the bounds
used, exactly as ``results.json`` holds them (DESIGN.md, "results.json").
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Mapping

from validation.judging.policy import Judgement, judge


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
            note: str | None = None, thresholds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One raw finding.

    Parameters
    ----------
    metric
        A metric name (DESIGN.md, "Metric names and conventions").
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
    """
    item: dict[str, Any] = {"metric": metric, "subject": subject, "value": plain(value)}
    if not judged:
        item["judged"] = False
    if note:
        item["note"] = note
    if thresholds is not None:
        item["thresholds"] = {"amber": plain(thresholds.get("amber")), "red": plain(thresholds.get("red"))}
    return item


def judge_finding(raw: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A raw finding with its ``status``, ``amber``, ``red`` and ``direction``."""
    own = raw.get("thresholds")
    if own is not None:
        overrides = {str(raw["metric"]): SimpleNamespace(amber=own.get("amber"), red=own.get("red"))}
    verdict = judge(str(raw["metric"]), raw.get("value"), overrides)
    if not raw.get("judged", True):  # reported only: no bounds shown, so none can be read as applied
        verdict = Judgement("info", None, None, "none")
    judged: dict[str, Any] = {
        "metric": raw["metric"], "subject": raw["subject"], "value": raw.get("value"),
        "status": verdict.status, "amber": verdict.amber, "red": verdict.red,
        "direction": verdict.direction,
    }
    if raw.get("note"):
        judged["note"] = raw["note"]
    return judged
