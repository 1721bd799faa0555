"""The bad-input catalogue: every case exits 2 with one message naming the file and the key or
column and how to fix it; no traceback; nothing written to --out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import synthetic_sample
from validation.cli import main
from validation.inputs.artifacts import sha256_file


def _artifact(tmp: Path, *, corrupt: bool = False) -> tuple[str, str]:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    frame = synthetic_sample(200, seed=1)
    model = LogisticRegression().fit(frame[["income", "tenure"]], frame["default"])
    path = tmp / "model.skops"
    sio.dump(model, path)
    if corrupt:
        path.write_bytes(b"garbage" * 10)
    return "model.skops", sha256_file(path)


Builder = Callable[[Callable[..., Path], Path], list[str]]


def spec_case(overrides: dict[str, Any] | None = None, raw: str | None = None,
              raw_edit: tuple[str, str | bytes] | None = None, **frames: Any) -> Builder:
    """A spec from ``write_spec`` with ``overrides``; or ``raw`` YAML; ``raw_edit = (old, new)``
    edits the written YAML text (for what a mapping cannot say: NaN, duplicate keys); the value
    ``"RECURSIVE"`` becomes a recursive alias."""
    def build(write_spec: Callable[..., Path], tmp: Path) -> list[str]:
        if raw_edit is not None:
            base = {"thresholds": {"psi": {"amber": 0.3}}, "checks": {"drift": {"bins": 10}}}
            path = write_spec({**base, **(overrides or {})})
            text = path.read_text()
            assert raw_edit[0] in text, text
            old, new = raw_edit
            if isinstance(new, bytes):  # bytes in another encoding than UTF-8
                path.write_bytes(text.encode().replace(old.encode(), new, 1))
            else:
                path.write_text(text.replace(old, new, 1))
            return [str(path)]
        path = write_spec(overrides, raw=raw, **frames)
        text = path.read_text()
        if "RECURSIVE" in text:
            path.write_text(text.replace("intersections: RECURSIVE", "intersections: &r [*r]"))
        return [str(path)]
    return build


def current_case(change: Callable[[Any], Any]) -> Builder:
    return spec_case(current=change(synthetic_sample(300, seed=2)))


def file_case(edit: Callable[[Path], None], overrides: dict[str, Any] | None = None) -> Builder:
    def build(write_spec: Callable[..., Path], tmp: Path) -> list[str]:
        path = write_spec(overrides)
        edit(tmp)
        return [str(path)]
    return build


def artifact_case(*, corrupt: bool = False, wrong_hash: bool = False, missing: bool = False) -> Builder:
    def build(write_spec: Callable[..., Path], tmp: Path) -> list[str]:
        name, digest = _artifact(tmp, corrupt=corrupt)
        if wrong_hash:
            digest = "0" * 64
        if missing:
            name = "absent.skops"
        return [str(write_spec({"model": {"artifact": name, "artifact_sha256": digest},
                                "data": {"score": None, "features": ["income", "tenure"]}}))]
    return build


def symlink_loop_case(write_spec: Callable[..., Path], tmp: Path) -> list[str]:
    (tmp / "loop_a").symlink_to(tmp / "loop_b")
    (tmp / "loop_b").symlink_to(tmp / "loop_a")
    return [str(write_spec({"data": {"reference": "loop_a"}}))]


def nested_parquet_case(kind: str) -> Builder:
    def build(write_spec: Callable[..., Path], tmp: Path) -> list[str]:
        path = write_spec()
        frame = synthetic_sample(300, seed=2)
        frame["tenure"] = {"list": [[1, 2]] * len(frame), "struct": [{"a": 1}] * len(frame),
                           "binary": [b"\x00\x01"] * len(frame)}[kind]
        frame.to_parquet(tmp / "data" / "cur.parquet")
        return [str(path)]
    return build


def _sqlite_without_loans(tmp: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp / "data" / "bank.sqlite") as connection:
        connection.execute("create table other (x integer)")
    connection.close()


ALIAS_BOMB = "\n".join(f"{name}: &{name} [{', '.join([previous] * 9)}]" for name, previous in
                       zip("abcdefg", ['"x"', "*a", "*b", "*c", "*d", "*e", "*f"]))


def usage_case(*extra: str) -> Builder:
    def build(write_spec: Callable[..., Path], tmp: Path) -> list[str]:
        return [str(write_spec()), *extra]
    return build


CASES: list[tuple[str, Builder, str]] = [
    # specs
    ("spec file missing", lambda w, t: [str(t / "absent.yaml")], "spec file not found"),
    ("spec is a folder", lambda w, t: [str(t)], "is a directory"),
    ("YAML syntax error", spec_case(raw="model: {name: x\ndata: [\n"), "YAML syntax error at line"),
    ("spec not a mapping", spec_case(raw="- a\n- b\n"), "expected a YAML mapping"),
    ("unknown top-level key", spec_case({"checkz": []}), "checkz: unknown key"),
    ("unknown nested key", spec_case({"data": {"scroe": "pd"}}), "data.scroe: unknown key; remove it or check its spelling; allowed here:"),
    ("wrong type", spec_case({"data": {"features": 3}}), "data.features"),
    ("model name with a path", spec_case({"model": {"name": "../../etc"}}), "not a valid model name"),
    ("version with a slash", spec_case({"model": {"version": "2/3"}}), "not a valid version"),
    ("unknown check", spec_case({"checks": ["drift", "stress"]}), "checks.stress: unknown check; known checks"),
    ("unknown check parameter", spec_case({"checks": {"drift": {"bin": 3}}}), "checks.drift.bin: the check has no such parameter"),
    ("hostile parameter name", spec_case({"checks": {"drift": {"__import__('os')": 1}}}), "Python identifiers"),
    ("parameter of the wrong type", spec_case({"checks": {"drift": {"bins": {"a": "set"}}}}),
     "checks.drift.bins: expected a whole number (the check's default is 10)"),
    ("boolean for a number", spec_case({"checks": {"fairness": {"min_group_size": True}}}), "expected a whole number"),
    ("thresholds in the wrong order", spec_case({"thresholds": {"psi": {"amber": 0.3, "red": 0.2}}}), "must not be below amber"),
    ("unknown threshold metric", spec_case({"thresholds": {"pis": {"amber": 1}}}), "thresholds.pis: unknown metric"),
    ("artifact without hash", spec_case({"model": {"artifact": "m.skops"}}), "model.artifact_sha256: required"),
    ("malformed hash", spec_case({"model": {"artifact": "m.skops", "artifact_sha256": "xyz"}}), "64 hexadecimal"),
    ("threshold above 1", spec_case({"decision": {"threshold": 1.5}}), "decision.threshold"),
    ("favourable misspelt", spec_case({"decision": {"favourable": "lower"}}), "decision.favourable"),
    ("grades not increasing", spec_case({"grades": [0.2, 0.1, 1.0]}), "grades: grade upper bounds must increase"),
    ("var level out of range", spec_case({"model": {"type": "var"}, "data": {"pnl": "p", "var": "v", "var_level": 1.5}}), "data.var_level"),
    ("empty versions", spec_case({"versions": []}), "versions: an empty list"),
    ("fairness without a decision", spec_case({"decision": None}), "decision: required by the fairness check"),
    ("bands of an unprotected column", spec_case({"checks": {"fairness": {"bands": {"income": [1]}}}}), "not a protected attribute"),
    # data
    ("reference file missing", spec_case({"data": {"reference": "data/nope.parquet"}}), "file not found; check the path"),
    ("corrupt parquet", file_case(lambda t: (t / "data" / "cur.parquet").write_bytes(b"PAR1 not really")), "could not be read"),
    ("unknown file type", file_case(lambda t: (t / "data" / "cur.xlsx").write_bytes(b"x"), {"data": {"current": "data/cur.xlsx"}}), "unknown file type '.xlsx'"),
    ("column missing", current_case(lambda f: f.drop(columns=["tenure"])), "column 'tenure': named in data.features but missing"),
    ("protected column missing", current_case(lambda f: f.drop(columns=["sex"])), "column 'sex': named in data.protected but missing"),
    ("types differ between samples", current_case(lambda f: f.assign(tenure=f["tenure"].astype(str))), "column 'tenure': is text here but numeric"),
    ("empty sample", current_case(lambda f: f.iloc[:0]), "has no rows"),
    ("missing scores", current_case(lambda f: f.assign(pd=f["pd"].where(f.index > 0))), "column 'pd': score has 1 missing values"),
    ("scores above 1", current_case(lambda f: f.assign(pd=f["pd"] * 10)), "score must lie in [0, 1]"),
    ("target not 0/1", current_case(lambda f: f.assign(default=f["default"] + 1)), "target must be 0 or 1"),
    ("infinite feature values", current_case(lambda f: f.assign(income=np.where(f.index == 0, np.inf, f["income"]))), "infinite values"),
    ("duplicate CSV columns", file_case(lambda t: (t / "data" / "cur.csv").write_text("income,income,tenure\n1,2,3\n"),
                                        {"data": {"current": "data/cur.csv"}}), "appears more than once"),
    # artifacts
    ("artifact missing", artifact_case(missing=True), "model.artifact"),
    ("artifact hash mismatch", artifact_case(wrong_hash=True), "but the spec says"),
    ("artifact unloadable", artifact_case(corrupt=True), "could not be loaded"),
    # issue 16: hostile and careless inputs that crashed (exit 1 with a traceback) or hung
    ("a NUL byte in a path", spec_case({"data": {"reference": "data/r\x00ef.parquet"}}), "data.reference: "),
    ("a symlink loop as data", symlink_loop_case, "a symbolic link that loops back on itself"),
    ("a database URL as data", spec_case({"data": {"reference": "postgresql://db/loans"}}),
     "'postgresql://' is a database URL, not a file: a sample in a database is given as a SQL source"),
    # issue 19: unknown schemes, missing packages and SQL sources (DuckDB and SQLite need no server)
    ("an unknown URL scheme as data", spec_case({"data": {"current": "foo://bucket/cur.parquet"}}),
     "'foo://' is neither a file system nor a database this installation knows"),
    ("s3:// without s3fs", spec_case({"data": {"current": "s3://bucket/cur.parquet"}}),
     "the 's3://' file system needs the s3fs package: pip install s3fs (data.current: s3://bucket/cur.parquet)"),
    ("a literal password in a SQL source", spec_case({"data": {"current": {"sql": "postgresql://risk:hunter2@db/bank",
                                                                           "table": "loans"}}}),
     "data.current.sql: a literal password in the URL: credentials never go in a spec"),
    ("a password parameter in a SQL source", spec_case({"data": {"current": {"sql": "postgresql://db/bank?password=x",
                                                                             "table": "loans"}}}),
     "data.current.sql: a literal password in the URL"),
    ("a SQL source with neither query nor table", spec_case({"data": {"current": {"sql": "duckdb:///:memory:"}}}),
     "data.current: a SQL source takes either a query or a table"),
    ("a misspelt SQL source key", spec_case({"data": {"current": {"sql": "duckdb:///:memory:", "tabel": "x"}}}),
     "data.current.tabel: unknown key; remove it or check its spelling; allowed here: sql, query, table"),
    ("an unknown database dialect", spec_case({"data": {"current": {"sql": "foo://db/bank", "table": "loans"}}}),
     "'foo' is not a database SQLAlchemy knows here"),
    ("a database driver not installed", spec_case({"data": {"current": {"sql": "mysql://risk@127.0.0.1/bank",
                                                                        "table": "loans"}}}),
     "the mysql driver is not installed (no module 'MySQLdb'): pip install pymysql"),
    ("an unset password variable", spec_case({"data": {"current": {"sql": "postgresql://risk:${VALIDATION_UNSET_9F}@db/b",
                                                                   "table": "loans"}}}),
     "the environment variable VALIDATION_UNSET_9F named in data.current.sql is not set"),
    ("a DuckDB query over a missing file", spec_case({"data": {"current": {
        "sql": "duckdb:///:memory:", "query": "select * from read_parquet('data/absent.parquet')"}}}),
     "data.current.query failed (IO Error: No files found that match the pattern \"data/absent.parquet\"); check the query"),
    ("a missing table", file_case(_sqlite_without_loans, {"data": {"current": {"sql": "sqlite:///data/bank.sqlite",
                                                                                "table": "loans"}}}),
     "data.current.table failed (no such table: loans); check the table name"),
    ("a missing SQLite file", spec_case({"data": {"current": {"sql": "sqlite:///data/absent.sqlite", "table": "loans"}}}),
     "could not connect to the database (unable to open database file)"),
    ("a SQL query with no rows", spec_case({"data": {"current": {
        "sql": "duckdb:///:memory:", "query": "select * from read_parquet('data/cur.parquet') where income < 0"}}}),
     "data.current.query returned no rows"),
    ("a SQL query without a named column", spec_case({"data": {"current": {
        "sql": "duckdb:///:memory:", "query": "select * exclude (tenure) from read_parquet('data/cur.parquet')"}}}),
     "column 'tenure': named in data.features but missing"),
    ("an HTTP URL with nothing listening", spec_case({"data": {"current": "http://127.0.0.1:9/cur.parquet"}}),
     "data.current: http://127.0.0.1:9/cur.parquet"),
    ("a model name over 100 characters", spec_case({"model": {"name": "m" * 300}}), "model.name: a model name of 300"),
    ("a version over 100 characters", spec_case({"model": {"version": "v" * 300}}), "model.version: a version of 300"),
    ("a path component over 255 bytes", spec_case({"data": {"current": "data/" + "c" * 300 + ".parquet"}}),
     "data.current: a path with a component of 308 bytes"),
    ("a 5,000-digit number", spec_case(raw="grades: [" + "1" * 5000 + "]\n"), "grades[0]: a number of 5,000 digits"),
    ("a recursive alias", spec_case({"checks": {"fairness": {"intersections": "RECURSIVE"}}}),
     "checks.fairness.intersections[0]: an alias refers to itself"),
    ("an alias bomb", spec_case(raw=ALIAS_BOMB + "\n"), "more than 100,000 values"),
    ("nesting 5,000 levels deep", spec_case(raw="model: " + "[" * 5000 + "]" * 5000 + "\n"),
     "nested deeper than 32 levels"),
    ("a database URL as the artifact", spec_case({"model": {"artifact": "postgresql://db/models", "artifact_sha256": "0" * 64},
                                                  "data": {"score": None}}), "model.artifact: postgresql://db/models:"),
    ("a device as data", spec_case({"data": {"current": "/dev/zero"}}), "is not a regular file"),
    ("model name of the registry file", spec_case({"model": {"name": "registry.sqlite"}}),
     "is the registry's file name"),
    ("a trailing newline in a name", spec_case({"model": {"name": "toy\n"}}), "not a valid model name"),
    ("a name starting with a dot", spec_case({"model": {"name": ".hidden"}}), "not starting with '.'"),
    ("a NaN threshold", spec_case(raw_edit=("amber: 0.3", "amber: .nan")), "thresholds.psi.amber: .nan is not a finite"),
    ("an AUC bound above 1", spec_case({"thresholds": {"auc": {"amber": 2.0}}}),
     "thresholds.auc.amber: 2.0 is outside the values auc can take"),
    ("a boolean decision threshold", spec_case({"decision": {"threshold": True}}), "decision.threshold"),
    ("a drift with a million bins", spec_case({"checks": {"drift": {"bins": 1_000_000}}}),
     "checks.drift.bins: Input should be less than or equal to 1000"),
    ("an infinite check parameter", spec_case(raw_edit=("bins: 10", "bins: .inf")), "checks.drift.bins: .inf"),
    ("data.ids naming a missing column", spec_case({"data": {"ids": ["customer_no"]}}),
     "column 'customer_no': named in data.ids but missing"),
    ("a key given twice", spec_case(raw_edit=("checks:", "decision: {threshold: 0.2}\nchecks:")),
     "decision: the key is given twice"),
    ("a parquet list column as a feature", nested_parquet_case("list"), "column 'tenure': is a nested column"),
    ("a parquet binary column as a feature", nested_parquet_case("binary"), "column 'tenure': is a binary column"),
    ("an identifier as the time column", spec_case({"data": {"time": "customer_id"}}),
     "data.time: column 'customer_id' is an identifier"),
    ("a spec that is not UTF-8", spec_case(raw_edit=("Tests <QA>", "Zoë".encode("latin-1"))), "not UTF-8 text"),
    ("a line break in a check name", spec_case({"checks": ["drift\n"]}), "checks.drift\\n: unknown check"),
    ("a parquet struct column as a feature", nested_parquet_case("struct"), "column 'tenure': is a nested column"),
    ("a check that does not apply, requested alone", usage_case("--checks", "explainability"),
     "nothing to run for toy_pd version 1: no selected check applies (explainability:"),
    # command line
    ("unknown check on the command line", usage_case("--checks", "drift,nope"), "unknown check 'nope'"),
    ("unknown version on the command line", usage_case("--version", "7"), "no version '7' in this spec"),
    ("zero workers", usage_case("--workers", "0"), "--workers"),
]


@pytest.mark.parametrize("planning_batch", [None, 64], ids=["whole", "batches of 64 rows"])
@pytest.mark.parametrize(("case", "build", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str,
                   build: Builder, fragment: str, planning_batch: int | None) -> None:
    """Each case as the runner meets it in samples it reads in one batch, and in batches of 64
    rows (the samples have 300 and 400), where the problem is past the first batch."""
    from validation.inputs import scan

    if planning_batch is not None:
        monkeypatch.setattr(scan, "PLANNING_BATCH_ROWS", planning_batch)
    out = tmp_path / "out"
    arguments = build(write_spec, tmp_path)
    result = CliRunner().invoke(main, ["run", *arguments, "--out", str(out), "--quiet"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert fragment in result.output, result.output
    assert "Traceback" not in result.output
    assert not out.exists(), "nothing may be written on bad input"


def test_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 55
