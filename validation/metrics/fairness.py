"""Group fairness of credit decisions.

The decision comes from the spec (``docs/spec.md``, ``decision``): with ``favourable: below``
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

An attribute *compares nothing* (:func:`comparison_problem`) when it has one group, fewer than two
groups of ``min_group_size``, or groups that are all refused (the ratio is 0/0) or all approved
(the decisions do not differ): its findings are then reported, never judged, with the reason.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats
from sklearn.metrics import roc_auc_score

from validation.judging.policy import NOTE_SIGNIFICANCE

if TYPE_CHECKING:
    from validation.judging.policy import Policy

MISSING_GROUP = "(missing)"
INTERSECTION = "*"
SMALL_GROUPS = "(groups under 5)"
MIN_DISCLOSED_GROUP = 5
"""Groups with fewer members are pooled in ``(groups under 5)``: never shown on their own."""

NOBODY_APPROVED = ("no applicant is approved at this threshold (favourable when the score is {favourable} "
                   "{threshold:g}): disparate impact cannot be computed; check decision.threshold")
"""Why a check compared nothing when the decision rule refuses every applicant."""
EVERYBODY_APPROVED = ("every applicant is approved at this threshold (favourable when the score is {favourable} "
                      "{threshold:g}): the decisions do not differ between groups; check decision.threshold")
"""Why a check compared nothing when the decision rule approves every applicant."""
NO_GROUP = "no applicant: nothing to compare"
ONE_GROUP = "only one group ({group}): nothing to compare"
ALL_POOLED = (f"every group has fewer than {MIN_DISCLOSED_GROUP} applicants (pooled in {SMALL_GROUPS}): nothing to "
              "compare; use a coarser attribute, or bands of a numeric one")
TOO_FEW_JUDGED = ("fewer than two groups reach the minimum group size{size} (largest: {largest}): nothing is judged; "
                  "lower checks.fairness.min_group_size or use a coarser attribute")
NONE_APPROVED = ("no applicant of the groups large enough to judge is approved: the disparate impact ratio is 0/0, "
                 "undefined")
ALL_APPROVED = ("every applicant of the groups large enough to judge is approved: the decisions do not differ "
                "between groups")


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


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = float(np.sum(weights))
    return float(np.sum(np.asarray(values) * weights) / total) if total else math.nan


def _favourable_rate_nonevents(y_event: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    members = np.asarray(y_event) == 0
    return _weighted_mean(np.asarray(y_pred)[members], np.asarray(sample_weight)[members])


def _favourable_rate_events(y_event: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    members = np.asarray(y_event) == 1
    return _weighted_mean(np.asarray(y_pred)[members], np.asarray(sample_weight)[members])


def _event_rate(y_event: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return _weighted_mean(np.asarray(y_event), np.asarray(sample_weight))


def _count(y_event: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray) -> float:
    return float(np.sum(sample_weight))


def group_labels(frame: pd.DataFrame, attribute: str, *, bands: Mapping[str, list[float]] | None = None) -> pd.Series:
    """Group of every applicant for one protected attribute, or an intersection of several
    (``"sex*age_band"`` -> groups such as ``"female*<25"``).

    Parameters
    ----------
    frame
        The sample.
    attribute
        A column, or columns joined by ``*`` for an intersection.
    bands
        Column -> increasing band edges of a numeric attribute, applied alone and inside
        intersections: ``{"age": [25, 35, 50]}`` gives ``<25``, ``[25, 35)``, ``[35, 50)``,
        ``>=50``. Missing values are the group ``(missing)``; groups of fewer than 5 applicants are
        pooled in ``(groups under 5)`` so no individual's decision is disclosed.
    """
    parts = attribute.split(INTERSECTION)
    labels: pd.Series | None = None
    for part in parts:
        values = frame[part]
        edges = (bands or {}).get(part)
        if edges is not None:
            column = band(values, edges)
        else:
            column = values.astype("object").where(values.notna(), MISSING_GROUP).astype(str)
        labels = column if labels is None else labels + INTERSECTION + column
    assert labels is not None
    counts = labels.value_counts()
    tiny = counts.index[counts < MIN_DISCLOSED_GROUP]
    if len(tiny):  # a group of one or two applicants would disclose their decisions: pool them
        labels = labels.where(~labels.isin(tiny), SMALL_GROUPS)
    return labels.rename(attribute)


def band(values: pd.Series, edges: list[float]) -> pd.Series:
    """Numeric values in bands ``<e1``, ``[e1, e2)``, ..., ``>=ek``; missing as ``(missing)``.

    >>> band(pd.Series([20, 25, 49.5, 50, None]), [25, 50]).tolist()
    ['<25', '[25, 50)', '[25, 50)', '>=50', '(missing)']
    """
    names = [f"<{edges[0]:g}"] + [f"[{lo:g}, {hi:g})" for lo, hi in zip(edges, edges[1:])] + [f">={edges[-1]:g}"]
    x = values.to_numpy(dtype=float, na_value=np.nan)
    index = np.searchsorted(np.asarray(edges, dtype=float), x, side="right")
    out = np.array(names, dtype=object)[np.minimum(index, len(names) - 1)]
    out[np.isnan(x)] = MISSING_GROUP
    return pd.Series(out, index=values.index, name=values.name, dtype=object).astype(str)


def two_proportion_pvalue(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided pooled two-proportion z-test.

    ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))``, ``p = (x1 + x2) / (n1 + n2)``;
    ``p-value = 2 (1 - Phi(|z|))`` (equal to the uncorrected chi-square test on the 2 x 2 table).

    >>> round(two_proportion_pvalue(40, 100, 60, 100), 4)   # z = -2.8284
    0.0047
    """
    if min(n1, n2) <= 0:
        return math.nan
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * stats.norm.sf(abs(z)))


def fisher_pvalue(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact test on the 2 x 2 table of approvals and refusals
    (``scipy.stats.fisher_exact``)."""
    if min(n1, n2) <= 0:
        return math.nan
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue)


def _auc(y_event: np.ndarray, score: np.ndarray) -> float:
    if len(np.unique(y_event)) < 2:
        return math.nan
    return float(roc_auc_score(y_event, score))


def group_table(y: np.ndarray | pd.Series, favourable: np.ndarray, groups: pd.Series, *,
                score: np.ndarray | pd.Series | None = None, min_group_size: int = 30) -> pd.DataFrame:
    """Decision metrics per group of one protected attribute.

    Parameters
    ----------
    y
        Outcomes, 1 = event (default).
    favourable
        Decisions, 1 = favourable (approved), from :func:`favourable_decision`.
    groups
        The group of every applicant (see :func:`group_labels`); missing values form ``(missing)``.
    score
        The PD scores, for calibration and discrimination per group.
    min_group_size
        Groups with fewer members are reported but not judged (``judged`` is False).

    Returns
    -------
    DataFrame
        Index ``group``; columns ``n``, ``approved``, ``approval_rate``, ``default_rate``,
        ``approval_rate_nonevents``, ``approval_rate_events``, ``judged``,
        ``disparate_impact_ratio`` (against the highest approval rate among judged groups), and
        ``ztest_pvalue`` and ``fisher_pvalue`` of the group's approval rate against that group's;
        with scores also ``mean_pd``, ``calibration_pvalue`` (two-sided Jeffreys: 2 min(F, 1 - F), F = BetaCDF(mean PD; D + 1/2,
        N - D + 1/2)) and ``auc``.
    """
    labels = group_names(groups)
    y_arr = np.asarray(y, dtype=np.int64)
    table = _rates_by_group(labels, y_arr, np.asarray(favourable, dtype=np.int64))
    table["judged"] = table["n"] >= min_group_size
    _add_disparity(table)
    if score is not None:
        _add_calibration(table, labels, y_arr, np.asarray(score, dtype=float))
    table.index.name = "group"
    return table


def group_names(groups: pd.Series) -> pd.Series:
    """The groups as text, missing values named ``(missing)``.

    >>> group_names(pd.Series(["a", None, 1])).tolist()
    ['a', '(missing)', '1']
    """
    return groups.astype("object").where(groups.notna(), MISSING_GROUP).astype(str)


def _rates_by_group(labels: pd.Series, y: np.ndarray, favourable: np.ndarray) -> pd.DataFrame:
    """Per group: ``n``, ``approval_rate``, ``default_rate``, ``approval_rate_nonevents``,
    ``approval_rate_events`` (fairlearn's ``MetricFrame``) and ``approved``."""
    metrics: dict[str, Any] = {
        "n": _count,
        "approval_rate": selection_rate,
        "default_rate": _event_rate,
        "approval_rate_nonevents": _favourable_rate_nonevents,
        "approval_rate_events": _favourable_rate_events,
    }
    # every metric here is a (weighted) mean of 0/1 values: collapsing the rows to their
    # (group, outcome, decision) cells with counts as sample weights gives exactly the same
    # numbers, and MetricFrame then works on at most 4 rows per group instead of millions
    cells = (pd.DataFrame({"group": labels.to_numpy(), "y": y, "favourable": favourable})
             .value_counts(sort=False).rename("weight").reset_index())
    weights = cells["weight"].to_numpy(dtype=float)
    frame = MetricFrame(metrics=metrics, y_true=cells["y"].to_numpy(), y_pred=cells["favourable"].to_numpy(),
                        sensitive_features=cells["group"].rename("group"),
                        sample_params={name: {"sample_weight": weights} for name in metrics})
    table = frame.by_group.copy()
    table["n"] = table["n"].astype(np.int64)
    table["approved"] = np.rint(table["approval_rate"] * table["n"]).astype(np.int64)
    return table


def _add_disparity(table: pd.DataFrame) -> None:
    """Add ``disparate_impact_ratio``, ``ztest_pvalue`` and ``fisher_pvalue``: each group against
    the most-approved judged group (:func:`best_group`); ``nan`` when no group is judged."""
    top = best_group(table)
    best = float(table.loc[top, "approval_rate"]) if top is not None else math.nan
    table["disparate_impact_ratio"] = table["approval_rate"] / best if best and math.isfinite(best) else math.nan
    if top is None:
        table["ztest_pvalue"] = table["fisher_pvalue"] = math.nan
        return
    table["ztest_pvalue"] = _against(table, top, two_proportion_pvalue)
    table["fisher_pvalue"] = _against(table, top, fisher_pvalue)


def _against(table: pd.DataFrame, top: str, test: Callable[[int, int, int, int], float]) -> list[float]:
    """``test(approved, n, approved of top, n of top)`` for every group but ``top`` (``nan``)."""
    bx, bn = int(table.loc[top, "approved"]), int(table.loc[top, "n"])
    return [test(int(x), int(n), bx, bn) if g != top else math.nan
            for g, x, n in zip(table.index, table["approved"], table["n"])]


def _add_calibration(table: pd.DataFrame, labels: pd.Series, y: np.ndarray, score: np.ndarray) -> None:
    """Add ``mean_pd``, ``calibration_pvalue`` (the two-sided Jeffreys test of the group's mean PD
    against its defaults, :func:`validation.metrics.backtesting.jeffreys_two_sided_pvalue`) and
    ``auc`` per group."""
    from validation.metrics.backtesting import jeffreys_two_sided_pvalue

    by = pd.DataFrame({"g": labels.to_numpy(), "y": y, "s": score}).groupby("g", sort=False)
    defaults = by["y"].sum()
    table["mean_pd"] = by["s"].mean().reindex(table.index)
    table["calibration_pvalue"] = [
        jeffreys_two_sided_pvalue(float(table.loc[g, "mean_pd"]), int(table.loc[g, "n"]), int(defaults[g]))
        for g in table.index]
    names = labels.to_numpy()
    table["auc"] = [_auc(y[names == g], score[names == g]) for g in table.index]


def calibration_direction(row: pd.Series) -> str:
    """Which way a group's PDs miss its defaults, and what that does to the group: an overstated
    risk refuses it more often than its defaults warrant; an understated one hides its risk."""
    mean_pd, rate = float(row["mean_pd"]), float(row["default_rate"])
    figures = f"mean PD {mean_pd:.4f}, default rate {rate:.4f}"
    if not (math.isfinite(mean_pd) and math.isfinite(rate)) or math.isclose(mean_pd, rate):
        return figures
    if mean_pd > rate:
        return f"{figures}: the model overstates this group's risk, so it is refused more often than its defaults warrant"
    return f"{figures}: the model understates this group's risk"


def best_group(table: pd.DataFrame) -> str | None:
    """The most-approved group among those judged (the comparator of every ratio and test)."""
    judged = table.loc[table["judged"], "approval_rate"]
    return str(judged.idxmax()) if len(judged) else None


def decision_problem(favourable: np.ndarray, threshold: float, rule: str) -> str | None:
    """Why no group can be compared under the decision rule itself, or ``None``: every applicant
    refused (each disparate impact ratio is 0/0) or every applicant approved (no decision differs).

    >>> decision_problem(np.array([0, 0]), 0.0, "below")
    'no applicant is approved at this threshold (favourable when the score is below 0): ...'
    >>> decision_problem(np.array([0, 1]), 0.2, "below") is None
    True
    """
    decided = np.asarray(favourable)
    if not decided.any():
        return NOBODY_APPROVED.format(favourable=rule, threshold=threshold)
    if decided.all():
        return EVERYBODY_APPROVED.format(favourable=rule, threshold=threshold)
    return None


def comparison_problem(table: pd.DataFrame, *, min_group_size: int | None = None) -> str | None:
    """Why the groups of a :func:`group_table` cannot be compared, or ``None`` when they can.

    They cannot with no group or one (:data:`ONE_GROUP`, :data:`ALL_POOLED` when every group was
    too small to disclose), with fewer than two groups large enough to judge
    (:data:`TOO_FEW_JUDGED`), when no applicant of those groups is approved (the disparate impact
    ratio ``rate / highest rate`` is 0/0: :data:`NONE_APPROVED`) or when all of them are (no
    decision differs: :data:`ALL_APPROVED`).

    >>> table = pd.DataFrame({"n": [40, 3], "judged": [True, False], "approval_rate": [0.5, 0.0]},
    ...                      index=["a", "b"])
    >>> comparison_problem(table, min_group_size=30)
    'fewer than two groups reach the minimum group size of 30 (largest: a, 40 applicants): ...'
    """
    if len(table) == 0:
        return NO_GROUP
    if len(table) == 1:
        group = str(table.index[0])
        return ALL_POOLED if group == SMALL_GROUPS else ONE_GROUP.format(group=group)
    judged = table.loc[table["judged"], "approval_rate"]
    if len(judged) < 2:
        largest = table["n"].idxmax()
        return TOO_FEW_JUDGED.format(size="" if min_group_size is None else f" of {min_group_size}",
                                     largest=f"{largest}, {int(table.loc[largest, 'n'])} applicants")
    if float(judged.max()) == 0.0:
        return NONE_APPROVED
    if float(judged.min()) == 1.0:
        return ALL_APPROVED
    return None


def bootstrap_differences(y: np.ndarray | pd.Series, favourable: np.ndarray, groups: pd.Series, *,
                          judged: list[str], draws: int = 1000, seed: int = 0,
                          level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence intervals of the three differences across judged groups.

    Resampling is stratified by group and outcome (each group keeps its numbers of defaulters and
    good payers): the number approved in a cell of ``n`` applicants with ``a`` approved is then
    ``Binomial(n, a / n)``, the exact distribution of the approvals in a resample with replacement,
    so the draws are vectorised. Seeded (``numpy.random.default_rng(seed)``).

    Returns ``{metric: (low, high)}``; ``(nan, nan)`` with fewer than two judged groups.
    """
    names = ("demographic_parity_difference", "equal_opportunity_difference", "equalized_odds_difference")
    if len(judged) < 2:
        return {name: (math.nan, math.nan) for name in names}
    rng = np.random.default_rng(seed)
    labels = group_names(groups).to_numpy()
    y_arr = np.asarray(y, dtype=np.int64)
    fav = np.asarray(favourable, dtype=np.int64)
    rates = {"all": [], "nonevents": [], "events": []}  # type: dict[str, list[np.ndarray]]
    for group in judged:
        member = labels == group
        cells = []
        for outcome in (0, 1):
            in_cell = member & (y_arr == outcome)
            n = int(in_cell.sum())
            a = int(fav[in_cell].sum())
            cells.append((n, rng.binomial(n, a / n, size=draws) if n else np.zeros(draws)))
        (n0, a0), (n1, a1) = cells
        rates["all"].append((a0 + a1) / (n0 + n1))
        rates["nonevents"].append(a0 / n0 if n0 else np.full(draws, np.nan))
        rates["events"].append(a1 / n1 if n1 else np.full(draws, np.nan))
    spread = {k: np.nanmax(np.vstack(v), axis=0) - np.nanmin(np.vstack(v), axis=0) for k, v in rates.items()}
    values = {names[0]: spread["all"], names[1]: spread["nonevents"],
              names[2]: np.fmax(spread["nonevents"], spread["events"])}
    tail = (1 - level) / 2 * 100
    return {k: (float(np.nanpercentile(v, tail)), float(np.nanpercentile(v, 100 - tail))) for k, v in values.items()}


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


def fairness_findings(attribute: str, table: pd.DataFrame, *, min_group_size: int,
                      intervals: dict[str, tuple[float, float]] | None = None) -> list[dict[str, object]]:
    """Findings of one protected attribute.

    Per group (subject ``<attribute>:<group>``): ``approval_rate`` (reported), ``disparate_impact_ratio``
    (judged unless the group is below ``min_group_size``; the note gives the Fisher test against
    the most-approved group), ``disparity_ztest_pvalue`` and ``disparity_fisher_pvalue``
    (reported), ``default_rate`` (reported) and, with scores, ``calibration_pvalue`` (two-sided calibration of
    the group, judged like any Jeffreys test) and ``auc`` (reported).
    Per attribute (subject ``<attribute>``): the three differences, with their bootstrap intervals.

    When the groups cannot be compared (:func:`comparison_problem`), every finding is reported,
    none judged, and the notes say why; undefined values are ``None`` (never NaN).
    """
    from validation.judging.findings import finding

    problem = comparison_problem(table, min_group_size=min_group_size)
    top = None if problem else best_group(table)
    items: list[dict[str, object]] = []
    for group, row in table.iterrows():
        items += _group_findings(attribute, str(group), row, top=top, min_group_size=min_group_size,
                                 problem=problem)
    for metric, value in attribute_differences(table).items():
        interval = (intervals or {}).get(metric)
        remark = problem
        if problem is None and interval is not None and all(math.isfinite(x) for x in interval):
            remark = f"95% bootstrap interval {interval[0]:.3f} to {interval[1]:.3f}"
        items.append(finding(metric, attribute, value, judged=problem is None, note=remark))
    return items


def _group_findings(attribute: str, group: str, row: pd.Series, *, top: str | None, min_group_size: int,
                    problem: str | None) -> list[dict[str, object]]:
    """The findings of one group (see :func:`fairness_findings`); ``top`` is the comparator,
    ``None`` when the attribute compared nothing (``problem`` says why: nothing is judged)."""
    from validation.judging.findings import finding

    subject = f"{attribute}:{group}"
    n = int(row["n"])
    small = None if row["judged"] else f"insufficient data: {n} < {min_group_size} applicants"
    judged = bool(row["judged"]) and problem is None
    unjudged = f"not judged: {problem}" if problem else None
    if problem:
        note = "; ".join(x for x in (unjudged, small) if x)
    elif group == top:
        note = small or "the most-approved group: the comparator"
    else:
        p = row["fisher_pvalue"]
        verdict = "" if not math.isfinite(p) else (
            f"Fisher p = {p:.3g} vs {top}: " + (f"significant at {NOTE_SIGNIFICANCE:.0%}" if p < NOTE_SIGNIFICANCE
                                                else "not significant"))
        note = "; ".join(x for x in (small, f"n = {n}", verdict) if x)
    items = [finding("approval_rate", subject, row["approval_rate"], judged=False,
                     note=f"{int(row['approved'])} of {n} approved"),
             finding("disparate_impact_ratio", subject, row["disparate_impact_ratio"], judged=judged, note=note,
                     p_value=row["fisher_pvalue"] if top is not None and group != top else None)]
    if top is not None and group != top:
        items.append(finding("disparity_ztest_pvalue", subject, row["ztest_pvalue"], judged=False))
        items.append(finding("disparity_fisher_pvalue", subject, row["fisher_pvalue"], judged=False))
    items.append(finding("default_rate", subject, row["default_rate"], judged=False))
    if "calibration_pvalue" in row.index:
        items.append(finding("calibration_pvalue", subject, row["calibration_pvalue"], judged=judged,
                             note="; ".join(x for x in (unjudged, small) if x) or calibration_direction(row)))
        items.append(finding("auc", subject, row["auc"], judged=False))
    return items


def headline(tables: dict[str, pd.DataFrame], policy: Policy | None = None, *,
             min_group_size: int | None = None) -> str:
    """Plain-language summary: per attribute, the least-approved judged group against the
    most-approved one, whether the policy's bound on the disparate impact ratio (the four-fifths
    rule by default) flags it and whether the gap is significant; or why its groups could not be
    compared (:func:`comparison_problem`).

    >>> table = pd.DataFrame({"n": [100, 100], "judged": [True, True], "approval_rate": [0.5, 0.39],
    ...                       "disparate_impact_ratio": [1.0, 0.78], "fisher_pvalue": [float("nan"), 0.2]},
    ...                      index=["a", "b"])
    >>> headline({"group": table})
    'group: b approved at 0.78 times the rate of a (below the bound 0.8; Fisher p = 0.2, not significant).'
    """
    from validation.judging.policy import Policy

    policy = policy or Policy.for_spec(None)
    sentences = []
    for attribute, table in tables.items():
        problem = comparison_problem(table, min_group_size=min_group_size)
        text = f"{attribute}: {problem}." if problem else _comparison(attribute, table, policy)
        if MISSING_GROUP in table.index:
            text += f" {int(table.loc[MISSING_GROUP, 'n'])} applicants have no value (group {MISSING_GROUP})."
        sentences.append(text)
    return " ".join(sentences)


def _comparison(attribute: str, table: pd.DataFrame, policy: Policy) -> str:
    """The headline of an attribute whose groups compare: its least-approved judged group against
    the most-approved, the bound and the significance, and the groups too small to judge."""
    bound = policy.bounds("disparate_impact_ratio").amber
    judged = table[table["judged"]]
    small = table[~table["judged"]]
    low = judged["disparate_impact_ratio"].idxmin()
    ratio = float(judged.loc[low, "disparate_impact_ratio"])
    flagged = policy.status("disparate_impact_ratio", ratio) not in ("green", "info")
    p = float(judged.loc[low, "fisher_pvalue"])
    text = (f"{attribute}: {low} approved at {ratio:.2f} times the rate of {best_group(table)} "
            f"({'below' if flagged else 'within'} the bound {bound:g}"
            + (f"; Fisher p = {p:.3g}, {'significant' if p < NOTE_SIGNIFICANCE else 'not significant'}"
               if math.isfinite(p) else "")
            + ").")
    if len(small):
        text += f" {len(small)} group(s) too small to judge: " + ", ".join(
            f"{g} ({int(n)})" for g, n in small["n"].items()) + "."
    return text
