"""SQL sources: a sample read from a database through SQLAlchemy (``docs/spec.md``, "SQL sources").

A spec's ``data.reference`` or ``data.current`` may be ``{sql: URL, query: ...}`` or
``{sql: URL, table: ...}`` (:class:`~validation.inputs.spec.SqlSource`). This module connects,
reads only the columns the checks need, and keeps what it read:

- **Credentials** never come from the spec: ``${VAR}`` placeholders in the URL are read from the
  environment here, when the source is queried, and the driver finds the rest (libpq's
  ``PGPASSWORD`` and ``~/.pgpass``). The spec loader refuses a literal password.
- **Columns**: the statement sent is ``SELECT <columns> FROM (<query>) AS q``, the columns those the
  spec names (all of them when ``data.features`` is not listed), each quoted by the dialect. The
  statements go to the driver's cursor with no parameters, so no placeholder is read in a query.
- **Read only**: PostgreSQL runs the statement in a read-only transaction, a DuckDB or SQLite file
  is opened read-only, and nothing is ever committed. The wrapping makes the query a subquery:
  a second statement, or a data-modifying ``WITH``, is a syntax error rather than a write.
- **DuckDB** is the embedded engine for SQL over local files: ``duckdb:///:memory:`` with
  ``read_parquet('data/x.parquet')`` or ``read_csv('data/x.csv')``; relative file names (and a
  relative database file) are taken from the spec's folder (DuckDB's ``file_search_path``). It
  never downloads an extension (``autoinstall_known_extensions`` off).
- **Snapshots** (:class:`SnapshotStore`): a run reads each SQL source once, when it is planned,
  into a parquet file in a temporary folder of the run; every check of the run then reads those
  same rows, and the manifest records the query's sha256 and the snapshot's (:meth:`Snapshot.record`).
  With ``data.batch_rows`` the snapshot is taken a batch at a time (:func:`read_sql_batches`),
  into row groups of that many rows: one batch in memory, whatever the query returns.

Every problem (a missing driver, an unknown dialect, an unreachable server, a bad query, a missing
table, an unset variable, no rows) is a :class:`~validation.errors.DataError` naming the spec key
and, where one is needed, the package to install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from validation.errors import DataError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import URL, Connection, Engine

    from validation.inputs.spec import SqlSource

SQL_EXTRA = "pip install 'validation[sql]'"
"""What installs SQLAlchemy, DuckDB (with its SQLAlchemy dialect) and psycopg."""

DRIVER_HINTS = {
    "postgresql": SQL_EXTRA + " (psycopg)",
    "duckdb": SQL_EXTRA + " (duckdb and duckdb-engine)",
    "mysql": "pip install pymysql and write mysql+pymysql://",
    "mariadb": "pip install pymysql and write mariadb+pymysql://",
    "mssql": "pip install pyodbc (and the ODBC driver) or pymssql and write mssql+pymssql://",
    "oracle": "pip install oracledb and write oracle+oracledb://",
    "snowflake": "pip install snowflake-sqlalchemy",
}
"""How to install the driver of a database, by SQLAlchemy backend (the rest: the driver SQLAlchemy names)."""

CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server before giving up (project default; libpq waits forever
by default, and a planned run must fail, not hang, on an unreachable server). A URL's own
``connect_timeout`` wins."""

_FILE_BACKENDS = ("duckdb", "sqlite")
"""Backends whose URL's database is a file path (relative: to the spec's folder)."""


def _import_sqlalchemy(source: "SqlSource", role: str) -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise DataError(source.label, None, f"a SQL source needs SQLAlchemy and the database's driver: {SQL_EXTRA}",
                        role) from None
    return sqlalchemy


def _expand(text: str | None, source: "SqlSource", role: str) -> str | None:
    """``${VAR}`` placeholders replaced by the environment's values."""
    from validation.inputs.spec import PLACEHOLDER_RE

    if text is None:
        return None

    def value(match: Any) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise DataError(source.label, None, f"the environment variable {name} named in {role}.sql is not set; "
                            f"set it (export {name}=...) before running", role)
        return os.environ[name]

    return PLACEHOLDER_RE.sub(value, text)


def connection_url(source: "SqlSource", role: str, folder: Path) -> "URL":
    """The source's URL ready to connect: placeholders expanded from the environment, plain
    ``postgresql://`` on psycopg (3), a relative DuckDB or SQLite file taken from ``folder``.

    Examples
    --------
    >>> from validation.inputs.spec import SqlSource
    >>> source = SqlSource(sql="duckdb:///bank.duckdb", table="loans")
    >>> connection_url(source, "data.current", Path("/srv/params")).database
    '/srv/params/bank.duckdb'
    """
    sqlalchemy = _import_sqlalchemy(source, role)
    try:
        url = sqlalchemy.engine.make_url(source.sql)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise DataError(source.label, None, f"not a database URL SQLAlchemy reads ({exc}); expected "
                        "dialect[+driver]://user@host:port/database", role) from None
    url = url.set(username=_expand(url.username, source, role), password=_expand(url.password, source, role),
                  host=_expand(url.host, source, role), database=_expand(url.database, source, role),
                  query={k: _expand(v, source, role) if isinstance(v, str) else v for k, v in url.query.items()})
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() in _FILE_BACKENDS and url.database not in (None, "", ":memory:"):
        database = Path(str(url.database)).expanduser()
        url = url.set(database=str(database if database.is_absolute() else (folder / database)))
        if url.get_backend_name() == "sqlite" and not str(url.database).startswith("file:"):
            # read only, and a missing file is an error rather than a new empty database
            url = url.set(database=f"file:{url.database}", query={**url.query, "mode": "ro", "uri": "true"})
    return url


def _engine(source: "SqlSource", role: str, folder: Path) -> "Engine":
    sqlalchemy = _import_sqlalchemy(source, role)
    from sqlalchemy.pool import NullPool

    url = connection_url(source, role, folder)
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    if backend == "duckdb" and url.database not in (None, "", ":memory:"):
        connect_args["read_only"] = True
    try:
        return sqlalchemy.create_engine(url, connect_args=connect_args, poolclass=NullPool)
    except sqlalchemy.exc.NoSuchModuleError:
        if backend in DRIVER_HINTS:
            raise DataError(source.label, None, f"the {backend} dialect is not installed: {DRIVER_HINTS[backend]}",
                            role) from None
        raise DataError(source.label, None, f"'{url.drivername}' is not a database SQLAlchemy knows here; give a "
                        "URL of an installed dialect (postgresql://, duckdb://, sqlite://, or one a package adds), "
                        f"e.g. {SQL_EXTRA} for PostgreSQL and DuckDB", role) from None
    except ImportError as exc:
        hint = DRIVER_HINTS.get(backend, f"install the Python package that provides '{exc.name}'")
        raise DataError(source.label, None, f"the {backend} driver is not installed (no module {exc.name!r}): "
                        f"{hint}", role) from None


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0][:300] if text else type(original).__name__


def _prepare(connection: "Connection", backend: str, folder: Path) -> None:
    """DuckDB: relative file names from the spec's folder, and no extension downloaded."""
    if backend == "duckdb":
        quoted = str(folder).replace("'", "''")
        connection.exec_driver_sql(f"SET file_search_path = '{quoted}'")
        connection.exec_driver_sql("SET autoinstall_known_extensions = false")


def inner_statement(source: "SqlSource", quote: Any) -> str:
    """The source's rows as one statement: its query (without a trailing ``;``), or every column
    of its table (``schema.table`` quoted part by part).

    >>> from validation.inputs.spec import SqlSource
    >>> inner_statement(SqlSource(sql="duckdb:///:memory:", table="risk.Loans"), lambda name: f'"{name}"')
    'SELECT * FROM "risk"."Loans"'
    """
    if source.query is not None:
        return source.query.strip().rstrip(";").rstrip()
    assert source.table is not None
    return "SELECT * FROM " + ".".join(quote(part) for part in source.table.split("."))


def _what(source: "SqlSource", role: str) -> str:
    return f"{role}.query" if source.query is not None else f"{role}.table"


def read_sql(source: "SqlSource", role: str, columns: Sequence[str] | None, *, folder: Path) -> "pd.DataFrame":
    """The rows of a SQL source, with only ``columns`` (those of them it has; all with ``None``).

    Parameters
    ----------
    source
        The spec's SQL source.
    role
        The spec key (``data.reference``, ``data.current``), for messages.
    columns
        The columns the checks need, or ``None`` for all.
    folder
        The spec's folder: relative DuckDB and SQLite paths are taken from it.

    Raises
    ------
    DataError
        Naming the key: a driver missing, an unreachable server, a failed query, a missing
        table, a duplicate column name, no rows.
    """
    frame, = read_sql_batches(source, role, columns, folder=folder, batch_rows=None)
    if frame.empty:
        raise DataError(source.label, None, f"{_what(source, role)} returned no rows; a sample needs at least one row",
                        role)
    return frame


def read_sql_batches(source: "SqlSource", role: str, columns: Sequence[str] | None, *, folder: Path,
                     batch_rows: int | None) -> "Iterator[pd.DataFrame]":
    """The rows of a SQL source as :func:`read_sql` reads them, ``batch_rows`` at a time (all at
    once with ``None``), in memory bounded by the batch: PostgreSQL's rows come from a server-side
    cursor (a client-side one would hold every row), DuckDB streams its results, and another
    driver's ``fetchmany`` does what that driver does. A query with no rows gives one frame with
    the columns and no rows.

    Raises
    ------
    DataError
        As :func:`read_sql`, at the batch where the problem shows.
    """
    engine = _engine(source, role, folder)
    try:
        try:
            connection = engine.connect()
        except Exception as exc:  # refused, unreachable, authentication failed, no such database
            raise DataError(source.label, None, f"could not connect to the database ({_first_line(exc)}); check the "
                            f"server, the URL in {role}.sql and the credentials (${{VAR}} placeholders, the driver's "
                            "own such as PGPASSWORD)", role) from None
        with connection:
            yield from _select(connection, source, role, columns, folder, batch_rows)
    except DataError:
        raise
    except Exception as exc:  # any driver's failure (a syntax error, a missing table or file) is the source's
        raise DataError(source.label, None, f"{_what(source, role)} failed ({_first_line(exc)}); check the "
                        f"{'query' if source.query is not None else 'table name'}", role) from None
    finally:
        engine.dispose()


def _select(connection: "Connection", source: "SqlSource", role: str, columns: Sequence[str] | None,
            folder: Path, batch_rows: int | None) -> "Iterator[pd.DataFrame]":
    """The rows, only the columns wanted, in a transaction that is rolled back: one frame, or
    frames of ``batch_rows`` rows.

    Statements go to the driver's cursor as they are, with no parameters: a driver then reads no
    placeholder in them, so a query's ``LIKE 'x%'`` or ``':'`` mean what they say."""
    import pandas as pd

    backend = connection.dialect.name
    quote = connection.dialect.identifier_preparer.quote
    inner = inner_statement(source, quote)
    if backend == "postgresql":
        connection = connection.execution_options(postgresql_readonly=True)
    _prepare(connection, backend, folder)
    raw = connection.connection.dbapi_connection
    assert raw is not None, "an open connection has its driver's connection"
    cursor = raw.cursor()
    try:
        # the query on lines of its own: a trailing "-- comment" in it cannot swallow the closing parenthesis
        cursor.execute(f"SELECT * FROM (\n{inner}\n) AS q WHERE 1 = 0")
        available = [str(d[0]) for d in cursor.description or []]
        cursor.fetchall()
        repeated = sorted({c for c in available if available.count(c) > 1})
        if repeated:
            raise DataError(source.label, repeated[0], f"appears more than once in the rows of {_what(source, role)}; "
                            "give each column one name (AS ...)", role)
        wanted = available if columns is None else [c for c in dict.fromkeys(columns) if c in available]
        if not wanted:
            raise DataError(source.label, None, f"none of the columns the spec names is in the rows of "
                            f"{_what(source, role)}; it has: {', '.join(available[:20])}", role)
        if batch_rows is not None and backend == "postgresql":  # a server-side cursor: rows fetched as asked
            cursor.close()
            cursor = raw.cursor(name="validation_snapshot")
        cursor.execute(f"SELECT {', '.join(quote(c) for c in wanted)} FROM (\n{inner}\n) AS q")
        if batch_rows is None:
            rows = cursor.fetchall()
            yield pd.DataFrame.from_records(rows, columns=[str(d[0]) for d in cursor.description or []],
                                            coerce_float=True)
            return
        first = True
        while True:
            rows = cursor.fetchmany(batch_rows)
            if rows or first:  # a query with no rows: one frame of its columns
                yield pd.DataFrame.from_records(rows, columns=[str(d[0]) for d in cursor.description or []],
                                                coerce_float=True)
            if len(rows) < batch_rows:
                break
            first = False
    finally:
        cursor.close()
        raw.rollback()  # nothing is ever committed


def _arrow_table(frame: "pd.DataFrame", source: "SqlSource", role: str) -> Any:
    """The rows as an Arrow table; a column of values that are neither numbers, text, dates nor
    booleans (a UUID, a JSON document, an interval) is refused with its type."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    for column in frame.columns:
        try:
            pa.array(frame[column], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            kinds = sorted({type(v).__name__ for v in frame[column].dropna().head(100)})
            raise DataError(source.label, str(column), f"holds values of type {', '.join(kinds)}, neither numbers, "
                            "text nor dates; cast it in the query (CAST(... AS TEXT)) or leave it out", role) from None
    raise DataError(source.label, None, "its rows could not be stored as a parquet snapshot", role)


@dataclass(frozen=True)
class Snapshot:
    """A SQL source's rows, read once when a run was planned and kept as a parquet file.

    Attributes
    ----------
    role
        The spec key (``data.reference``, ``data.current``).
    source
        The spec's SQL source.
    path
        The parquet file, in the run's temporary folder.
    sha256
        The file's sha256: the rows every check of the run computed on.
    rows, columns
        What was read.
    seconds
        How long the query and the snapshot took.
    """

    role: str
    source: "SqlSource"
    path: Path
    sha256: str
    rows: int
    columns: tuple[str, ...]
    seconds: float
    store: "SnapshotStore | None" = field(default=None, repr=False, compare=False)
    """Keeps the folder alive as long as a plan holds the snapshot."""

    def record(self) -> dict[str, Any]:
        """The manifest's entry of the input: ``path`` (the source's label), ``sha256`` (of the
        snapshot), ``sql`` (the URL as written: placeholders, never their values), ``query_sha256``
        (of the query's text) or ``table``, ``rows`` and ``columns``."""
        record: dict[str, Any] = {"path": self.source.label, "sha256": self.sha256, "sql": self.source.sql}
        if self.source.query is not None:
            record["query_sha256"] = self.source.query_sha256
        else:
            record["table"] = self.source.table
        record.update({"snapshot": "parquet", "rows": self.rows, "columns": list(self.columns)})
        return record


def _write_batches(frames: "Iterator[pd.DataFrame]", path: Path, source: "SqlSource", role: str,
                   batch_rows: int) -> tuple[int, tuple[str, ...]]:
    """Frames written to one parquet file in row groups of ``batch_rows`` rows; the rows and columns.

    A batch's column types are those of its own values (a batch of missing values only, a whole
    number column with a missing value), so each batch goes to a part file first, and the file is
    written from the parts with each column in the type that holds every batch's values
    (``pyarrow.unify_schemas``, permissive: integers and floats make floats, as :func:`read_sql`
    gives them read whole): twice the snapshot on disk for a moment, one batch in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = path.with_name(path.stem + ".parts")
    parts.mkdir()
    try:
        schemas: list[Any] = []
        rows, names = 0, tuple[str, ...]()
        for number, frame in enumerate(frames):
            names = tuple(map(str, frame.columns))
            if frame.empty:
                continue
            table = _arrow_table(frame, source, role).replace_schema_metadata(None)
            pq.write_table(table, parts / f"{number:08d}.parquet")
            schemas.append(table.schema)
            rows += len(frame)
            del frame, table
        if not rows:
            raise DataError(source.label, None, f"{_what(source, role)} returned no rows; a sample needs at least one "
                            "row", role)
        types = {name: {s.field(name).type for s in schemas} - {pa.null()} for name in names}
        try:
            unified = pa.unify_schemas(schemas, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            column, kinds = next(((name, sorted({_kind(t) for t in found})) for name, found in types.items()
                                  if len(found) > 1), (None, ["values of several types"]))
            raise DataError(source.label, column, f"holds {' in some rows and '.join(kinds)} in others; cast it in "
                            "the query (CAST(... AS ...)) to one type", role) from None
        # where the batches agree, their type (a whole read's); else the type that holds them all
        schema = pa.schema([pa.field(name, next(iter(found)) if len(found) == 1 else unified.field(name).type)
                            for name, found in types.items()])
        with pq.ParquetWriter(path, schema) as writer:
            for part in sorted(parts.iterdir()):
                writer.write_table(pq.read_table(part).cast(schema), row_group_size=batch_rows)
                part.unlink()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return rows, names


def _kind(arrow_type: Any) -> str:
    """An Arrow type in words, for messages.

    >>> import pyarrow as pa
    >>> _kind(pa.int64()), _kind(pa.large_string()), _kind(pa.timestamp("us"))
    ('whole numbers', 'text', 'dates')
    """
    import pyarrow as pa

    for test, words in ((pa.types.is_integer, "whole numbers"), (pa.types.is_floating, "numbers"),
                        (pa.types.is_boolean, "booleans"), (pa.types.is_temporal, "dates"),
                        (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "text")):
        if test(arrow_type):
            return words
    return str(arrow_type)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SnapshotStore:
    """The temporary folder of a run's snapshots, one per (source, columns, spec folder): two
    versions reading the same source with the same columns share one read.

    The folder is removed by :meth:`close`, or when the store is garbage collected (the last plan
    holding one of its snapshots is gone), or when the interpreter exits. It is made with
    :func:`tempfile.mkdtemp`, under ``TMPDIR`` when set: with Dask workers on other hosts, point
    ``TMPDIR`` at storage they share.
    """

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._finalizer: weakref.finalize | None = None
        self._taken: dict[str, Snapshot] = {}

    @property
    def folder(self) -> Path:
        """The folder, made on first use (a run without a SQL source makes none)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="validation-sql-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._folder), True)
        return self._folder

    def close(self) -> None:
        """Remove the folder and every snapshot in it."""
        if self._finalizer is not None:
            self._finalizer()

    def take(self, source: "SqlSource", role: str, columns: Sequence[str] | None, *, folder: Path,
             batch_rows: int | None = None) -> Snapshot:
        """Read the source (once per source, columns, folder and batch size) into a parquet
        snapshot: whole, or (``batch_rows``, for samples read in batches) a batch at a time into
        row groups of ``batch_rows`` rows, in memory bounded by the batch."""
        import time

        import pyarrow.parquet as pq

        key = hashlib.sha256(repr((source.model_dump(mode="json"), None if columns is None else list(columns),
                                   str(folder), batch_rows)).encode()).hexdigest()
        if key in self._taken:
            return _for_role(self._taken[key], role)
        started = time.perf_counter()
        path = self.folder / f"{key[:16]}.parquet"
        if batch_rows is None:
            frame = read_sql(source, role, columns, folder=folder)
            pq.write_table(_arrow_table(frame, source, role), path)
            rows, names = len(frame), tuple(map(str, frame.columns))
        else:
            rows, names = _write_batches(read_sql_batches(source, role, columns, folder=folder, batch_rows=batch_rows),
                                         path, source, role, batch_rows)
        snapshot = Snapshot(role, source, path, _file_sha256(path), rows, names, time.perf_counter() - started, self)
        self._taken[key] = snapshot
        return snapshot

    def __iter__(self) -> Iterator[Snapshot]:
        return iter(self._taken.values())


def _for_role(snapshot: Snapshot, role: str) -> Snapshot:
    from dataclasses import replace

    return snapshot if snapshot.role == role else replace(snapshot, role=role)


def take_snapshots(spec: Any, store: SnapshotStore, columns: Sequence[str] | None) -> dict[str, Snapshot]:
    """Snapshot every SQL source of a model version (``data.reference``, ``data.current``) with
    the columns the checks need, in batches of ``data.batch_rows`` rows when it is set; returns
    them by spec key (none when the spec has no SQL source)."""
    from validation.inputs.spec import SqlSource

    taken: dict[str, Snapshot] = {}
    for role in ("data.reference", "data.current"):
        source = getattr(spec.data, role.removeprefix("data."))
        if isinstance(source, SqlSource):
            taken[role] = store.take(source, role, columns, folder=spec.path.parent,
                                     batch_rows=spec.data.batch_rows)
    return taken
