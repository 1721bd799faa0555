"""The PD backtest of samples read in batches: the figures of :mod:`validation.metrics.backtesting`
from :class:`~validation.metrics.outcome_cells.OutcomeCells`.

:func:`read_outcomes` makes the passes: the score's scan of each sample; with no master scale, the
reference score's deciles, exactly (:func:`~validation.metrics.streamed_outcomes.order_statistics`);
then the cells of each sample, on points whose edges hold every grade bound and the decision
threshold. Counts, defaults, sums of PDs, grades, the Jeffreys, binomial, Hosmer-Lemeshow and
Spiegelhalter tests, the Brier score, concentration and business impact are then exact; AUC, its
DeLong variance and KS too when a sample has at most ``DISTINCT_CAP`` distinct scores, and
otherwise within the bounds :func:`discrimination` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from validation.metrics import backtesting as bt
from validation.metrics import outcome_cells as oc
from validation.metrics.streamed_drift import Sample
from validation.metrics.streamed_outcomes import KeyOf, order_statistics, outcome_cells, score_scan


@dataclass(frozen=True)
class Outcomes:
    """Both samples' cells, and the grade bounds they were counted on (the spec's master scale, or
    the reference score's deciles)."""

    reference: oc.OutcomeCells
    current: oc.OutcomeCells
    bounds: tuple[float, ...]


def read_outcomes(reference: Sample, current: Sample, *, score: str, target: str, grades: tuple[float, ...] | None,
                  threshold: float | None, slicers: Mapping[str, KeyOf], columns: list[str],
                  loss: Callable[[pd.DataFrame], np.ndarray] | None = None,
                  loss_columns: Sequence[str] = ()) -> Outcomes:
    """The cells of both samples: the whole of each, and per slicer of the current one (``slicers``:
    name -> the key of each row of a batch, reading ``columns``); ``loss`` each row's ``LGD x EAD``
    (reading ``loss_columns``, the only columns read of the reference besides the score and target).
    A slicer of more than :data:`~validation.metrics.outcome_cells.MAX_KEYS` values raises
    :class:`~validation.metrics.outcome_cells.TooManyKeys`."""
    ref_scan, cur_scan = score_scan(reference, score), score_scan(current, score)
    if grades is None:
        n = ref_scan.n - ref_scan.n_missing
        grades = bt.grades_at(bt.type7_quantiles(n, bt.DECILES,
                                                 lambda ranks: order_statistics(reference, score, ref_scan, ranks)))
    cuts = [*grades, *([oc.decision_cut(threshold)] if threshold is not None else [])]
    whole: dict[str, KeyOf | None] = {"": None}
    ref_cells = outcome_cells(reference, score=score, target=target, points=oc.ScorePoints.of(ref_scan, cuts),
                              keys=whole, columns=list(loss_columns), loss=loss)
    cur_cells = outcome_cells(current, score=score, target=target, points=oc.ScorePoints.of(cur_scan, cuts),
                              keys={**whole, **slicers}, columns=list(dict.fromkeys([*columns, *loss_columns])),
                              loss=loss)
    return Outcomes(ref_cells, cur_cells, tuple(grades))


def discrimination(cells: oc.OutcomeCells) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`validation.metrics.backtesting.discrimination` of a sample's cells, and the bounds
    of its approximate figures (empty when each point is one score value): ``auc`` (and so
    ``gini``, twice it) within :func:`~validation.metrics.outcome_cells.auc_tie_bound`, ``ks`` at
    most :func:`~validation.metrics.outcome_cells.ks_bin_bound` above the figure."""
    dense = cells.dense()
    events, nonevents = dense["events"].to_numpy(), dense["nonevents"].to_numpy()
    brier = oc.brier(dense)
    if not events.sum() or not nonevents.sum():
        nan = math.nan
        return {"auc": nan, "auc_se": nan, "auc_ci_low": nan, "auc_ci_high": nan, "gini": nan, "ks": nan,
                "brier": brier}, {}
    auc, variance = oc.auc_and_variance(events, nonevents)
    se = math.sqrt(variance)
    z = float(stats.norm.ppf(0.975))
    figures = {"auc": auc, "auc_se": se, "auc_ci_low": auc - z * se, "auc_ci_high": auc + z * se,
               "gini": 2.0 * auc - 1.0, "ks": oc.ks_distance(events, nonevents), "brier": brier}
    bounds = {} if cells.points.exact else {"auc": oc.auc_tie_bound(events, nonevents),
                                            "ks": oc.ks_bin_bound(events, nonevents)}
    return figures, bounds


def _by_grade(cells: oc.OutcomeCells, bounds: tuple[float, ...]) -> pd.DataFrame:
    """Applicants, defaults and sum of PDs per grade 1..K (the points' grades are their members')."""
    dense = cells.dense()
    grade = bt.assign_grades(cells.points.members(), bounds)
    k = len(bounds)
    return pd.DataFrame({name: np.bincount(grade, weights=values, minlength=k + 2)[1:k + 1]
                         for name, values in (("n", (dense["events"] + dense["nonevents"]).to_numpy()),
                                              ("defaults", dense["events"].to_numpy()),
                                              ("pd", dense["score"].to_numpy()))})


def grade_table(cells: oc.OutcomeCells, bounds: tuple[float, ...]) -> pd.DataFrame:
    """:func:`validation.metrics.backtesting.grade_table` of a sample's cells."""
    grades = _by_grade(cells, bounds)
    return bt.grade_rows(grades["n"].to_numpy(), grades["defaults"].to_numpy(), grades["pd"].to_numpy(), bounds)


def grade_counts(cells: oc.OutcomeCells, bounds: tuple[float, ...]) -> np.ndarray:
    """Applicants per grade 1..K, empty grades included (the concentration tests' input)."""
    return np.rint(_by_grade(cells, bounds)["n"].to_numpy()).astype(np.int64)


def portfolio_findings(current: oc.OutcomeCells, reference: oc.OutcomeCells,
                       bounds: tuple[float, ...]) -> list[dict[str, object]]:
    """:func:`validation.metrics.backtesting.calibration_findings` of the cells."""
    dense = current.dense()
    z, excess = oc.spiegelhalter(dense)
    _, defaults = oc.counts(dense)
    return bt.portfolio_findings(float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan, excess, defaults,
                                 float(dense["score"].sum()), grade_counts(current, bounds),
                                 grade_counts(reference, bounds))


def slice_table(cells: oc.OutcomeCells, slicer: str, column: str) -> tuple[pd.DataFrame, float | None]:
    """:func:`validation.metrics.backtesting.slice_table` of the current sample's cells of one
    slicer (small slices pooled: the cells relabelled), and the largest
    :func:`~validation.metrics.outcome_cells.auc_tie_bound` of a slice's AUC (``None``: exact)."""
    small = bt.small_slices(cells.keys(slicer))
    if small:
        cells.relabel(slicer, {k: bt.POOLED_SLICES for k in small})
    measured = {}
    bounds = [0.0]
    for key in cells.keys(slicer):
        dense = cells.dense(slicer, key)
        n, d = oc.counts(dense)
        events, nonevents = dense["events"].to_numpy(), dense["nonevents"].to_numpy()
        auc = oc.auc_and_variance(events, nonevents)[0] if 0 < d < n else math.nan
        if math.isfinite(auc) and n >= bt.MIN_DISCLOSED_SLICE:
            bounds.append(oc.auc_tie_bound(events, nonevents))
        measured[key] = (n, d, float(dense["score"].sum()), auc)
    return bt.slice_rows(column, measured), None if cells.points.exact else max(bounds)


def business_impact(cells: oc.OutcomeCells, *, threshold: float, favourable: str,
                    loss_key: str | None = None) -> dict[str, float]:
    """:func:`validation.metrics.backtesting.business_impact` of a sample's cells: ``loss_key``
    (``expected_loss`` or ``expected_default_exposure``) when the cells summed a loss."""
    from validation.metrics.fairness import favourable_decision

    dense = cells.dense()
    approved = favourable_decision(cells.points.members(), threshold, favourable).astype(bool)
    rows = (dense["events"] + dense["nonevents"]).to_numpy()
    n, defaults = oc.counts(dense)
    taken = float(rows[approved].sum())
    result = {"applicants": float(n), "approved": taken, "default_rate": defaults / n if n else math.nan,
              "approval_rate": taken / n if n else math.nan,
              "bad_rate_approved": float(dense["events"].to_numpy()[approved].sum()) / taken if taken else math.nan}
    if loss_key:
        result[loss_key] = float(dense["loss"].to_numpy()[approved].sum())
    return result
