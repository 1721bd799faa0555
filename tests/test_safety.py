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
from typing import Callable

import nbformat
import numpy as np
import pytest

from conftest import synthetic_sample
from validation.registry import Registry
from validation.run import run

VALIDATION = [sys.executable, "-m", "validation"]
TEMPLATES = Path(__file__).resolve().parent.parent / "notebooks"


def test_sigkill_mid_run_leaves_no_pack_and_no_rows(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    book = nbformat.read(str(folder / "drift.ipynb"), as_version=4)
    book.cells.insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    nbformat.write(book, str(folder / "drift.ipynb"))
    spec, out = write_spec({"checks": ["drift"]}), tmp_path / "out"
    process = subprocess.Popen([*VALIDATION, "run", str(spec), "--out", str(out), "--quiet"], start_new_session=True,
                               env={**os.environ, "VALIDATION_TEMPLATES": str(folder)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("toy_pd/1/.*.partial/notebooks/drift.ipynb")):
        time.sleep(0.2)
    assert list(out.glob("toy_pd/1/.*.partial")), "the run should be under way"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    # no pack under a final name, no registry rows
    assert [p.name for p in (out / "toy_pd" / "1").iterdir() if not p.name.startswith(".")] == []
    assert Registry(out / "registry.sqlite").count("runs") == 0
    # the next run succeeds
    (outcome,), code = run([spec], out=out, registry=Registry(out / "registry.sqlite"), workers=1)
    assert code in (0, 1) and (outcome.path / "results.json").is_file()
    assert Registry(out / "registry.sqlite").verify() == []


def test_hostile_parameter_values_stay_data(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"fixed'); open({str(marker)!r}, 'w').write('x'); ('"
    spec = write_spec({"checks": {"drift": {"psi_rule": hostile}}})
    (outcome,), code = run([spec], out=tmp_path / "out", workers=1)
    assert not marker.exists(), "a parameter value was executed as code"
    drift = outcome.results["checks"][0]
    assert code == 3 and drift["status"] == "error"  # the template refuses the unknown rule...
    assert "psi_rule must be one of" in drift["error"]["evalue"]  # ...as a value, with its message


def test_planted_sentinels_never_reach_a_pack(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    reference, current = synthetic_sample(400, seed=1), synthetic_sample(300, seed=2, shift=0.3)
    current.loc[7, "customer_id"] = 987654321  # an identifier
    current.loc[8, "region"] = "SENTINELREGION"  # a one-off category value
    current.loc[9, "income"] = 31415926.5  # an extreme value of one applicant
    current.loc[10, "sex"] = "SENTINELSEX"  # a one-off protected group
    spec = write_spec({"checks": ["drift", "fairness", "backtesting"]}, reference=reference, current=current)
    (outcome,), _ = run([spec], out=tmp_path / "out", workers=2)
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
    from validation.render import neutralise

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
