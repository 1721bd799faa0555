"""The exit-code contract under failure (issue 16): a crash never reads as a result.

0 nothing red, 1 red findings, 2 bad input or usage (nothing written), 3 a check could not
execute, 4 the tool itself failed (one line naming the operation or path; the traceback in a log
file under --out), 128 + N stopped by a signal. A pack is in place with its registry row, or
neither is there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result

from validation.cli import main
from validation.governance.registry import Registry


def _run(spec: Path, out: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["run", str(spec), "--out", str(out), "--quiet", "--checks", "drift", *extra])


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _one_error_line(result: Result) -> str:
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("out", ["/proc/validation-packs", "/sys/no-such-folder/packs"],
                         ids=["under /proc", "under /sys"])
def test_an_unwritable_out_is_bad_usage_found_before_anything_runs(write_spec: Callable[..., Path],
                                                                     out: str) -> None:
    """(Root can write anywhere else: /proc and /sys refuse even root, so this holds in CI.)"""
    result = _run(write_spec(), Path(out))
    assert result.exit_code == 2, result.output
    assert f"--out {out}: cannot be written" in _one_error_line(result)


def test_an_out_that_is_a_file_is_bad_usage(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "packs"
    out.write_text("not a folder")
    result = _run(write_spec(), out)
    assert result.exit_code == 2, result.output  # click's usage error, before anything runs
    assert "Invalid value for '--out'" in result.output and "is a file" in result.output
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize("kind", ["not a database", "a folder", "under /proc"])
def test_an_unusable_registry_is_bad_usage_and_nothing_is_written(write_spec: Callable[..., Path], tmp_path: Path,
                                                                 kind: str) -> None:
    registry = {"not a database": tmp_path / "registry.sqlite", "a folder": tmp_path / "reg",
                "under /proc": Path("/proc/validation-registry.sqlite")}[kind]
    if kind == "not a database":
        registry.write_text("these are not the bytes of a SQLite database\n" * 100)
    if kind == "a folder":
        registry.mkdir()
    out = tmp_path / "out"
    result = _run(write_spec(), out, "--registry", str(registry))
    assert result.exit_code == 2, result.output
    if kind == "a folder":  # click's own usage error
        assert "Invalid value for '--registry'" in result.output and "is a directory" in result.output
    else:
        assert f"registry {registry}" in _one_error_line(result)
    assert _files(out) == [], "nothing may be written when the registry cannot be used"


def test_a_registry_path_where_a_pack_would_go_is_refused(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(write_spec(), out, "--registry", str(out / "toy_pd"))
    assert result.exit_code == 2, result.output
    assert "is where the packs of toy_pd version 1 would go" in _one_error_line(result)
    assert _files(out) == []


def test_a_bug_exits_4_with_one_line_and_the_traceback_in_a_log(write_spec: Callable[..., Path], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import validation.execution.pipeline as pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug in assembling the pack")

    monkeypatch.setattr(pipeline, "finish_pack", broken)
    out = tmp_path / "out"
    result = _run(write_spec(), out)
    assert result.exit_code == 4, result.output
    line = _one_error_line(result)
    assert "internal failure (KeyError: 'a bug in assembling the pack')" in line
    logs = list(out.glob("validation-error-*.log"))
    assert len(logs) == 1 and f"traceback in {logs[0]}" in line
    assert "Traceback (most recent call last)" in logs[0].read_text() and "broken" in logs[0].read_text()
    assert not (out / "toy_pd").exists(), "the abandoned run leaves no folder behind"
    assert Registry(out / "registry.sqlite").count("runs") == 0


def test_a_disk_failure_names_the_path_and_exits_4(write_spec: Callable[..., Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import validation.reporting.pack as pack

    def full(path: Path, data: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pack, "write_json", full)
    out = tmp_path / "out"
    result = _run(write_spec(), out)
    assert result.exit_code == 4, result.output
    assert "input/output failure on " in _one_error_line(result)
    assert "results.json: No space left on device" in result.output
    assert not (out / "toy_pd").exists()


def test_a_registry_that_fails_at_commit_leaves_no_pack(write_spec: Callable[..., Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack is moved into place inside the registry's transaction: when the commit fails, the
    pack is moved back and removed, so no pack exists without its registry row."""
    real_connect = Registry._connect

    class FailingCommit:
        def __init__(self, connection: sqlite3.Connection) -> None:
            self.connection = connection

        def execute(self, sql: str, *args: object) -> object:
            if sql.strip().upper() == "COMMIT" and any((tmp_path / "out" / "toy_pd" / "1").glob("2*")):
                raise sqlite3.OperationalError("disk I/O error")
            return self.connection.execute(sql, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(self.connection, name)

    monkeypatch.setattr(Registry, "_connect", lambda self: FailingCommit(real_connect(self)))
    out = tmp_path / "out"
    result = _run(write_spec(), out)
    assert result.exit_code == 4, result.output
    assert "disk I/O error" in _one_error_line(result)
    assert not (out / "toy_pd").exists(), _files(out)
    monkeypatch.undo()
    assert Registry(out / "registry.sqlite").count("runs") == 0


def test_a_clean_run_still_exits_by_its_findings(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(write_spec(), out)
    assert result.exit_code in (0, 1), result.output
    packs = list((out / "toy_pd" / "1").iterdir())
    assert len(packs) == 1 and (packs[0] / "results.json").is_file()
    assert Registry(out / "registry.sqlite").count("runs") == 1


def test_a_profile_or_page_that_cannot_be_written_is_bad_usage(write_spec: Callable[..., Path]) -> None:
    result = CliRunner().invoke(main, ["profile", str(write_spec()), "--out", "/proc/validation/profile.json"])
    assert result.exit_code == 2, result.output
    assert "--out /proc/validation/profile.json: cannot be written" in _one_error_line(result)


def test_a_junit_or_starter_spec_path_that_cannot_be_written_is_refused_before_anything_runs(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(write_spec()), "--out", str(out), "--quiet",
                                       "--junit", "/proc/validation/junit.xml"])
    assert result.exit_code == 2, result.output
    assert "--junit /proc/validation/junit.xml: cannot be written" in _one_error_line(result)
    assert _files(out) == []
    result = CliRunner().invoke(main, ["init", "--data", str(tmp_path / "data" / "ref.parquet"), "--target", "default",
                                       "--out", "/proc/validation/spec.yaml"])
    assert result.exit_code == 2 and "--out /proc/validation/spec.yaml: cannot be written" in result.output, result.output


def test_rich_markup_in_the_data_is_shown_as_text_never_interpreted(write_spec: Callable[..., Path],
                                                                    tmp_path: Path) -> None:
    """A protected attribute whose one group is named "[/x]" (a closing tag of rich's markup): the
    fairness check's reason names the group, and the batch summary crashed on it (exit 4) after the
    pack was written."""
    from conftest import synthetic_sample

    spec = write_spec({"data": {"protected": ["region"], "features": ["income", "tenure"]},
                       "checks": {"fairness": {}}},
                      current=synthetic_sample(300, seed=2).assign(region="[/x]"),
                      reference=synthetic_sample(400, seed=1).assign(region="[/x]"))
    result = CliRunner().invoke(main, ["batch", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Validation summary" in result.output and "[/x]" in result.output


def test_a_closed_standard_output_is_a_signal_not_a_crash() -> None:
    """`validation checks | head -0`: the reader went away (SIGPIPE, 128 + 13), no traceback."""
    import subprocess
    import sys

    with subprocess.Popen([sys.executable, "-m", "validation", "checks"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr and "error:" not in stderr


def test_a_threshold_with_one_bound_runs(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """docs/spec.md: a bound left out is never reached. The drift notebook formatted the missing
    amber bound and failed (exit 3); found by the fuzz suite."""
    result = _run(write_spec({"thresholds": {"psi": {"red": 0.3}}}), tmp_path / "out")
    assert result.exit_code in (0, 1), result.output
    (pack,) = (tmp_path / "out" / "toy_pd" / "1").iterdir()
    method = (pack / "notebooks" / "drift.ipynb").read_text()
    assert "amber bound (never)" in method and "red bound (0.3)" in method and "thresholds.psi" in method
