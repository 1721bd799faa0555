"""Group fairness of credit decisions.

The decision comes from the spec (``docs/spec.md``, ``decision``): with ``favourable: below``
an applicant is approved when ``score < threshold``; with ``above`` when ``score >= threshold``.

Per protected attribute and group (computed with fairlearn's ``MetricFrame``):

- ``approval_rate``: the group's favourable rate.
- ``disparate_impact_ratio``: the group's approval rate divided by the comparator's, the
  most-approved group large enough to judge; the four-fifths rule flags a ratio *less than* 0.8
  (EEOC Uniform Guidelines on Employee Selection Procedures, 29 CFR 1607.4(D); used in fair-lending
  reviews under ECOA / Reg B).
- ``approval_rate_difference``: the group's approval rate minus the comparator's, with its
  Newcombe interval (:func:`newcombe_interval`).
- the favourable rate among non-events (good payers, target 0: ``TPR``, approval being the
  positive prediction) and among events (defaulters, target 1: ``FPR``).

Per attribute, over the groups large enough to judge (``n >= min_group_size``), **in the direction
of harm**: the largest shortfall of a group against the comparator ``c``, never a gap in the
group's favour (:func:`harm_gaps`):

- ``demographic_parity_difference``: ``max_g (A_c - A_g)``, ``A`` the approval rate; as ``c`` is
  the most-approved group, this is also max - min.
- ``equal_opportunity_difference``: ``max_g max(TPR_c - TPR_g, 0)``: good payers of ``g`` approved
  less often than those of ``c`` (Hardt, Price & Srebro 2016, "Equality of opportunity in supervised
  learning", NeurIPS, definition 2, with "approved" as the positive prediction and "good payer"
  as the advantaged outcome).
- ``equalized_odds_difference``: ``max_g max(TPR_c - TPR_g, FPR_c - FPR_g, 0)``: the largest
  shortfall in approval rate at equal outcome (Hardt et al. 2016, definition 1). A group whose
  defaulters are approved *more* often than the comparator's is not harmed by it, so that gap
  counts for nothing (fairlearn's ``equalized_odds_difference`` is the undirected max - min).

Each carries the Newcombe interval of its own gap (the comparator's rate minus the harmed group's),
never an interval of a max - min spread, which cannot be negative and is biased upwards.

Groups below ``min_group_size`` are reported with their numbers but never judged, and take no part
in the maxima and minima. Missing attribute values form the group ``(missing)``.

An attribute *compares nothing* (:func:`comparison_problem`) when it has one group, fewer than two
groups of ``min_group_size``, or groups that are all refused (the ratio is 0/0) or all approved
(the decisions do not differ): its findings are then reported, never judged, with the reason.

Root causes (:func:`cause_of`): the findings of one disadvantaged group share the cause
``<attribute>=<group>``, so one age gap is one issue (``docs/results.md``, "Issues"); an
intersection's group that contains a group already flagged on its own attribute shares that
group's cause. Miscalibration is a cause of its own, ``calibration <attribute>=<group>``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats
from sklearn.metrics import roc_auc_score

from validation.judging.policy import NOTE_SIGNIFICANCE, severity

if TYPE_CHECKING:
    from validation.metrics.outcome_cells import OutcomeCells
    from validation.judging.findings import Finding, Status
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
CONFIDENCE = 1 - NOTE_SIGNIFICANCE
"""Confidence of the intervals of the gaps (95%): the complement of the level at which a note calls
a p-value significant, so an interval excluding 0 and a significant test say the same."""
CALIBRATION = "calibration "
"""Prefix of a calibration cause (``calibration age_band=<25``): a PD that misstates a group's risk
is a different root cause from a gap in its approvals, and is put right differently (recalibrate)."""
DIFFERENCES = ("demographic_parity_difference", "equal_opportunity_difference", "equalized_odds_difference")
"""The per-attribute metrics, in the direction of harm (:func:`harm_gaps`)."""


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
    labels = raw_group_labels(frame, attribute, bands=bands)
    tiny = small_groups(labels.value_counts())
    if len(tiny):  # a group of one or two applicants would disclose their decisions: pool them
        labels = labels.where(~labels.isin(tiny), SMALL_GROUPS)
    return labels.rename(attribute)


def raw_group_labels(frame: pd.DataFrame, attribute: str, *,
                     bands: Mapping[str, list[float]] | None = None) -> pd.Series:
    """:func:`group_labels` before small groups are pooled: what a batch of a sample read in
    batches gives, pooled once the batches' counts are merged (:func:`small_groups`). A number is
    named as written, a whole number without decimals (``1``, not ``1.0``), so that a batch whose
    column holds a missing value (read as floats) names its groups as the others do.

    >>> raw_group_labels(pd.DataFrame({"n": [1.0, 2.5, None]}), "n").tolist()
    ['1', '2.5', '(missing)']
    """
    labels: pd.Series | None = None
    for part in attribute.split(INTERSECTION):
        values = frame[part]
        edges = (bands or {}).get(part)
        if edges is not None:
            column = band(values, edges)
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            codes, distinct = pd.factorize(values, use_na_sentinel=True)
            names = np.array([*(_number_label(v) for v in distinct), MISSING_GROUP], dtype=object)
            column = pd.Series(names[codes], index=values.index, dtype=object).astype(str)
        else:
            column = values.astype("object").where(values.notna(), MISSING_GROUP).astype(str)
        labels = column if labels is None else labels + INTERSECTION + column
    assert labels is not None
    return labels.rename(attribute)


def _number_label(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


def small_groups(sizes: Mapping[str, int] | pd.Series) -> list[str]:
    """The groups of fewer than :data:`MIN_DISCLOSED_GROUP` applicants, pooled in
    :data:`SMALL_GROUPS` so that no individual's decision is disclosed.

    >>> small_groups({"a": 40, "b": 4})
    ['b']
    """
    return [str(g) for g, n in dict(sizes).items() if n < MIN_DISCLOSED_GROUP]


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


_OPEN_BELOW = re.compile(r"^\s*(?:<=?|under |below )\s*(-?\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
_INTERVAL = re.compile(r"^\s*\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)\s*$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|to)\s*(-?\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
_OPEN_ABOVE = re.compile(r"^\s*(?:>=?\s*(-?\d+(?:\.\d+)?)|(-?\d+(?:\.\d+)?)\s*(?:\+|or more|and over))\s*$",
                         re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*$")


def band_key(part: str) -> tuple[int, float, float, str]:
    """Sort key of one label (one attribute's part of an intersection): numeric bands by their
    bounds (``<25``, ``25-34`` or ``[25, 35)``, ``50+`` or ``>=50``), then other labels
    alphabetically, then the missing and the pooled groups."""
    if part in (MISSING_GROUP, SMALL_GROUPS):
        return (2 if part == MISSING_GROUP else 3, 0.0, 0.0, part)
    if match := _OPEN_BELOW.match(part):
        return (0, -math.inf, float(match[1]), part)
    if match := _INTERVAL.match(part) or _RANGE.match(part):
        return (0, float(match[1]), float(match[2]), part)
    if match := _OPEN_ABOVE.match(part):
        return (0, float(match[1] or match[2]), math.inf, part)
    if match := _NUMBER.match(part):
        return (0, float(match[1]), float(match[1]), part)
    return (1, 0.0, 0.0, part)


def group_sort_key(label: Any) -> tuple[tuple[int, float, float, str], ...]:
    """A key that sorts groups in their natural order: age bands as ``<25, 25-34, 35-49, 50+`` (not
    ``25-34, 35-49, 50+, <25``), the bands of :func:`band` by their bounds, an intersection by its
    parts in turn, and ``(missing)`` and ``(groups under 5)`` last.

    >>> sorted(["50+", "25-34", "<25", "35-49", "(missing)"], key=group_sort_key)
    ['<25', '25-34', '35-49', '50+', '(missing)']
    >>> sorted([">=50", "[25, 50)", "<25"], key=group_sort_key)
    ['<25', '[25, 50)', '>=50']
    >>> sorted(["male*<25", "female*50+", "female*<25"], key=group_sort_key)
    ['female*<25', 'female*50+', 'male*<25']
    """
    text = str(label)
    if text == SMALL_GROUPS:
        return (band_key(text),)
    return tuple(band_key(part) for part in text.split(INTERSECTION))


def in_group_order(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (indexed by group) with its rows in the groups' natural order (:func:`group_sort_key`)."""
    return table.loc[sorted(table.index, key=group_sort_key)]


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


def wilson_interval(x: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion ``x / n``, without continuity correction.

    ``(p + z^2 / 2n -+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)``, ``p = x / n``,
    ``z = Phi^-1((1 + confidence) / 2)`` (Wilson 1927, JASA 22; Newcombe 1998, Statistics in
    Medicine 17, 857-872, method 3). ``(nan, nan)`` when ``n = 0``.

    >>> [round(v, 4) for v in wilson_interval(81, 263)]   # Newcombe (1998a) example: 0.2553 to 0.3662
    [0.2553, 0.3662]
    """
    if n <= 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf((1 + confidence) / 2))
    p = x / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, *,
                      confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Newcombe's hybrid score interval of a difference of two independent proportions,
    ``p1 - p2`` with ``p1 = x1 / n1``, ``p2 = x2 / n2``.

    With ``(l1, u1)`` and ``(l2, u2)`` the Wilson score intervals of ``p1`` and ``p2``
    (:func:`wilson_interval`) and ``d = p1 - p2``::

        low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17, 873-890, method 10. It
    keeps its coverage near the nominal level with small groups and rates near 0 or 1, where the
    Wald interval does not, and, unlike a percentile bootstrap of a max - min spread, it is an
    interval of a signed difference: it contains 0 when the gap could be noise.
    (``statsmodels.stats.proportion.confint_proportions_2indep(..., method="newcomb")`` computes
    the same.) ``(nan, nan)`` when either group is empty.

    >>> [round(v, 4) for v in newcombe_interval(56, 70, 48, 80)]   # Newcombe (1998), example (a)
    [0.0524, 0.3339]
    """
    if min(n1, n2) <= 0:
        return math.nan, math.nan
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence=confidence)
    l2, u2 = wilson_interval(x2, n2, confidence=confidence)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


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
        ``disparate_impact_ratio`` (against the highest approval rate among judged groups, the
        comparator), ``approval_rate_difference`` (the group's rate minus the comparator's) with
        its Newcombe interval ``difference_low``, ``difference_high`` (:func:`newcombe_interval`),
        and ``ztest_pvalue`` and ``fisher_pvalue`` of the group's approval rate against the
        comparator's;
        with scores also ``mean_pd``, ``calibration_pvalue`` (two-sided Jeffreys: 2 min(F, 1 - F), F = BetaCDF(mean PD; D + 1/2,
        N - D + 1/2)) and ``auc``.
    """
    labels = group_names(groups)
    y_arr = np.asarray(y, dtype=np.int64)
    decided = np.asarray(favourable, dtype=np.int64)
    cells = (pd.DataFrame({"group": labels.to_numpy(), "y": y_arr, "favourable": decided})
             .value_counts(sort=False).rename("weight").reset_index())
    calibration = None
    if score is not None:
        s_arr = np.asarray(score, dtype=float)
        names = labels.to_numpy()
        by = pd.DataFrame({"g": names, "s": s_arr}).groupby("g", sort=False)["s"].sum()
        calibration = pd.DataFrame({"score_sum": by})
        calibration["auc"] = [_auc(y_arr[names == g], s_arr[names == g]) for g in calibration.index]
    return table_from_cells(cells, calibration, min_group_size=min_group_size)


def table_from_cells(cells: pd.DataFrame, calibration: pd.DataFrame | None = None, *,
                     min_group_size: int = 30) -> pd.DataFrame:
    """:func:`group_table` from the applicants counted per (group, outcome, decision) cell, the
    form a sample read in batches gives (:mod:`validation.metrics.outcome_cells`).

    Parameters
    ----------
    cells
        Columns ``group``, ``y`` (1 = event), ``favourable`` (1 = approved) and ``weight`` (applicants).
    calibration
        Index ``group``; columns ``score_sum`` (the sum of the group's PDs) and ``auc``.
    min_group_size
        As in :func:`group_table`.
    """
    table = _rates_by_group(cells)
    table["judged"] = table["n"] >= min_group_size
    _add_disparity(table)
    if calibration is not None:
        _add_calibration(table, calibration)
    table.index.name = "group"
    return table


def approvals_side_by_side(decisions: Mapping[str, np.ndarray], groups: pd.Series, *,
                           min_group_size: int = 30) -> pd.DataFrame:
    """Approval rate and disparate impact ratio per group of several models' decisions on the same
    applicants: the columns of :func:`group_table` a side-by-side comparison shows, from one
    count per group and model (``np.bincount`` over the groups' codes).

    Parameters
    ----------
    decisions
        Model name -> decisions (1 = favourable) of every applicant, from :func:`favourable_decision`.
    groups
        The group of every applicant (see :func:`group_labels`); missing values form ``(missing)``.
    min_group_size
        Ratios are against the most-approved group of at least this many applicants
        (:func:`best_group`), as in :func:`group_table`.

    Returns
    -------
    DataFrame
        Index ``group`` (sorted as :func:`group_table`'s); columns ``n`` and, per model,
        ``approval_rate (<name>)`` and ``disparate_impact_ratio (<name>)``.

    Examples
    --------
    >>> groups = pd.Series(["a", "a", "b", "b"])
    >>> approvals_side_by_side({"m": np.array([1, 1, 1, 0])}, groups, min_group_size=1).to_dict("list")
    {'n': [2, 2], 'approval_rate (m)': [1.0, 0.5], 'disparate_impact_ratio (m)': [1.0, 0.5]}
    """
    codes, names = pd.factorize(group_names(groups), sort=True)
    n = np.bincount(codes, minlength=len(names))
    table = pd.DataFrame({"n": n.astype(np.int64)}, index=pd.Index([str(g) for g in names], name="group"))
    for name, favourable in decisions.items():
        approved = np.bincount(codes, weights=np.asarray(favourable, dtype=float), minlength=len(names))
        rates = pd.DataFrame({"approval_rate": approved / n, "judged": n >= min_group_size}, index=table.index)
        top = best_group(rates)
        best = float(rates.loc[top, "approval_rate"]) if top is not None else math.nan
        table[f"approval_rate ({name})"] = rates["approval_rate"]
        table[f"disparate_impact_ratio ({name})"] = (rates["approval_rate"] / best if best and math.isfinite(best)
                                                     else math.nan)
    return table


def group_names(groups: pd.Series) -> pd.Series:
    """The groups as text, missing values named ``(missing)``.

    >>> group_names(pd.Series(["a", None, 1])).tolist()
    ['a', '(missing)', '1']
    """
    return groups.astype("object").where(groups.notna(), MISSING_GROUP).astype(str)


def table_from_outcome_cells(cells: OutcomeCells, attribute: str, favourable: np.ndarray, *,
                             min_group_size: int = 30) -> tuple[pd.DataFrame, float | None]:
    """:func:`group_table` of one attribute (or intersection) from the current sample's outcome
    cells (:class:`~validation.metrics.outcome_cells.OutcomeCells`, slicer ``attribute``, small
    groups already pooled), and how far a group's AUC can be from its rows' (``None``: exact).

    Parameters
    ----------
    favourable
        The decision (1 = favourable) at each score point of the cells
        (:func:`favourable_decision` of :meth:`~validation.metrics.outcome_cells.ScorePoints.members`).
    """
    from validation.metrics import outcome_cells as oc

    frame = cells.tables[attribute]
    point = frame.index.get_level_values("point").to_numpy()
    group = frame.index.get_level_values("key").to_numpy()
    decided = np.asarray(favourable)[point]
    by_cell = pd.DataFrame({"group": np.r_[group, group], "y": np.r_[np.ones(len(frame)), np.zeros(len(frame))],
                            "favourable": np.r_[decided, decided],
                            "weight": np.r_[frame["events"].to_numpy(), frame["nonevents"].to_numpy()]})
    by_cell = by_cell.groupby(["group", "y", "favourable"], sort=False, as_index=False)["weight"].sum()
    names = list(dict.fromkeys(group.tolist()))
    aucs, bounds = [], []
    for name in names:
        dense = cells.dense(attribute, name)
        events, nonevents = dense["events"].to_numpy(), dense["nonevents"].to_numpy()
        aucs.append(oc.auc_and_variance(events, nonevents)[0])
        if events.sum() and nonevents.sum():
            bounds.append(oc.auc_tie_bound(events, nonevents))
    calibration = pd.DataFrame({"score_sum": frame["score"].groupby(level="key", sort=False).sum().reindex(names)
                                .to_numpy(), "auc": aucs}, index=pd.Index(names))
    table = table_from_cells(by_cell, calibration, min_group_size=min_group_size)
    return table, (max(bounds) if bounds and not cells.points.exact else None)


def _rates_by_group(cells: pd.DataFrame) -> pd.DataFrame:
    """Per group: ``n``, ``approval_rate``, ``default_rate``, ``approval_rate_nonevents``,
    ``approval_rate_events`` (fairlearn's ``MetricFrame``) and ``approved``, from the applicants
    per (group, outcome, decision) cell (:func:`table_from_cells`)."""
    metrics: dict[str, Any] = {
        "n": _count,
        "approval_rate": selection_rate,
        "default_rate": _event_rate,
        "approval_rate_nonevents": _favourable_rate_nonevents,
        "approval_rate_events": _favourable_rate_events,
    }
    # every metric here is a (weighted) mean of 0/1 values: the rows collapsed to their
    # (group, outcome, decision) cells with counts as sample weights give exactly the same
    # numbers, and MetricFrame then works on at most 4 rows per group instead of millions
    cells = cells[cells["weight"] > 0]
    weights = cells["weight"].to_numpy(dtype=float)
    frame = MetricFrame(metrics=metrics, y_true=cells["y"].to_numpy(dtype=np.int64),
                        y_pred=cells["favourable"].to_numpy(dtype=np.int64),
                        sensitive_features=cells["group"].astype(str).rename("group").reset_index(drop=True),
                        sample_params={name: {"sample_weight": weights} for name in metrics})
    table = frame.by_group.copy()
    table["n"] = np.rint(table["n"]).astype(np.int64)
    table["approved"] = np.rint(table["approval_rate"] * table["n"]).astype(np.int64)
    return table


def _add_disparity(table: pd.DataFrame) -> None:
    """Add ``disparate_impact_ratio``, ``approval_rate_difference`` with its Newcombe interval
    (``difference_low``, ``difference_high``), ``ztest_pvalue`` and ``fisher_pvalue``: each group
    against the most-approved judged group (:func:`best_group`); ``nan`` when no group is judged,
    and for that group itself."""
    top = best_group(table)
    best = float(table.loc[top, "approval_rate"]) if top is not None else math.nan
    table["disparate_impact_ratio"] = table["approval_rate"] / best if best and math.isfinite(best) else math.nan
    if top is None:
        for column in ("approval_rate_difference", "difference_low", "difference_high", "ztest_pvalue",
                       "fisher_pvalue"):
            table[column] = math.nan
        return
    table["approval_rate_difference"] = [rate - best if g != top else math.nan
                                         for g, rate in table["approval_rate"].items()]
    intervals = _against(table, top, lambda x, n, bx, bn: newcombe_interval(x, n, bx, bn))
    table["difference_low"] = [i[0] if isinstance(i, tuple) else math.nan for i in intervals]
    table["difference_high"] = [i[1] if isinstance(i, tuple) else math.nan for i in intervals]
    table["ztest_pvalue"] = _against(table, top, two_proportion_pvalue)
    table["fisher_pvalue"] = _against(table, top, fisher_pvalue)


def _against(table: pd.DataFrame, top: str, test: Callable[[int, int, int, int], Any]) -> list[Any]:
    """``test(approved, n, approved of top, n of top)`` for every group but ``top`` (``nan``)."""
    bx, bn = int(table.loc[top, "approved"]), int(table.loc[top, "n"])
    return [test(int(x), int(n), bx, bn) if g != top else math.nan
            for g, x, n in zip(table.index, table["approved"], table["n"])]


def _add_calibration(table: pd.DataFrame, calibration: pd.DataFrame) -> None:
    """Add ``mean_pd``, ``calibration_pvalue`` (the two-sided Jeffreys test of the group's mean PD
    against its defaults, :func:`validation.metrics.backtesting.jeffreys_two_sided_pvalue`) and
    ``auc`` per group, from each group's sum of PDs and AUC."""
    from validation.metrics.backtesting import jeffreys_two_sided_pvalue

    table["mean_pd"] = calibration["score_sum"].reindex(table.index) / table["n"]
    defaults = np.rint(table["default_rate"] * table["n"]).astype(np.int64)
    table["calibration_pvalue"] = [jeffreys_two_sided_pvalue(float(table.loc[g, "mean_pd"]), int(table.loc[g, "n"]),
                                                             int(defaults[g])) for g in table.index]
    table["auc"] = calibration["auc"].reindex(table.index)


def calibration_direction(row: pd.Series) -> str:
    """Which way a group's PDs miss its defaults, and what that would do to the group: an overstated
    risk refuses it more often than its defaults warrant; an understated one hides its risk. Worded
    as the direction of the gap, not a verdict: the finding's status says whether the gap is
    significant and material.

    >>> calibration_direction(pd.Series({"mean_pd": 0.448, "default_rate": 0.324}))
    'mean PD 0.4480, default rate 0.3240: PDs above the observed rate (overstated risk: if significant, the group is refused more often than its defaults warrant)'
    """
    mean_pd, rate = float(row["mean_pd"]), float(row["default_rate"])
    figures = f"mean PD {mean_pd:.4f}, default rate {rate:.4f}"
    if not (math.isfinite(mean_pd) and math.isfinite(rate)) or math.isclose(mean_pd, rate):
        return figures
    if mean_pd > rate:
        return (f"{figures}: PDs above the observed rate (overstated risk: if significant, the group is refused more "
                "often than its defaults warrant)")
    return f"{figures}: PDs below the observed rate (understated risk: if significant, the group's risk is hidden)"


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


OUTCOMES = {"applicants": ("approval_rate", None), "good payers": ("approval_rate_nonevents", 0),
            "defaulters": ("approval_rate_events", 1)}
"""The approval rate compared by each gap, and the outcome it is taken among (``None``: everyone)."""


@dataclass(frozen=True)
class Gap:
    """One per-attribute difference in the direction of harm (:func:`harm_gaps`).

    Attributes
    ----------
    value
        The largest shortfall of a group's approval rate against the comparator's (``>= 0``),
        ``nan`` when undefined.
    group
        The group it harms most; ``None`` when no group falls short (``value`` 0) or undefined.
    comparator
        The judged group approved most often among ``among`` (for ``applicants``, the
        most-approved group, :func:`best_group`).
    among
        Whose approval rate falls short: ``applicants``, ``good payers`` or ``defaulters``.
    interval
        The :data:`CONFIDENCE` Newcombe interval of the comparator's rate minus the group's
        (:func:`newcombe_interval`), ``(nan, nan)`` without a group.
    pvalue
        Fisher's exact test of the group's rate against the comparator's (:func:`fisher_pvalue`);
        ``nan`` without a group.
    p_adjusted
        That p-value adjusted (by the spec's ``multiplicity``) over the comparisons the largest
        gap was picked from: the policy flags the gap only when it is significant.
    """

    value: float
    group: str | None = None
    comparator: str | None = None
    among: str = "applicants"
    interval: tuple[float, float] = (math.nan, math.nan)
    pvalue: float = math.nan
    p_adjusted: float = math.nan


def _counts(row: pd.Series, among: str) -> tuple[int, int]:
    """(approved, applicants) of one group among ``applicants``, ``good payers`` or ``defaulters``,
    from its rates (each a ratio of whole counts, so rounding recovers them exactly)."""
    n = int(row["n"])
    column, outcome = OUTCOMES[among]
    if outcome is None:
        return int(row["approved"]), n
    events = int(round(float(row["default_rate"]) * n))
    members = events if outcome == 1 else n - events
    rate = float(row[column])
    return (int(round(rate * members)) if math.isfinite(rate) else 0), members


def _comparisons(judged: pd.DataFrame, among: str, top: str | None = None) -> list[tuple[float, str, str, str, float]]:
    """Every judged group against a comparator ``among`` applicants, good payers or defaulters:
    ``top``, else the group approved most often there; ``(shortfall, group, among, comparator,
    Fisher p)``; groups with no member there (an undefined rate) left out."""
    column = OUTCOMES[among][0]
    rates = judged[column].dropna()
    if len(rates) < 2 or (top is not None and top not in rates.index):
        return []
    top = str(rates.idxmax()) if top is None else top
    x_top, n_top = _counts(judged.loc[top], among)
    found = []
    for group, rate in rates.drop(top).items():
        x_group, n_group = _counts(judged.loc[group], among)
        found.append((float(rates[top] - rate), str(group), among, top,
                      fisher_pvalue(x_group, n_group, x_top, n_top)))
    return found


def harm_gaps(table: pd.DataFrame, multiplicity: str = "holm") -> dict[str, Gap]:
    """The per-attribute differences of a :func:`group_table`, in the direction of harm.

    With ``A`` the approval rate, ``TPR`` the approval rate among good payers and ``FPR`` among
    defaulters, ``c`` the most-approved judged group (:func:`best_group`) and ``t`` the judged
    group whose good payers are approved most often, over the other judged groups ``g``:

    - ``demographic_parity_difference = max_g (A_c - A_g)`` (= max - min);
    - ``equal_opportunity_difference = max_g (TPR_t - TPR_g)`` (= max - min of the TPRs: a good
      payer refused is harmed, whichever group is approved most overall);
    - ``equalized_odds_difference = max(equal opportunity's gap, max_g (FPR_c - FPR_g))``: it adds
      the defaulters of a group refused more often than those of the most-approved group (the
      same group treated more strictly at equal outcome).

    Hardt, Price and Srebro (2016), "Equality of opportunity in supervised learning", NeurIPS:
    equalized odds (definition 1) asks ``P(approved | group, outcome)`` to be equal across groups
    for both outcomes, equal opportunity (definition 2) for the advantaged outcome (good payers).
    Each gap is a shortfall: the group it names is approved less often than the comparator at
    equal outcome (a group whose defaulters are approved more often than another's is the
    comparator there, not the harmed one). Each :class:`Gap` names the group it harms most, its
    Newcombe interval, and the Fisher p-value of that comparison adjusted by ``multiplicity``
    over the comparisons the largest was picked from (``k - 1`` groups; ``2 (k - 1)`` for
    equalized odds): the same test and adjustment as the group's disparate impact ratio, so a
    gap is never significant on one line and noise on the next. All ``nan`` with fewer than two
    judged groups.

    >>> table = pd.DataFrame({"n": [100, 100], "approved": [60, 50], "approval_rate": [0.6, 0.5],
    ...     "default_rate": [0.5, 0.5], "approval_rate_nonevents": [0.8, 0.7],
    ...     "approval_rate_events": [0.4, 0.3], "judged": [True, True]}, index=["men", "women"])
    >>> gaps = harm_gaps(table)
    >>> round(gaps["equalized_odds_difference"].value, 4), gaps["equalized_odds_difference"].group
    (0.1, 'women')
    >>> harm_gaps(table.assign(approval_rate_events=[0.3, 0.6]))["equalized_odds_difference"].among
    'good payers'
    """
    from validation.judging.multiplicity import adjust

    judged = table[table["judged"]]
    if len(judged) < 2 or best_group(table) is None:
        return {name: Gap(math.nan) for name in DIFFERENCES}
    top = best_group(table)
    families = {"demographic_parity_difference": _comparisons(judged, "applicants", top),
                "equal_opportunity_difference": _comparisons(judged, "good payers")}
    families["equalized_odds_difference"] = [*families["equal_opportunity_difference"],
                                             *_comparisons(judged, "defaulters", top)]
    gaps = {}
    for name, found in families.items():
        if not found:
            gaps[name] = Gap(math.nan, comparator=best_group(table))
            continue
        adjusted = adjust([c[4] for c in found], multiplicity)  # type: ignore[arg-type]
        index = max(range(len(found)), key=lambda i: found[i][0])  # the first of equal shortfalls
        gaps[name] = _gap(found[index], judged, float(adjusted[index]))
    return gaps


def _gap(picked: tuple[float, str, str, str, float], judged: pd.DataFrame, adjusted: float) -> Gap:
    """The :class:`Gap` of the largest comparison (``(shortfall, group, among, comparator, p)``),
    0 with no group when no group falls short."""
    value, group, among, top, pvalue = picked
    if value <= 0:
        return Gap(0.0, comparator=top, among=among)
    x_top, n_top = _counts(judged.loc[top], among)
    x_group, n_group = _counts(judged.loc[group], among)
    return Gap(value, group, top, among, newcombe_interval(x_top, n_top, x_group, n_group), pvalue, adjusted)


def cause_of(attribute: str, group: str, flagged: Mapping[str, str] | None = None, *, prefix: str = "") -> str:
    """The root cause of a finding about ``group`` of ``attribute``: ``<prefix><attribute>=<group>``.

    For an intersection (``sex*age_band``), a group that contains a component group already
    flagged on its own attribute (``flagged``: cause -> worst status, from :func:`flagged_causes`)
    shares that component's cause, the most severe if several are: ``female*<25`` shows the gap of
    ``age_band=<25``, and is one issue with it. ``prefix`` names a kind of cause (:data:`CALIBRATION`).

    >>> cause_of("age_band", "<25")
    'age_band=<25'
    >>> cause_of("sex*age_band", "female*<25", {"age_band=<25": "red"})
    'age_band=<25'
    >>> cause_of("sex*age_band", "female*25-34", {"age_band=<25": "red"})
    'sex*age_band=female*25-34'
    """
    own = f"{prefix}{attribute}={group}"
    parts, values = attribute.split(INTERSECTION), group.split(INTERSECTION)
    if not flagged or len(parts) < 2 or len(parts) != len(values):
        return own
    components = [f"{prefix}{part}={value}" for part, value in zip(parts, values)]
    shared = [(severity(flagged[c]), -i, c) for i, c in enumerate(components) if c in flagged]
    return max(shared)[2] if shared else own


def attribute_cause(cause: str) -> str:
    """The issue a group's cause belongs to: its attribute (``age_band=<25`` and ``age_band=25-34``
    are one age gap, ``calibration age_band=<25`` one miscalibration by age). The groups it
    harms are the issue's members, listed with their findings.

    >>> attribute_cause("age_band=<25"), attribute_cause("calibration sex*age_band=female*25-34")
    ('age_band', 'calibration sex*age_band')
    """
    return cause.split("=", 1)[0]


def flagged_causes(findings: Iterable[Finding]) -> dict[str, Status]:
    """The causes of judged findings that are amber or red, with the worst status of each: the
    groups flagged on their own attribute, which an intersection's findings then share
    (:func:`cause_of`). Judge with :meth:`validation.judging.policy.Policy.judge_all`, so the
    statuses are those of the pack (p-values adjusted within their families)."""
    worst: dict[str, Status] = {}
    for item in findings:
        if item.cause and item.status in ("amber", "red") and \
                severity(item.status) > severity(worst.get(item.cause, "green")):
            worst[item.cause] = item.status
    return worst


def fairness_findings(attribute: str, table: pd.DataFrame, *, min_group_size: int,
                      flagged: Mapping[str, str] | None = None,
                      multiplicity: str = "holm") -> list[dict[str, object]]:
    """Findings of one protected attribute (or intersection).

    Per group (subject ``<attribute>:<group>``): ``approval_rate`` (reported);
    ``disparate_impact_ratio`` (judged unless the group is below ``min_group_size``), its
    ``p_value`` Fisher's exact test against the comparator and its ``family`` the attribute, so
    the policy adjusts it over the attribute's groups; ``disparity_ztest_pvalue`` and
    ``disparity_fisher_pvalue`` (reported), their ``effect`` the group's approval rate minus the
    comparator's; ``default_rate`` (reported) and, with scores, ``calibration_pvalue`` (two-sided
    calibration of the group, judged like any Jeffreys test: ``effect`` observed / expected
    defaults, ``family`` the attribute) and ``auc`` (reported).
    Per attribute (subject ``<attribute>``): the three differences in the direction of harm
    (:func:`harm_gaps`), each noting the group it harms and the Newcombe interval of that gap.

    Causes (:func:`cause_of`): a group's findings have the cause ``<attribute>=<group>``, a
    difference the cause of the group it harms, so the least-favoured group's disparate impact
    ratio and the parity gap it makes are one issue; calibration findings have the cause
    ``calibration <attribute>=<group>``. ``flagged`` (:func:`flagged_causes` of the single
    attributes' judged findings) lets an intersection's groups share the cause of a flagged
    component group.

    When the groups cannot be compared (:func:`comparison_problem`), every finding is reported,
    none judged, and the notes say why; undefined values are ``None`` (never NaN).
    """
    from validation.judging.findings import finding

    problem = comparison_problem(table, min_group_size=min_group_size)
    top = None if problem else best_group(table)
    items: list[dict[str, object]] = []
    for group, row in table.iterrows():
        items += _group_findings(attribute, str(group), row, top=top, min_group_size=min_group_size,
                                 problem=problem, flagged=flagged)
    for metric, gap in harm_gaps(table, multiplicity).items():
        cause = cause_of(attribute, gap.group, flagged) if gap.group is not None and problem is None else None
        items.append(finding(metric, attribute, gap.value, judged=problem is None,
                             note=problem or _gap_note(gap, both=metric == "equalized_odds_difference"),
                             cause=cause, p_value=gap.pvalue if gap.group is not None else None,
                             p_adjusted=gap.p_adjusted if gap.group is not None else None))
    return items


def _gap_note(gap: Gap, *, both: bool = False) -> str | None:
    """Which group a difference harms, against which comparator, among whom, with the interval of
    its gap; or that no group falls short (``both``: of good payers and defaulters)."""
    if gap.comparator is None or not math.isfinite(gap.value):
        return None
    if gap.group is None:
        among = "good payers or defaulters" if both else gap.among
        return f"no group's {among} are approved less often than those of {gap.comparator}, the comparator"
    low, high = gap.interval
    return (f"{gap.group} vs {gap.comparator} among {gap.among}: gap {gap.value:.3f}, "
            f"{CONFIDENCE:.0%} Newcombe interval {low:.3f} to {high:.3f}; Fisher p = {gap.pvalue:.3g}, "
            f"{gap.p_adjusted:.3g} adjusted over the comparisons the largest gap was picked from")


def _group_findings(attribute: str, group: str, row: pd.Series, *, top: str | None, min_group_size: int,
                    problem: str | None, flagged: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """The findings of one group (see :func:`fairness_findings`); ``top`` is the comparator,
    ``None`` when the attribute compared nothing (``problem`` says why: nothing is judged)."""
    from validation.judging.findings import finding

    subject = f"{attribute}:{group}"
    n = int(row["n"])
    small = None if row["judged"] else f"insufficient data: {n} < {min_group_size} applicants"
    judged = bool(row["judged"]) and problem is None
    unjudged = f"not judged: {problem}" if problem else None
    compared = top is not None and group != top
    if problem:
        note = "; ".join(x for x in (unjudged, small) if x)
    elif group == top:
        note = small or "the most-approved group: the comparator"
    else:
        note = "; ".join(x for x in (small, f"n = {n}", _difference_note(row, top)) if x)
    cause = cause_of(attribute, group, flagged)
    family = attribute if judged else None
    difference = row["approval_rate_difference"] if compared else None
    items = [finding("approval_rate", subject, row["approval_rate"], judged=False,
                     note=f"{int(row['approved'])} of {n} approved", cause=cause),
             finding("disparate_impact_ratio", subject, row["disparate_impact_ratio"], judged=judged, note=note,
                     p_value=row["fisher_pvalue"] if compared else None, family=family if compared else None,
                     cause=cause)]
    if compared:
        items.append(finding("disparity_ztest_pvalue", subject, row["ztest_pvalue"], judged=False,
                             effect=difference, cause=cause))
        items.append(finding("disparity_fisher_pvalue", subject, row["fisher_pvalue"], judged=False,
                             effect=difference, cause=cause))
    items.append(finding("default_rate", subject, row["default_rate"], judged=False, cause=cause))
    if "calibration_pvalue" in row.index:
        items.append(finding("calibration_pvalue", subject, row["calibration_pvalue"], judged=judged,
                             note="; ".join(x for x in (unjudged, small) if x) or calibration_direction(row),
                             effect=observed_expected(row), family=family,
                             cause=cause_of(attribute, group, flagged, prefix=CALIBRATION)))
        items.append(finding("auc", subject, row["auc"], judged=False, cause=cause))
    return items


def _difference_note(row: pd.Series, top: str | None) -> str | None:
    """The group's approval rate against the comparator's, with the Newcombe interval of the
    difference and Fisher's p (judged on its value adjusted over the attribute's groups)."""
    difference, p = float(row["approval_rate_difference"]), float(row["fisher_pvalue"])
    if not math.isfinite(difference):
        return None
    low, high = float(row["difference_low"]), float(row["difference_high"])
    text = (f"approval rate {difference:+.3f} vs {top} ({CONFIDENCE:.0%} Newcombe interval "
            f"{low:+.3f} to {high:+.3f})")
    return text + (f"; Fisher p = {p:.3g}" if math.isfinite(p) else "")


def observed_expected(row: pd.Series) -> float:
    """Observed over expected defaults of a group: ``default rate / mean PD`` (``D / sum PD``),
    the effect of its calibration test; ``nan`` when the PDs expect no default.

    >>> round(observed_expected(pd.Series({"default_rate": 0.324, "mean_pd": 0.448})), 4)
    0.7232
    """
    expected = float(row["mean_pd"])
    return float(row["default_rate"]) / expected if expected > 0 else math.nan


def headline(tables: dict[str, pd.DataFrame], policy: Policy | None = None, *,
             min_group_size: int | None = None) -> str:
    """Plain-language summary: per attribute, the least-approved judged group against the
    most-approved one, whether the policy's bound on the disparate impact ratio (the four-fifths
    rule by default) flags it and whether the gap is significant once adjusted over the
    attribute's groups (the policy's ``multiplicity``, as its finding is judged); or why its groups
    could not be compared (:func:`comparison_problem`).

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


def _adjusted_fisher(table: pd.DataFrame, policy: Policy) -> pd.Series:
    """Fisher's p of each judged group but the comparator, adjusted over them by the policy's
    ``multiplicity`` (the family its ``disparate_impact_ratio`` finding is judged in)."""
    from validation.judging.multiplicity import adjust

    top = best_group(table)
    tested = table.loc[table["judged"] & (table.index != top), "fisher_pvalue"].dropna()
    return pd.Series(adjust(tested.to_numpy(), policy.multiplicity), index=tested.index, dtype=float)


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
    adjusted = _adjusted_fisher(table, policy)
    level = policy.rule("disparate_impact_ratio").significance or NOTE_SIGNIFICANCE
    p_adjusted = float(adjusted[low]) if low in adjusted.index else p
    shown = f"Fisher p = {p:.3g}"
    if len(adjusted) > 1 and not math.isclose(p_adjusted, p, rel_tol=1e-12):
        shown += f", {p_adjusted:.3g} adjusted over {len(adjusted)} groups ({policy.multiplicity})"
    text = (f"{attribute}: {low} approved at {ratio:.2f} times the rate of {best_group(table)} "
            f"({'below' if flagged else 'within'} the bound {bound:g}"
            + (f"; {shown}, {'significant' if p_adjusted < level else 'not significant'}"
               if math.isfinite(p) else "")
            + ").")
    if len(small):
        text += f" {len(small)} group(s) too small to judge: " + ", ".join(
            f"{g} ({int(n)})" for g, n in small["n"].items()) + "."
    return text
