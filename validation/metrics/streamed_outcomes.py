"""Passes over a scored sample read in batches: the score's scan, exact order statistics, and the
:class:`~validation.metrics.outcome_cells.OutcomeCells` the backtesting and fairness checks
compute their figures from.

Each pass is a map over batches and a merge (:class:`~validation.metrics.streamed_drift.Sample`),
in this process or on a Dask cluster alike; memory holds one batch and the summaries.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd

from validation.inputs.batches import Batch
from validation.metrics.outcome_cells import OutcomeCells, ScorePoints
from validation.metrics.streamed_drift import Sample, summarise_scan
from validation.metrics.summaries import ColumnScan, GridCounts, distinct_counts, grid_edges, window_values

KeyOf = Callable[[pd.DataFrame], pd.Series]
"""The key of every row of a batch under a slicer (a period, a segment, a protected group)."""


def score_scan(sample: Sample, score: str) -> ColumnScan:
    """Pass 1: the score's :class:`~validation.metrics.summaries.ColumnScan` (value counts while
    the score has at most ``DISTINCT_CAP`` distinct values, else a bottom-k sample)."""
    merged = sample.map_merge([score], lambda b: summarise_scan(b, [score], {score: True})[score],
                              lambda x, y: x.merge(y))
    if merged is None:
        raise ValueError("the sample has no rows")
    return merged


def order_statistics(sample: Sample, column: str, scan: ColumnScan, ranks: np.ndarray) -> np.ndarray:
    """The values of a numeric column at 0-based ``ranks`` of its sorted non-missing values,
    exactly: from its value counts, or from two more passes, the counts of fine bins
    (:class:`~validation.metrics.summaries.GridCounts`) and the distinct values, with their counts,
    of the bins that hold the ranks (:func:`~validation.metrics.summaries.window_values`): a heap of
    equal scores is one value, whatever its rows."""
    ranks = np.asarray(ranks, dtype=np.int64)
    if scan.values is not None and scan.counts is not None:
        return scan.values[np.searchsorted(np.cumsum(scan.counts), ranks, side="right")]
    edges = grid_edges(scan)
    shift = float(scan.sample_values[0])
    grid = sample.map_merge([column], lambda b: GridCounts.of(b.frame[column], edges, shift), lambda x, y: x.merge(y))
    assert grid is not None
    after = np.cumsum(grid.counts)
    bins = np.searchsorted(after, ranks, side="right")  # the bin of each rank
    chosen = np.unique(bins)

    def work(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        return distinct_counts(window_values(batch.frame[column], edges, chosen))

    def merge(x: tuple[np.ndarray, np.ndarray], y: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        values, inverse = np.unique(np.r_[x[0], y[0]], return_inverse=True)
        return values, np.bincount(inverse, weights=np.r_[x[1], y[1]], minlength=len(values)).astype(np.int64)

    # distinct values and counts: a heap (a PD floor shared by many rows) is one entry, not its rows
    found = sample.map_merge([column], work, merge)
    assert found is not None
    values, counts = found
    lower = np.r_[-np.inf, edges]  # bin i is (lower[i], edges[i]]
    before = after[bins] - grid.counts[bins]  # values below each rank's bin
    # the rank's place among its bin's values, the window's values below the bin left out
    below_bin = np.r_[0, np.cumsum(counts)][np.searchsorted(values, lower[bins], side="right")]
    cumulative = np.cumsum(counts)
    return values[np.searchsorted(cumulative, below_bin + ranks - before, side="right")]


def outcome_cells(sample: Sample, *, score: str, target: str, points: ScorePoints, keys: Mapping[str, KeyOf | None],
                  columns: list[str], loss: Callable[[pd.DataFrame], np.ndarray] | None = None,
                  max_keys: Mapping[str, int] | None = None) -> OutcomeCells:
    """The sample's :class:`~validation.metrics.outcome_cells.OutcomeCells`: ``keys`` maps each
    slicer to the function giving a batch's keys (``None``: the whole sample); ``columns`` are
    the columns those functions and ``loss`` read (besides the score and the target); ``max_keys``
    the most keys of a slicer (:class:`~validation.metrics.outcome_cells.TooManyKeys` past it)."""
    read = list(dict.fromkeys([score, target, *columns]))

    def work(batch: Batch) -> OutcomeCells:
        frame = batch.frame
        return OutcomeCells.of(frame[target].to_numpy(dtype=float), frame[score].to_numpy(dtype=float), points,
                               {slicer: (None if key is None else key(frame)) for slicer, key in keys.items()},
                               loss=None if loss is None else loss(frame), max_keys=max_keys)

    merged = sample.map_merge(read, work, lambda x, y: x.merge(y))
    if merged is None:
        raise ValueError("the sample has no rows")
    return merged
