"""Signatures that cannot be stripped, reviews that cannot launder a forgery, a registry that
fails before anything is written, and reviews and runs that appear with their registry row or not
at all (issue 16; the threat model is docs/security.md)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner, Result

from validation.cli import main
from validation.errors import RegistryError, ToolFailure
from validation.governance.integrity import sign, verify_pack, write_manifest
from validation.governance.registry import Registry
from validation.governance.review import add_review

KEY = "k"
STRICT = {"parse_constant": lambda constant: pytest.fail(f"{constant} written in a JSON file")}


@pytest.fixture(scope="module")
def signed_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real pack (the drift check on the synthetic portfolio), signed with KEY."""
    from conftest import synthetic_sample
    from validation.execution.pipeline import run_specs

    root = tmp_path_factory.mktemp("signed")
    (root / "data").mkdir()
    synthetic_sample(400, seed=1).to_parquet(root / "data" / "ref.parquet")
    synthetic_sample(300, seed=2, shift=0.3).to_parquet(root / "data" / "cur.parquet")
    spec = {"model": {"name": "toy_pd", "version": "1", "owner": "Tests", "purpose": "a test model"},
            "data": {"reference": "data/ref.parquet", "current": "data/cur.parquet", "target": "default",
                     "score": "pd", "features": ["income", "tenure", "region"]},
            "checks": ["drift"]}
    (root / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VALIDATION_SIGNING_KEY", KEY)
        (outcome,), _ = run_specs([root / "spec.yaml"], out=root / "out", workers=1)
    return outcome.path


@pytest.fixture
def pack(signed_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the signed pack at <tmp>/out/toy_pd/1/<run>, so that `review`'s default registry
    is <tmp>/out/registry.sqlite; the key is set."""
    copy = tmp_path / "out" / "toy_pd" / "1" / signed_source.name
    shutil.copytree(signed_source, copy)
    monkeypatch.setenv("VALIDATION_SIGNING_KEY", KEY)
    return copy


def cli(*arguments: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in arguments])


def review(pack: Path, *extra: str | Path) -> Result:
    return cli("review", pack, "--reviewer", "Ada", "--rating", "satisfactory", "--conclusion", "Fit for use", *extra)


def snapshot(pack: Path) -> dict[str, bytes]:
    return {str(p.relative_to(pack)): p.read_bytes() for p in sorted(pack.rglob("*")) if p.is_file()}


def manifest_of(pack: Path) -> dict[str, Any]:
    return dict(json.loads((pack / "manifest.json").read_text()))


def forge_results(pack: Path) -> dict[str, Any]:
    """Turn the pack green and fix results.json's hash in the manifest (without the key the
    signature is left stale)."""
    results = json.loads((pack / "results.json").read_text())
    results["status"] = "green"
    (pack / "results.json").write_text(json.dumps(results))
    manifest = manifest_of(pack)
    manifest["files"]["results.json"] = hashlib.sha256((pack / "results.json").read_bytes()).hexdigest()
    (pack / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_a_stripped_signature_is_missing_when_a_key_is_set(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = forge_results(pack)
    del manifest["signature"]  # the downgrade: an unsigned manifest that matches the forged files
    (pack / "manifest.json").write_text(json.dumps(manifest))
    verified = cli("verify", pack)
    assert verified.exit_code == 1, verified.output
    assert "signature: missing" in verified.stdout and "may have been stripped" in verified.stdout
    assert "NOT INTACT" in verified.stdout
    before = snapshot(pack)
    refused = review(pack)
    assert refused.exit_code == 2 and "VALIDATION_SIGNING_KEY is set but the pack is unsigned" in refused.stderr
    assert snapshot(pack) == before and not (pack.parents[2] / "registry.sqlite").exists()
    monkeypatch.delenv("VALIDATION_SIGNING_KEY")  # without the key nothing can tell (docs/security.md)
    assert cli("verify", pack).exit_code == 0


def test_a_review_never_rewrites_a_signed_manifest_without_the_key(pack: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALIDATION_SIGNING_KEY")
    intact = snapshot(pack)
    refused = review(pack)  # even an intact signed pack: the review would have to re-sign it
    assert refused.exit_code == 2 and "set VALIDATION_SIGNING_KEY" in refused.stderr and snapshot(pack) == intact
    forge_results(pack)  # the forgery: its signature is stale now
    monkeypatch.setenv("VALIDATION_SIGNING_KEY", KEY)
    assert cli("verify", pack).exit_code == 1
    forged = snapshot(pack)
    monkeypatch.delenv("VALIDATION_SIGNING_KEY")
    laundering = review(pack)
    assert laundering.exit_code == 2, laundering.output
    assert "a review never rewrites a signed manifest unsigned" in laundering.stderr
    monkeypatch.setenv("VALIDATION_SIGNING_KEY", KEY)
    with_key = review(pack)
    assert with_key.exit_code == 2 and "signature does not match VALIDATION_SIGNING_KEY" in with_key.stderr
    assert snapshot(pack) == forged and not (pack.parents[2] / "registry.sqlite").exists()
    verified = cli("verify", pack)
    assert verified.exit_code == 1 and "signature: invalid" in verified.stdout


def test_each_review_carries_its_own_signature(pack: Path) -> None:
    recorded = review(pack, "--registry", pack.parent / "r.sqlite")
    assert recorded.exit_code == 0, recorded.output
    entry = json.loads((pack / "review.json").read_text(), **STRICT)["reviews"][0]
    assert entry["signature"]["algorithm"] == "HMAC-SHA256"
    verified = cli("verify", pack)
    assert verified.exit_code == 0 and "review Ada" in verified.stdout and "signature valid" in verified.stdout
    # a key holder's later re-signing of the manifest does not make an edited review valid again
    document = json.loads((pack / "review.json").read_text())
    document["reviews"][0]["rating"] = "unsatisfactory"
    (pack / "review.json").write_text(json.dumps(document))
    write_manifest(pack, manifest_of(pack))
    verified = cli("verify", pack)
    assert verified.exit_code == 1 and "signature invalid" in verified.stdout
    # a review recorded before reviews were signed: unsigned, covered by the manifest's signature
    del document["reviews"][0]["signature"]
    document["reviews"][0]["rating"] = "satisfactory"
    (pack / "review.json").write_text(json.dumps(document))
    write_manifest(pack, manifest_of(pack))
    verified = cli("verify", pack)
    assert verified.exit_code == 0 and "matches the pack; signature unsigned" in verified.stdout


MALFORMED_MANIFESTS = {
    "not JSON": ("{\"files\": ", "not valid JSON"),
    "not an object": ("[1, 2]", "a JSON list, expected an object"),
    "files not a mapping": ('{"files": ["results.json"]}', "'files' is [\"results.json\"], expected a mapping"),
    "a file entry not a string": ('{"files": {"results.json": 7}}', "'files'['results.json'] is 7"),
    "NaN": ('{"files": {}, "x": NaN}', "not valid JSON (NaN is not JSON)"),
    "a signature not an object": ('{"files": {}, "signature": "abc"}', "'signature' is \"abc\""),
}


@pytest.mark.parametrize("text, problem", MALFORMED_MANIFESTS.values(), ids=list(MALFORMED_MANIFESTS))
def test_a_malformed_manifest_is_not_intact_and_cannot_be_reviewed(pack: Path, text: str, problem: str) -> None:
    (pack / "manifest.json").write_text(text)
    verified = cli("verify", pack)
    assert verified.exit_code == 1, verified.output
    assert f"manifest.json: {problem}" in verified.stdout and "NOT INTACT" in verified.stdout
    before = snapshot(pack)
    refused = review(pack)
    assert refused.exit_code == 2 and problem in refused.stderr and "manifest.json" in refused.stderr
    assert snapshot(pack) == before


MALFORMED_REVIEWS = {
    "not JSON": ("{", "not valid JSON"),
    "not an object": ("[]", "expected an object {\"reviews\": [...]}"),
    "reviews not a list": ('{"reviews": {}}', "expected an object {\"reviews\": [...]}"),
    "a review not an object": ('{"reviews": [3]}', "review 1: a JSON int"),
    "a review missing fields": ('{"reviews": [{"review_id": "x"}]}', "review 1: 'run_id' is null"),
}


@pytest.mark.parametrize("text, problem", MALFORMED_REVIEWS.values(), ids=list(MALFORMED_REVIEWS))
def test_a_malformed_review_file_is_not_intact_and_cannot_be_reviewed(pack: Path, text: str, problem: str) -> None:
    (pack / "review.json").write_text(text)
    write_manifest(pack, manifest_of(pack))  # signed with the key: only the content is wrong
    verified = cli("verify", pack)
    assert verified.exit_code == 1, verified.output
    assert f"review.json: {problem}" in verified.stdout
    before = snapshot(pack)
    refused = review(pack)
    assert refused.exit_code == 2 and problem in refused.stderr and snapshot(pack) == before


def test_a_registry_that_is_not_a_database_is_refused_before_anything_is_written(pack: Path,
                                                                                tmp_path: Path) -> None:
    bad = tmp_path / "notes.sqlite"
    bad.write_text("these are my notes, not a database\n" * 20)
    before = snapshot(pack)
    refused = review(pack, "--registry", bad)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith(f"error: registry {bad}: is not a SQLite database")
    assert snapshot(pack) == before
    assert cli("verify", "--registry", bad).exit_code == 2
    for call in (lambda r: r.runs("toy_pd"), Registry.verify, Registry.check_writable,
                 lambda r: r.record(RESULTS, "pack")):
        with pytest.raises(RegistryError, match="is not a SQLite database"):
            call(Registry(bad))
    with pytest.raises(RegistryError, match="is a folder"):
        Registry(tmp_path).check_writable()
    assert not (tmp_path / "new" / "registry.sqlite").exists()
    Registry(tmp_path / "new" / "registry.sqlite").check_writable()  # a new file in a writable place: fine
    assert not (tmp_path / "new" / "registry.sqlite").exists()  # and not created by the check
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite", "out"]  # nor anything else left
    with pytest.raises(RegistryError, match="nothing can be created in /proc"):  # even for root
        Registry("/proc/validation-registry.sqlite").check_writable()


class FailingCommit:
    """A connection whose COMMIT fails (a full disk, a lock taken by a checkpoint)."""

    def __init__(self, connection: sqlite3.Connection, error: str) -> None:
        self.connection = connection
        self.error = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    def execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError(self.error)
        return self.connection.execute(sql, *parameters)


def fail_commits(monkeypatch: pytest.MonkeyPatch, error: str) -> None:
    connect = Registry._connect
    monkeypatch.setattr(Registry, "_connect", lambda self: FailingCommit(connect(self), error))


RESULTS = {"model": {"name": "m", "version": "1"}, "status": "green", "checks": [],
           "run": {"id": "r1", "started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:01:00+00:00",
                   "spec_sha256": "0" * 64}}


def test_record_publishes_once_inside_the_transaction(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry.sqlite")
    calls: list[str] = []

    def publish() -> Callable[[], None]:
        with closing(sqlite3.connect(registry.path)) as other:  # the row is not visible before COMMIT
            calls.append(f"rows seen by others: {other.execute('SELECT COUNT(*) FROM runs').fetchone()[0]}")
        return lambda: calls.append("undo")

    registry.record(RESULTS, tmp_path / "pack", publish=publish)
    assert calls == ["rows seen by others: 0"] and registry.count("runs") == 1 and registry.verify() == []


def test_a_publish_that_raises_leaves_no_row(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry.sqlite")

    def publish() -> Callable[[], None]:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        registry.record(RESULTS, tmp_path / "pack", publish=publish)
    assert registry.count("runs") == 0 and registry.count("checks") == 0 and registry.verify() == []


@pytest.mark.parametrize("error", ["disk I/O error", "database is locked"])
def test_a_failed_commit_undoes_the_publish_and_never_publishes_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      error: str) -> None:
    registry = Registry(tmp_path / "registry.sqlite")
    calls: list[str] = []

    def publish() -> Callable[[], None]:
        calls.append("publish")
        return lambda: calls.append("undo")

    fail_commits(monkeypatch, error)
    with pytest.raises(ToolFailure, match="recording run r1 in the registry"):
        registry.record(RESULTS, tmp_path / "pack", publish=publish)
    assert calls == ["publish", "undo"]
    monkeypatch.undo()
    assert registry.count("runs") == 0 and registry.verify() == []


def test_a_registry_locked_beyond_the_retries_is_a_tool_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import validation.governance.registry as registry_module

    registry = Registry(tmp_path / "registry.sqlite")
    registry.record({**RESULTS, "run": {**RESULTS["run"], "id": "r0"}}, tmp_path / "pack0")
    monkeypatch.setattr(registry_module, "BUSY_TIMEOUT_MS", 20)
    monkeypatch.setattr(registry_module, "RETRIES", 2)
    calls: list[str] = []
    with closing(sqlite3.connect(registry.path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(ToolFailure, match="stayed locked"):
            registry.record(RESULTS, tmp_path / "pack", publish=lambda: calls.append("publish") or (lambda: None))
        holder.execute("ROLLBACK")
    assert calls == [] and registry.count("runs") == 1


def test_a_review_whose_commit_fails_leaves_the_pack_as_it_was(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(pack)
    fail_commits(monkeypatch, "disk I/O error")
    failed = review(pack, "--registry", pack.parent / "r.sqlite")
    assert failed.exit_code == 4 and "disk I/O error" in failed.stderr
    assert snapshot(pack) == before and verify_pack(pack, key=KEY.encode()).intact
    assert not [p for p in pack.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_concurrent_reviews_wait_for_each_other(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import validation.reporting.pack as pack_module

    render = pack_module.render_pack_index

    def slow_render(folder: Path) -> None:  # widen the window in which the two reviews overlap
        time.sleep(0.5)
        render(folder)

    monkeypatch.setattr(pack_module, "render_pack_index", slow_render)
    registry = Registry(pack.parents[2] / "registry.sqlite")
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def reviewer(name: str) -> None:
        start.wait()
        try:
            outcomes.append(add_review(pack, reviewer=name, rating="satisfactory", conclusion="ok",
                                       registry=registry))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(error)

    threads = [threading.Thread(target=reviewer, args=(name,)) for name in ("Ada", "Bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, dict) for o in outcomes) and len(outcomes) == 2, outcomes
    reviews = json.loads((pack / "review.json").read_text(), **STRICT)["reviews"]
    assert sorted(r["reviewer"] for r in reviews) == ["Ada", "Bob"]
    assert sorted(r["reviewer"] for r in registry.reviews(reviews[0]["run_id"])) == ["Ada", "Bob"]
    verified = verify_pack(pack, key=KEY.encode())
    assert verified.intact and verified.review_signatures == ["valid", "valid"], verified.lines()
    assert registry.verify() == []


def test_pack_files_are_strict_json(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="JSON compliant"):
        write_manifest(tmp_path, {"inputs": {"x": float("nan")}})
    assert not (tmp_path / "manifest.json").exists()
    with pytest.raises(ValueError, match="JSON compliant"):
        sign({"files": {}, "x": float("inf")}, b"k")


# --- hostile packs found in review (issue 16): nothing in a pack may steer a write, crash a
# command, or pass unlisted


def _reseal(pack: Path) -> None:
    """What a forger with the key could not do, but a careless script could: re-hash every file."""
    write_manifest(pack, json.loads((pack / "manifest.json").read_text()))


@pytest.mark.parametrize("name", [".manifest.json.tmp", ".index.html.tmp", "html/extra.html"])
def test_a_link_planted_in_a_pack_is_never_written_through(pack: Path, tmp_path: Path, name: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (pack / name).symlink_to(victim)
    verified = cli("verify", pack)
    assert verified.exit_code == 1 and f"symbolic link: {name}" in verified.output, verified.output
    assert review(pack).exit_code == 2
    assert victim.read_text() == "precious\n" and not (pack / "manifest.json").is_symlink()


def test_a_hidden_file_added_to_a_signed_pack_is_listed(pack: Path) -> None:
    (pack / ".manifest.json.tmp").write_text("{}")
    verified = cli("verify", pack)
    assert verified.exit_code == 1 and "added: .manifest.json.tmp" in verified.output, verified.output


@pytest.mark.parametrize("name", ["manifest.json", "review.json"])
def test_a_deeply_nested_pack_file_is_not_intact_and_refused(pack: Path, name: str) -> None:
    (pack / name).write_text("[" * 100_000 if name == "manifest.json" else '{"reviews": ' + "[" * 100_000)
    verified = cli("verify", pack)
    assert verified.exit_code == 1 and "nested too deeply" in verified.output, verified.output
    assert "Traceback" not in verified.output
    refused = review(pack)
    assert refused.exit_code == 2 and "nested too deeply" in refused.output, refused.output


def test_a_duplicate_key_in_a_manifest_cannot_hide_a_forged_file_list(pack: Path) -> None:
    text = (pack / "manifest.json").read_text()
    (pack / "manifest.json").write_text(text.replace('"files": {', '"files": {"forged": "0"}, "files": {', 1))
    verified = cli("verify", pack)
    assert verified.exit_code == 1 and "the key 'files' is given twice" in verified.output, verified.output


def test_a_malformed_results_file_in_a_consistent_unsigned_pack_is_refused(pack: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALIDATION_SIGNING_KEY")
    (pack / "results.json").write_text(json.dumps({"run": {"id": "x"}}))
    _reseal(pack)
    assert cli("verify", pack).exit_code == 0
    refused = review(pack)
    assert refused.exit_code == 2 and "results.json: not a results document" in refused.output, refused.output


@pytest.mark.parametrize("reviewer", ["R" * 201, "Ada\nLovelace"])
def test_a_reviewer_name_is_one_bounded_line(pack: Path, reviewer: str) -> None:
    result = cli("review", pack, "--reviewer", reviewer, "--rating", "satisfactory", "--conclusion", "ok")
    assert result.exit_code == 2 and "--reviewer:" in result.output, result.output


def test_reading_another_programs_database_leaves_it_unchanged(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER)")
        connection.commit()
    before = other.read_bytes()
    result = cli("history", "toy_pd", "--registry", other)
    assert result.exit_code == 2 and "not a validation registry" in result.output, result.output
    assert other.read_bytes() == before and not (tmp_path / "app.db-wal").exists()


def test_a_device_as_registry_is_bad_usage() -> None:
    result = cli("history", "toy_pd", "--registry", "/dev/null")
    assert result.exit_code == 2 and "is not a regular file" in result.output, result.output
