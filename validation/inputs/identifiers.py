"""Repeated identifiers in a sample read in batches (``data.ids`` with ``data.batch_rows``).

:func:`validation.inputs.samples.deduplicate` keeps one row per identifier of a sample held in
memory. Read in batches, a sample's repeated identifiers are found in passes over its identifier
and time columns alone, and kept as :class:`RepeatedIds`: a bit per row of the file, set for the
rows to remove (12.5 MB for 100M rows). Every batch a check reads then drops those rows, so the
checks see the rows :func:`~validation.inputs.samples.deduplicate` keeps, whatever the batches.

The passes (:func:`repeated_ids`): each row's identifiers are hashed twice (two independent
64-bit hashes, :func:`validation.metrics.streamed_quality.row_hashes`, numbers in one form whether
a batch read them as integers or floats), and the rows are split by the first hash into
``ceil(rows / IDS_PER_PASS)`` parts, one part per pass, so that memory holds at most
:data:`IDS_PER_PASS` pairs (16 bytes each). In a part, the pairs seen more than once are the
repeated identifiers (two identifiers share both hashes with a chance of about ``N^2 / 2^129``);
when there are any, one more pass reads their rows' times and positions and keeps, per identifier,
the row :func:`~validation.inputs.samples.deduplicate` keeps: its latest by time (a missing time
earliest; equal times: the last in the file), else its last row. A row missing an identifier is
never a repeat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from validation.inputs.batches import Batch
from validation.metrics.hashing import row_hashes

IDS_PER_PASS = 8_000_000
"""Identifier hash pairs held at once (project default: 128 MB; a sample of more rows takes one
more pass over its identifiers per this many rows)."""

SECOND_KEY = "validation-ids-2"
"""The hash key of the second, independent hash of a row's identifiers (16 characters)."""


@dataclass(frozen=True)
class RepeatedIds:
    """The rows of a sample whose identifiers repeat another row's: ``bits`` holds a bit per row
    of the file (``numpy.packbits`` order), set for a row to remove."""

    rows: int
    removed: int
    bits: np.ndarray

    def kept(self, start: int, count: int) -> np.ndarray | None:
        """Which of rows ``start`` to ``start + count`` stay (``None``: all of them).

        >>> repeated = RepeatedIds.of(np.array([1, 4]), 6)
        >>> repeated.kept(0, 6).tolist(), repeated.kept(2, 2)
        ([True, False, True, True, False, True], None)
        """
        if not self.removed:
            return None
        first, last = start // 8, (start + count + 7) // 8
        removed = np.unpackbits(self.bits[first:last])[start - 8 * first:start - 8 * first + count].astype(bool)
        return ~removed if removed.any() else None

    @classmethod
    def of(cls, positions: np.ndarray, rows: int) -> "RepeatedIds":
        """The rows at ``positions`` removed, of a file of ``rows`` rows."""
        flags = np.zeros(rows, dtype=bool)
        flags[np.asarray(positions, dtype=np.int64)] = True
        return cls(rows, int(flags.sum()), np.packbits(flags))


Batches = Callable[[list[str]], Iterable[Batch]]
"""A sample: given columns, its batches in file order, every row (nothing removed yet)."""


def repeated_ids(batches: Batches, ids: list[str], time: str | None, rows: int) -> RepeatedIds:
    """The rows to remove so that each identifier keeps one row (see the module docstring).

    Parameters
    ----------
    batches
        The sample's batches, every row.
    ids
        The identifier columns (``data.ids``).
    time
        The period column (``data.time``) when the sample has it.
    rows
        The sample's rows.

    Raises
    ------
    TypeError
        When ``time`` holds values that cannot be ordered (text beside numbers) and an
        identifier repeats, as :func:`~validation.inputs.samples.deduplicate`.
    """
    parts = max(1, math.ceil(rows / IDS_PER_PASS))
    removed: list[np.ndarray] = []
    for part in range(parts):
        pairs = []
        for batch in batches(ids):
            first, second, known = _hashes(batch.frame, ids)
            mine = known & (first % np.uint64(parts) == part)
            pairs.append(np.stack([first[mine], second[mine]], axis=1))
        held = np.concatenate(pairs) if pairs else np.empty((0, 2), dtype=np.uint64)
        del pairs
        repeated = repeated_pairs(held)
        del held
        if len(repeated):
            removed.append(_resolve(batches, ids, time, repeated, parts, part))
    return RepeatedIds.of(np.concatenate(removed) if removed else np.empty(0, dtype=np.int64), rows)


def repeated_pairs(pairs: np.ndarray) -> np.ndarray:
    """The distinct rows of ``pairs`` (an ``(n, 2)`` array of hash pairs) held more than once.

    The first hashes are sorted alone, and only the pairs whose first hash is held twice are
    compared whole: a sort of numbers instead of ``np.unique(pairs, axis=0)``'s sort of rows,
    which took 1 s for a million pairs where this takes about 0.1 s (measured on the bench's
    identifiers, none repeated).

    >>> pairs = np.array([[1, 7], [2, 8], [1, 7], [2, 9], [3, 1]], dtype=np.uint64)
    >>> repeated_pairs(pairs).tolist()
    [[1, 7]]
    """
    first = np.sort(pairs[:, 0])
    twice = np.unique(first[1:][first[1:] == first[:-1]])
    if not len(twice):
        return np.empty((0, 2), dtype=pairs.dtype)
    candidates = pairs[np.isin(pairs[:, 0], twice)]
    distinct, counts = np.unique(candidates, axis=0, return_counts=True)
    return distinct[counts > 1]


def _hashes(frame: pd.DataFrame, ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's two identifier hashes, and whether it has every identifier."""
    keys = frame[ids]
    return row_hashes(keys), row_hashes(keys, SECOND_KEY), ~keys.isna().any(axis=1).to_numpy()


def _resolve(batches: Batches, ids: list[str], time: str | None, repeated: np.ndarray, parts: int,
             part: int) -> np.ndarray:
    """The positions of the rows of the ``repeated`` identifier hash pairs that are not kept."""
    wanted = pd.MultiIndex.from_arrays([repeated[:, 0], repeated[:, 1]])
    found = []
    for batch in batches([*ids, *([time] if time else [])]):
        first, second, known = _hashes(batch.frame, ids)
        mine = known & (first % np.uint64(parts) == part)
        mine[mine] = pd.MultiIndex.from_arrays([first[mine], second[mine]]).isin(wanted)
        if mine.any():
            found.append(pd.DataFrame({"first": first[mine], "second": second[mine],
                                       "position": batch.row_positions()[mine],
                                       **({"time": batch.frame[time].to_numpy()[mine]} if time else {})}))
    rows = pd.concat(found, ignore_index=True)
    if time is not None:  # time order (stable, so rows of equal time stay in file order), a missing time first
        rows = rows.sort_values("time", kind="stable", na_position="first")
    stays = ~rows.duplicated(["first", "second"], keep="last").to_numpy()
    return np.sort(rows["position"].to_numpy()[~stays])
