"""Drift statistics of samples read in batches (:mod:`validation.metrics.summaries`).

:func:`streamed_drift_table` gives the table and the :class:`~validation.metrics.drift.ColumnDrift`
of each column that :func:`validation.metrics.drift.drift_table` gives from two frames in memory,
from passes over each sample's batches: the bins and their counts (so PSI, chi-square, JS and
the PSI critical values) are exactly the in-memory ones; KS and Wasserstein too when a column has
at most :data:`~validation.metrics.summaries.DISTINCT_CAP` distinct values in each sample, and
otherwise within the bounds each column's note states. The PSI of each period of the current
sample, with its rows and default rate, is counted in the current sample's last pass
(:func:`streamed_drift`, then :func:`streamed_by_period`), or in one more pass of its own.

Memory: the summaries (a few hundred KB a column) and one batch at a time. Each pass is a map over
batches and a merge, so a cluster can run the map (:func:`summarise_scan` and the others are plain
functions of a frame).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, TypeVar, cast

import numpy as np
import pandas as pd

from validation.inputs.batches import Batch
from validation.metrics import drift
from validation.metrics.summaries import (CATEGORY_CAP, OVERFLOW, ColumnScan, GridCounts, bottom_rows, distinct_counts,
                                          grid_edges, ks_and_wasserstein_grid, ks_and_wasserstein_weighted, row_hash,
                                          window_bins, window_values)

T = TypeVar("T")

Batches = Callable[[list[str]], Iterable[Batch]]
"""A sample: given columns, its batches in file order (e.g. ``functools.partial(iter_batches, path, role=...)``)."""


class Sample(Protocol):
    """A sample summarised batch by batch: :class:`LocalSample` in this process, or
    :class:`validation.execution.cluster.ClusterSample` on a Dask cluster (the same work)."""

    def first(self, columns: list[str]) -> Batch | None:
        """Its first batch (the columns' kinds are taken from it)."""

    def map_merge(self, columns: list[str], work: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T | None:
        """``work`` on every batch of ``columns``, the results merged (``None`` without batches)."""


@dataclass(frozen=True)
class LocalSample:
    """A sample read batch by batch in this process."""

    batches: Batches

    def first(self, columns: list[str]) -> Batch | None:
        return next(iter(self.batches(columns)), None)

    def map_merge(self, columns: list[str], work: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T | None:
        merged: T | None = None
        for batch in self.batches(columns):
            if not len(batch.frame):  # all its rows removed (repeated identifiers): nothing to summarise
                continue
            part = work(batch)
            merged = part if merged is None else merge(merged, part)
        return merged


def _sample(source: "Sample | Batches") -> Sample:
    """A :class:`Sample` as it is, or a function of batches read in this process."""
    return cast(Sample, source) if hasattr(source, "map_merge") else LocalSample(cast(Batches, source))


def _by_column(work: Callable[[str], T], columns: list[str]) -> dict[str, T]:
    """``work`` on each column, in threads (numpy's sorts, searches and comparisons release the GIL)."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(columns), os.cpu_count() or 1))) as pool:
        return dict(zip(columns, pool.map(work, columns)))


def _merge_each(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Two dicts of mergeable summaries, merged key by key."""
    return {c: left[c].merge(right[c]) for c in left}


def summarise_scan(batch: Batch, columns: list[str], numeric: dict[str, bool]) -> dict[str, ColumnScan]:
    """Pass 1 on one batch: the :class:`ColumnScan` of each column (of the kind ``numeric`` says;
    a batch whose values are of the other kind is refused)."""
    for c in columns:
        values = batch.frame[c]
        if values.notna().any() and drift.is_numeric(values) != numeric[c]:
            raise ValueError(f"column {c!r} is {'numeric' if numeric[c] else 'text'} in one sample or batch and "
                             "not in another")
    keys = row_hash(batch.row_positions())
    bottom = bottom_rows(keys)  # the sample rows of every column with no missing value in the batch
    return _by_column(lambda c: ColumnScan.of(batch.frame[c], keys, numeric=numeric[c], bottom=bottom), columns)


def _scan(sample: Sample, columns: list[str], numeric: dict[str, bool] | None
          ) -> tuple[dict[str, ColumnScan], dict[str, bool]]:
    """Pass 1 over a sample: merged scans, and each column's kind (from its first batch, or
    ``numeric``: the other sample's)."""
    if numeric is None:
        first = sample.first(columns)
        if first is None:
            raise ValueError("the sample has no rows")
        numeric = {c: drift.is_numeric(first.frame[c]) for c in columns}
    kinds = numeric
    merged = sample.map_merge(columns, lambda b: summarise_scan(b, columns, kinds), _merge_each)
    if merged is None:
        raise ValueError("the sample has no rows")
    return merged, numeric


def summarise_grid(batch: Batch, edges: dict[str, np.ndarray], shift: dict[str, float]) -> dict[str, GridCounts]:
    """Pass 2 on one batch: fine-bin counts of the columns in ``edges``."""
    return _by_column(lambda c: GridCounts.of(batch.frame[c], edges[c], shift[c]), list(edges))


def _grid(sample: Sample, edges: dict[str, np.ndarray], shift: dict[str, float]) -> dict[str, GridCounts]:
    """Pass 2 over a sample."""
    merged = sample.map_merge(list(edges), lambda b: summarise_grid(b, edges, shift), _merge_each)
    assert merged is not None
    return merged


def summarise_windows(batch: Batch, edges: dict[str, np.ndarray], bins: dict[str, np.ndarray]
                      ) -> dict[str, np.ndarray]:
    """Pass 3 on one batch: the values of each column in its window bins."""
    return _by_column(lambda c: window_values(batch.frame[c], edges[c], bins[c]), list(bins))


def _windows(sample: Sample, edges: dict[str, np.ndarray], bins: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pass 3 over a sample: the values of each column in its window bins, sorted."""
    merged = sample.map_merge(list(bins), lambda b: summarise_windows(b, edges, bins),
                              lambda x, y: {c: np.concatenate([x[c], y[c]]) for c in x})
    assert merged is not None
    return {c: np.sort(v) for c, v in merged.items()}


@dataclass(frozen=True)
class _Numeric:
    """What the statistics of a numeric column need from one sample: exact value counts, or fine
    bins and the window values."""

    scan: ColumnScan
    grid: GridCounts | None = None
    window: np.ndarray | None = None

    @property
    def present(self) -> int:
        return self.scan.n - self.scan.n_missing

    def at_or_below(self, cuts: np.ndarray) -> np.ndarray:
        """How many values are at or below each cut (cuts inside window bins, or values of them)."""
        cuts = np.asarray(cuts, dtype=float)
        if self.scan.values is not None and self.scan.counts is not None:
            cumulative = np.concatenate([[0], np.cumsum(self.scan.counts)])
            return cumulative[np.searchsorted(self.scan.values, cuts, side="right")]
        assert self.grid is not None and self.window is not None
        before = np.concatenate([[0], np.cumsum(self.grid.counts)])
        index = np.searchsorted(self.grid.edges, cuts, side="left")  # each cut's fine bin
        lower = np.concatenate([[-np.inf], self.grid.edges])  # each bin's lower bound
        first = np.asarray(np.searchsorted(self.window, lower, side="right"))  # each bin's first window value
        # the bin's values below it, then its window values at or below the cut (the window holds the whole bin)
        return before[index] + np.searchsorted(self.window, cuts, side="right") - first[index]


def _counts_on(binning: drift.Binning, sample: _Numeric) -> np.ndarray:
    """A numeric sample's counts per bin of ``binning`` (numeric or discrete), missing bin last."""
    if binning.kind == "numeric":
        cumulative = sample.at_or_below(np.asarray(binning.edges, dtype=float))
        body = np.diff(np.concatenate([[0], cumulative, [sample.present]]).astype(np.int64))
    else:
        values, counts = sample.scan.values, sample.scan.counts
        assert values is not None and counts is not None
        lookup = dict(zip(values.tolist(), counts.tolist()))
        body = np.array([lookup.get(float(v), 0) for v in binning.categories], dtype=np.int64)
    return np.append(body, sample.scan.n_missing) if binning.has_missing else body


def _numeric_binning(ref: _Numeric, cur: _Numeric, bins: int, max_discrete: int) -> drift.Binning:
    """:func:`validation.metrics.drift.fit_bins` of a numeric column from the summaries."""
    has_missing = bool(ref.scan.n_missing or cur.scan.n_missing)
    basis, note = ref, ""
    if ref.present == 0:
        basis, note = cur, "no reference values: bins cut at the current sample's deciles"
    if basis.scan.values is not None and len(basis.scan.values) <= max_discrete:
        if cur.scan.values is None:
            raise ValueError("a discrete reference column with a current one of many distinct values cannot be binned "
                             "by value in batches")
        extra = np.setdiff1d(cur.scan.values, basis.scan.values)
        return drift.Binning("discrete", categories=tuple([*basis.scan.values.tolist(), *extra.tolist()]),
                             has_missing=has_missing, note=note)
    if basis.scan.values is not None and basis.scan.counts is not None:
        edges = drift.quantile_cuts(basis.scan.values, np.cumsum(basis.scan.counts), basis.present, bins)
    else:
        assert basis.window is not None and basis.grid is not None
        distinct, _ = distinct_counts(basis.window)
        below = basis.at_or_below(distinct).astype(np.int64)
        edges = drift.quantile_cuts(distinct, below, basis.present, bins)
    return drift.Binning("numeric", edges=tuple(float(e) for e in edges), has_missing=has_missing, note=note)


def _numeric_drift(name: str, ref: _Numeric, cur: _Numeric, binning: drift.Binning) -> drift.ColumnDrift:
    ref_counts, cur_counts = _counts_on(binning, ref), _counts_on(binning, cur)
    notes = [binning.note] if binning.note else []
    n1, n2 = ref.present, cur.present
    if n1 == 0 or n2 == 0:
        statistic = pvalue = distance = sd = math.nan
        notes.append("KS and Wasserstein undefined: a sample has no values")
    elif ref.grid is None or cur.grid is None:
        assert ref.scan.values is not None and cur.scan.values is not None
        assert ref.scan.counts is not None and cur.scan.counts is not None
        statistic, distance = ks_and_wasserstein_weighted((ref.scan.values, ref.scan.counts),
                                                          (cur.scan.values, cur.scan.counts))
        pvalue = ks_pvalue_weighted(statistic, ref.scan, cur.scan)
        mean = float(np.average(ref.scan.values, weights=ref.scan.counts))
        sd = math.sqrt(float(np.average((ref.scan.values - mean) ** 2, weights=ref.scan.counts)))
    else:
        statistic, ks_bound, distance, w_bound = ks_and_wasserstein_grid(ref.grid, cur.grid)
        pvalue = drift.ks_pvalue(statistic, n1, n2)
        sd = ref.grid.sd
        notes.append(f"KS and Wasserstein from {len(ref.grid.counts):,} fine bins (read in batches): KS within "
                     f"+{ks_bound:.2g}, normalised Wasserstein within {w_bound / sd if sd > 0 else math.nan:.2g}")
    if n1 and n2 and not sd > 0:
        notes.append("normalised Wasserstein undefined: the reference column is constant")
    return drift.from_counts(name, binning, ref_counts, cur_counts, ref.scan.n, cur.scan.n, notes=notes,
                             ks_stat=statistic, ks_pvalue=pvalue,
                             wasserstein_norm=distance / sd if sd > 0 else math.nan)


def ks_pvalue_weighted(statistic: float, reference: ColumnScan, current: ColumnScan) -> float:
    """The KS p-value of :func:`validation.metrics.drift.ks_and_wasserstein` for value counts:
    exact (``ks_2samp`` on the values repeated) when both samples are small enough for it."""
    n1, n2 = reference.n - reference.n_missing, current.n - current.n_missing
    if max(n1, n2) <= drift.KS_EXACT_MAX_N:
        assert reference.values is not None and reference.counts is not None
        assert current.values is not None and current.counts is not None
        return drift.ks_and_wasserstein(np.repeat(reference.values, reference.counts),
                                        np.repeat(current.values, current.counts))[1]
    return drift.ks_pvalue(statistic, n1, n2)


def _categorical_drift(name: str, reference: ColumnScan, current: ColumnScan, bins: int, max_discrete: int,
                       max_categories: int) -> drift.ColumnDrift:
    """A categorical column's drift from its category counts. Past
    :data:`~validation.metrics.summaries.CATEGORY_CAP` categories, the uncounted ones are pooled in
    ``(other)`` (never a bin of their own), and the note says the counts are approximate."""
    samples = [drift.ColumnSample(False, s.n, s.n_missing, categories=s.category_counts()) for s in (reference, current)]
    if reference.exact and current.exact:
        return drift.compare(name, *samples, bins=bins, max_discrete=max_discrete, max_categories=max_categories)
    fitted = drift.fit_bins(*samples, bins=bins, max_discrete=max_discrete, max_categories=max_categories)
    binning = drift.Binning("categorical", categories=tuple(c for c in fitted.categories if c != OVERFLOW),
                            has_other=True, has_missing=fitted.has_missing,
                            note=f"more than {CATEGORY_CAP:,} categories in a batch: the least frequent of each "
                                 f"batch counted together in {drift.OTHER_LABEL}, so the kept categories' counts "
                                 "may be short by what a batch did not keep")
    return drift.compare(name, *samples, binning=binning, reference_counts=binning.counts(samples[0]),
                         max_categories=max_categories)


def streamed_drift_table(reference: "Sample | Batches", current: "Sample | Batches", columns: list[str], *,
                         bins: int = 10, max_discrete: int = 10, max_categories: int = 50
                         ) -> tuple[pd.DataFrame, dict[str, drift.ColumnDrift]]:
    """:func:`validation.metrics.drift.drift_table` from batches (see the module docstring)."""
    found = streamed_drift(reference, current, columns, bins=bins, max_discrete=max_discrete,
                           max_categories=max_categories)
    return found.table, found.details


@dataclass(frozen=True)
class StreamedDrift:
    """What :func:`streamed_drift` finds: the drift table, each column's drift, and (given a time
    column) the current sample's rows, defaults and bin counts per period."""

    table: pd.DataFrame
    details: dict[str, drift.ColumnDrift]
    periods: "PeriodCounts | None" = None


def streamed_drift(reference: "Sample | Batches", current: "Sample | Batches", columns: list[str], *,
                   bins: int = 10, max_discrete: int = 10, max_categories: int = 50, time: str | None = None,
                   target: str | None = None) -> StreamedDrift:
    """:func:`streamed_drift_table`, and with ``time`` the :class:`PeriodCounts` of the current
    sample (``target``: its defaults per period too).

    The passes: a scan of each sample; the fine-bin counts and then the window values of the
    reference, which settle every column's bins; and one last pass over the current sample that
    takes its fine-bin counts, its window values and its counts per period and bin at once (the
    window bins and every binning come from the reference alone). Where a column's bins come from
    the current sample (the reference has no values of it), its fine-bin counts take a pass of
    their own first, and the periods one more."""
    ref_sample, cur_sample = _sample(reference), _sample(current)
    ref_scan, numeric = _scan(ref_sample, columns, None)
    cur_scan, _ = _scan(cur_sample, columns, numeric)
    details: dict[str, drift.ColumnDrift] = {}
    for c in columns:
        if not numeric[c]:
            details[c] = _categorical_drift(c, ref_scan[c], cur_scan[c], bins, max_discrete, max_categories)
    gridded = [c for c in columns if numeric[c] and (ref_scan[c].values is None or cur_scan[c].values is None)]
    edges = {c: grid_edges(ref_scan[c] if len(ref_scan[c].sample_values) else cur_scan[c]) for c in gridded}
    shift = {c: float((ref_scan[c].sample_values if len(ref_scan[c].sample_values) else cur_scan[c].sample_values)[0])
             for c in gridded}
    ref_grid = _grid(ref_sample, edges, shift) if gridded else {}
    from_reference = all(ref_grid[c].counts.sum() for c in gridded)
    cur_grid = {} if from_reference or not gridded else _grid(cur_sample, edges, shift)
    targets = {}
    for c in gridded:
        basis = ref_grid[c] if ref_grid[c].counts.sum() else cur_grid[c]
        targets[c] = window_bins(basis, np.arange(1, bins) * int(basis.counts.sum()) / bins)
    ref_window = _windows(ref_sample, edges, targets) if gridded else {}
    cur_window: dict[str, np.ndarray] = {}
    periods = None
    if from_reference:  # every binning from the reference: the current sample's last pass does the rest
        binnings = {c: _numeric_binning(_Numeric(ref_scan[c], ref_grid.get(c), ref_window.get(c)),
                                        _Numeric(cur_scan[c]), bins, max_discrete) if numeric[c]
                    else details[c].binning for c in columns}
        if gridded or time is not None:
            cur_grid, cur_window, periods = _last_pass(cur_sample, edges, shift, targets, binnings, time, target)
    else:
        cur_window = _windows(cur_sample, edges, targets)
        binnings = {c: _numeric_binning(_Numeric(ref_scan[c], ref_grid.get(c), ref_window.get(c)),
                                        _Numeric(cur_scan[c], cur_grid.get(c), cur_window.get(c)), bins, max_discrete)
                    if numeric[c] else details[c].binning for c in columns}
    for c in columns:
        if numeric[c]:
            details[c] = _numeric_drift(c, _Numeric(ref_scan[c], ref_grid.get(c), ref_window.get(c)),
                                        _Numeric(cur_scan[c], cur_grid.get(c), cur_window.get(c)), binnings[c])
    details = {c: details[c] for c in columns}
    if time is not None and periods is None:
        periods = period_counts(details, cur_sample, time, target)
    return StreamedDrift(drift.table_of(details), details, periods)


def _last_pass(sample: Sample, edges: dict[str, np.ndarray], shift: dict[str, float], targets: dict[str, np.ndarray],
               binnings: dict[str, drift.Binning], time: str | None, target: str | None
               ) -> tuple[dict[str, GridCounts], dict[str, np.ndarray], "PeriodCounts | None"]:
    """The current sample's fine-bin counts, window values and (with ``time``) counts per period,
    in one pass."""
    def work(batch: Batch) -> tuple[dict[str, GridCounts], dict[str, np.ndarray], PeriodCounts | None]:
        return (summarise_grid(batch, edges, shift), summarise_windows(batch, edges, targets),
                summarise_periods(batch, binnings, time, target) if time is not None else None)

    def merge(x: Any, y: Any) -> Any:
        return (_merge_each(x[0], y[0]), {c: np.concatenate([x[1][c], y[1][c]]) for c in x[1]},
                x[2].merge(y[2]) if x[2] is not None else None)

    read = list(dict.fromkeys([*edges, *(binnings if time is not None else []),
                               *([time] if time is not None else []), *([target] if time is not None and target
                                                                        else [])]))
    merged = sample.map_merge(read, work, merge)
    assert merged is not None
    grid, windows, periods = merged
    return grid, {c: np.sort(v) for c, v in windows.items()}, periods


@dataclass
class PeriodCounts:
    """Rows, defaults and bin counts per period of the current sample (mergeable)."""

    rows: dict[str, int]
    events: dict[str, float]
    counts: dict[str, dict[str, np.ndarray]]

    def merge(self, other: "PeriodCounts") -> "PeriodCounts":
        rows = {p: self.rows.get(p, 0) + other.rows.get(p, 0) for p in {*self.rows, *other.rows}}
        events = {p: self.events.get(p, 0.0) + other.events.get(p, 0.0) for p in rows}
        counts = {c: {p: _add(self.counts[c].get(p), other.counts[c].get(p)) for p in rows} for c in self.counts}
        return PeriodCounts(rows, events, counts)


def _add(left: np.ndarray | None, right: np.ndarray | None) -> np.ndarray:
    """Two periods' bin counts added, either one absent (the period was not in that part)."""
    if left is None or right is None:
        found = left if right is None else right
        assert found is not None
        return found
    return left + right


def summarise_periods(batch: Batch, binnings: dict[str, drift.Binning], time: str, target: str | None) -> PeriodCounts:
    """The :class:`PeriodCounts` of one batch: each row assigned to its bin."""
    periods = batch.frame[time]
    labels = pd.unique(periods.dropna())
    codes = pd.Categorical(periods, categories=labels).codes.astype(np.int64)
    keep = codes >= 0
    sizes = np.bincount(codes[keep], minlength=len(labels))
    defaults = (np.bincount(codes[keep], weights=batch.frame[target].to_numpy(dtype=float)[keep], minlength=len(labels))
                if target else np.zeros(len(labels)))

    def tally(c: str) -> dict[str, np.ndarray]:
        n_bins = binnings[c].n_bins
        index = binnings[c].assign(batch.frame[c])
        table = np.bincount(codes[keep] * n_bins + index[keep], minlength=len(labels) * n_bins)
        return dict(zip(map(str, labels), table.reshape(len(labels), n_bins)))

    names = [str(label) for label in labels]
    return PeriodCounts(dict(zip(names, sizes.tolist())), dict(zip(names, defaults.tolist())),
                        _by_column(tally, list(binnings)))


def period_counts(details: dict[str, drift.ColumnDrift], current: "Sample | Batches", time: str,
                  target: str | None) -> "PeriodCounts":
    """The current sample's :class:`PeriodCounts` on the bins of ``details``, in a pass of its own."""
    binnings = {c: d.binning for c, d in details.items()}
    merged = _sample(current).map_merge(list(dict.fromkeys([*details, time, *([target] if target else [])])),
                                        lambda b: summarise_periods(b, binnings, time, target),
                                        lambda x, y: x.merge(y))
    assert merged is not None
    return merged


def streamed_by_period(details: dict[str, drift.ColumnDrift], current: "Sample | Batches | PeriodCounts", time: str,
                       target: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`validation.metrics.drift.psi_by_period` and :func:`~validation.metrics.drift.default_rate_by_period`
    from the current sample's batches (or their :class:`PeriodCounts`, counted by
    :func:`streamed_drift`): each row assigned to its bin (the overall comparison's), counts per
    (period, bin), rows and defaults per period, summed over batches."""
    merged = current if isinstance(current, PeriodCounts) else period_counts(details, current, time, target)
    order = sorted(merged.rows, key=str)
    by_period = pd.DataFrame({c: [drift.psi(drift.shares(details[c].reference_counts),
                                            drift.shares(merged.counts[c][p])) for p in order] for c in details},
                             index=pd.Index(order, name="period")).T
    table = pd.DataFrame({"rows": [merged.rows[p] for p in order]}, index=pd.Index(order, name=time))
    if target:
        table["default_rate"] = [merged.events[p] / merged.rows[p] if merged.rows[p] >= drift.MIN_CATEGORY_COUNT
                                 else np.nan for p in order]
    return by_period, table


def streamed_mean(batches: "Sample | Batches", column: str) -> float:
    """The mean of a column over a sample's batches (``nan`` without values)."""
    def part(batch: Batch) -> tuple[float, int]:
        values = batch.frame[column].to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        return float(values.sum()), len(values)

    total = _sample(batches).map_merge([column], part, lambda x, y: (x[0] + y[0], x[1] + y[1]))
    return total[0] / total[1] if total and total[1] else math.nan
