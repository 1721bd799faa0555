"""Crash safety, injection and leakage: a killed runner leaves no pack and no half-written rows;
hostile parameter values stay data; planted sentinel values never reach a pack."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import nbformat
import numpy as np
import pytest

from validation.errors import SpecError

from conftest import synthetic_sample
from validation.governance.registry import Registry
from validation.execution.pipeline import run_specs as run

VALIDATION = [sys.executable, "-m", "validation"]
TEMPLATES = Path(__file__).resolve().parent.parent / "notebooks"


def _start_sleeping_run(write_spec: Callable[..., Path], tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path, list[Any]]:
    """A run whose drift notebook sleeps a minute, started and waited for until its kernel runs;
    returns the process, the spec, the output folder and the run's descendant processes."""
    import psutil

    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    book = nbformat.read(str(folder / "drift.ipynb"), as_version=4)
    book.cells.insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    nbformat.write(book, str(folder / "drift.ipynb"))
    spec, out = write_spec({"checks": ["drift"]}), tmp_path / "out"
    process = subprocess.Popen([*VALIDATION, "run", str(spec), "--out", str(out), "--quiet"], start_new_session=True,
                               env={**os.environ, "VALIDATION_TEMPLATES": str(folder)}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    kernels: list[Any] = []
    while time.time() < deadline and not kernels:
        time.sleep(0.2)
        descendants = psutil.Process(process.pid).children(recursive=True)
        kernels = [p for p in descendants if "ipykernel_launcher" in " ".join(p.cmdline())]
    assert kernels and list(out.glob("toy_pd/1/.*.partial")), "the run should be under way"
    return process, spec, out, psutil.Process(process.pid).children(recursive=True)


def _all_gone(processes: list[Any], timeout: float = 30.0) -> list[int]:
    import psutil

    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p.pid for p in alive]


def test_sigkill_mid_run_leaves_no_pack_no_rows_and_no_orphans(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """The main process killed outright (the OOM killer, kill -9): its worker and the kernel stop by
    themselves, no pack appears, and the next run removes the abandoned staging folder."""
    process, spec, out, descendants = _start_sleeping_run(write_spec, tmp_path)
    os.kill(process.pid, signal.SIGKILL)  # the main process only: its children are not told
    process.communicate(timeout=30)
    assert _all_gone(descendants) == [], "workers and kernels outlived the killed run"
    version_folder = out / "toy_pd" / "1"
    assert [p.name for p in version_folder.iterdir() if not p.name.startswith(".")] == []  # no pack
    assert Registry(out / "registry.sqlite").count("runs") == 0
    assert any(p.name.endswith(".partial") for p in version_folder.iterdir())  # abandoned, not yet swept
    # the next run succeeds and sweeps the abandoned staging folder
    (outcome,), code = run([spec], out=out, registry=Registry(out / "registry.sqlite"), workers=1)
    assert code in (0, 1) and (outcome.path / "results.json").is_file()
    assert [p.name for p in version_folder.iterdir() if p.name.startswith(".")] == []
    assert Registry(out / "registry.sqlite").verify() == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_run_exits_128_plus_signal_and_leaves_nothing(write_spec: Callable[..., Path], tmp_path: Path,
                                                                signum: int, code: int) -> None:
    """A scheduler's SIGTERM (or Ctrl-C) to the main process: the workers and kernels are stopped,
    the staging folder removed, nothing recorded, and the exit code is not one of the contract's
    (click alone would exit 1, which reads as "red findings")."""
    process, _, out, descendants = _start_sleeping_run(write_spec, tmp_path)
    started = time.time()
    os.kill(process.pid, signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert time.time() - started < 30  # it does not wait for the sleeping notebook
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "no pack written" in stderr
    assert "Traceback" not in stderr
    assert _all_gone(descendants) == []
    assert not (out / "toy_pd").exists(), "no empty model or version folder is left behind"
    assert Registry(out / "registry.sqlite").count("runs") == 0


def test_sweep_leaves_live_and_foreign_staging_folders(tmp_path: Path) -> None:
    import json as _json
    import socket

    from validation.reporting.staging import sweep_abandoned

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    owners = {"dead": {"host": socket.gethostname(), "boot_id": boot, "pid": dead_pid},
              "alive": {"host": socket.gethostname(), "boot_id": boot, "pid": os.getpid()},
              "foreign": {"host": "another-host", "boot_id": boot, "pid": dead_pid},
              "rebooted": {"host": socket.gethostname(), "boot_id": "an-earlier-boot", "pid": os.getpid()}}
    for name, owner in owners.items():
        (tmp_path / f".{name}.partial").mkdir()
        (tmp_path / f".{name}.owner").write_text(_json.dumps(owner))
    (tmp_path / ".legacy.partial").mkdir()  # no owner file: left alone
    removed = sweep_abandoned(tmp_path)
    assert sorted(p.name for p in removed) == [".dead.partial", ".rebooted.partial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".alive.owner", ".alive.partial", ".foreign.owner",
                                                          ".foreign.partial", ".legacy.partial"]


def test_hostile_parameter_values_stay_data(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"fixed'); open({str(marker)!r}, 'w').write('x'); ('"
    spec = write_spec({"checks": {"drift": {"psi_rule": hostile}}})
    with pytest.raises(SpecError, match="checks.drift.psi_rule: Input should be 'both', 'fixed' or 'critical'"):
        run([spec], out=tmp_path / "out", workers=1)  # refused where it enters: nothing runs
    assert not (tmp_path / "out").exists()
    # past the spec, papermill writes the value into the notebook: it must stay a string there
    from validation.checks import REGISTRY
    from validation.execution.workers import Task, execute_task

    good = write_spec({"checks": ["drift"]}, name="good.yaml")
    task = Task(("toy_pd", "1", "drift"), str(REGISTRY["drift"].template_path()), str(tmp_path / "n.ipynb"),
                str(tmp_path / "n.html"), {"spec": str(good), "version": "1", "psi_rule": hostile}, timeout=120)
    result = execute_task(task)
    assert not marker.exists(), "a parameter value was executed as code"
    assert result.error is not None and result.error.kind == "cell_error"  # the check refuses the value...
    assert "Input should be 'both', 'fixed' or 'critical'" in str(result.error.evalue)  # ...as a value, with its message


def test_planted_sentinels_never_reach_a_pack(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    reference, current = synthetic_sample(400, seed=1), synthetic_sample(300, seed=2, shift=0.3)
    current.loc[7, "customer_id"] = 987654321  # an identifier
    current.loc[8, "region"] = "SENTINELREGION"  # a one-off category value
    current.loc[9, "income"] = 31415926.5  # an extreme value of one applicant
    current.loc[10, "sex"] = "SENTINELSEX"  # a one-off protected group
    current.loc[11, "month"] = "2031-12"  # a period of one applicant: its outcome must not show
    spec = write_spec({"data": {"segments": ["region"], "time": "month"}, "checks": ["drift", "fairness", "backtesting"]},
                      reference=reference, current=current)
    (outcome,), _ = run([spec], out=tmp_path / "out", workers=2)
    findings = [f for c in outcome.results["checks"] for f in c["findings"]]
    lone = [f for f in findings if f["subject"] == "period:2031-12" and f["metric"] in ("default_rate", "jeffreys_pvalue")]
    assert lone and all(f["value"] is None for f in lone)
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in outcome.path.rglob("*") if p.is_file())
    assert "(groups under 5)" in text  # the one-applicant group is pooled, not named
    for sentinel in ("987654321", "SENTINELREGION", "SENTINELSEX", "31415926", "3.14159e+07", "3.142e+07"):
        assert sentinel not in text, sentinel


def test_group_names_and_spec_text_are_escaped(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    payload = "<img src=x onerror=alert(1)>"
    current = synthetic_sample(300, seed=2)
    current["sex"] = np.where(current.index % 2 == 0, payload, "male")
    reference = synthetic_sample(400, seed=1)
    reference["sex"] = np.where(reference.index % 2 == 0, payload, "male")
    spec = write_spec({"model": {"purpose": "</td><script>alert(2)</script>"}, "checks": ["fairness"]},
                      reference=reference, current=current)
    (outcome,), _ = run([spec], out=tmp_path / "out", workers=1)
    for page in outcome.path.rglob("*.html"):
        body = page.read_text(encoding="utf-8")
        assert "<img src=x onerror" not in body, page.name
        assert "<script>alert(2)" not in body, page.name
    assert "&lt;img src=x onerror=alert(1)&gt;" in (outcome.path / "index.html").read_text()


def test_outputs_with_active_content_are_neutralised() -> None:
    from validation.reporting.render import neutralise

    output = nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>",
                                                          "application/javascript": "alert(1)"})
    safe = neutralise(output)
    assert "text/html" not in safe["data"] and "application/javascript" not in safe["data"]
    assert safe["data"]["text/plain"] == "<script>alert(1)</script>"  # shown, escaped, as text
    table = nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>&lt;25</td></tr></table>"})
    assert neutralise(table)["data"]["text/html"].startswith("<table>")  # plain tables untouched


def test_backtesting_edge_cases_finish_with_findings(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """No defaults at all in the current sample (AUC undefined), a master-scale grade with no
    applicants, grades with zero defaults, and PDs of exactly 0 and 1: the check finishes and says so."""
    reference, current = synthetic_sample(400, seed=1), synthetic_sample(300, seed=2)
    current["default"] = 0
    current["pd"] = current["pd"].clip(upper=0.14)  # nobody in grade 4, (0.15, 0.9]...
    current.loc[0, "pd"], current.loc[1, "pd"] = 0.0, 1.0  # ...but the PD of 1 in grade 5
    spec = write_spec({"grades": [0.05, 0.1, 0.15, 0.9, 1.0], "checks": ["backtesting"]},
                      reference=reference, current=current)
    (outcome,), code = run([spec], out=tmp_path / "out", workers=1)
    (check,) = outcome.results["checks"]
    assert code in (0, 1) and check["status"] in ("green", "amber", "red"), check.get("error")
    found = {(f["metric"], f["subject"]): f for f in check["findings"]}
    assert found[("auc", "score")]["value"] is None and found[("auc", "score")]["status"] == "info"
    grades = sorted(s for m, s in found if m == "jeffreys_pvalue" and s.startswith("grade:"))
    assert grades == ["grade:1", "grade:2", "grade:3", "grade:5"]
    # grade 1 holds only the PD of 0: the Jeffreys test is undefined there, and the pack says why
    assert found[("jeffreys_pvalue", "grade:1")]["value"] is None
    assert "undefined at a PD of 0" in found[("jeffreys_pvalue", "grade:1")]["note"]
    # zero defaults in a grade: Jeffreys p = BetaCDF(PD; 1/2, N + 1/2), high (no evidence of underestimation)
    assert found[("jeffreys_pvalue", "grade:2")]["value"] > 0.5
    assert found[("jeffreys_pvalue", "grade:5")]["value"] == 1.0  # PD of 1, no default: BetaCDF(1) = 1
    html = (outcome.path / "html" / "backtesting.html").read_text(encoding="utf-8")
    assert "AUC undefined" in html and "grades with no applicants (left out): [4]" in html
