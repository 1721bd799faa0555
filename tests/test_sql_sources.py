"""SQL sources against a real PostgreSQL server that these tests start, and DuckDB over parquet.

The server: Debian's ``postgresql`` binaries (``initdb``, ``pg_ctl``), a cluster in a temporary
folder, listening on 127.0.0.1 at a free port with its socket in that folder, password
authentication (scram-sha-256) over TCP. PostgreSQL refuses to run as root, so as root the
binaries run as the ``postgres`` user (else ``nobody``). Without the binaries the tests skip,
except in CI (``CI`` set), where ``.ci/run`` installs them and their absence is a failure.

The reference for every SQL result is the same data read from parquet files: each check's
findings from PostgreSQL and from DuckDB must equal those from the files.
"""

from __future__ import annotations

import gc
import glob
import hashlib
import json
import math
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from validation.cli import main

CHECKS = ("data_quality", "drift", "fairness", "explainability", "backtesting", "challenger")
PASSWORD_VARIABLE = "VALIDATION_TEST_PGPASSWORD"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, password: str | None = None) -> str:
        """A spec's URL: the password as a ``${VAR}`` placeholder (or ``password`` literally, for tests
        that refuse it)."""
        secret = password if password is not None else "${" + PASSWORD_VARIABLE + "}"
        return f"postgresql://{self.user}:{secret}@{self.host}:{self.port}/{self.database}"

    def engine(self) -> Any:
        import sqlalchemy

        return sqlalchemy.create_engine(f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/"
                                        f"{self.database}")


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    folder = _binaries()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are missing in CI: .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL is not installed (Debian's postgresql package: initdb and pg_ctl); "
                    "these tests start their own server")
    root = Path(tempfile.mkdtemp(prefix="validation-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as an existing unprivileged user
        names = [entry.pw_name for entry in pwd.getpwall()]
        user = pwd.getpwnam("postgres" if "postgres" in names else "nobody")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", user.pw_name, "--"]
    password = hashlib.sha256(os.urandom(16)).hexdigest()[:20]
    (root / "password").write_text(password + "\n")
    if prefix:
        os.chown(root / "password", user.pw_uid, user.pw_gid)
    port = _free_port()
    subprocess.run([*prefix, str(folder / "initdb"), "-D", str(root / "data"), "-U", "validation", "-E", "UTF8",
                    "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={root / 'password'}",
                    "--no-sync"], check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off"
    subprocess.run([*prefix, str(folder / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w",
                    "-t", "60", "-o", options, "start"], check=True, capture_output=True)
    try:
        yield Server("127.0.0.1", port, "validation", password, "postgres")
    finally:
        subprocess.run([*prefix, str(folder / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def password(postgres: Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's password in the environment, where a spec's ``${VAR}`` reads it."""
    monkeypatch.setenv(PASSWORD_VARIABLE, postgres.password)
    return postgres.password


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's data, models and spec (German credit, two versions with artifacts)."""
    from validation.demo import prepare_demo

    return prepare_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def loaded(postgres: Server, demo: Path) -> Server:
    """The demo's reference and monitoring samples as PostgreSQL tables, with a column no check
    names (``notes``), which must never be read."""
    data = demo.parent.parent / "demo" / "data"
    engine = postgres.engine()
    for name in ("reference", "monitoring"):
        frame = pd.read_parquet(data / f"{name}.parquet")
        frame["notes"] = "free text no check may read"
        frame.to_sql(name, engine, index=False, if_exists="replace")
    with engine.begin() as connection:
        connection.exec_driver_sql("create sequence if not exists tickets")
    engine.dispose()
    return postgres


def _write(demo: Path, name: str, reference: Any, current: Any) -> Path:
    spec = yaml.safe_load(demo.read_text())
    spec["data"]["reference"], spec["data"]["current"] = reference, current
    path = demo.parent / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _postgres_spec(demo: Path, server: Server) -> Path:
    return _write(demo, "from_postgres.yaml", {"sql": server.url(), "table": "reference"},
                  {"sql": server.url(), "query": "select * from monitoring where month like '2025-%' and notes <> ':x'"})


def _duckdb_spec(demo: Path) -> Path:
    # relative file names in a DuckDB query are the spec's folder's (params/)
    return _write(demo, "from_duckdb.yaml",
                  {"sql": "duckdb:///:memory:",
                   "query": "select * from read_parquet('../demo/data/reference.parquet') -- development, out of time"},
                  {"sql": "duckdb:///:memory:", "query": "select * from read_parquet('../demo/data/monitoring.parquet');"})


def _findings(spec: Path, check: str) -> str:
    from validation.checks import run_check

    output = run_check(check, spec, "2")
    return json.dumps(output.findings, sort_keys=True, default=str)


@pytest.fixture(scope="module")
def from_files(demo: Path) -> dict[str, str]:
    """Every check's findings on version 2 with the samples read from the parquet files."""
    return {check: _findings(demo, check) for check in CHECKS}


@pytest.mark.parametrize("engine", ["postgresql", "duckdb"])
def test_every_check_finds_what_it_finds_on_the_files(engine: str, loaded: Server, password: str, demo: Path,
                                                       from_files: dict[str, str]) -> None:
    spec = _postgres_spec(demo, loaded) if engine == "postgresql" else _duckdb_spec(demo)
    for check in CHECKS:
        found = _findings(spec, check)
        assert found == from_files[check], check
        assert len(json.loads(found)) > 5, check  # a check that found nothing would agree trivially


def _manifest(pack: Path) -> dict[str, Any]:
    return json.loads((pack / "manifest.json").read_text())


def _raw(results: dict[str, Any]) -> dict[str, list[tuple[str, str, Any]]]:
    """(metric, subject, value) of each check's findings, in order."""
    return {check["name"]: [(f["metric"], f["subject"], None if f["value"] is None or
                             (isinstance(f["value"], float) and math.isnan(f["value"])) else f["value"])
                            for f in check["findings"]] for check in results["checks"]}


def _leftover_snapshots() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "validation-sql-*")))


def test_validation_run_reads_postgres_once_and_records_the_query(loaded: Server, password: str, demo: Path,
                                                                  from_files: dict[str, str], tmp_path: Path) -> None:
    spec = _postgres_spec(demo, loaded)
    before = _leftover_snapshots()
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["run", str(spec), "--version", "2", "--out", str(tmp_path), "--quiet"])
    seconds = time.perf_counter() - started
    assert result.exit_code in (0, 1), (result.output, result.exception)
    pack = next((tmp_path / "german_credit_pd" / "2").iterdir())
    results = json.loads((pack / "results.json").read_text())
    assert "error" not in [c["status"] for c in results["checks"]]
    expected = {check: [(f["metric"], f["subject"], None if f["value"] is None or
                         (isinstance(f["value"], float) and math.isnan(f["value"])) else f["value"])
                        for f in json.loads(from_files[check])] for check in CHECKS}
    assert _raw(results) == expected
    inputs = _manifest(pack)["inputs"]
    current = inputs["data.current"]
    query = yaml.safe_load(spec.read_text())["data"]["current"]["query"]
    assert current["query_sha256"] == hashlib.sha256(query.encode()).hexdigest()
    assert current["sql"] == loaded.url() and "${" + PASSWORD_VARIABLE + "}" in current["sql"]
    assert loaded.password not in json.dumps(_manifest(pack))
    assert current["rows"] == 300 and inputs["data.reference"]["rows"] == 150
    assert inputs["data.reference"]["table"] == "reference"
    assert "notes" not in current["columns"] and "applicant_id" in current["columns"]
    assert len(current["sha256"]) == 64
    # the snapshot folder of the run is gone once the run's plans are (collected; at the latest at exit)
    gc.collect()
    assert _leftover_snapshots() <= before
    print(f"validation run, {len(CHECKS)} checks from PostgreSQL: {seconds:.1f} s")


def test_a_snapshot_holds_only_the_named_columns_and_hashes_the_rows(loaded: Server, password: str,
                                                                     demo: Path) -> None:
    import pyarrow.parquet as pq

    from validation.inputs.samples import wanted_columns
    from validation.inputs.spec import load_spec
    from validation.inputs.sql import SnapshotStore, take_snapshots

    entry = load_spec(_postgres_spec(demo, loaded)).version("2")
    first, second = SnapshotStore(), SnapshotStore()
    taken = take_snapshots(entry, first, wanted_columns(entry))
    again = take_snapshots(entry, second, wanted_columns(entry))
    snapshot = taken["data.current"]
    assert pq.read_schema(snapshot.path).names == list(snapshot.columns)
    assert set(snapshot.columns) == set(wanted_columns(entry) or []) and "notes" not in snapshot.columns
    # the same rows read twice are the same snapshot, byte for byte (a reused check's inputs are unchanged)
    assert snapshot.sha256 == again["data.current"].sha256
    assert pd.read_parquet(snapshot.path).equals(pd.read_parquet(again["data.current"].path))
    folder = first.folder
    first.close()
    assert not folder.exists()
    second.close()


def _run(spec: Path, out: Path) -> Any:
    return CliRunner().invoke(main, ["run", str(spec), "--version", "2", "--out", str(out), "--quiet"])


@pytest.mark.parametrize(("current", "fragment"), [
    ({"query": "select * from monitoring wher month = '2025-07'"},
     "data.current.query failed (syntax error at or near \"month\"); check the query"),
    ({"table": "absent"}, "data.current.table failed (relation \"absent\" does not exist"),
    ({"query": "with gone as (delete from monitoring returning *) select * from gone"},
     "data.current.query failed (WITH clause containing a data-modifying statement must be at the top level)"),
    ({"query": "select *, nextval('tickets') as ticket from monitoring"},
     "data.current.query failed (cannot execute nextval() in a read-only transaction)"),
    ({"query": "select * from monitoring where month = 'never'"}, "data.current.query returned no rows"),
], ids=["bad query", "missing table", "a write", "a write in a read-only transaction", "no rows"])
def test_bad_queries_exit_2_naming_the_key(loaded: Server, password: str, demo: Path, tmp_path: Path,
                                           current: dict[str, str], fragment: str) -> None:
    spec = _write(demo, "bad.yaml", {"sql": loaded.url(), "table": "reference"}, {"sql": loaded.url(), **current})
    result = _run(spec, tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    assert fragment in result.output and "(data.current: postgresql://" in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
    engine = loaded.engine()
    with engine.connect() as connection:  # the data-modifying query deleted nothing
        assert connection.exec_driver_sql("select count(*) from monitoring").scalar() == 300
    engine.dispose()


def test_credentials(loaded: Server, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The password from the environment works, a missing or wrong one exits 2 naming the key, and
    a literal one in the spec is refused without being echoed."""
    from validation.inputs.samples import load_samples
    from validation.inputs.spec import load_spec

    spec = _write(demo, "creds.yaml", {"sql": loaded.url(), "table": "reference"},
                  {"sql": loaded.url(), "table": "monitoring"})
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    result = _run(spec, tmp_path / "a")
    assert result.exit_code == 2 and (f"the environment variable {PASSWORD_VARIABLE} named in data.reference.sql "
                                      "is not set") in result.output, result.output
    monkeypatch.setenv(PASSWORD_VARIABLE, "wrong")
    result = _run(spec, tmp_path / "b")
    assert result.exit_code == 2 and "could not connect to the database (connection failed" in result.output
    assert "password authentication failed" in result.output and "data.reference" in result.output, result.output
    # libpq's own variable, with no placeholder in the URL
    monkeypatch.delenv(PASSWORD_VARIABLE)
    monkeypatch.setenv("PGPASSWORD", loaded.password)
    plain = f"postgresql://{loaded.user}@{loaded.host}:{loaded.port}/{loaded.database}"
    spec = _write(demo, "pgpassword.yaml", {"sql": plain, "table": "reference"}, {"sql": plain, "table": "monitoring"})
    samples = load_samples(load_spec(spec).version("2"), load_model=False)
    assert (len(samples.reference), len(samples.current)) == (150, 300)
    spec = _write(demo, "literal.yaml", {"sql": loaded.url(loaded.password), "table": "reference"},
                  {"sql": plain, "table": "monitoring"})
    result = _run(spec, tmp_path / "d")
    assert result.exit_code == 2 and "data.reference.sql: a literal password in the URL" in result.output
    assert loaded.password not in result.output


def test_an_unreachable_server_exits_2(demo: Path, tmp_path: Path) -> None:
    url = f"postgresql://risk@127.0.0.1:{_free_port()}/bank"  # nothing listens there
    spec = _write(demo, "unreachable.yaml", "../demo/data/reference.parquet", {"sql": url, "table": "loans"})
    result = _run(spec, tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    assert "could not connect to the database (connection failed" in result.output
    assert f"(data.current: {url} table loans)" in result.output, result.output


def _dated(n: int, *, seed: int) -> pd.DataFrame:
    """A scored portfolio with a day of application, a segment with missing values, and column
    names a dialect must quote (an upper-case one, one with a space, a reserved word)."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    score = 1 / (1 + np.exp(1.5 + 0.8 * (np.log(income) - 10)))
    return pd.DataFrame({
        "id": np.arange(n), "Income": income, "loan size": rng.integers(1, 50, n) * 1000.0,
        "order": rng.integers(0, 4, n), "channel": np.where(np.arange(n) % 10 == 0, None,
                                                            rng.choice(["branch", "web"], n)),
        "pd": score, "default": (rng.random(n) < score).astype(int),
        "applied": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) % 181, unit="D"),
    })


def test_dates_and_quoted_columns_from_postgres(postgres: Server, password: str, tmp_path: Path) -> None:
    """A PostgreSQL ``date`` column is counted by month, a segment's NULLs are the ``(missing)``
    slice, and quoted column names survive the column selection."""
    from validation.checks import run_check

    current = _dated(543, seed=2)
    engine = postgres.engine()
    _dated(300, seed=1).to_sql("dated_reference", engine, index=False, if_exists="replace")
    current.assign(applied=current["applied"].dt.date).to_sql("dated_current", engine, index=False,
                                                               if_exists="replace")
    with engine.begin() as connection:  # a real SQL date, and a numeric column read as floats
        connection.exec_driver_sql("alter table dated_current alter column applied type date")
        connection.exec_driver_sql('alter table dated_current alter column "loan size" type numeric(12, 2)')
    engine.dispose()
    spec = tmp_path / "dated.yaml"
    spec.write_text(yaml.safe_dump({
        "model": {"name": "dated", "version": "1"},
        "data": {"reference": {"sql": postgres.url(), "table": "dated_reference"},
                 "current": {"sql": postgres.url(), "table": "public.dated_current"},
                 "target": "default", "score": "pd", "features": ["Income", "loan size", "order"],
                 "ids": ["id"], "time": "applied", "segments": ["channel"]},
        "checks": ["backtesting"]}))
    output = run_check("backtesting", spec)
    months = current["applied"].dt.strftime("%Y-%m").value_counts().sort_index()
    assert output.tables["period"]["n"].to_dict() == months.to_dict()
    assert list(months.index) == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert output.tables["channel"].loc["(missing)", "n"] == current["channel"].isna().sum() == 55
    assert output.context.samples.current["loan size"].dtype == np.float64


def test_a_version_may_read_its_own_sql_source(tmp_path: Path) -> None:
    """A version's ``data.current`` overrides the spec's with a SQL source (and back), each
    resolved as given: a path against the spec's folder, a SQL source as written."""
    from validation.inputs.spec import SqlSource, load_spec

    spec = tmp_path / "versions.yaml"
    spec.write_text(yaml.safe_dump({
        "model": {"name": "m", "version": "1"},
        "data": {"reference": {"sql": "duckdb:///:memory:", "table": "dev"}, "current": "data/cur.parquet",
                 "target": "default", "score": "pd"},
        "checks": ["drift"],
        "versions": [{"version": "1"},
                     {"version": "2", "data": {"current": {"sql": "duckdb:///:memory:", "query": "select 1 as x"}}},
                     {"version": "3", "data": {"reference": "data/ref.parquet"}}]}))
    first, second, third = load_spec(spec).versions
    assert first.data.current == str(tmp_path / "data" / "cur.parquet")
    assert isinstance(second.data.current, SqlSource) and second.data.current.query == "select 1 as x"
    assert second.data.current.query_sha256 == hashlib.sha256(b"select 1 as x").hexdigest()
    assert isinstance(first.data.reference, SqlSource) and first.data.reference.table == "dev"
    assert third.data.reference == str(tmp_path / "data" / "ref.parquet")


def _batched_spec(path: Path, reference: Any, current: Any, checks: list[str]) -> Path:
    path.write_text(yaml.safe_dump({
        "model": {"name": "batched", "version": "1"},
        "data": {"reference": reference, "current": current, "target": "default", "score": "pd",
                 "features": ["income", "tenure", "region"], "protected": ["sex"], "time": "month",
                 "segments": ["region"], "batch_rows": 1000},
        "decision": {"threshold": 0.2, "favourable": "below"},
        "checks": checks}))
    return path


BATCH_CHECKS = ["drift", "fairness", "backtesting", "data_quality"]


def test_sql_sources_read_in_batches_judge_as_their_files(postgres: Server, password: str, tmp_path: Path) -> None:
    """With ``data.batch_rows``, PostgreSQL (a server-side cursor) and DuckDB sources are
    snapshotted a batch at a time into row groups of ``batch_rows`` rows, and every check that
    reads batches finds, to the last digit, what it finds on the same rows read in batches from
    parquet files. A missing income in the second batch only (its batch has floats, the first's
    none) still makes one column."""
    from conftest import synthetic_sample

    reference, current = synthetic_sample(4000, seed=1), synthetic_sample(3500, seed=2, shift=0.2)
    current.loc[current.index[1500:1503], "income"] = np.nan
    folder = tmp_path / "data"
    folder.mkdir()
    reference.to_parquet(folder / "ref.parquet")
    current.to_parquet(folder / "cur.parquet")
    engine = postgres.engine()
    reference.to_sql("batched_reference", engine, index=False, if_exists="replace")
    current.to_sql("batched_current", engine, index=False, if_exists="replace")
    engine.dispose()
    specs = {
        "files": _batched_spec(tmp_path / "files.yaml", "data/ref.parquet", "data/cur.parquet", BATCH_CHECKS),
        "postgresql": _batched_spec(tmp_path / "pg.yaml", {"sql": postgres.url(), "table": "batched_reference"},
                                    {"sql": postgres.url(), "query": "select * from batched_current"}, BATCH_CHECKS),
        "duckdb": _batched_spec(tmp_path / "duck.yaml", *({"sql": "duckdb:///:memory:",
                                                          "query": f"select * from read_parquet('data/{name}.parquet')"}
                                                         for name in ("ref", "cur")), BATCH_CHECKS),
    }
    results = {}
    for name, spec in specs.items():
        result = CliRunner().invoke(main, ["run", str(spec), "--out", str(tmp_path / name), "--quiet"])
        assert result.exit_code in (0, 1), (name, result.output, result.exception)
        pack = next((tmp_path / name / "batched" / "1").iterdir())
        results[name] = json.loads((pack / "results.json").read_text())
        if name != "files":
            assert _manifest(pack)["inputs"]["data.current"]["rows"] == 3500
    for check in results["files"]["checks"]:
        assert check["error"] is None and check["summary"]["batch_rows"] == 1000, check["name"]
        assert len(check["findings"]) > 3, check["name"]  # a check that found nothing would agree trivially
    for name in ("postgresql", "duckdb"):
        assert _raw(results[name]) == _raw(results["files"]), name
        assert [c["status"] for c in results[name]["checks"]] == [c["status"] for c in results["files"]["checks"]]
    # a notebook run by hand takes its own snapshot, in batches too
    from validation.checks import run_check

    by_hand = run_check("backtesting", specs["postgresql"])
    assert by_hand.summary["batch_rows"] == 1000
    assert json.dumps(by_hand.findings, sort_keys=True, default=str) == \
        json.dumps(run_check("backtesting", specs["files"]).findings, sort_keys=True, default=str)


def test_a_postgresql_snapshot_in_batches_is_fetched_from_a_server_side_cursor(postgres: Server, password: str,
                                                                                tmp_path: Path) -> None:
    """The rows come a batch at a time from a server-side cursor (``FETCH FORWARD`` is what the
    server is asked while the first batch is held), not all at once into the client, and the
    snapshot's row groups are the batches."""
    import pyarrow.parquet as pq

    from validation.inputs.spec import SqlSource
    from validation.inputs.sql import SnapshotStore, read_sql_batches

    engine = postgres.engine()
    pd.DataFrame({"x": np.arange(2500), "y": np.arange(2500) * 0.5}).to_sql("cursor_rows", engine, index=False,
                                                                           if_exists="replace")
    source = SqlSource(sql=postgres.url(), table="cursor_rows")
    frames = read_sql_batches(source, "data.current", ["x"], folder=tmp_path, batch_rows=1000)
    first = next(frames)
    with engine.connect() as connection:
        asked = [row[0] for row in connection.exec_driver_sql(
            "select query from pg_stat_activity where starts_with(query, 'FETCH FORWARD') "
            "and strpos(query, 'validation_snapshot') > 0")]
    assert asked and "1000" in asked[0], asked
    assert [len(first), *map(len, frames)] == [1000, 1000, 500] and list(first.columns) == ["x"]
    engine.dispose()
    store = SnapshotStore()
    snapshot = store.take(source, "data.current", ["x", "y"], folder=tmp_path, batch_rows=1000)
    meta = pq.ParquetFile(snapshot.path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]
    assert snapshot.rows == 2500 and snapshot.columns == ("x", "y")
    assert pd.read_parquet(snapshot.path)["y"].tolist() == (np.arange(2500) * 0.5).tolist()
    # DuckDB's streamed results make the same row groups
    pd.DataFrame({"x": np.arange(2500)}).to_parquet(tmp_path / "rows.parquet")
    duck = store.take(SqlSource(sql="duckdb:///:memory:", query="select * from read_parquet('rows.parquet')"),
                      "data.current", ["x"], folder=tmp_path, batch_rows=1000)
    meta = pq.ParquetFile(duck.path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]
    store.close()


def test_batches_of_different_types_make_one_column_or_a_clear_error(tmp_path: Path) -> None:
    """A batch's types are its own values' (a column of missing values only, whole numbers with a
    missing value): the snapshot holds each column in the type of all its batches, as a whole
    read gives it; numbers in one batch and text in another name the column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from validation.errors import DataError
    from validation.inputs.spec import SqlSource
    from validation.inputs.sql import _write_batches

    source = SqlSource(sql="duckdb:///:memory:", table="t")
    batches = [[(None, 1, "x"), (None, 2, None)], [("p", 3.5, None), ("q", None, None)]]  # rows as a cursor gives
    frames = [pd.DataFrame.from_records(rows, columns=["a", "b", "c"], coerce_float=True) for rows in batches]
    rows, names = _write_batches(iter(frames), tmp_path / "s.parquet", source, "data.current", 1000)
    table = pq.read_table(tmp_path / "s.parquet")
    assert (rows, names) == (4, ("a", "b", "c"))
    whole = pa.Table.from_pandas(pd.DataFrame.from_records(batches[0] + batches[1], columns=["a", "b", "c"],
                                                           coerce_float=True), preserve_index=False)  # as read whole
    assert table.schema.types == whole.schema.types and pa.types.is_floating(table.schema.field("b").type)
    assert table.column("a").to_pylist() == [None, None, "p", "q"]
    assert table.column("b").to_pylist()[:3] == [1.0, 2.0, 3.5]
    assert not list(tmp_path.glob("*.parts"))
    clash = [pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": ["p", "q"]})]
    with pytest.raises(DataError, match="column 'a': holds text in some rows and whole numbers in others"):
        _write_batches(iter(clash), tmp_path / "t.parquet", source, "data.current", 1000)
    assert not (tmp_path / "t.parquet").exists() and not list(tmp_path.glob("*.parts"))
