"""Samples read in batches (``data.batch_rows``), end to end through ``validation run``.

The in-memory run of the same spec is the reference: the drift check's findings (PSI of every
column and period, judged) must be the same, its KS and Wasserstein within the bounds its notes
state; the checks that cannot read batches are listed as not applying, with the reason; what
batches cannot do yet is refused by its key (exit 2); a bad value past the first batch fails the
drift check alone (exit 3), named as the whole-sample reader names it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from conftest import synthetic_sample

VALIDATION = [sys.executable, "-m", "validation"]
ROWS = 1000  # the smallest batch data.batch_rows allows


def _run(spec: Path, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    done = subprocess.run([*VALIDATION, "run", str(spec), "--out", str(out), "--quiet", *extra],
                          capture_output=True, text=True, timeout=600)
    packs = list(out.rglob("results.json"))
    return done, json.loads(packs[0].read_text()) if packs else None


def _check(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["checks"] if c["name"] == name)


def _drift(doc: dict[str, Any]) -> dict[str, Any]:
    return _check(doc, "drift")


EXACT = {"drift": ("psi", "default_rate")}
"""Per check, the metrics whose values in batches must be the in-memory ones to the last digits
(the others: within the bounds their notes state; every check's every status must agree)."""


def _same_findings(expected: dict[str, Any], got: dict[str, Any], exact: tuple[str, ...] | None) -> None:
    """The same findings, statuses and (for ``exact`` metrics, every metric when ``None``) values."""
    assert got["error"] is None, got["error"]
    assert got["status"] == expected["status"], (got["name"], got["status"], expected["status"])
    findings = {(f["metric"], f["subject"]): f for f in expected["findings"]}
    assert {(f["metric"], f["subject"]) for f in got["findings"]} == set(findings), got["name"]
    for f in got["findings"]:
        want = findings[(f["metric"], f["subject"])]
        assert f["status"] == want["status"], (f, want)
        if exact is None or f["metric"] in exact:
            if isinstance(want["value"], (int, float)):
                assert f["value"] == pytest.approx(want["value"], rel=1e-9, abs=1e-12, nan_ok=True), (f, want)
            else:
                assert f["value"] == want["value"], (f, want)


def test_checks_in_batches_judge_as_in_memory_here_and_on_a_dask_cluster(write_spec: Callable[..., Path],
                                                                         tmp_path: Path) -> None:
    """Whole, in batches in one process, and in batches on a LocalCluster of one single-threaded
    worker process (a row group a task, merged: the notebook's own tasks must run beside it, so no
    deadlock): the same findings. Fairness, whose scores here are fewer than DISTINCT_CAP, is
    exact to the last digits, intersections and a numeric attribute's groups included."""
    from distributed import LocalCluster

    from validation.execution.pipeline import run_specs

    reference, current = synthetic_sample(5000, seed=1), synthetic_sample(4000, seed=2, shift=0.2)
    current.loc[current.index[:7], "tenure"] = np.nan  # a numeric group read as floats in one batch only
    data = {"ids": [], "time": "month", "protected": ["sex", "tenure", "region"]}
    checks = {"drift": {}, "fairness": {"intersections": [["sex", "region"]], "min_group_size": 50}}
    whole = write_spec({"data": data, "checks": checks}, name="whole.yaml", reference=reference, current=current)
    batched = write_spec({"data": {**data, "batch_rows": ROWS}, "checks": checks}, name="batched.yaml",
                         reference=reference, current=current)
    reference.to_parquet(batched.parent / "data" / "ref.parquet", row_group_size=1500)  # 4 row groups
    current.to_parquet(batched.parent / "data" / "cur.parquet", row_group_size=1500)
    done, expected = _run(whole, tmp_path / "whole")
    assert done.returncode in (0, 1), done.stderr
    done, got = _run(batched, tmp_path / "batched")
    assert done.returncode in (0, 1), done.stderr
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        (outcome,), _ = run_specs([batched], out=tmp_path / "cluster", scheduler=cluster.scheduler_address)
    assert expected is not None and got is not None
    for name in ("drift", "fairness"):
        _same_findings(_check(expected, name), _check(got, name), EXACT.get(name))
        _same_findings(_check(got, name), _check(outcome.results, name), EXACT.get(name))
    fairness = _check(got, "fairness")
    assert fairness["summary"]["missing_values"] == {"sex": 0, "tenure": 7, "region": 0}
    assert {f["subject"] for f in fairness["findings"]} >= {"tenure:1", "sex*region:female*north"}
    assert fairness["summary"]["auc_within"] is None  # 4,000 scores: each counted
    drift_expected, drift_got, drift_cluster = _drift(expected), _drift(got), _drift(outcome.results)
    summary = drift_got["summary"]
    assert (summary["reference_rows"], summary["current_rows"], summary["batch_rows"]) == (5000, 4000, ROWS)
    assert (summary["summarised_on"], drift_cluster["summary"]["summarised_on"]) == (
        "in this process", "on a Dask cluster, a task per parquet row group")


def test_checks_that_read_whole_samples_say_why_they_do_not_run(write_spec: Callable[..., Path],
                                                                tmp_path: Path) -> None:
    spec = write_spec({"data": {"ids": [], "batch_rows": ROWS}, "checks": ["drift", "backtesting"]})
    done, doc = _run(spec, tmp_path / "out")
    assert done.returncode in (0, 1), done.stderr
    assert doc is not None
    skipped = {c["name"]: c["reason"] for c in doc["checks"] if c["status"] == "not_applicable"}
    assert set(skipped) == {"backtesting"}
    assert all("data.batch_rows" in reason for reason in skipped.values())


def test_what_batches_cannot_do_yet_is_refused_by_its_key(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec({"data": {"batch_rows": ROWS}})  # the default spec deduplicates by data.ids
    done, doc = _run(spec, tmp_path / "out")
    assert done.returncode == 2 and doc is None
    assert "data.ids" in done.stderr and "batch" in done.stderr


def test_a_bad_value_past_the_first_batch_fails_the_drift_check_alone(write_spec: Callable[..., Path],
                                                                      tmp_path: Path) -> None:
    current = synthetic_sample(3000, seed=2)
    current.loc[2500, "pd"] = 1.5  # in the third batch: the runner checked the first one only
    spec = write_spec({"data": {"ids": [], "batch_rows": ROWS}, "checks": ["drift"]},
                      reference=synthetic_sample(3000, seed=1), current=current)
    done, doc = _run(spec, tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert doc is not None
    error = _drift(doc)["error"]
    assert "pd" in error["evalue"] and "cur.parquet" in error["evalue"], error
    assert np.isfinite(current["income"]).all()


def test_the_message_lists_the_checks_that_read_batches() -> None:
    from validation.checks import REGISTRY
    from validation.checks.base import BATCH_CHECKS

    assert set(BATCH_CHECKS) == {name for name in REGISTRY.names() if REGISTRY[name].reads_batches}


def test_a_required_check_that_reads_whole_samples_must_be_waived(write_spec: Callable[..., Path]) -> None:
    """Reading in batches never drops a check the materiality requires without a reason on record."""
    from validation.errors import SpecError
    from validation.inputs.spec import load_spec

    data = {"ids": [], "batch_rows": ROWS}
    spec = write_spec({"model": {"materiality": "low"}, "data": data, "checks": ["drift", "fairness", "backtesting"]})
    with pytest.raises(SpecError, match="data.batch_rows") as caught:
        load_spec(spec)  # listed, the required checks would be skipped as not reading batches
    assert "requires the backtesting check, which reads whole samples" in str(caught.value)
    waived = write_spec({"model": {"materiality": "low"}, "data": data, "checks": ["drift", "fairness"],
                         "waivers": {"backtesting": "reads whole samples; run on the 1% sample monthly"}},
                        name="waived.yaml")
    assert load_spec(waived).versions[0].required_checks() == ["fairness", "backtesting"]
