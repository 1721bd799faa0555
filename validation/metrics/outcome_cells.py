"""Mergeable counts of scored outcomes: backtesting and fairness statistics of samples read in batches.

A scored sample (a PD per row, an outcome 0/1, and keys such as the period, a segment or a
protected group) is summarised batch by batch into :class:`OutcomeCells`: per key and per *score
point*, the events, the non-events, the sums of the first four powers of the score, of the
events' scores and of the expected loss. Cells merge by addition, in any order. Every statistic
of the backtesting and fairness checks is then a function of the cells, in memory bounded by the
keys and points, not by the rows:

- counts, default rates, mean PDs, observed / expected defaults, the Jeffreys and binomial tests,
  Hosmer-Lemeshow, the Brier score and the Spiegelhalter test (from power sums), decisions at a
  threshold and expected losses: **exact**, whatever the score;
- AUC with its DeLong variance, and the KS distance between events' and non-events' scores:
  **exact** when the sample has at most :data:`~validation.metrics.summaries.DISTINCT_CAP`
  distinct scores (a scorecard's points, a master scale's PDs: the points are the values);
  otherwise the points are :data:`~validation.metrics.summaries.GRID_BINS` fine bins cut at the
  score's quantiles (:func:`~validation.metrics.summaries.grid_edges`, a bottom-k sample), and
  each figure comes with a bound the pack shows (:func:`auc_tie_bound`, :func:`ks_bin_bound`).

Grade bounds and the decision threshold are always among the fine bins' edges
(:meth:`ScorePoints.of`), so a bin never straddles a grade or a decision: per-grade and
per-decision figures are exact in both cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from validation.metrics.summaries import ColumnScan, grid_edges

SUMS = ("events", "nonevents", "score", "score2", "score3", "score4", "event_score", "loss")
"""What each cell holds: counts of events and non-events; sums of the score and its powers over
all rows, of the score over the events, and of the expected loss (``PD x LGD x EAD``)."""


MAX_KEYS = 10_000
"""Most keys a slicer may have (project default): a period, segment or group with more values is an
identifier, not a slice of the portfolio, and its cells (keys x score points) would fill memory."""


class TooManyKeys(ValueError):
    """A slicer with more keys than allowed (:data:`MAX_KEYS`, or the caller's own limit)."""

    def __init__(self, slicer: str, count: int, limit: int) -> None:
        super().__init__(f"{slicer}: more than {limit:,} values ({count:,} so far)")
        self.slicer, self.count, self.limit = slicer, count, limit


def _within(slicer: str, count: int, limit: int) -> None:
    if count > limit:
        raise TooManyKeys(slicer, count, limit)


@dataclass(frozen=True)
class ScorePoints:
    """Where a sample's scores are counted: at each distinct value (``exact``), or in fine bins
    ``(e_(i-1), e_i]`` of interior edges ``values`` (the first and last bins open)."""

    values: np.ndarray
    exact: bool

    @classmethod
    def of(cls, scan: ColumnScan, cuts: Iterable[float] = ()) -> "ScorePoints":
        """The points of a score from its :class:`~validation.metrics.summaries.ColumnScan`: its
        distinct values while counted, else fine bins with ``cuts`` among their edges (grade upper
        bounds; :func:`decision_cut` of a threshold), so that no bin straddles a cut."""
        if scan.values is not None:
            return cls(np.asarray(scan.values, dtype=float), True)
        edges = np.union1d(grid_edges(scan), np.asarray(list(cuts), dtype=float))
        return cls(edges[np.isfinite(edges)], False)

    def __len__(self) -> int:
        return len(self.values) + (0 if self.exact else 1)

    def index(self, score: np.ndarray) -> np.ndarray:
        """The point of each score (its value's position, or its bin)."""
        position = np.searchsorted(self.values, score, side="left")
        if self.exact:
            inside = np.minimum(position, len(self.values) - 1)
            if len(score) and not np.array_equal(self.values[inside], score):
                raise ValueError("a score the scan did not count: the sample changed between passes")
        return position

    def members(self) -> np.ndarray:
        """A score per point that falls where every score of the point falls, for any cut among
        the edges: the value itself, a bin's upper edge, the last bin's lower edge's successor."""
        if self.exact:
            return self.values
        if not len(self.values):
            return np.array([0.0])
        return np.append(self.values, np.nextafter(self.values[-1], math.inf))


def decision_cut(threshold: float) -> float:
    """The edge that splits scores at a decision threshold as the rule does: ``s < t`` (favourable
    below) is ``s <= the float just below t``, and ``s >= t`` its complement.

    >>> decision_cut(0.5) < 0.5 and decision_cut(0.5) == float(np.nextafter(0.5, -1))
    True
    """
    return float(np.nextafter(threshold, -math.inf))


@dataclass
class OutcomeCells:
    """The cells of one sample: per slicer (``""`` the whole sample, else a key such as
    ``period``, a segment or a protected attribute) a frame indexed by ``(key, point)`` with the
    columns :data:`SUMS`. Keys are text; rows of a missing key are not counted under that slicer."""

    points: ScorePoints
    tables: dict[str, pd.DataFrame]
    max_keys: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, y: np.ndarray, score: np.ndarray, points: ScorePoints, keys: Mapping[str, pd.Series | None],
           loss: np.ndarray | None = None, *, max_keys: Mapping[str, int] | None = None) -> "OutcomeCells":
        """The cells of one batch: ``keys`` maps each slicer to the key of every row (``None``:
        the whole sample); ``loss`` is each row's ``LGD x EAD`` (the score multiplies it).
        ``max_keys``: the most keys a slicer may have (default :data:`MAX_KEYS`), beyond which
        :class:`TooManyKeys` is raised: memory stays bounded by the batch and the keys."""
        y = np.asarray(y, dtype=float)
        score = np.asarray(score, dtype=float)
        point = points.index(score).astype(np.int64)
        square = score * score
        weights = {"events": y, "nonevents": 1.0 - y, "score": score, "score2": square, "score3": square * score,
                   "score4": square * square, "event_score": y * score,
                   "loss": score * np.asarray(loss, dtype=float) if loss is not None else np.zeros(len(score))}
        size = len(points)
        tables: dict[str, pd.DataFrame] = {}
        for slicer, labels in keys.items():
            if labels is None:
                codes, names = np.zeros(len(score), dtype=np.int64), np.array([""], dtype=object)
            else:
                codes, names = pd.factorize(labels.to_numpy(dtype=object), use_na_sentinel=True)
            _within(slicer, len(names), (max_keys or {}).get(slicer, MAX_KEYS))
            kept = codes >= 0
            # the (key, point) cells the batch fills, numbered compactly: at most the batch's rows
            cell, filled = pd.factorize(codes[kept] * size + point[kept], sort=True)
            filled = np.asarray(filled, dtype=np.int64)
            index = pd.MultiIndex.from_arrays([np.asarray(names, dtype=object)[filled // size], filled % size],
                                              names=["key", "point"])
            tables[slicer] = pd.DataFrame({name: np.bincount(cell, weights=weights[name][kept], minlength=len(filled))
                                           for name in SUMS}, index=index)
        return cls(points, tables, dict(max_keys or {}))

    def merge(self, other: "OutcomeCells") -> "OutcomeCells":
        """The cells of both batches."""
        tables = {}
        for slicer, table in self.tables.items():
            tables[slicer] = pd.concat([table, other.tables[slicer]]).groupby(level=["key", "point"], sort=False).sum()
            _within(slicer, tables[slicer].index.get_level_values("key").nunique(),
                    self.max_keys.get(slicer, MAX_KEYS))
        return OutcomeCells(self.points, tables, self.max_keys)

    def keys(self, slicer: str) -> dict[str, int]:
        """Each key of a slicer and its rows."""
        rows = self.tables[slicer][["events", "nonevents"]].sum(axis=1).groupby(level="key", sort=False).sum()
        return {str(k): int(round(v)) for k, v in rows.items()}

    def relabel(self, slicer: str, mapping: Mapping[str, str]) -> None:
        """Rename keys of a slicer (several into one pools them), e.g. groups too small to show."""
        table = self.tables[slicer]
        keys = table.index.get_level_values("key").map(lambda k: mapping.get(k, k))
        points = table.index.get_level_values("point")
        self.tables[slicer] = table.groupby([keys, points], sort=False).sum().rename_axis(["key", "point"])

    def dense(self, slicer: str = "", key: str = "") -> pd.DataFrame:
        """The cells of one key, one row per point in score order (empty points as zeros)."""
        table = self.tables[slicer]
        keys = table.index.get_level_values("key")
        part = table[keys == key].droplevel("key")
        return part.groupby(level="point").sum().reindex(np.arange(len(self.points)), fill_value=0.0)


def counts(cells: pd.DataFrame) -> tuple[int, int]:
    """``(rows, events)`` of dense cells."""
    events = float(cells["events"].sum())
    return int(round(events + float(cells["nonevents"].sum()))), int(round(events))


def auc_and_variance(events: np.ndarray, nonevents: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong variance from event and non-event counts per score point, in score order.

    A tie counts one half, as in ``sklearn.metrics.roc_auc_score`` and
    :func:`validation.metrics.backtesting.auc_delong`: an event at point ``p`` outranks the share
    ``V10(p) = (N0(< p) + n0(p) / 2) / N0`` of non-events, a non-event is outranked by the share
    ``V01(p) = (N1(> p) + n1(p) / 2) / N1`` of events; ``AUC = sum_p n1(p) V10(p) / N1`` and
    ``Var = var(V10) / N1 + var(V01) / N0``, the sample variances over the events and the
    non-events (DeLong, DeLong & Clarke-Pearson 1988). Exact when each point is one score value.

    >>> auc, variance = auc_and_variance(np.array([0, 1, 0, 1.0]), np.array([1, 0, 1, 0.0]))  # 0.1 0.4 0.5 0.9
    >>> auc
    0.75
    """
    e, n = np.asarray(events, dtype=float), np.asarray(nonevents, dtype=float)
    m, k = float(e.sum()), float(n.sum())
    if m == 0 or k == 0:
        return math.nan, math.nan
    v10 = (np.cumsum(n) - n / 2) / k
    v01 = (m - np.cumsum(e) + e / 2) / m
    auc = float(np.dot(e, v10) / m)
    var10 = float(np.dot(e, (v10 - auc) ** 2) / (m - 1)) if m > 1 else 0.0
    var01 = float(np.dot(n, (v01 - auc) ** 2) / (k - 1)) if k > 1 else 0.0
    return auc, var10 / m + var01 / k


def auc_tie_bound(events: np.ndarray, nonevents: np.ndarray) -> float:
    """How far the AUC of fine bins can be from the rows': within a bin an event and a non-event
    count one half whatever their order, so the rows' AUC is within ``sum_b n1(b) n0(b) / (2 N1 N0)``.

    >>> auc_tie_bound(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    0.25
    """
    e, n = np.asarray(events, dtype=float), np.asarray(nonevents, dtype=float)
    m, k = float(e.sum()), float(n.sum())
    return float(np.dot(e, n) / (2 * m * k)) if m and k else math.nan


def bound_text(bound: float) -> str:
    """A bound to two significant figures, rounded up (a bound shown rounded down would understate it).

    >>> bound_text(0.0149), bound_text(0.000121), bound_text(0.02)
    ('0.015', '0.00013', '0.02')
    """
    if not math.isfinite(bound) or bound <= 0:
        return f"{bound:g}"
    scale = 10.0 ** (math.floor(math.log10(bound)) - 1)
    return f"{math.ceil(round(bound / scale, 9)) * scale:.2g}"


def ks_distance(events: np.ndarray, nonevents: np.ndarray) -> float:
    """The largest gap between the ECDFs of the events' and non-events' scores, taken at each
    point's end: the KS statistic (``scipy.stats.ks_2samp``) when each point is one value.

    >>> ks_distance(np.array([0, 1, 0, 1.0]), np.array([1, 0, 1, 0.0]))
    0.5
    """
    e, n = np.asarray(events, dtype=float), np.asarray(nonevents, dtype=float)
    if not e.sum() or not n.sum():
        return math.nan
    return float(np.abs(np.cumsum(e) / e.sum() - np.cumsum(n) / n.sum()).max())


def ks_bin_bound(events: np.ndarray, nonevents: np.ndarray) -> float:
    """How much more the rows' KS can be than :func:`ks_distance` of fine bins: within a bin each
    ECDF moves by at most its share of the bin, so by at most ``max_b max(n1(b) / N1, n0(b) / N0)``."""
    e, n = np.asarray(events, dtype=float), np.asarray(nonevents, dtype=float)
    if not e.sum() or not n.sum():
        return math.nan
    return float(max((e / e.sum()).max(), (n / n.sum()).max()))


def brier(cells: pd.DataFrame) -> float:
    """Brier score from sums: ``mean (y - p)^2 = (sum p^2 - 2 sum_(y=1) p + D) / N``."""
    rows, defaults = counts(cells)
    if not rows:
        return math.nan
    return (float(cells["score2"].sum()) - 2 * float(cells["event_score"].sum()) + defaults) / rows


def spiegelhalter(cells: pd.DataFrame) -> tuple[float, float]:
    """Spiegelhalter's z (Spiegelhalter 1986) and the Brier score's excess over its expectation
    under calibration (:func:`validation.metrics.backtesting.brier_excess`), from power sums
    ``S_k = sum p^k`` and ``T = sum_(y=1) p``:

    ``sum (y - p)(1 - 2p) = D - 2 T - S_1 + 2 S_2`` and
    ``sum (1 - 2p)^2 p (1 - p) = S_1 - 5 S_2 + 8 S_3 - 4 S_4``; ``z`` is the first over the root
    of the second, the excess the first over ``S_1 - S_2 = sum p (1 - p)``.

    Returns
    -------
    (z, excess)
        ``nan`` where a denominator is 0.
    """
    _, defaults = counts(cells)
    s1, s2, s3, s4 = (float(cells[c].sum()) for c in ("score", "score2", "score3", "score4"))
    numerator = defaults - 2 * float(cells["event_score"].sum()) - s1 + 2 * s2
    variance = s1 - 5 * s2 + 8 * s3 - 4 * s4
    z = numerator / math.sqrt(variance) if variance > 0 else math.nan
    expected = s1 - s2
    return z, numerator / expected if expected > 0 else math.nan


def roc_points(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcomes, scores and weights whose weighted ROC curve (``sklearn.metrics.roc_curve`` with
    ``sample_weight``) is the sample's: each point's events and non-events at its score, the score
    being the point's number (a ROC curve uses only the scores' order, which the points keep)."""
    members = cells.index.to_numpy()
    y = np.r_[np.ones(len(cells)), np.zeros(len(cells))]
    weights = np.r_[cells["events"].to_numpy(), cells["nonevents"].to_numpy()]
    keep = weights > 0
    return y[keep], np.r_[members, members][keep].astype(float), weights[keep]


def cap_points(cells: pd.DataFrame, *, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative accuracy profile from the cells (riskiest point first): share of applicants
    against share of defaults captured, at most ``points`` points."""
    order = cells.iloc[::-1]
    rows = (order["events"] + order["nonevents"]).to_numpy()
    population = np.r_[0.0, np.cumsum(rows)] / max(rows.sum(), 1.0)
    captured = np.r_[0.0, np.cumsum(order["events"].to_numpy())] / max(float(order["events"].sum()), 1.0)
    keep = np.unique(np.linspace(0, len(population) - 1, min(points, len(population))).astype(int))
    return population[keep], captured[keep]
