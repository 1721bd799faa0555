"""The data quality check's figures of samples read in batches: mergeable column profiles,
range excursions, period counts and fully duplicated rows.

One pass gives each column's :class:`ColumnSummary` (its kind, rows, missing values, minimum and
maximum, category counts) and the rows and defaults per period; a second pass counts the current
values outside the reference's range; duplicated rows take one more pass per
:data:`HASHES_PER_PASS` rows of the sample. Everything is exact, except for a text column of more
than :data:`~validation.metrics.summaries.CATEGORY_CAP` categories: its least frequent categories
are counted together (their unseen rows then unknown) and its distinct values estimated from a
bottom-k sketch of their hashes (:data:`SKETCH_SIZE`; relative error about ``1 / sqrt(k)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from validation.inputs.batches import Batch
from validation.metrics import quality
from validation.metrics.hashing import canonical_numbers, row_hashes
from validation.metrics.streamed_drift import Sample
from validation.metrics.summaries import CATEGORY_CAP

SKETCH_SIZE = 65_536
"""Hashes kept to estimate a text column's distinct values past the category cap (project
default): the k-minimum-values estimate ``(k - 1) / h_(k)`` (Bar-Yossef et al. 2002, "Counting
distinct elements in a data stream", RANDOM) is within about ``1 / sqrt(k)`` (0.4%) of the count."""

HASHES_PER_PASS = 16_000_000
"""Row hashes held at once to count duplicated rows (project default): 128 MB. A sample of more
rows is counted in ``ceil(rows / HASHES_PER_PASS)`` passes, each over the rows whose hash falls in
its share, so memory stays bounded whatever the rows."""

_NUMBERS = {"integer", "float"}
_HASH_SPACE = 2.0 ** 64


@dataclass
class ColumnSummary:
    """One column of one sample (mergeable): :class:`~validation.metrics.quality.ColumnProfile`'s
    figures. ``kind`` is the kind of the batches that hold values (``None`` before one does;
    integer and float batches make a float column, as a column read whole with a missing value is),
    ``empty_kind`` the kind of a batch with none."""

    kind: str | None
    empty_kind: str
    rows: int = 0
    missing: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf
    counts: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    uncounted: int = 0
    sketch: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))

    @classmethod
    def of(cls, values: pd.Series, codes: quality.MissingCodes = ()) -> "ColumnSummary":
        kind = quality.kind_of(values)
        mask = quality.missing_mask(values, codes)
        summary = cls(kind if (~mask).any() else None, kind, len(values), int(mask.sum()))
        if kind in ("integer", "float", "boolean"):
            present = values.to_numpy(dtype=float, na_value=np.nan)[~mask]
            if present.size:
                summary.minimum, summary.maximum = float(present.min()), float(present.max())
        if kind in ("text", "boolean"):  # a boolean batch counts its values too: read whole with a missing
            # value, the column is text ("True", "False"), and so is it when another batch has one
            counts = (values[~mask] if summary.missing else values).astype(str).value_counts(sort=False)
            summary.counts = counts.astype("int64")
            summary.sketch = _bottom(pd.util.hash_array(counts.index.to_numpy(dtype=object)))
            summary._cap()
        return summary

    def merge(self, other: "ColumnSummary") -> "ColumnSummary":
        kinds = {k for k in (self.kind, other.kind) if k is not None}
        if len(kinds) > 1 and not (kinds <= _NUMBERS or kinds == {"boolean", "text"}):
            raise ValueError(f"{' in one batch and '.join(sorted(kinds))} in another (a CSV file's chunks are typed "
                             "one by one: write the file as parquet, or the column's values all of one kind)")
        kind = ("float" if kinds <= _NUMBERS else "text") if len(kinds) > 1 else (kinds.pop() if kinds else None)
        counts = self.counts.add(other.counts, fill_value=0).astype("int64") if len(other.counts) else self.counts
        merged = ColumnSummary(kind, self.empty_kind, self.rows + other.rows, self.missing + other.missing,
                               min(self.minimum, other.minimum), max(self.maximum, other.maximum), counts,
                               self.uncounted + other.uncounted, _bottom(np.concatenate([self.sketch, other.sketch])))
        merged._cap()
        return merged

    def _cap(self) -> None:
        """At most :data:`~validation.metrics.summaries.CATEGORY_CAP` categories counted: the least
        frequent past it are counted together (``uncounted``)."""
        if len(self.counts) > CATEGORY_CAP:
            kept = self.counts.sort_values(ascending=False, kind="stable").iloc[:CATEGORY_CAP]
            self.uncounted += int(self.counts.sum() - kept.sum())
            self.counts = kept

    @property
    def distinct(self) -> int:
        """Distinct present values of a text column: counted, or estimated past the cap."""
        if not self.uncounted:
            return len(self.counts)
        if len(self.sketch) < SKETCH_SIZE:
            return len(self.sketch)  # every distinct hash kept: the count itself
        return int(round((SKETCH_SIZE - 1) / ((float(self.sketch[-1]) + 1.0) / _HASH_SPACE)))

    def profile(self) -> quality.ColumnProfile:
        kind = self.kind or self.empty_kind
        if kind in ("integer", "float", "boolean") and math.isfinite(self.minimum):
            return quality.ColumnProfile(kind, self.rows, self.missing, self.minimum, self.maximum)
        if kind == "text":
            return quality.ColumnProfile(kind, self.rows, self.missing, counts=self.counts,
                                         distinct=self.distinct if self.uncounted else None)
        return quality.ColumnProfile(kind, self.rows, self.missing)


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: a sort and a comparison of neighbours (``np.unique`` of numpy 2.4
    hashes 64-bit integers instead, 15 times slower on a million of them).

    >>> distinct_sorted(np.array([3, 1, 3, 2], dtype=np.uint64)).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(np.asarray(values))
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _bottom(hashes: np.ndarray) -> np.ndarray:
    """The :data:`SKETCH_SIZE` smallest distinct hashes, sorted."""
    return distinct_sorted(np.asarray(hashes, dtype=np.uint64))[:SKETCH_SIZE]


@dataclass
class SampleSummary:
    """Pass 1 of one sample (mergeable): every column's :class:`ColumnSummary`, and the rows and
    defaults per period label."""

    columns: dict[str, ColumnSummary]
    period_rows: pd.Series
    period_defaults: pd.Series
    defaults: float = 0.0
    hashes: list[np.ndarray] | None = None
    """The distinct row hashes of each batch while they are at most :data:`HASHES_PER_PASS` in all
    (:func:`duplicates`), else ``None`` (:func:`duplicate_rows` counts them in passes of their own)."""

    def merge(self, other: "SampleSummary") -> "SampleSummary":
        columns = {}
        for column, summary in self.columns.items():
            try:
                columns[column] = summary.merge(other.columns[column])
            except ValueError as exc:
                raise ValueError(f"column {column!r} is {exc}") from None
        hashes = None
        if self.hashes is not None and other.hashes is not None \
                and sum(map(len, self.hashes)) + sum(map(len, other.hashes)) <= HASHES_PER_PASS:
            hashes = self.hashes + other.hashes
        return SampleSummary(columns, self.period_rows.add(other.period_rows, fill_value=0),
                             self.period_defaults.add(other.period_defaults, fill_value=0),
                             self.defaults + other.defaults, hashes)

    @property
    def rows(self) -> int:
        return next(iter(self.columns.values())).rows if self.columns else 0


def summarise(sample: Sample, columns: list[str], codes: Mapping[str, quality.MissingCodes], *,
              time: str | None, target: str | None) -> SampleSummary:
    """Pass 1 over a sample: ``columns``' summaries (``codes``: each column's sentinel codes), the
    distinct hashes of its rows over ``columns`` (while they fit, :attr:`SampleSummary.hashes`)
    and, with ``time``, rows and defaults per period."""
    def work(batch: Batch) -> SampleSummary:
        frame = batch.frame
        summaries = {c: ColumnSummary.of(frame[c], codes.get(c, ())) for c in columns}
        hashes = [distinct_sorted(row_hashes(frame[columns]))] if columns else []
        rows, defaults = pd.Series(dtype=float), pd.Series(dtype=float)
        y = frame[target].astype(float) if target is not None else None
        if time is not None:
            labels = quality.period_names(frame[time])
            rows = labels.value_counts(sort=False).astype(float)
            if y is not None:
                defaults = y.groupby(labels.to_numpy(), sort=False).sum()
        return SampleSummary(summaries, rows, defaults, float(y.sum()) if y is not None else 0.0, hashes)

    read = list(dict.fromkeys([*columns, *[c for c in (time, target) if c]]))
    merged = sample.map_merge(read, work, lambda x, y: x.merge(y))
    if merged is None:
        raise ValueError("the sample has no rows")
    return merged


def outside_counts(sample: Sample, ranges: Mapping[str, tuple[float, float]],
                   codes: Mapping[str, quality.MissingCodes]) -> dict[str, int]:
    """Pass 2: per numeric column, the present values outside the reference's ``(min, max)``
    (:func:`~validation.metrics.quality.outside_range`)."""
    if not ranges:
        return {}

    def work(batch: Batch) -> dict[str, int]:
        return {c: quality.outside_range(batch.frame[c], low, high, codes.get(c, ())) for c, (low, high) in
                ranges.items()}

    merged = sample.map_merge(list(ranges), work, lambda x, y: {c: x[c] + y[c] for c in x})
    assert merged is not None
    return merged


def duplicate_rows(sample: Sample, columns: list[str], rows: int) -> int:
    """Rows equal on every one of ``columns`` to an earlier row (:func:`validation.metrics.quality.duplicate_rows`),
    in ``ceil(rows / HASHES_PER_PASS)`` passes, pass ``j`` holding the distinct hashes ``h`` with
    ``h mod passes = j``: memory bounded by :data:`HASHES_PER_PASS`, not by the rows."""
    if not columns or rows == 0:
        return 0
    passes = max(1, math.ceil(rows / HASHES_PER_PASS))
    copies = 0
    for share in range(passes):
        def work(batch: Batch, share: int = share) -> tuple[int, list[np.ndarray]]:
            hashes = row_hashes(batch.frame[columns])
            if passes > 1:
                hashes = hashes[hashes % np.uint64(passes) == share]
            return len(hashes), [distinct_sorted(hashes)]

        merged = sample.map_merge(columns, work, lambda x, y: (x[0] + y[0], x[1] + y[1]))
        assert merged is not None
        copies += merged[0] - len(distinct_sorted(np.concatenate(merged[1])))
    return copies


def duplicates(sample: Sample, summary: SampleSummary) -> int:
    """Rows of the summarised sample equal on every column summarised to an earlier row: from the
    summary's hashes when they fit, else in passes of their own (:func:`duplicate_rows`)."""
    if summary.hashes is None:
        return duplicate_rows(sample, list(summary.columns), summary.rows)
    return summary.rows - distinct_count(summary.hashes)


HASH_RANGES = 16
"""Ranges of hash values :func:`distinct_count` counts one at a time (project default): the copy it
sorts is a sixteenth of the hashes."""


def distinct_count(parts: list[np.ndarray]) -> int:
    """Distinct values of sorted arrays of distinct 64-bit hashes, counted one range of hash values
    at a time (views of each array, no copy of them all at once).

    >>> distinct_count([np.array([1, 5], dtype=np.uint64), np.array([5, 2**63], dtype=np.uint64)])
    3
    """
    step = 2**64 // HASH_RANGES
    total = 0
    for index in range(HASH_RANGES):
        low = np.uint64(index * step)
        pieces = [p[np.searchsorted(p, low, side="left"):] if index else p for p in parts]
        if index + 1 < HASH_RANGES:
            high = np.uint64((index + 1) * step)
            pieces = [p[:np.searchsorted(p, high, side="left")] for p in pieces]
        total += len(distinct_sorted(np.concatenate(pieces))) if pieces else 0
    return total


def profiles(summary: SampleSummary) -> dict[str, quality.ColumnProfile]:
    """Each column's :class:`~validation.metrics.quality.ColumnProfile`."""
    return {c: s.profile() for c, s in summary.columns.items()}


def kinds(summary: SampleSummary) -> dict[str, str]:
    """Each column's kind, as :func:`~validation.metrics.quality.kind_of` gives it for the column read whole."""
    return {c: str(s.kind or s.empty_kind) for c, s in summary.columns.items()}


def describe(summary: SampleSummary, *, target: str | None) -> dict[str, Any]:
    """:func:`~validation.metrics.quality.describe_sample` of a summarised sample."""
    labels = [str(p) for p in summary.period_rows.index]
    rate = summary.defaults / summary.rows if target is not None and summary.rows else None
    return quality.description(summary.rows, labels, rate)
