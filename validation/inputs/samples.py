"""Loading and checking the reference and current samples of a model version.

Checks happen here, where data enters (``docs/spec.md``): every column the spec names must be
in both samples with compatible types; the target must be 0/1 with no missing values; scores must
be numbers in [0, 1] with no missing values. Identifier columns (``data.ids``) are dropped on load,
so no statistic, table or plot can ever see them. Every problem is a
:class:`~validation.errors.DataError` naming the file, the spec key it came from and the column.

Every test of a check assumes independent rows, one per applicant. So, before anything else is
done with a sample, rows whose ``data.ids`` repeat another row's are removed
(:func:`deduplicate`), and only then is a sample larger than ``data.max_rows`` sampled down: the
counts removed are the file's own, whatever the sampling, and a sampled sample holds
``max_rows`` distinct identifiers. :attr:`Samples.duplicates` keeps the counts for the pack.

A sample is a file, or a SQL source (:mod:`validation.inputs.sql`): read from the database, or
from the parquet snapshot a planned run took of it (``sources``). Only after deduplication, which
orders an identifier's rows by the full time, are dates in ``data.time`` turned into periods at
``data.time_grain`` (:func:`period_labels`). A ``var`` model may have no reference sample.
"""

from __future__ import annotations

import csv
import datetime
import functools
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from validation.errors import DataError
from validation.metrics.kinds import is_numeric
from validation.inputs.artifacts import load_artifact, predict_scores
from validation.inputs.spec import ModelVersionSpec

if TYPE_CHECKING:
    from typing import Iterator

    from validation.inputs.batches import Batch
    from validation.inputs.identifiers import RepeatedIds
    from validation.inputs.spec import SqlSource

SCORE_FROM_ARTIFACT = "score"
"""Column name of scores computed from the artifact when the spec names no score column."""

DEFAULT_TIME_GRAIN = "month"
"""``data.time_grain`` when the spec gives none (``docs/spec.md``): a month of applications is the
period monitoring reports by, and a day of them is too few rows to judge."""

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
"""Text read as a date in ``data.time``: ``2025-03-14``, optionally with a time and offset (ISO 8601)."""


DISTINCT_COUNTED = 10_000
"""Distinct values counted per column of a sample checked in batches (:class:`ColumnTotals`);
past it, only "more than" is known: enough for any rule on groups (the fairness check refuses
more than 250), and the memory of 10,000 values per column, not of the file's."""


@dataclass(frozen=True)
class ColumnTotals:
    """One column of a whole sample, as the checks' input rules need it.

    Attributes
    ----------
    rows
        Rows of the sample (after repeated identifiers are removed and ``data.max_rows`` sampling).
    distinct
        Distinct non-missing values, at most :data:`DISTINCT_COUNTED` + 1.
    numeric
        Whether the column is numeric (:func:`validation.metrics.kinds.is_numeric`).
    """

    rows: int
    distinct: int
    numeric: bool

    @property
    def at_least(self) -> bool:
        """Whether :attr:`distinct` is a lower bound (more than :data:`DISTINCT_COUNTED` values)."""
        return self.distinct > DISTINCT_COUNTED


@dataclass(frozen=True)
class Samples:
    """The two samples of a model version, checked, identifiers removed.

    Attributes
    ----------
    reference, current
        Development and monitoring samples.
    features
        The model's input features.
    score
        The score column (computed from the artifact when the spec names none).
    target
        The outcome column (classification models).
    model
        The loaded artifact, when the spec has one.
    """

    reference: pd.DataFrame
    current: pd.DataFrame
    features: list[str]
    score: str | None
    target: str | None
    model: Any = None
    sampled: dict[str, tuple[int, int]] | None = None
    """Spec key -> (rows kept, rows available) when ``data.max_rows`` sampled a sample; the rows
    available are the file's less those removed as duplicate identifiers."""
    duplicates: dict[str, int] = field(default_factory=dict)
    """``{"reference": rows removed, "current": rows removed}``: rows whose ``data.ids`` repeated
    another row's (:func:`deduplicate`); a key per sample read when the spec gives ``data.ids``,
    else ``{}``."""
    time_grain: str | None = None
    """The grain dates in ``data.time`` were counted by (``day`` ... ``year``), or ``None`` when the
    column holds periods as they are (or there is none, or the model is a ``var`` model)."""
    has_reference: bool = True
    """False for a ``var`` model given no ``data.reference``: :attr:`reference` is then empty (the
    current sample's columns, no rows)."""
    rows: dict[str, int] | None = None
    """Spec key -> rows, when the samples were checked in batches and :attr:`reference` and
    :attr:`current` hold their columns but no rows (:func:`validation.inputs.scan.scanned_samples`)."""
    totals: dict[str, ColumnTotals] | None = None
    """The current sample's protected attributes summarised over every row, when it was checked in
    batches; :meth:`column_totals` reads them, or the rows held."""

    def column_totals(self, column: str) -> ColumnTotals:
        """The current sample's ``column`` over all its rows: from :attr:`totals`, else counted in
        the rows held.

        >>> frame = pd.DataFrame({"sex": ["f", "m", "f", None]})
        >>> Samples(frame, frame, [], None, None).column_totals("sex")
        ColumnTotals(rows=4, distinct=2, numeric=False)
        """
        if self.totals is not None and column in self.totals:
            return self.totals[column]
        values = self.current[column]
        return ColumnTotals(len(values), int(values.nunique()), is_numeric(values))

    def sampling_note(self) -> str:
        """What a pack must say about sampling, or ``""``."""
        if not self.sampled:
            return ""
        return "; ".join(f"{role}: a seeded sample of {kept:,} of {total:,} rows (data.max_rows)"
                         for role, (kept, total) in self.sampled.items())

    def duplicates_note(self) -> str:
        """What a pack must say about rows removed as duplicate identifiers, or ``""``.

        Examples
        --------
        >>> import pandas as pd
        >>> empty = pd.DataFrame()
        >>> Samples(empty, empty, [], None, None, duplicates={"reference": 0, "current": 229}).duplicates_note()
        "current: 229 rows removed whose identifiers (data.ids) repeat another row's, one row kept per ..."
        """
        removed = {role: count for role, count in self.duplicates.items() if count}
        if not removed:
            return ""
        return "; ".join(f"{role}: {count:,} row{'s' * (count != 1)} removed whose identifiers (data.ids) repeat "
                         "another row's, one row kept per identifier (its latest by data.time, else its last in "
                         "the file)" for role, count in removed.items())

    @property
    def categorical(self) -> list[str]:
        """Features that are not numeric in the reference sample."""
        return [f for f in self.features if not is_numeric(self.reference[f])]


def release_memory() -> None:
    """Return freed sample memory to the system (call after dropping loaded samples)."""
    _release_arrow_memory()


def _release_arrow_memory() -> None:
    """Hand the memory pyarrow's pool kept from reading a file back to the system: its pool
    otherwise holds on to the transient table (about 1 GB after reading 1M rows x 30 columns)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _header_duplicates(path: str | Path) -> list[str]:
    import io

    from validation.inputs.storage import open_binary

    with open_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    seen: set[str] = set()
    return sorted({c for c in header if c in seen or seen.add(c)})  # type: ignore[func-returns-value]


def readable_columns(path: str | Path, role: str, columns: list[str] | None = None) -> list[str]:
    """The columns of a parquet or CSV file that a read of ``columns`` (``None``: all) takes, from
    its schema or header alone: in the order of ``columns`` for parquet, of the file for CSV, as
    :func:`read_table` reads them.

    Raises
    ------
    DataError
        A file that cannot be used or read, of an unknown type, with a column named twice, or a
        nested or binary parquet column among those read.
    """
    from validation.inputs.storage import is_url, open_binary, problem

    unusable = problem(path)
    if unusable is not None:
        raise DataError(path, None, unusable, role)
    suffix = Path(str(path).split("://", 1)[-1]).suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq

            if is_url(path):
                import fsspec

                filesystem, inner = fsspec.core.url_to_fs(str(path))
                schema = pq.read_schema(inner, filesystem=filesystem)
            else:
                schema = pq.read_schema(str(path))
            names = schema.names
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise DataError(path, duplicates[0], "appears more than once in the file; "
                                "rename the duplicate columns", role)
            wanted = list(names) if columns is None else [c for c in dict.fromkeys(columns) if c in names]
            _refuse_nested(schema, wanted, path, role)
            return wanted
        if suffix in {".csv", ".txt"}:
            duplicates = _header_duplicates(path)
            if duplicates:
                raise DataError(path, duplicates[0], "appears more than once in the header; "
                                "rename the duplicate columns", role)
            with open_binary(path) as handle:
                header = [str(c) for c in pd.read_csv(handle, nrows=0).columns]
            return header if columns is None else [c for c in header if c in set(columns)]
    except DataError:
        raise
    except Exception as exc:  # a parser's failure is the file's problem, named plainly
        raise DataError(path, None, f"could not be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})", role) from None
    raise DataError(path, None, f"unknown file type '{suffix}'; use .parquet or .csv", role)


def read_table(path: str | Path, role: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a parquet or CSV file; ``role`` is the spec key it comes from, for messages.

    With ``columns``, only those of them the file has are read (a missing one is reported by the
    caller, which knows which spec key names it): at a million rows, loading 25 columns of 60
    saves both time and memory.
    """
    from validation.inputs.storage import is_url, open_binary

    wanted = readable_columns(path, role, columns)
    suffix = Path(str(path).split("://", 1)[-1]).suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq

            if is_url(path):
                import fsspec

                filesystem, inner = fsspec.core.url_to_fs(str(path))
            else:
                filesystem, inner = None, str(path)
            table = pq.read_table(inner, columns=wanted, filesystem=filesystem)
            # convert column by column, freeing each Arrow buffer once converted: peak memory
            # stays near one copy of the data instead of two
            frame = table.to_pandas(self_destruct=True, split_blocks=True)
            del table
            _release_arrow_memory()
        else:
            with open_binary(path) as handle:
                frame = pd.read_csv(handle, usecols=None if columns is None else wanted)
    except Exception as exc:  # a parser's failure is the file's problem, named plainly
        raise DataError(path, None, f"could not be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})", role) from None
    if frame.empty:
        raise DataError(path, None, "has no rows; a sample needs at least one row", role)
    return frame


def _refuse_nested(schema: Any, wanted: list[str] | None, path: str | Path, role: str) -> None:
    """Parquet list, struct, map, union and binary columns hold no number or category per row: no check can
    bin, compare or explain them."""
    import pyarrow.types as types

    for field in schema:
        if wanted is not None and field.name not in wanted:
            continue
        if types.is_nested(field.type):
            raise DataError(path, field.name, f"is a nested column ({field.type}); a column must hold one number "
                            "or category per row: flatten it, or leave it out of data.features", role)
        if types.is_binary(field.type) or types.is_large_binary(field.type) or types.is_fixed_size_binary(field.type):
            raise DataError(path, field.name, f"is a binary column ({field.type}): bytes are neither numbers nor "
                            "categories; store text as strings, or leave it out of data.features", role)


def _require(frame: pd.DataFrame, column: str, key: str, path: str, role: str) -> None:
    if column not in frame.columns:
        raise DataError(path, column, f"named in {key} but missing from the file; "
                        f"it has: {', '.join(map(str, frame.columns[:20]))}", role)


def _check_target(frame: pd.DataFrame, column: str, path: str, role: str) -> pd.Series:
    values = frame[column]
    if values.isna().any():
        raise DataError(path, column, f"target has {int(values.isna().sum())} missing values; "
                        "every row needs an observed outcome 0 or 1", role)
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.int64)
    if not pd.api.types.is_numeric_dtype(values):
        raise DataError(path, column, f"target must be 0/1, got values such as "
                        f"{values.astype(str).unique()[:3].tolist()}", role)
    bad = ~values.isin([0, 1])
    if bad.any():
        raise DataError(path, column, f"target must be 0 or 1 (1 = event); found "
                        f"{values[bad].unique()[:3].tolist()}", role)
    return values.astype(np.int64)


def _check_score(frame: pd.DataFrame, column: str, path: str, role: str) -> None:
    values = frame[column]
    if not is_numeric(values):
        raise DataError(path, column, "score must be a probability between 0 and 1; "
                        f"got {values.dtype} values", role)
    if values.isna().any():
        raise DataError(path, column, f"score has {int(values.isna().sum())} missing values; "
                        "every row needs a score", role)
    out = (values < 0) | (values > 1)
    if out.any():
        raise DataError(path, column, f"score must lie in [0, 1]; {int(out.sum())} values do not "
                        f"(e.g. {float(values[out].iloc[0])})", role)


def _check_range(frame: pd.DataFrame, column: str, path: str, role: str, *, low: float,
                 high: float | None, hint: str) -> None:
    """A numeric column with no missing values inside ``[low, high]`` (``high`` None: unbounded)."""
    values = frame[column]
    if not is_numeric(values):
        raise DataError(path, column, f"must be numeric; got {values.dtype} values ({hint})", role)
    if values.isna().any():
        raise DataError(path, column, f"has {int(values.isna().sum())} missing values; every row needs one "
                        "(fill them or leave the key out of the spec)", role)
    out = (values < low) | (values > high if high is not None else False)
    if out.any():
        bounds = f"[{low:g}, {high:g}]" if high is not None else f"at least {low:g}"
        raise DataError(path, column, f"must be {bounds}; {int(out.sum())} values are not "
                        f"(e.g. {float(values[out].iloc[0]):g}): {hint}", role)


def _check_finite(frame: pd.DataFrame, columns: list[str], path: str, role: str) -> None:
    for column in columns:
        values = frame[column]
        if is_numeric(values):
            infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                raise DataError(path, column, f"has {int(infinite.sum())} infinite values; replace them "
                                "with finite values or leave them missing", role)


def _check_profile(path: str, current: pd.DataFrame, columns: list[str]) -> None:
    from validation.inputs.profile import load_profile

    profile = load_profile(path)
    for column in columns:
        stored = profile.column(column)
        if stored.sample.numeric != is_numeric(current[column]):
            kinds = ("numeric", "text") if stored.sample.numeric else ("text", "numeric")
            raise DataError(path, column, f"is {kinds[0]} in the reference profile but {kinds[1]} in "
                            "the current sample (data.current); rebuild the profile or fix the types",
                            "data.reference_profile")


def deduplicate(frame: pd.DataFrame, ids: list[str], time: str | None = None) -> tuple[pd.DataFrame, int]:
    """One row per identifier: the rows whose ``ids`` repeat another row's removed.

    The row kept for an identifier is its latest by ``time`` when given (ties and rows of equal
    time: the last of them in the file; a missing time counts as earliest), else its last row in
    the file. The rows kept stay in file order. A row missing any of its identifiers cannot be
    told apart from another, nor matched with one: it is kept, and never counted as a duplicate.

    Parameters
    ----------
    frame
        A sample as read, identifier columns included.
    ids
        The identifier columns (``data.ids``); their values together identify a row.
    time
        The period column (``data.time``), if the sample has one.

    Returns
    -------
    tuple of (DataFrame, int)
        The sample with one row per identifier (``frame`` itself when nothing repeats), and the
        number of rows removed.

    Raises
    ------
    TypeError
        When ``time`` holds values that cannot be ordered (text beside numbers) and an identifier
        repeats (without repeats, no order is needed).

    Examples
    --------
    >>> frame = pd.DataFrame({"id": [1, 2, 1, 3, 2], "month": ["2025-02", "2025-01", "2025-01", "2025-01", "2025-01"],
    ...                       "x": [10, 20, 30, 40, 50]})
    >>> kept, removed = deduplicate(frame, ["id"], "month")
    >>> kept["x"].tolist(), removed
    ([10, 40, 50], 2)
    >>> deduplicate(frame, ["id"])[0]["x"].tolist()
    [30, 40, 50]
    >>> deduplicate(frame.assign(id=[None, None, 1, 3, 2]), ["id"])[1]  # missing identifiers are kept
    0
    """
    if not ids:
        return frame, 0
    keys = frame[ids].reset_index(drop=True)
    known = ~keys.isna().any(axis=1).to_numpy()
    if not (keys.duplicated(keep=False).to_numpy() & known).any():  # the usual case: one hash pass, no sort
        return frame, 0
    if time is None:
        order = np.arange(len(frame))
    else:  # positions in time order (stable: rows of equal time stay in file order)
        order = frame[time].reset_index(drop=True).sort_values(kind="stable", na_position="first").index.to_numpy()
    repeated = keys.iloc[order].duplicated(keep="last").to_numpy() & known[order]
    keep = np.sort(order[~repeated])
    removed = len(frame) - len(keep)
    return (frame if removed == 0 else frame.iloc[keep]), removed


ROLES = ("data.reference", "data.current")


def source_of(spec: ModelVersionSpec, role: str) -> "str | SqlSource | None":
    """The spec's ``data.reference`` or ``data.current``: a path or URL, a SQL source, or ``None``
    (a ``var`` model's reference may be left out)."""
    return spec.data.reference if role == "data.reference" else spec.data.current


def _where(spec: ModelVersionSpec, role: str) -> str:
    """How messages name a sample: its path, or its SQL source's label."""
    return str(source_of(spec, role))


def source_record(source: "str | SqlSource") -> dict[str, Any]:
    """How a record (a reference profile's ``source``) names a sample: a file's path and sha256,
    or a SQL source's label, URL as written and query sha256 (or table)."""
    from validation.inputs.artifacts import sha256_file
    from validation.inputs.spec import SqlSource

    if isinstance(source, SqlSource):
        named = {"query_sha256": source.query_sha256} if source.query is not None else {"table": source.table}
        return {"path": source.label, "sql": source.sql, **named}
    return {"path": source, "sha256": sha256_file(source)}


def wanted_columns(spec: ModelVersionSpec) -> list[str] | None:
    """The columns read from a sample: those with a role (identifiers too, to drop them visibly),
    the protected attributes, the segments and the features when ``data.features`` lists them;
    ``None`` (every column) when it does not, since every column with no other role is a feature."""
    d = spec.data
    if d.features is None:
        return None
    return list(dict.fromkeys([*spec.role_columns(), *d.protected, *d.segments, *d.features]))


def read_source(spec: ModelVersionSpec, role: str, columns: list[str] | None,
                sources: Mapping[str, str | Path] | None = None) -> pd.DataFrame:
    """One sample as read: from ``sources[role]`` (the parquet snapshot a planned run took of a SQL
    source; its problems named by the source), from the database (a SQL source), or from the file."""
    from validation.inputs.spec import SqlSource
    from validation.inputs.sql import read_sql

    source = source_of(spec, role)
    if sources and role in sources:
        try:
            return read_table(sources[role], role, columns)
        except DataError as exc:
            raise DataError(str(source), exc.column, exc.problem, role) from None
    if isinstance(source, SqlSource):
        return read_sql(source, role, columns, folder=spec.path.parent)
    assert source is not None, f"{role} is given"
    return read_table(source, role, columns)


def _read_samples(spec: ModelVersionSpec, sources: Mapping[str, str | Path] | None = None
                  ) -> tuple[dict[str, pd.DataFrame], dict[str, tuple[int, int]], dict[str, int]]:
    """Both samples (the current alone for a ``var`` model without a reference), only the columns
    with a role when the features are listed, one row per identifier (with ``data.ids``), then
    sampled down to ``data.max_rows`` (seeded) when asked; returns the frames by spec key, what
    was sampled and the rows removed as duplicates."""
    d = spec.data
    wanted = wanted_columns(spec)
    frames = {role: read_source(spec, role, wanted, sources) for role in ROLES if source_of(spec, role) is not None}
    sampled: dict[str, tuple[int, int]] = {}
    duplicates: dict[str, int] = {}
    for role, frame in frames.items():
        if d.ids:
            frame, duplicates[role.removeprefix("data.")] = _deduplicate_sample(frame, spec, role)
        if d.max_rows is not None and len(frame) > d.max_rows:
            sampled[role] = (d.max_rows, len(frame))
            frame = frame.sample(n=d.max_rows, random_state=0).sort_index()
        frames[role] = frame
    return frames, sampled, duplicates


def _deduplicate_sample(frame: pd.DataFrame, spec: ModelVersionSpec, role: str) -> tuple[pd.DataFrame, int]:
    """:func:`deduplicate` on one sample by the spec's ``data.ids`` (each must be in the file) and
    ``data.time`` (when the file has it)."""
    d = spec.data
    path = _where(spec, role)
    for column in d.ids:  # a misspelt identifier would leave the real one to become a feature
        _require(frame, column, "data.ids", path, role)
    time = d.time if d.time is not None and d.time in frame.columns else None
    try:
        return deduplicate(frame, list(d.ids), time)
    except TypeError:
        raise DataError(path, time, "holds values of several types (text beside numbers) that cannot be "
                        "ordered, so the latest row of an identifier repeated in data.ids cannot be found; "
                        "give data.time one type", role) from None


def _as_dates(values: pd.Series) -> pd.Series | None:
    """The values as naive datetimes (their wall time, NaT where missing) when they are dates: a
    datetime type, ``datetime.date`` objects, or text that is all ISO dates (``2025-03-14``, with
    or without a time); ``None`` when they are periods as they are (``2025-03``, vintages, numbers).

    Raises
    ------
    ValueError
        Text that mixes ISO dates with other values, or an ISO date that does not exist.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    present = values.dropna()
    if present.empty:
        return None
    try:  # the kinds of the distinct values (a few periods, or a few thousand days), not of every row
        distinct = pd.Series(present.unique())
    except TypeError:  # unhashable values: no period column
        return None
    if all(isinstance(v, datetime.date) for v in distinct):
        naive = values.map(lambda v: v.replace(tzinfo=None) if isinstance(v, datetime.datetime) else v)
        return pd.to_datetime(naive)
    if not all(isinstance(v, str) for v in distinct):
        return None
    text = distinct.astype(str)
    iso = text.str.fullmatch(ISO_DATE.pattern)
    if not iso.any():
        return None
    if not iso.all():
        raise ValueError(f"holds dates such as {text[iso].iloc[0]!r} and other values such as "
                         f"{text[~iso].iloc[0]!r}; give one kind of period (dates, or labels such as 2025-03)")
    try:  # the date as written: a time's offset never moves a row to another day
        return pd.to_datetime(values.astype(object).where(values.notna()).str.slice(0, 10), format="%Y-%m-%d")
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"holds a date that does not exist ({str(exc).splitlines()[0][:120]})") from None


def period_labels(values: pd.Series, grain: str) -> pd.Series | None:
    """Dates as the periods they fall in at ``grain``, or ``None`` when the values are not dates
    (they are then periods as they are).

    Labels sort in time order: ``2025-03-14`` (day), ``2025-W11`` (ISO 8601 week: weeks start on
    Monday, and week 1 holds the year's first Thursday, so 2024-12-30 is ``2025-W01``),
    ``2025-03`` (month), ``2025-Q1`` (quarter), ``2025`` (year). Missing dates stay missing.

    Parameters
    ----------
    values
        ``data.time``: a datetime column, ``datetime.date`` objects, or ISO date text.
    grain
        ``day``, ``week``, ``month``, ``quarter`` or ``year``.

    Raises
    ------
    ValueError
        Text mixing ISO dates with other values, or a date that does not exist.

    Examples
    --------
    >>> days = pd.Series(["2024-12-30", "2025-03-14", None, "2025-12-31T23:30:00+01:00"])
    >>> period_labels(days, "week").tolist()
    ['2025-W01', '2025-W11', nan, '2026-W01']
    >>> period_labels(days, "quarter").tolist()
    ['2024-Q4', '2025-Q1', nan, '2025-Q4']
    >>> period_labels(pd.Series(["2025-03", "2025-04"]), "month") is None  # periods as they are
    True
    """
    dates = _as_dates(values)
    if dates is None:
        return None
    d = dates[dates.notna()]
    if grain == "day":
        text = d.dt.strftime("%Y-%m-%d")
    elif grain == "week":
        iso = d.dt.isocalendar()
        text = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    elif grain == "month":
        text = d.dt.strftime("%Y-%m")
    elif grain == "quarter":
        text = d.dt.year.astype(str) + "-Q" + d.dt.quarter.astype(str)
    elif grain == "year":
        text = d.dt.year.astype(str)
    else:
        raise ValueError(f"grain must be day, week, month, quarter or year, got {grain!r}")
    return text.astype(str).reindex(values.index).rename(values.name)


def _periods(frame: pd.DataFrame, spec: ModelVersionSpec, role: str) -> bool:
    """Turn ``data.time``'s dates into periods at ``data.time_grain`` in place (a classification
    model's, when the sample has the column); True when it held dates."""
    d = spec.data
    if spec.model.type != "classification" or d.time is None or d.time not in frame.columns:
        return False
    try:
        labels = period_labels(frame[d.time], d.time_grain or DEFAULT_TIME_GRAIN)
    except ValueError as exc:
        raise DataError(_where(spec, role), d.time, f"data.time {exc}", role) from None
    if labels is None:
        if is_numeric(frame[d.time]):  # period numbers (202503): text, as whole numbers in every batch
            frame[d.time] = number_labels(frame[d.time])
        return False
    frame[d.time] = labels
    return True


def number_labels(values: pd.Series) -> pd.Series:
    """Numbers as text labels, a whole number without decimals whether the column was read as
    integers or, with a missing value, as floats (a batch of a file can be either); missing stays missing.

    >>> number_labels(pd.Series([202501.0, None, 202502.5])).tolist()
    ['202501', nan, '202502.5']
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    names = np.array([*(str(int(v)) if float(v).is_integer() else str(v) for v in distinct), np.nan], dtype=object)
    return pd.Series(names[codes], index=values.index, name=values.name, dtype=object)


def _named_columns(spec: ModelVersionSpec, features: list[str]) -> dict[str, str]:
    """Every column the spec names, with the key that names it (for messages)."""
    d = spec.data
    named: dict[str, str] = {}
    for key in ("target", "score", "time", "exposure", "lgd", "pnl", "var"):
        value = getattr(d, key)
        if value:
            named[value] = f"data.{key}"
    for key in ("protected", "segments"):
        for value in getattr(d, key):
            named[value] = f"data.{key}"
    for value in features:
        named.setdefault(value, "data.features")
    return named


def _prepare(frame: pd.DataFrame, spec: ModelVersionSpec, role: str, named: dict[str, str]) -> tuple[pd.DataFrame, bool]:
    """One sample checked against the spec: named columns present, identifiers dropped, target,
    score, P&L, VaR, exposure and LGD valid, dates of ``data.time`` counted in periods; returns
    the sample and whether ``data.time`` held dates."""
    d = spec.data
    path = _where(spec, role)
    for column, key in named.items():
        if key == "data.time" and role == "data.reference":
            continue  # periods are a view of the current sample; the reference needs none
        _require(frame, column, key, path, role)
    frame = frame.drop(columns=[c for c in d.ids if c in frame.columns])  # required whole, before deduplication
    dated = _periods(frame, spec, role)
    held = set(frame.columns)  # all of them in a whole sample; a batch read for a check, those it reads
    if d.target and d.target in held:
        frame[d.target] = _check_target(frame, d.target, path, role)
    if d.score and d.score in held:
        _check_score(frame, d.score, path, role)
    for numeric in (d.pnl, d.var):
        if numeric not in held:
            continue
        if numeric and not is_numeric(frame[numeric]):
            raise DataError(path, numeric, "must be numeric", role)
        if numeric and frame[numeric].isna().any():
            raise DataError(path, numeric, f"has {int(frame[numeric].isna().sum())} missing values; "
                            "every day needs its P&L and VaR", role)
    if d.exposure and d.exposure in held:
        _check_range(frame, d.exposure, path, role, low=0.0, high=None,
                     hint="give the exposure at default as a non-negative amount")
    if d.lgd and d.lgd in held:
        _check_range(frame, d.lgd, path, role, low=0.0, high=1.0,
                     hint="give LGD as a fraction of the exposure, e.g. 0.45 rather than 45")
    if d.var and d.var in held and (frame[d.var] < 0).any():
        raise DataError(path, d.var, f"VaR must be a positive loss amount; {int((frame[d.var] < 0).sum())} "
                        "values are negative (give VaR as a loss, e.g. 1.2e6, not -1.2e6)", role)
    return frame, dated


NUMERIC_KEYS = ("data.features", "data.score", "data.exposure", "data.lgd", "data.pnl", "data.var")
"""The spec keys whose columns hold numbers that must be finite."""


def numeric_columns(named: dict[str, str]) -> list[str]:
    """The named columns (column -> spec key) whose numbers must be finite."""
    return [c for c, key in named.items() if key in NUMERIC_KEYS]


def _check_agreement(spec: ModelVersionSpec, reference: pd.DataFrame | None, current: pd.DataFrame,
                     named: dict[str, str]) -> None:
    """Numeric columns finite in both samples, and each named column of one kind in both."""
    numeric_named = numeric_columns(named)
    _check_finite(current, numeric_named, _where(spec, "data.current"), "data.current")
    if reference is None:
        return
    _check_finite(reference, numeric_named, _where(spec, "data.reference"), "data.reference")
    for column in named:
        if column not in reference.columns:
            continue
        if is_numeric(reference[column]) != is_numeric(current[column]):
            kinds = ("numeric", "text") if is_numeric(reference[column]) else ("text", "numeric")
            raise DataError(_where(spec, "data.current"), column, f"is {kinds[1]} here but {kinds[0]} in the "
                            f"reference sample ({_where(spec, 'data.reference')}); make the types agree",
                            "data.current")


def _score_from_artifact(spec: ModelVersionSpec, frames: dict[str, pd.DataFrame], model: Any,
                         features: list[str]) -> str:
    """Add the artifact's scores to both samples as :data:`SCORE_FROM_ARTIFACT`; returns its name."""
    score = SCORE_FROM_ARTIFACT
    for role, frame in frames.items():
        path = _where(spec, role)
        if score in frame.columns:
            raise _score_clash(path, role)
        frame[score] = _scores(model, frame[features], path, role)
    return score


def _score_clash(path: str, role: str) -> DataError:
    return DataError(path, SCORE_FROM_ARTIFACT, "clashes with the scores computed from the artifact; "
                     "name it as data.score or rename it", role)


def _scores(model: Any, rows: pd.DataFrame, path: str, role: str) -> "np.ndarray":
    """The artifact's scores of ``rows``; a model that cannot score them is the sample's problem."""
    try:
        return predict_scores(model, rows, source=str(path), role=role)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(path, None, f"the model could not score this sample ({type(exc).__name__}: "
                        f"{exc}); check data.features against the model", role) from None


@functools.lru_cache(maxsize=2)
def _artifact(path: str, sha256: str, allow_pickle: bool) -> Any:
    """A model artifact loaded (and its sha256 verified) once per process, however many batches
    and passes score with it."""
    return load_artifact(path, sha256, allow_pickle=allow_pickle)


def batch_model(spec: ModelVersionSpec) -> Any:
    """The spec's artifact as samples read in batches score with it (loaded once per process)."""
    assert spec.model.artifact, "a model version with an artifact"
    return _artifact(str(spec.model.artifact), spec.model.artifact_sha256 or "", spec.model.allow_pickle)


def scores_from_artifact(spec: ModelVersionSpec) -> bool:
    """Whether the samples' scores are computed from the artifact (no ``data.score``)."""
    return not spec.data.score and bool(spec.model.artifact) and spec.model.type == "classification"


def load_samples(spec: ModelVersionSpec, *, load_model: bool = True,
                 sources: Mapping[str, str | Path] | None = None) -> Samples:
    """Load, check and prepare the reference and current samples of one model version.

    Parameters
    ----------
    spec
        The resolved model version.
    load_model
        Load the artifact (when the spec has one) and compute scores from it when the spec names
        no score column.
    sources
        Spec key (``data.reference``, ``data.current``) -> a parquet file to read instead of the
        spec's SQL source: the snapshot a planned run took of it (:mod:`validation.inputs.sql`).

    Raises
    ------
    DataError, ArtifactError
        Naming the file (or SQL source), the spec key and the column.
    """
    d = spec.data
    frames, sampled, duplicates = _read_samples(spec, sources)
    first = "data.reference" if "data.reference" in frames else "data.current"
    features = spec.feature_columns([str(c) for c in frames[first].columns])
    if not features and spec.model.type == "classification":
        raise DataError(_where(spec, first), None, "no feature columns; list them in data.features", first)
    named = _named_columns(spec, features)
    checked = {role: _prepare(frame, spec, role, named) for role, frame in frames.items()}
    del frames
    prepared = {role: frame for role, (frame, _) in checked.items()}
    current = prepared["data.current"]
    given = prepared.get("data.reference")
    _check_agreement(spec, given, current, named)
    if d.reference_profile:
        _check_profile(d.reference_profile, current, [c for c in [d.score, *features] if c])
    model = None
    score = d.score
    if load_model and spec.model.artifact:
        model = load_artifact(spec.model.artifact, spec.model.artifact_sha256 or "", allow_pickle=spec.model.allow_pickle)
        if score is None:
            score = _score_from_artifact(spec, prepared, model, features)
    _release_arrow_memory()
    dated = checked["data.current"][1]
    reference = given if given is not None else current.iloc[0:0].copy()
    return Samples(reference, current, features, score, d.target, model, sampled or None, duplicates,
                   time_grain=(d.time_grain or DEFAULT_TIME_GRAIN) if dated else None, has_reference=given is not None)


# --- samples read in batches (data.batch_rows) ---------------------------------------------------


def _file(spec: ModelVersionSpec, role: str, sources: "Mapping[str, str | Path] | None") -> str:
    """The file a sample is read from: the parquet snapshot a planned run took of a SQL source
    (``sources``, by spec key), else the spec's file."""
    return str((sources or {}).get(role) or _where(spec, role))


def file_columns(spec: ModelVersionSpec, role: str, sources: "Mapping[str, str | Path] | None" = None) -> list[str]:
    """The columns of a sample's file, from its schema or header (no rows read)."""
    from validation.inputs.storage import problem

    path = _file(spec, role, sources)
    unusable = problem(path)
    if unusable is not None:
        raise DataError(path, None, unusable, role)
    suffix = Path(path.split("://", 1)[-1]).suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            from validation.inputs.batches import parquet_file

            return list(parquet_file(path).schema_arrow.names)
        if suffix in {".csv", ".txt"}:
            from validation.inputs.storage import open_binary

            with open_binary(path) as handle:
                return [str(c) for c in pd.read_csv(handle, nrows=0).columns]
    except Exception as exc:  # a parser's failure is the file's problem, named plainly
        raise DataError(path, None, f"could not be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})", role) from None
    raise DataError(path, None, f"unknown file type '{suffix}'; use .parquet or .csv", role)


def sample_batches(spec: ModelVersionSpec, role: str, columns: list[str], *, features: list[str],
                   roles: bool = True, sources: "Mapping[str, str | Path] | None" = None) -> "Iterator[Batch]":
    """One sample's batches of ``data.batch_rows`` rows, each checked as :func:`load_samples`
    checks a whole sample (named columns present, target, score and the other roles valid, dates
    counted in periods, numbers finite): ``columns`` and (``roles``) every column with a role; a
    check reads its own columns alone (``roles=False``), each checked in every batch it reads.
    A SQL source is read from its snapshot in ``sources`` (by spec key).

    Raises
    ------
    DataError
        Naming the file, the spec key and the column, for the first bad batch.
    """
    for batch, _ in _checked_batches(spec, role, columns, features, roles=roles, sources=sources):
        yield batch


@dataclass(frozen=True)
class _BatchReading:
    """What to read of a sample in batches, and how each batch is checked."""

    spec: ModelVersionSpec
    role: str
    columns: list[str]
    """The columns asked for and every column with a role."""
    named: dict[str, str]
    """The named columns a batch must have, with their keys."""
    numeric: list[str]
    """The named columns whose numbers must be finite."""
    scored_from: list[str] | None = None
    """The features the artifact scores each batch from, when :data:`SCORE_FROM_ARTIFACT` is asked
    for (no ``data.score``); then :attr:`returned` are the columns a batch keeps."""
    returned: list[str] | None = None

    @classmethod
    def of(cls, spec: ModelVersionSpec, role: str, columns: list[str], features: list[str], *,
           roles: bool = True, sources: "Mapping[str, str | Path] | None" = None) -> "_BatchReading":
        """``roles``: read (and check) every column with a role besides ``columns``, as the runner
        does with the first batch; otherwise ``columns`` alone, each checked in every batch.
        :data:`SCORE_FROM_ARTIFACT` among ``columns`` (no ``data.score``): the features are read
        too, and each batch is scored with the artifact."""
        d = spec.data
        named = _named_columns(spec, features)
        scoring = SCORE_FROM_ARTIFACT in columns and scores_from_artifact(spec)
        columns = [c for c in columns if not (scoring and c == SCORE_FROM_ARTIFACT)]
        if not roles:
            read = list(dict.fromkeys(columns))
            checked = {c: key for c, key in named.items() if c in read}
        else:
            with_role = [c for c, key in named.items()
                         if key != "data.features" and not (c == d.time and role == "data.reference")]
            present = set(file_columns(spec, role, sources))
            read = list(dict.fromkeys([*columns, *[c for c in with_role if c in present]]))
            checked = {c: key for c, key in named.items() if c in read or key != "data.features"}
        returned = None
        if scoring:
            returned = [*read, SCORE_FROM_ARTIFACT]
            read = list(dict.fromkeys([*read, *features]))
            checked.update({c: named[c] for c in features})
        numeric = [c for c, key in checked.items()
                   if key in ("data.features", "data.score", "data.exposure", "data.lgd")]
        return cls(spec, role, read, checked, numeric, list(features) if scoring else None, returned)

    def check(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
        """One batch checked as :func:`load_samples` checks a whole sample; whether its
        ``data.time`` held dates."""
        path = _where(self.spec, self.role)
        frame, dated = _prepare(frame, self.spec, self.role, self.named)
        _check_finite(frame, [c for c in self.numeric if c in frame.columns], path, self.role)
        if self.scored_from is not None and self.returned is not None:
            if SCORE_FROM_ARTIFACT in frame.columns:
                raise _score_clash(path, self.role)
            frame[SCORE_FROM_ARTIFACT] = _scores(batch_model(self.spec), frame[self.scored_from], path, self.role)
            frame = frame[self.returned]
        return frame, dated


def _checked_batches(spec: ModelVersionSpec, role: str, columns: list[str], features: list[str], *,
                     roles: bool = True, sources: "Mapping[str, str | Path] | None" = None
                     ) -> "Iterator[tuple[Batch, bool]]":
    """:func:`sample_batches`, each batch with whether its ``data.time`` held dates."""
    from validation.inputs.batches import iter_batches

    reading = _BatchReading.of(spec, role, columns, features, roles=roles, sources=sources)
    assert spec.data.batch_rows is not None, "batches are read when data.batch_rows is set"
    repeats = repeated_ids_of(spec, role, sources)
    for batch in iter_batches(_file(spec, role, sources), reading.columns, role, batch_rows=spec.data.batch_rows):
        batch = _without_repeats(batch, repeats)
        frame, dated = reading.check(batch.frame)
        yield replace(batch, frame=frame), dated


def _without_repeats(batch: "Batch", repeats: "RepeatedIds | None") -> "Batch":
    """A batch without the rows whose identifiers repeat another row's (each kept row's position
    in the file kept with it)."""
    kept = repeats.kept(batch.start, len(batch.frame)) if repeats is not None else None
    if kept is None:
        return batch
    return replace(batch, frame=batch.frame[kept].reset_index(drop=True), positions=batch.row_positions()[kept])


def repeated_ids_of(spec: ModelVersionSpec, role: str, sources: "Mapping[str, str | Path] | None" = None,
                    *, batch_rows: int | None = None) -> "RepeatedIds | None":
    """A sample's rows whose ``data.ids`` repeat another row's (:mod:`validation.inputs.identifiers`),
    found once per process and file; ``None`` without ``data.ids``. The file is read
    ``batch_rows`` rows at a time (default: ``data.batch_rows``).

    Raises
    ------
    DataError
        An identifier column the file does not have, or a time that cannot be ordered.
    """
    d = spec.data
    if not d.ids:
        return None
    path = _file(spec, role, sources)
    present = file_columns(spec, role, sources)
    for column in d.ids:  # a misspelt identifier would leave the real one to become a feature
        _require(pd.DataFrame(columns=present), column, "data.ids", _where(spec, role), role)
    time = d.time if d.time is not None and d.time in present else None
    from validation.inputs.storage import problem

    stamp = None if problem(path) is not None or "://" in path else (os.stat(path).st_size, os.stat(path).st_mtime_ns)
    batch_rows = batch_rows or d.batch_rows
    assert batch_rows is not None, "repeated identifiers are found in batches of data.batch_rows or given rows"
    try:
        return _repeated_ids(path, stamp, tuple(d.ids), time, batch_rows, role)
    except TypeError:
        raise DataError(_where(spec, role), time, "holds values of several types (text beside numbers) that cannot "
                        "be ordered, so the latest row of an identifier repeated in data.ids cannot be found; "
                        "give data.time one type", role) from None


@functools.lru_cache(maxsize=8)
def _repeated_ids(path: str, stamp: Any, ids: tuple[str, ...], time: str | None, batch_rows: int,
                  role: str) -> "RepeatedIds":
    """:func:`validation.inputs.identifiers.repeated_ids` of a file (``stamp``: its size and
    modification time, so that a changed file is read again)."""
    from validation.inputs.batches import iter_batches, row_count
    from validation.inputs.identifiers import repeated_ids

    return repeated_ids(functools.partial(iter_batches, path, role=role, batch_rows=batch_rows), list(ids), time,
                        row_count(path))


def checked_row_group(spec: ModelVersionSpec, role: str, columns: list[str], features: list[str], index: int,
                      start: int, sources: "Mapping[str, str | Path] | None" = None) -> "Batch":
    """Row group ``index`` of a sample's parquet file or snapshot (its first row at ``start`` in
    the file), ``columns`` alone, checked as :func:`sample_batches` checks a check's batch: what a
    cluster's worker reads."""
    from validation.inputs.batches import Batch, read_row_group

    reading = _BatchReading.of(spec, role, columns, features, roles=False)
    raw = read_row_group(_file(spec, role, sources), index, reading.columns)
    batch = _without_repeats(Batch(start, raw), repeated_ids_of(spec, role, sources))
    frame, _ = reading.check(batch.frame)
    return replace(batch, frame=frame)


def batch_samples(spec: ModelVersionSpec, sources: "Mapping[str, str | Path] | None" = None) -> Samples:
    """The samples of a version whose samples are read in batches (``data.batch_rows``): their
    columns and no rows, once the first batch of each is checked (:func:`sample_batches`) and the
    two agree in kind; the checks then read the batches themselves. A SQL source is read from
    its snapshot in ``sources`` (by spec key)."""
    d = spec.data
    features = spec.feature_columns(file_columns(spec, "data.reference", sources))
    if not features:
        raise DataError(_where(spec, "data.reference"), None, "no feature columns; list them in data.features",
                        "data.reference")
    wanted = list(dict.fromkeys([*features, *d.protected, *d.segments]))
    scored = scores_from_artifact(spec)
    first: dict[str, pd.DataFrame] = {}
    dated = False
    for role in ROLES:
        present = set(file_columns(spec, role, sources))
        if scored and SCORE_FROM_ARTIFACT in present:
            raise _score_clash(_where(spec, role), role)
        read = [c for c in wanted if c in present] + ([SCORE_FROM_ARTIFACT] if scored else [])
        found = next(iter(_checked_batches(spec, role, read, features, sources=sources)), None)
        if found is None:
            raise DataError(_where(spec, role), None, "has no rows; a sample needs at least one row", role)
        first[role] = found[0].frame
        dated = found[1] if role == "data.current" else dated
    _check_agreement(spec, first["data.reference"], first["data.current"], _named_columns(spec, features))
    # copies with no rows: a slice would keep the first batches' columns alive
    reference, current = (first[role].iloc[0:0].copy() for role in ROLES)
    del first
    _release_arrow_memory()
    duplicates = {role.removeprefix("data."): repeats.removed for role in ROLES
                  if (repeats := repeated_ids_of(spec, role, sources)) is not None}
    return Samples(reference, current, features, SCORE_FROM_ARTIFACT if scored else d.score, d.target,
                   batch_model(spec) if scored else None, duplicates=duplicates,
                   time_grain=(d.time_grain or DEFAULT_TIME_GRAIN) if dated else None)
