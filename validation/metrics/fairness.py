"""Group fairness of credit decisions.

The decision comes from the spec (DESIGN.md, "Spec", ``decision``): with ``favourable: below``
an applicant is approved when ``score < threshold``; with ``above`` when ``score >= threshold``.

Per protected attribute and group (computed with fairlearn's ``MetricFrame``):

- ``approval_rate``: the group's favourable rate.
- ``disparate_impact_ratio``: the group's approval rate divided by the highest group's approval
  rate; the four-fifths rule flags a ratio *less than* 0.8 (EEOC Uniform Guidelines on Employee
  Selection Procedures, 29 CFR 1607.4(D); used in fair-lending reviews under ECOA / Reg B).
- the favourable rate among non-events (good payers, target 0) and among events (target 1).

Per attribute, over the groups large enough to judge (``n >= min_group_size``):

- ``demographic_parity_difference``: max - min approval rate.
- ``equal_opportunity_difference``: max - min favourable rate among non-events.
- ``equalized_odds_difference``: the larger of that and max - min favourable rate among events
  (Hardt, Price & Srebro 2016, with "favourable" as the positive prediction).

Groups below ``min_group_size`` are reported with their numbers but never judged, and take no part
in the maxima and minima. Missing attribute values form the group ``(missing)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, selection_rate

MISSING_GROUP = "(missing)"


def favourable_decision(score: np.ndarray | pd.Series, threshold: float, favourable: str) -> np.ndarray:
    """The favourable outcome (1 = approved) from scores and the spec's decision rule.

    >>> favourable_decision(np.array([0.1, 0.2, 0.3]), 0.2, "below").tolist()
    [1, 0, 0]
    >>> favourable_decision(np.array([0.1, 0.2, 0.3]), 0.2, "above").tolist()
    [0, 1, 1]
    """
    s = np.asarray(score, dtype=float)
    if favourable == "below":
        return (s < threshold).astype(np.int64)
    if favourable == "above":
        return (s >= threshold).astype(np.int64)
    raise ValueError(f"favourable must be 'below' or 'above', got {favourable!r}")


def _rate_among(y_true: np.ndarray, y_pred: np.ndarray, label: int) -> float:
    members = np.asarray(y_true) == label
    return float(np.asarray(y_pred)[members].mean()) if members.any() else math.nan


def _favourable_rate_nonevents(y_event: np.ndarray, y_pred: np.ndarray) -> float:
    return _rate_among(y_event, y_pred, 0)


def _favourable_rate_events(y_event: np.ndarray, y_pred: np.ndarray) -> float:
    return _rate_among(y_event, y_pred, 1)


def _event_rate(y_event: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.asarray(y_event).mean()) if len(y_event) else math.nan


def group_table(y: np.ndarray | pd.Series, favourable: np.ndarray, groups: pd.Series, *,
                min_group_size: int = 30) -> pd.DataFrame:
    """Decision metrics per group of one protected attribute.

    Parameters
    ----------
    y
        Outcomes, 1 = event (default).
    favourable
        Decisions, 1 = favourable (approved), from :func:`favourable_decision`.
    groups
        The protected attribute, one value per applicant.
    min_group_size
        Groups with fewer members are reported but not judged (``judged`` is False).

    Returns
    -------
    DataFrame
        Index ``group``; columns ``n``, ``approval_rate``, ``default_rate``,
        ``approval_rate_nonevents``, ``approval_rate_events``, ``judged`` and
        ``disparate_impact_ratio`` (against the highest approval rate among judged groups).
    """
    labels = groups.astype("object").where(groups.notna(), MISSING_GROUP).astype(str)
    frame = MetricFrame(
        metrics={
            "n": count,
            "approval_rate": selection_rate,
            "default_rate": _event_rate,
            "approval_rate_nonevents": _favourable_rate_nonevents,
            "approval_rate_events": _favourable_rate_events,
        },
        y_true=np.asarray(y, dtype=np.int64),
        y_pred=np.asarray(favourable, dtype=np.int64),
        sensitive_features=pd.Series(labels.to_numpy(), name="group"),
    )
    table = frame.by_group.copy()
    table["n"] = table["n"].astype(np.int64)
    table["judged"] = table["n"] >= min_group_size
    judged = table.loc[table["judged"], "approval_rate"]
    best = judged.max() if len(judged) else math.nan
    if best and math.isfinite(best):
        table["disparate_impact_ratio"] = table["approval_rate"] / best
    else:
        table["disparate_impact_ratio"] = math.nan
    table.index.name = "group"
    return table


def attribute_differences(table: pd.DataFrame) -> dict[str, float]:
    """Max - min differences across the judged groups of a :func:`group_table`.

    Returns ``nan`` for each difference when fewer than two groups are judged.
    """
    judged = table[table["judged"]]
    if len(judged) < 2:
        return {"demographic_parity_difference": math.nan, "equal_opportunity_difference": math.nan,
                "equalized_odds_difference": math.nan}

    def spread(column: str) -> float:
        values = judged[column].dropna()
        return float(values.max() - values.min()) if len(values) >= 2 else math.nan

    eo = spread("approval_rate_nonevents")
    events = spread("approval_rate_events")
    eq_odds = max(v for v in (eo, events) if math.isfinite(v)) if any(
        math.isfinite(v) for v in (eo, events)) else math.nan
    return {
        "demographic_parity_difference": spread("approval_rate"),
        "equal_opportunity_difference": eo,
        "equalized_odds_difference": eq_odds,
    }


def fairness_findings(attribute: str, table: pd.DataFrame, *, min_group_size: int) -> list[dict[str, object]]:
    """Findings of one protected attribute: per group ``approval_rate`` and
    ``disparate_impact_ratio`` (not judged below ``min_group_size``), per attribute the three
    differences."""
    from validation.findings import finding

    items: list[dict[str, object]] = []
    for group, row in table.iterrows():
        subject = f"{attribute}:{group}"
        note = None if row["judged"] else f"insufficient data: {int(row['n'])} < {min_group_size} applicants"
        items.append(finding("approval_rate", subject, row["approval_rate"], judged=False,
                             note=f"n = {int(row['n'])}"))
        items.append(finding("disparate_impact_ratio", subject, row["disparate_impact_ratio"],
                             judged=bool(row["judged"]), note=note))
    judged_groups = int(table["judged"].sum())
    note = None if judged_groups >= 2 else "fewer than two groups large enough to compare"
    for metric, value in attribute_differences(table).items():
        items.append(finding(metric, attribute, value, judged=note is None, note=note))
    return items
