"""The run registry: every run, check and finding, in SQLite.

One file (``<out>/registry.sqlite`` by default) that many batch processes write at once: WAL
journal, a 60 s busy timeout, and whole runs written in one ``BEGIN IMMEDIATE`` transaction retried
with backoff when the database is locked. A run's rows appear together or not at all, so a runner
killed mid-write leaves no half-written run.

Files and rows together: :meth:`Registry.record` and :meth:`Registry.record_review` take a
``publish`` step, called inside the transaction after the inserts and just before COMMIT (it
renames the prepared pack, or a review's files, into place) and returning an ``undo`` called when
the COMMIT then fails; when ``publish`` raises, the transaction is rolled back. So a run or a
review is both recorded and on disk, or neither. ``publish`` is called at most once: a
transaction that fails after it is not retried.

Failures: a registry path that is a folder, not a SQLite database (or a damaged one), or that
cannot be written raises :class:`~validation.errors.RegistryError` (exit 2, with the fix); a
registry still locked after the retries, a full disk or an I/O error raises
:class:`~validation.errors.ToolFailure` (exit 4). :meth:`Registry.check_writable` finds the first
kind before anything else is written.

Tables
------
runs(run_id, model, version, status, started_at, finished_at, spec_sha256, pack)
checks(run_id, name, status, inputs_sha256, reused_from, duration_seconds, error)
findings(run_id, check_name, metric, subject, value, value_text, status, amber, red)
reviews(review_id, run_id, reviewer, decision, reviewed_at, pack_sha256, findings)
register(id, model, number, version, run_id, review_id, target, title, severity, owner, due, remediation,
         status, raised_at, updated_at, revision)
register_events(item_id, revision, at, by, field, old, new, note)
register_numbers(model, last)
ledger(seq, kind, key, content_sha256, prev_hash, row_hash)

A review's ``decision`` column holds its rating and ``findings`` the JSON
``{"conclusion", "assessments"}`` (reviews recorded before ratings hold a decision and a list of
findings there: the columns are kept so that existing ledgers still verify).

The findings register (:mod:`validation.governance.register`): ``register`` holds each raised item's
current state, ``register_events`` every change to it (``raised`` with the whole item as JSON, then
one row per changed field with its old and new value, who and when), and ``register_numbers`` the
last number given per model, so an item's id ``<model>-<NNN>`` is never given twice, even after a
row is deleted. Each write to an item is revision ``n`` of it and adds the ledger entry
``register <id>@<n>`` over that revision's events.

Tamper evidence: every run and review adds a ledger entry in the same transaction, with the sha256
of its rows (read back from the tables) and the hash of the previous entry:
``row_hash = sha256(prev_hash | kind | key | content_sha256)``. :meth:`Registry.verify` recomputes
both: an edited or deleted row of a run, a check, a finding, a review or a register event, or a
deleted or edited ledger entry, breaks the chain; a register row that differs from the replay of
its events (edited by hand) or has no events is reported too. (Removing the newest entries together with their rows cannot be
told from a shorter history; anchor the last ``row_hash`` elsewhere to detect that.)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import sqlite3
import time
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

from validation.errors import RegistryError, ToolFailure

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, model TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT NOT NULL, spec_sha256 TEXT NOT NULL, pack TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
    run_id TEXT NOT NULL REFERENCES runs(run_id), name TEXT NOT NULL, status TEXT NOT NULL,
    inputs_sha256 TEXT, reused_from TEXT, duration_seconds REAL, error TEXT,
    PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS findings (
    run_id TEXT NOT NULL REFERENCES runs(run_id), check_name TEXT NOT NULL, metric TEXT NOT NULL,
    subject TEXT NOT NULL, value REAL, value_text TEXT, status TEXT NOT NULL, amber REAL, red REAL
);
CREATE TABLE IF NOT EXISTS reviews (
    review_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, reviewer TEXT NOT NULL, decision TEXT NOT NULL,
    reviewed_at TEXT NOT NULL, pack_sha256 TEXT NOT NULL, findings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS register (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, number INTEGER NOT NULL, version TEXT NOT NULL, run_id TEXT NOT NULL,
    review_id TEXT NOT NULL, target TEXT NOT NULL, title TEXT NOT NULL, severity TEXT NOT NULL, owner TEXT NOT NULL,
    due TEXT NOT NULL, remediation TEXT NOT NULL, status TEXT NOT NULL, raised_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS register_events (
    item_id TEXT NOT NULL, revision INTEGER NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL, field TEXT NOT NULL,
    old TEXT, new TEXT, note TEXT, PRIMARY KEY (item_id, revision, field)
);
CREATE TABLE IF NOT EXISTS register_numbers (model TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL,
    content_sha256 TEXT NOT NULL, prev_hash TEXT NOT NULL, row_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, target TEXT NOT NULL, runs TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL, error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_model ON runs(model, version, finished_at);
CREATE INDEX IF NOT EXISTS checks_by_inputs ON checks(name, inputs_sha256);
CREATE INDEX IF NOT EXISTS findings_by_run ON findings(run_id);
CREATE INDEX IF NOT EXISTS register_by_model ON register(model, status);
"""

BUSY_TIMEOUT_MS = 60_000
GENESIS = "0" * 64
RETRIES = 20

T = TypeVar("T")

Publish = Callable[[], Callable[[], None]]
"""A step run inside a registry transaction just before COMMIT; returns the undo of what it did."""

NOT_A_DATABASE = ("is not a SQLite database, or is damaged ({error}): give the path of a registry written by "
                  "`validation run` (or a new file name to start one), or restore it from a backup")
CANNOT_OPEN = ("cannot be opened ({error}): give a file path (e.g. <folder>/registry.sqlite) in a folder that "
               "exists and can be written")
CANNOT_WRITE = "cannot be written ({error}): give write permission on it and its folder, or another --registry"
IS_A_FOLDER = "is a folder: give the path of a registry file, e.g. {path}/registry.sqlite"
NOT_A_FILE = "is not a regular file (a device or a pipe): give the path of a registry file"
NOT_OURS = ("is a SQLite database but not a validation registry (it has tables {tables} and no runs table): "
            "give the registry written by `validation run` or `batch`")
STAYED_LOCKED = "stayed locked ({error}): another process holds it; retry when it has finished"


def _locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


class Registry:
    """A registry file. Each call opens its own connection: safe across processes and threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _failure(self, error: sqlite3.Error | OSError, operation: str) -> RegistryError | ToolFailure:
        """Our exception for a database or file error: the user's registry (RegistryError, with
        the fix) or the tool's environment (ToolFailure: locked, disk full, I/O)."""
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, PermissionError):
            return RegistryError(self.path, CANNOT_WRITE.format(error=text))
        if isinstance(error, (NotADirectoryError, FileExistsError, IsADirectoryError)):
            return RegistryError(self.path, CANNOT_OPEN.format(error=text))
        if _locked(error):
            return ToolFailure(operation, self.path, STAYED_LOCKED.format(error=text))
        if isinstance(error, (OSError, sqlite3.IntegrityError)) or any(
                words in text for words in ("disk I/O", "disk is full", "out of memory")):
            return ToolFailure(operation, self.path, text)
        if "readonly" in text or "read-only" in text:
            return RegistryError(self.path, CANNOT_WRITE.format(error=text))
        if "unable to open" in text:
            return RegistryError(self.path, CANNOT_OPEN.format(error=text))
        return RegistryError(self.path, NOT_A_DATABASE.format(error=text))

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        """Turn every database or file error inside into :meth:`_failure`'s exception."""
        try:
            yield
        except (sqlite3.Error, OSError) as error:
            raise self._failure(error, operation) from error

    def _connect(self, *, write: bool = True) -> sqlite3.Connection:
        """A connection; ``write=False`` changes nothing in the file (no journal mode set), so that
        reading another program's SQLite file by mistake leaves it as it was."""
        if self.path.is_dir():
            raise RegistryError(self.path, IS_A_FOLDER.format(path=self.path))
        if self.path.exists() and not self.path.is_file():
            raise RegistryError(self.path, NOT_A_FILE)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise self._failure(error, "creating the registry's folder") from error
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if write:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            connection.close()
            raise
        connection.row_factory = sqlite3.Row
        return connection

    def check_writable(self) -> None:
        """Check, before anything else is written, that the registry can record: a SQLite file
        (or a new one) that can be locked for writing and hold the schema. An existing file is
        opened and its schema created in a transaction that is rolled back; a missing one is not
        created, but a file must be creatable in its folder (or the nearest existing one above).

        Raises
        ------
        RegistryError
            The path is a folder, not a SQLite database, or cannot be written.
        ToolFailure
            The registry stayed locked.
        """
        if self.path.is_dir():
            raise RegistryError(self.path, IS_A_FOLDER.format(path=self.path))
        if self.path.exists() and not self.path.is_file():
            raise RegistryError(self.path, NOT_A_FILE)
        if not self.path.exists():
            self._probe_folder()
            return
        if not os.access(self.path, os.R_OK | os.W_OK):
            raise RegistryError(self.path, CANNOT_WRITE.format(error="permission denied"))
        with self._translated("checking the registry"), closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(SCHEMA):
                    connection.execute(statement)
            finally:
                connection.execute("ROLLBACK")

    def _probe_folder(self) -> None:
        """For a registry not created yet: create and remove a hidden file in the nearest existing
        folder it would be created under (``os.access`` says yes to root even where nothing can
        be created, as under ``/proc``)."""
        from validation.reporting.files import probe_creatable

        try:
            probe_creatable(self.path)
        except OSError as error:
            folder = next((p for p in self.path.absolute().parents if p.exists()), self.path.parent)
            raise RegistryError(self.path, CANNOT_OPEN.format(error=f"nothing can be created in {folder}: "
                                                              f"{error.strerror}")) from error

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]], ledger: tuple[str, str] | None = None, *,
               publish: Publish | None = None, operation: str = "writing to the registry") -> None:
        """Run statements in one transaction (:meth:`_transaction`); ``ledger = (kind, key)``
        appends the chained ledger entry of what was written."""

        def work(connection: sqlite3.Connection) -> None:
            for sql, parameters in statements:
                connection.execute(sql, parameters)
            if ledger is not None:
                _append_ledger(connection, *ledger)

        self._transaction(work, publish=(lambda _: publish()) if publish is not None else None, operation=operation)

    def _transaction(self, work: Callable[[sqlite3.Connection], T], *,
                     publish: Callable[[T], Callable[[], None]] | None = None,
                     operation: str = "writing to the registry") -> T:
        """Run ``work`` in one immediate transaction, retrying while the database is locked (the
        work is run again from the start: it reads what it needs inside the transaction).
        ``publish`` gets what ``work`` returned and runs just before COMMIT (see the module
        docstring), at most once: once it has run, a failure is not retried. An exception of
        ``work`` (a refused edit) or of ``publish`` rolls back and is re-raised as it is."""
        published: list[bool] = []
        for attempt in range(RETRIES):
            try:
                with closing(self._connect()) as connection:
                    connection.executescript(SCHEMA)
                    connection.execute("BEGIN IMMEDIATE")
                    undo: Callable[[], None] | None = None
                    try:
                        value = work(connection)
                        if publish is not None:
                            published.append(True)
                            undo = publish(value)
                        connection.execute("COMMIT")
                    except BaseException:
                        _abandon(connection, undo)
                        raise
                return value
            except sqlite3.Error as error:
                if not _locked(error) or published:
                    raise self._failure(error, operation) from error
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise ToolFailure(operation, self.path, STAYED_LOCKED.format(error=f"still locked after {RETRIES} attempts"))

    def _read(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._translated("reading the registry"), closing(self._connect(write=False)) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return []  # an empty database: no run recorded yet
            if "runs" not in tables:
                raise RegistryError(self.path, NOT_OURS.format(tables=", ".join(sorted(tables))[:200]))
            return [dict(row) for row in connection.execute(sql, parameters).fetchall()]

    def record(self, results: dict[str, Any], pack: str | Path, *, inputs: dict[str, str] | None = None,
               reused: dict[str, str] | None = None, publish: Publish | None = None) -> None:
        """Record one run (a pack's ``results.json``) with its checks and findings, atomically.

        Parameters
        ----------
        results
            The ``results.json`` document.
        pack
            The pack folder.
        inputs
            check -> sha256 of the check's inputs (for incremental runs).
        reused
            check -> run id whose results this run reused.
        publish
            Called inside the transaction after the inserts, just before COMMIT (e.g. renaming
            the staged pack into place); returns the undo called when the COMMIT then fails.
            When it raises, nothing is recorded and its exception is re-raised.

        Raises
        ------
        RegistryError
            The registry is a folder, not a SQLite database, or cannot be written.
        ToolFailure
            The registry stayed locked, or the disk failed.
        """
        run = results["run"]
        statements: list[tuple[str, tuple[Any, ...]]] = [(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run["id"], results["model"]["name"], results["model"]["version"], results["status"],
             run["started_at"], run["finished_at"], run["spec_sha256"], str(pack)),
        )]
        for check in results["checks"]:
            error = check.get("error")
            statements.append((
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run["id"], check["name"], check["status"], (inputs or {}).get(check["name"]),
                 (reused or {}).get(check["name"]), check.get("duration_seconds"),
                 json.dumps(error) if error else check.get("reason")),
            ))
            for f in check["findings"]:
                numeric = isinstance(f["value"], (int, float)) and not isinstance(f["value"], bool)
                statements.append((
                    "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run["id"], check["name"], f["metric"], f["subject"],
                     float(f["value"]) if numeric and math.isfinite(f["value"]) else None,
                     None if numeric else (None if f["value"] is None else str(f["value"])),
                     f["status"], f["amber"], f["red"]),
                ))
        self._write(statements, ledger=("run", run["id"]), publish=publish,
                    operation=f"recording run {run['id']} in the registry")

    def record_review(self, review: Mapping[str, Any], *, raised: Sequence[Mapping[str, Any]] = (),
                      publish: Callable[[list[dict[str, Any]]], Callable[[], None]] | None = None
                      ) -> list[dict[str, Any]]:
        """Record a validator's review (see :mod:`validation.governance.review`) and the register
        items it raises, in one transaction chained in the ledger.

        Parameters
        ----------
        review
            ``review_id``, ``run_id``, ``reviewer``, ``rating``, ``conclusion``, ``assessments``,
            ``reviewed_at`` and ``pack_sha256``.
        raised
            The items the review raises, every field of
            :data:`~validation.governance.register.ITEM_FIELDS` but ``id``: each gets the next id
            of its model here, inside the transaction.
        publish
            Called with the items (with their ids) just before COMMIT, as in :meth:`record`
            (writing the review's files into the pack); returns the undo.

        Returns
        -------
        list of dict
            The raised items with their ids.
        """

        def work(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            items = [_raise_item(connection, item, by=str(review["reviewer"])) for item in raised]
            details = {"conclusion": review["conclusion"], "assessments": review["assessments"],
                       "raised": [item["id"] for item in items]}
            connection.execute("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?)", (
                review["review_id"], review["run_id"], review["reviewer"], review["rating"], review["reviewed_at"],
                review["pack_sha256"], json.dumps(details, sort_keys=True)))
            _append_ledger(connection, "review", str(review["review_id"]))
            return items

        return self._transaction(work, publish=publish,
                                 operation=f"recording review {review['review_id']} in the registry")

    def reviews(self, run_id: str) -> list[dict[str, Any]]:
        """A run's reviews as stored (``decision`` is the rating, ``findings`` JSON text)."""
        return self._read("SELECT * FROM reviews WHERE run_id = ? ORDER BY reviewed_at", (run_id,))

    def register_items(self, *, model: str | None = None, status: str | None = None,
                       ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Register items (:data:`~validation.governance.register.ITEM_FIELDS`), by model and number."""
        clauses, parameters = [], []
        for column, value in (("model", model), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                parameters.append(value)
        if ids is not None:
            clauses.append(f"id IN ({', '.join('?' for _ in ids)})")
            parameters.extend(ids)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read_register(f"SELECT * FROM register{where} ORDER BY model, number", tuple(parameters))
        return [_item(row) for row in rows]

    def register_events(self, item_id: str) -> list[dict[str, Any]]:
        """Every change of an item, oldest first: revision, at, by, field, old, new, note."""
        return self._read_register("SELECT * FROM register_events WHERE item_id = ? ORDER BY revision, field",
                                   (item_id,))

    def carried_items(self, model: str, version: str) -> list[dict[str, Any]]:
        """The items of ``model`` not closed, raised on an earlier version: one whose first run came
        before ``version``'s first run (any other version when ``version`` has none yet), as in
        :meth:`earlier_version_findings`."""
        from validation.governance.register import CLOSED

        rows = self._read_register(
            "SELECT register.* FROM register WHERE model = ? AND version != ? "
            f"AND status NOT IN ({', '.join('?' for _ in CLOSED)}) "
            "AND COALESCE((SELECT MIN(first.rowid) FROM runs AS first WHERE first.model = register.model "
            "AND first.version = register.version), 0) < COALESCE((SELECT MIN(mine.rowid) FROM runs AS mine "
            "WHERE mine.model = ? AND mine.version = ?), 9223372036854775807) ORDER BY number",
            (model, version, *CLOSED, model, version))
        return [_item(row) for row in rows]

    def update_items(self, changes: Mapping[str, Mapping[str, str]], *, by: str, note: str | None = None,
                     expected: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Apply checked changes (item id -> {field: new value}) in one transaction: every item
        that changes is a new revision with one event per changed field, chained in the ledger.
        All or nothing: an unknown id, or an item whose ``updated_at`` is no longer
        ``expected[id]`` (someone changed it since it was read), changes nothing.

        Returns
        -------
        list of dict
            The changed items as they are now.

        Raises
        ------
        InputError
            An unknown id, or an item updated since ``expected`` was read.
        """
        from validation.errors import InputError

        def work(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            at = register_time()
            changed = []
            for item_id, fields in changes.items():
                row = connection.execute("SELECT * FROM register WHERE id = ?", (item_id,)).fetchone()
                if row is None:
                    raise InputError(f"register item {item_id!r}: not in the registry {self.path}; "
                                     "`validation findings list` shows the items")
                if expected is not None and expected.get(item_id) not in (None, row["updated_at"]):
                    raise InputError(f"register item {item_id}: updated at {row['updated_at']} by someone else since "
                                     "it was read; read it again and redo the change")
                differing = {f: v for f, v in fields.items() if str(row[f]) != v}
                if differing:
                    changed.append(_apply_change(connection, dict(row), differing, at=at, by=by, note=note))
            return changed

        return self._transaction(work, operation="updating the findings register")

    def _read_register(self, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
        """:meth:`_read` of the register tables, which a registry written before the register
        lacks (no item yet)."""
        if not self.path.exists():
            return []
        with self._translated("reading the registry"), closing(self._connect(write=False)) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "runs" not in tables:
            return self._read(sql, parameters)  # raises: not a validation registry
        if "register" not in tables:
            return []
        return self._read(sql, parameters)

    def verify(self) -> list[str]:
        """Problems with the registry's ledger (an empty list when intact)."""
        if not self.path.exists():
            return [f"{self.path}: no such registry"]
        problems = []
        with self._translated("verifying the registry"), closing(self._connect()) as connection:
            connection.executescript(SCHEMA)
            entries = connection.execute("SELECT * FROM ledger ORDER BY seq").fetchall()
            previous = GENESIS
            recorded = set()
            for entry in entries:
                where = f"ledger entry {entry['seq']} ({entry['kind']} {entry['key']})"
                recorded.add((entry["kind"], entry["key"]))
                if entry["prev_hash"] != previous:
                    problems.append(f"{where}: does not follow the previous entry (an entry was deleted or edited)")
                if _chain(entry["prev_hash"], entry["kind"], entry["key"], entry["content_sha256"]) != entry["row_hash"]:
                    problems.append(f"{where}: its hash does not match its content (the entry was edited)")
                if _content(connection, entry["kind"], entry["key"]) != entry["content_sha256"]:
                    problems.append(f"{where}: its rows changed since they were recorded (edited or deleted)")
                previous = entry["row_hash"]
            for (run_id,) in connection.execute("SELECT run_id FROM runs").fetchall():
                if ("run", run_id) not in recorded:
                    problems.append(f"run {run_id}: not in the ledger (inserted by hand)")
            for (review_id,) in connection.execute("SELECT review_id FROM reviews").fetchall():
                if ("review", review_id) not in recorded:
                    problems.append(f"review {review_id}: not in the ledger (inserted by hand)")
            problems += _register_problems(connection, recorded)
        return problems

    def record_alert(self, *, target: str, runs: Sequence[str], status: str, attempts: int,
                     error: str | None) -> None:
        """One delivery of a run's message (:mod:`validation.governance.alerts`): the target as
        it may be shown (secrets masked), the runs it reported, ``sent`` or ``failed``."""
        self._write([("INSERT INTO alerts (at, target, runs, status, attempts, error) VALUES (?, ?, ?, ?, ?, ?)",
                      (register_time(), target, ",".join(runs), status, attempts, error))],
                     operation="recording an alert delivery")

    def alerts(self, *, failed: bool = True) -> list[dict[str, Any]]:
        """Deliveries of run messages, newest first: the failed ones (``failed``), or all."""
        rows = self._read("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alerts'")
        if not rows:
            return []
        where = "WHERE status = 'failed' " if failed else ""
        return self._read(f"SELECT at, target, runs, status, attempts, error FROM alerts {where}ORDER BY seq DESC")

    def reusable(self, model: str, version: str, check: str, inputs_sha256: str) -> dict[str, Any] | None:
        """The latest successful run of this check with the same inputs, if its pack still exists."""
        rows = self._read(
            "SELECT runs.run_id, runs.pack FROM checks JOIN runs USING (run_id) "
            "WHERE runs.model = ? AND runs.version = ? AND checks.name = ? AND checks.inputs_sha256 = ? "
            "AND checks.status NOT IN ('error') ORDER BY runs.finished_at DESC, runs.rowid DESC",
            (model, version, check, inputs_sha256))
        for row in rows:
            if (Path(row["pack"]) / "results.json").is_file():
                return row
        return None

    def runs(self, model: str) -> list[dict[str, Any]]:
        """Every run of a model, oldest first."""
        return self._read("SELECT * FROM runs WHERE model = ? ORDER BY finished_at, rowid", (model,))

    def models(self) -> list[str]:
        """Every model with a run, by name."""
        return [r["model"] for r in self._read("SELECT DISTINCT model FROM runs ORDER BY model")]

    def latest_run(self, model: str, version: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM runs WHERE model = ? AND version = ? ORDER BY finished_at DESC, rowid DESC "
                          "LIMIT 1", (model, version))
        return rows[0] if rows else None

    def earlier_version_findings(self, model: str, version: str, check: str, metric: str) -> dict[str, Any] | None:
        """The values of ``check``'s ``metric`` in the latest run of an earlier version of
        ``model``: one whose first run came before ``version``'s first run (any other version if
        ``version`` has none yet), so that re-validating an old version never takes a newer one
        as its predecessor. ``{"version", "run", "values": {subject: value}}``, or None."""
        rows = self._read(
            "SELECT runs.run_id, runs.version, findings.subject, findings.value FROM runs JOIN findings USING (run_id) "
            "WHERE runs.model = ? AND runs.version != ? AND findings.check_name = ? AND findings.metric = ? "
            "AND (SELECT MIN(first.rowid) FROM runs AS first WHERE first.model = runs.model AND first.version = runs.version)"
            " < COALESCE((SELECT MIN(mine.rowid) FROM runs AS mine WHERE mine.model = ? AND mine.version = ?), "
            "9223372036854775807) "
            "ORDER BY runs.finished_at DESC, runs.rowid DESC", (model, version, check, metric, model, version))
        if not rows:
            return None
        run_id = rows[0]["run_id"]
        values = {r["subject"]: r["value"] for r in rows if r["run_id"] == run_id}
        return {"version": rows[0]["version"], "run": run_id, "values": values}

    def findings(self, run_id: str) -> list[dict[str, Any]]:
        """A run's findings as in ``results.json`` (with ``check``): value numeric or text."""
        rows = self._read("SELECT * FROM findings WHERE run_id = ? ORDER BY check_name, metric, subject", (run_id,))
        return [{"check": r["check_name"], "metric": r["metric"], "subject": r["subject"],
                 "value": r["value"] if r["value"] is not None else r["value_text"], "status": r["status"],
                 "amber": r["amber"], "red": r["red"]} for r in rows]

    def count(self, table: str) -> int:
        if table not in ("runs", "checks", "findings"):
            raise ValueError(f"unknown table {table!r}")
        rows = self._read(f"SELECT COUNT(*) AS n FROM {table}")
        return int(rows[0]["n"]) if rows else 0

    def versions(self, model: str) -> Iterator[str]:
        seen: dict[str, None] = {}
        for row in self.runs(model):
            seen.setdefault(row["version"], None)
        return iter(seen)


def _abandon(connection: sqlite3.Connection, undo: Callable[[], None] | None) -> None:
    """After a failure inside a transaction: undo what ``publish`` did (its COMMIT failed), then
    roll back (which fails harmlessly when SQLite rolled back already)."""
    try:
        if undo is not None:
            undo()
    finally:
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def _chain(prev_hash: str, kind: str, key: str, content_sha256: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{kind}|{key}|{content_sha256}".encode()).hexdigest()


def _content(connection: sqlite3.Connection, kind: str, key: str) -> str:
    """sha256 of the rows of a run (with its checks and findings), of a review, or of a register
    item's revision (``<id>@<n>``: its events), as stored."""
    if kind == "run":
        parts = [
            connection.execute("SELECT * FROM runs WHERE run_id = ?", (key,)).fetchall(),
            connection.execute("SELECT * FROM checks WHERE run_id = ? ORDER BY name", (key,)).fetchall(),
            connection.execute("SELECT * FROM findings WHERE run_id = ? ORDER BY check_name, metric, subject, "
                               "value, value_text, status", (key,)).fetchall(),
        ]
    elif kind == "register":
        item_id, _, revision = key.rpartition("@")
        parts = [connection.execute("SELECT * FROM register_events WHERE item_id = ? AND revision = ? ORDER BY field",
                                    (item_id, int(revision) if revision.isdigit() else -1)).fetchall()]
    else:
        parts = [connection.execute("SELECT * FROM reviews WHERE review_id = ?", (key,)).fetchall()]
    canonical = json.dumps([[list(row) for row in part] for part in parts], sort_keys=True, default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _append_ledger(connection: sqlite3.Connection, kind: str, key: str) -> None:
    last = connection.execute("SELECT row_hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    prev_hash = last[0] if last else GENESIS
    content = _content(connection, kind, key)
    connection.execute("INSERT INTO ledger (kind, key, content_sha256, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?)",
                       (kind, key, content, prev_hash, _chain(prev_hash, kind, key, content)))


def register_time() -> str:
    """The time of a register write: UTC to the microsecond, so that two updates of an item within a
    second still have different ``updated_at`` (an import compares it to detect a later change)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


ITEM_COLUMNS = ("id", "model", "number", "version", "run_id", "review_id", "target", "title", "severity", "owner",
                "due", "remediation", "status", "raised_at", "updated_at", "revision")
"""The columns of the ``register`` table, in order."""


def _item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A register row as an item (:data:`~validation.governance.register.ITEM_FIELDS`)."""
    from validation.governance.register import ITEM_FIELDS

    return {name: row[name] for name in ITEM_FIELDS}


def _raise_item(connection: sqlite3.Connection, item: Mapping[str, Any], *, by: str) -> dict[str, Any]:
    """Insert a new item with the next number of its model (revision 1: its ``raised`` event and
    ledger entry); returns it with its id."""
    model = str(item["model"])
    last = max(
        (connection.execute("SELECT last FROM register_numbers WHERE model = ?", (model,)).fetchone() or [0])[0],
        connection.execute("SELECT COALESCE(MAX(number), 0) FROM register WHERE model = ?", (model,)).fetchone()[0])
    number = last + 1
    row = {**{name: item.get(name) for name in ITEM_COLUMNS}, "id": f"{model}-{number:03d}", "number": number,
           "revision": 1}
    connection.execute("INSERT OR REPLACE INTO register_numbers VALUES (?, ?)", (model, number))
    connection.execute(f"INSERT INTO register VALUES ({', '.join('?' for _ in ITEM_COLUMNS)})",
                       tuple(row[name] for name in ITEM_COLUMNS))
    raised = {k: v for k, v in row.items() if k not in ("id", "revision")}
    connection.execute("INSERT INTO register_events VALUES (?, 1, ?, ?, 'raised', NULL, ?, NULL)",
                       (row["id"], row["raised_at"], by, json.dumps(raised, sort_keys=True)))
    _append_ledger(connection, "register", f"{row['id']}@1")
    return _item(row)


def _apply_change(connection: sqlite3.Connection, row: dict[str, Any], fields: Mapping[str, str], *, at: str,
                  by: str, note: str | None) -> dict[str, Any]:
    """Write one revision of an item: its changed fields, one event each, and the ledger entry."""
    revision = int(row["revision"]) + 1
    for field, value in sorted(fields.items()):
        connection.execute("INSERT INTO register_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (row["id"], revision, at, by, field, row[field], value, note))
    assignments = ", ".join(f"{field} = ?" for field in sorted(fields))
    connection.execute(f"UPDATE register SET {assignments}, updated_at = ?, revision = ? WHERE id = ?",
                       (*[fields[f] for f in sorted(fields)], at, revision, row["id"]))
    _append_ledger(connection, "register", f"{row['id']}@{revision}")
    return _item({**row, **fields, "updated_at": at, "revision": revision})


def _replay(events: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """An item's state from its events (``raised``, then each revision's changes); None when the
    events do not start with ``raised``."""
    if not events or events[0]["field"] != "raised":
        return None
    state: dict[str, Any] = json.loads(events[0]["new"])
    state.update(id=events[0]["item_id"], revision=1)
    for event in events[1:]:
        state[event["field"]] = event["new"]
        state.update(updated_at=event["at"], revision=event["revision"])
    return state


def _register_problems(connection: sqlite3.Connection, recorded: set[tuple[str, str]]) -> list[str]:
    """Register rows that differ from the replay of their events, or whose latest revision is not
    in the ledger, and items whose row was deleted."""
    problems = []
    events: dict[str, list[Mapping[str, Any]]] = {}
    for event in connection.execute("SELECT * FROM register_events ORDER BY item_id, revision, field = 'raised' DESC, "
                                    "field").fetchall():
        events.setdefault(event["item_id"], []).append(event)
    rows = {row["id"]: dict(row) for row in connection.execute("SELECT * FROM register").fetchall()}
    for item_id, row in rows.items():
        replayed = _replay(events.get(item_id, []))
        if replayed is None:
            problems.append(f"register item {item_id}: has no recorded events (inserted by hand)")
            continue
        differing = [name for name in ITEM_COLUMNS if str(replayed.get(name)) != str(row[name])]
        if differing:
            problems.append(f"register item {item_id}: its row differs from its recorded events in "
                            f"{', '.join(differing)} (edited by hand)")
        if ("register", f"{item_id}@{row['revision']}") not in recorded:
            problems.append(f"register item {item_id}: revision {row['revision']} is not in the ledger")
    for item_id in sorted(set(events) - set(rows)):
        problems.append(f"register item {item_id}: its row was deleted (its events remain)")
    return problems
