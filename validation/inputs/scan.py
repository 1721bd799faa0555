"""Samples the checks read whole, checked by the runner in batches: no whole sample in its memory.

Before any notebook runs, the runner checks every row of both samples, so that bad input is exit 2
with nothing written (``docs/cli.md``). It used to load both samples whole for that, while each
notebook loads them again: the runner's memory grew with the files. :func:`scanned_samples` reads
each sample :data:`PLANNING_BATCH_ROWS` rows at a time instead, and checks each batch with the very
functions :func:`validation.inputs.samples.load_samples` applies to a whole sample, on the same
rows:

- rows whose ``data.ids`` repeat another row's are left out first (found in batches:
  :mod:`validation.inputs.identifiers`, the row a whole read keeps);
- then, with ``data.max_rows``, only the rows a whole read samples are checked (pandas'
  ``DataFrame.sample(n, random_state=0)`` takes positions ``RandomState(0).choice(rows, n,
  replace=False)`` of the rows kept, which need no data);
- every batch is checked as a sample (named columns, target, score and the other roles, finite
  numbers, dates counted in periods), scored with the artifact when the spec names no score, and
  checked by each check's :meth:`~validation.checks.base.Check.check_batch`;
- what only the whole sample shows is summed over the batches: each column's kind (text when any
  batch holds text, as a whole read of a CSV file types it), whether ``data.time`` holds dates in
  every batch that has one, and the protected attributes' distinct values
  (:class:`~validation.inputs.samples.ColumnTotals`), then judged as a whole sample is (the two
  samples agree in kind, the reference profile, each check's ``check_inputs``).

A count in a message (``score has 3 missing values``) is the count in the first batch with the
problem; when a sample spans more than one batch, the message says which rows those are.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from validation.errors import DataError
from validation.inputs.samples import (DEFAULT_TIME_GRAIN, DISTINCT_COUNTED, ROLES, SCORE_FROM_ARTIFACT, ColumnTotals,
                                       Samples, _artifact, _check_agreement, _check_finite, _check_profile, _file,
                                       _named_columns, _prepare, _release_arrow_memory, _score_clash, _scores, _where,
                                       numeric_columns, readable_columns, repeated_ids_of, source_of, wanted_columns)
from validation.inputs.spec import ModelVersionSpec
from validation.metrics.kinds import is_numeric

PLANNING_BATCH_ROWS = 250_000
"""Rows per batch when the runner checks a sample (project default): 25 columns of 250,000 rows
are about 50 MB, and a batch's checks cost far more than its overhead."""

BatchCheck = Callable[[str, pd.DataFrame], None]
"""A rule on each checked batch: ``(spec key, batch)``; raises a ``DataError``."""


@dataclass
class _Scanned:
    """What the batches of one sample showed."""

    rows: int = 0
    columns: pd.DataFrame | None = None
    """The first batch's columns and no rows."""
    text: set[str] = field(default_factory=set)
    """Columns that held text in some batch."""
    dated: bool | None = None
    """Whether ``data.time`` held dates (``None``: no batch had a time)."""
    distinct: dict[str, set[object]] = field(default_factory=dict)


def scanned_samples(spec: ModelVersionSpec, sources: Mapping[str, str | Path] | None = None, *,
                    batch_rows: int | None = None, batch_checks: tuple[BatchCheck, ...] = ()) -> Samples:
    """Check both samples of a version, in batches, as :func:`~validation.inputs.samples.load_samples`
    checks them whole; their columns and no rows, with their :attr:`~Samples.rows` and the current
    sample's protected attributes' :attr:`~Samples.totals`.

    Parameters
    ----------
    spec
        The resolved model version (its samples read whole by the checks: no ``data.batch_rows``).
    sources
        Spec key -> the parquet snapshot a planned run took of a SQL source.
    batch_rows
        Rows read at a time (default :data:`PLANNING_BATCH_ROWS`).
    batch_checks
        Rules run on each checked batch besides the samples' own (the selected checks'
        :meth:`~validation.checks.base.Check.check_batch`).

    Raises
    ------
    DataError, ArtifactError
        As :func:`~validation.inputs.samples.load_samples`, naming the file (or SQL source), the spec
        key and the column.
    """
    d = spec.data
    batch_rows = batch_rows or PLANNING_BATCH_ROWS
    roles = [role for role in ROLES if source_of(spec, role) is not None]
    wanted = wanted_columns(spec)
    read: dict[str, list[str]] = {}
    for role in roles:
        with _named_by_source(spec, role, sources):
            read[role] = readable_columns(_file(spec, role, sources), role, wanted)
    features = spec.feature_columns(read[roles[0]])
    if not features and spec.model.type == "classification":
        raise DataError(_where(spec, roles[0]), None, "no feature columns; list them in data.features", roles[0])
    named = _named_columns(spec, features)
    scoring = bool(spec.model.artifact) and d.score is None
    scanned: dict[str, _Scanned] = {}
    sampled: dict[str, tuple[int, int]] = {}
    duplicates: dict[str, int] = {}
    for role in roles:
        with _named_by_source(spec, role, sources):
            scanned[role], sampled_rows, removed = _scan(spec, role, read[role], features, named, sources,
                                                         batch_rows, scoring, batch_checks)
        if sampled_rows is not None:
            sampled[role] = sampled_rows
        if removed is not None:
            duplicates[role.removeprefix("data.")] = removed
    frames = {role: _typed(found) for role, found in scanned.items()}
    given = frames.get("data.reference")
    current = frames["data.current"]
    _check_agreement(spec, given, current, named)
    if d.reference_profile:
        _check_profile(d.reference_profile, current, [c for c in [d.score, *features] if c])
    model = _artifact(str(spec.model.artifact), spec.model.artifact_sha256 or "", spec.model.allow_pickle) \
        if spec.model.artifact else None
    _release_arrow_memory()
    found = scanned["data.current"]
    totals = {column: ColumnTotals(found.rows, len(values), column not in found.text)
              for column, values in found.distinct.items()}
    return Samples(given if given is not None else current.iloc[0:0].copy(), current, features,
                   SCORE_FROM_ARTIFACT if scoring else d.score, d.target, model, sampled or None, duplicates,
                   time_grain=(d.time_grain or DEFAULT_TIME_GRAIN) if found.dated else None,
                   has_reference=given is not None, rows={role: s.rows for role, s in scanned.items()}, totals=totals)


@contextlib.contextmanager
def _named_by_source(spec: ModelVersionSpec, role: str, sources: Mapping[str, str | Path] | None) -> Iterator[None]:
    """A problem of a SQL source's snapshot named by the source, as a whole read names it."""
    try:
        yield
    except DataError as exc:
        if sources and role in sources and exc.path == str(sources[role]):
            raise DataError(_where(spec, role), exc.column, exc.problem, role) from None
        raise


def _scan(spec: ModelVersionSpec, role: str, columns: list[str], features: list[str], named: dict[str, str],
          sources: Mapping[str, str | Path] | None, batch_rows: int, scoring: bool,
          batch_checks: tuple[BatchCheck, ...]) -> tuple[_Scanned, tuple[int, int] | None, int | None]:
    """Check one sample's batches; what they showed, ``(kept, available)`` when ``data.max_rows``
    sampled it, and the rows removed as repeated identifiers (``None`` without ``data.ids``)."""
    from validation.inputs.batches import iter_batches, row_count

    d = spec.data
    path = _file(spec, role, sources)
    try:
        if not _has_rows(path):
            raise DataError(path, None, "has no rows; a sample needs at least one row", role)
    except DataError as exc:
        raise DataError(exc.path, exc.column, exc.problem, role) from None
    parquet = Path(path.split("://", 1)[-1]).suffix.lower() in {".parquet", ".pq"}
    file_rows = row_count(path) if parquet else None  # parquet: from the metadata
    repeats = repeated_ids_of(spec, role, sources, batch_rows=batch_rows)
    chosen = None
    rows = file_rows if file_rows is not None else row_count(path) if d.max_rows is not None else 0
    available = rows - (repeats.removed if repeats is not None else 0)
    if d.max_rows is not None and available > d.max_rows:  # the rows DataFrame.sample(n, random_state=0) takes
        chosen = np.zeros(available, dtype=bool)
        chosen[np.random.RandomState(0).choice(available, d.max_rows, replace=False)] = True
    found = _Scanned()
    numeric = numeric_columns(named)
    protected = [c for c in d.protected if c in columns] if role == "data.current" else []
    kept_before = 0  # rows kept (repeats removed) in the batches before this one: positions for chosen
    for batch in iter_batches(path, columns, role, batch_rows=batch_rows):
        first, last = batch.start + 1, batch.start + len(batch.frame)
        kept = repeats.kept(batch.start, len(batch.frame)) if repeats is not None else None
        frame = batch.frame if kept is None else batch.frame[kept].reset_index(drop=True)
        if chosen is not None:
            frame = frame[chosen[kept_before:kept_before + len(frame)]].reset_index(drop=True)
            kept_before += int(kept.sum()) if kept is not None else len(batch.frame)
        if frame.empty:
            continue
        try:
            _check_batch(spec, role, frame, found, named, numeric, protected, features, scoring, batch_checks)
        except DataError as exc:
            whole = len(batch.frame) == file_rows if file_rows is not None else len(batch.frame) < batch_rows
            if batch.start == 0 and whole:  # the batch is the whole file: its counts are the file's
                raise
            raise DataError(exc.path, exc.column, f"{exc.problem} [in rows {first:,} to {last:,} of the file, read "
                            f"{batch_rows:,} at a time: the first rows with the problem]", exc.role) from None
    assert found.columns is not None, "a sample with rows keeps some"
    sampled_rows = (int(d.max_rows), available) if chosen is not None and d.max_rows is not None else None
    return found, sampled_rows, repeats.removed if repeats is not None else None


def _has_rows(path: str) -> bool:
    """Whether a sample file has a row: a parquet file's metadata, a CSV file's first row."""
    from validation.inputs.batches import parquet_file
    from validation.inputs.storage import open_binary

    try:
        if Path(path.split("://", 1)[-1]).suffix.lower() in {".parquet", ".pq"}:
            return int(parquet_file(path).metadata.num_rows) > 0
        with open_binary(path) as handle:
            return len(pd.read_csv(handle, nrows=1)) > 0
    except Exception as exc:  # a parser's failure is the file's problem, named plainly (as read_table names it)
        raise DataError(path, None, f"could not be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def _check_batch(spec: ModelVersionSpec, role: str, frame: pd.DataFrame, found: _Scanned, named: dict[str, str],
                 numeric: list[str], protected: list[str], features: list[str], scoring: bool,
                 batch_checks: tuple[BatchCheck, ...]) -> None:
    """One batch checked as a whole sample is, and what it shows added to ``found``."""
    d = spec.data
    path = _where(spec, role)
    has_time = d.time is not None and d.time in frame.columns and bool(frame[d.time].notna().any())
    frame, dated = _prepare(frame, spec, role, named)
    if has_time:
        if found.dated is not None and found.dated != dated:
            raise DataError(path, d.time, "data.time holds dates in some rows and other values (periods such as "
                            "2025-03) in others; give one kind of period", role)
        found.dated = dated
    _check_finite(frame, [c for c in numeric if c in frame.columns], path, role)
    if scoring:
        if SCORE_FROM_ARTIFACT in frame.columns:
            raise _score_clash(path, role)
        model = _artifact(str(spec.model.artifact), spec.model.artifact_sha256 or "", spec.model.allow_pickle)
        frame[SCORE_FROM_ARTIFACT] = _scores(model, frame[features], path, role)
    for check in batch_checks:
        check(role, frame)
    found.rows += len(frame)
    found.text.update(str(c) for c in frame.columns if not is_numeric(frame[c]))
    if found.columns is None:
        found.columns = frame.iloc[0:0].copy()
    for column in protected:  # counted up to DISTINCT_COUNTED + 1 values: memory bounded, "more than" known
        values = found.distinct.setdefault(column, set())
        if len(values) <= DISTINCT_COUNTED:
            values.update(frame[column].dropna().unique().tolist())
            if len(values) > DISTINCT_COUNTED + 1:
                found.distinct[column] = set(itertools.islice(values, DISTINCT_COUNTED + 1))


def _typed(found: _Scanned) -> pd.DataFrame:
    """The first batch's columns and no rows, a column text when any batch held text."""
    assert found.columns is not None, "a sample with rows"
    frame = found.columns
    for column in frame.columns:
        if str(column) in found.text and is_numeric(frame[column]):
            frame[column] = frame[column].astype(object)
    return frame
