"""Validation packs: planning the tasks of a model version, then assembling its folder.

Layout (DESIGN.md, "Pack layout")::

    <out>/<model>/<version>/<run_id>/
      index.html  results.json  manifest.json  notebooks/<check>.ipynb  html/<check>.html

A pack is written in a hidden staging folder next to its final place (``.<run_id>.partial``) and
renamed when complete: a reader, a scheduler or a crash never sees a half-written pack under its
final name. A sibling ``.<run_id>.owner`` names the process writing it, so that the next run in the
same place removes a staging folder whose process was killed outright (:func:`sweep_abandoned`).
The pack holds aggregates only: the executed notebooks glue and show aggregates, and no data file
is ever copied into it (inputs are recorded by path and sha256).
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from validation.checks import REGISTRY, RUNNER_PARAMETERS
from validation.judging.findings import judge_finding
from validation.inputs.artifacts import sha256_file
from validation.judging.policy import SEVERITY, worst
from validation.execution.workers import DEFAULT_CELL_TIMEOUT, Task, TaskResult, validate_parameter_names
from validation.inputs.spec import ModelVersionSpec

SCHEMA_VERSION = 1
PACKAGES = ("validation", "papermill", "nbconvert", "nbclient", "ipykernel", "scrapbook", "pandas",
            "numpy", "scipy", "scikit-learn", "shap", "fairlearn", "matplotlib", "pyarrow", "skops",
            "pydantic", "jinja2")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time and 6 random hex digits."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class PackPlan:
    """Everything needed to execute and assemble one pack."""

    spec: ModelVersionSpec
    run_id: str
    staging: Path
    final: Path
    tasks: list[Task]
    not_applicable: dict[str, str]
    checks: list[str]
    started_at: str
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)


def input_hashes(spec: ModelVersionSpec, checks: list[str]) -> dict[str, dict[str, str]]:
    """sha256 of the spec, the data files, the artifact and the templates used."""
    inputs = {"spec": {"path": str(spec.path), "sha256": spec.sha256}}
    for key in ("reference", "current"):
        path = getattr(spec.data, key)
        inputs[f"data.{key}"] = {"path": path, "sha256": sha256_file(path)}
    if spec.data.reference_profile:
        inputs["data.reference_profile"] = {"path": spec.data.reference_profile,
                                            "sha256": sha256_file(spec.data.reference_profile)}
    if spec.model.artifact:
        inputs["model.artifact"] = {"path": spec.model.artifact, "sha256": sha256_file(spec.model.artifact)}
    for name in checks:
        template = REGISTRY[name].path
        inputs[f"template:{name}"] = {"path": str(template), "sha256": sha256_file(template)}
    return inputs


def plan_pack(spec: ModelVersionSpec, checks: list[str], out: Path, *,
              timeout: int = DEFAULT_CELL_TIMEOUT, rows: dict[str, int] | None = None,
              features: list[str] | None = None) -> PackPlan:
    """Plan one pack: a task per applicable check, the others recorded as not applicable."""
    run_id = new_run_id()
    parent = out / spec.name / spec.version
    staging = parent / f".{run_id}.partial"
    tasks: list[Task] = []
    not_applicable: dict[str, str] = {}
    for name in checks:
        check = REGISTRY[name]
        reason = check.not_applicable(spec)
        if reason:
            not_applicable[name] = reason
            continue
        user = dict(spec.checks.get(name, {}))
        if user:
            validate_parameter_names(user, check.user_parameters(), check=name)
        parameters = {"spec": str(spec.path), "version": spec.version, **user}
        assert set(RUNNER_PARAMETERS) <= set(parameters)
        tasks.append(Task(
            key=(spec.name, spec.version, name), template=str(check.path),
            notebook=str(staging / "notebooks" / f"{name}.ipynb"),
            html=str(staging / "html" / f"{name}.html"), parameters=parameters, timeout=timeout,
            title=f"{name}: {spec.name} version {spec.version}",
        ))
    return PackPlan(spec, run_id, staging, parent / run_id, tasks, not_applicable, list(checks),
                    _now(), input_hashes(spec, [t.check for t in tasks]), dict(rows or {}),
                    list(features or []))


def _error_record(result: TaskResult) -> dict[str, Any] | None:
    if result.error is None:
        return None
    e = result.error
    return {"kind": e.kind, "reason": e.reason, "cell_index": e.cell_index, "ename": e.ename,
            "evalue": e.evalue, "traceback": e.traceback}


def check_records(plan: PackPlan, results: list[TaskResult]) -> list[dict[str, Any]]:
    """The ``checks`` list of ``results.json``, in the spec's order."""
    by_check = {r.key[2]: r for r in results}
    records: list[dict[str, Any]] = []
    for name in plan.checks:
        if name in plan.not_applicable:
            records.append({"name": name, "status": "not_applicable", "error": None,
                            "reason": plan.not_applicable[name], "notebook": None, "html": None,
                            "findings": []})
            continue
        result = by_check[name]
        notebook = plan.staging / "notebooks" / f"{name}.ipynb"
        findings = [] if result.error else [judge_finding(f, plan.spec.thresholds) for f in result.findings]
        status = "error" if result.error else worst([f["status"] for f in findings])
        records.append({
            "name": name, "status": status, "error": _error_record(result),
            "notebook": f"notebooks/{name}.ipynb" if notebook.exists() else None,
            "html": f"html/{name}.html" if result.html_ok else None,
            "duration_seconds": round(result.duration, 3),
            "reused_from": result.reused_from,
            "summary": result.summary,
            "findings": findings,
        })
    return records


@functools.lru_cache(maxsize=1)
def _git_commit() -> str | None:
    """The project's commit (``-dirty`` when modified), once per process: a batch asks per pack."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def environment() -> dict[str, Any]:
    """Python, platform, package versions, git commit, user and host."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"python": platform.python_version(), "platform": platform.platform(),
            "executable": sys.executable, "packages": packages, "git_commit": _git_commit(),
            "user": user, "host": socket.gethostname()}


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def model_card(plan: PackPlan, results_doc: dict[str, Any]) -> dict[str, Any]:
    """The model card (Mitchell et al. 2019, "Model Cards for Model Reporting") from the spec and
    the results: model details, intended use, factors, metrics, evaluation and training data,
    quantitative analyses (metrics by group), ethical considerations, caveats."""
    spec, model = plan.spec, plan.spec.model
    findings = {(c["name"], f["metric"], f["subject"]): f for c in results_doc["checks"] for f in c["findings"]}
    headline = {label: findings[key]["value"] for label, key in (
        ("AUC", ("backtesting", "auc", "score")), ("Gini", ("backtesting", "gini", "score")),
        ("score PSI", ("drift", "psi", "score")), ("Brier", ("backtesting", "brier", "score"))) if key in findings}
    by_group = [{"group": f["subject"], "approval_rate": f["value"],
                 "disparate_impact_ratio": findings.get(("fairness", "disparate_impact_ratio", f["subject"]), {}).get("value"),
                 "default_rate": findings.get(("fairness", "default_rate", f["subject"]), {}).get("value")}
                for (check, metric, _), f in findings.items() if check == "fairness" and metric == "approval_rate"]
    decision = spec.decision
    return {
        "model_details": {"name": model.name, "version": model.version, "type": model.type,
                          "owner": model.owner, "tier": model.tier, "purpose": model.purpose,
                          "artifact_sha256": model.artifact_sha256},
        "intended_use": model.intended_use or model.purpose, "out_of_scope_use": model.out_of_scope_use,
        "factors": {"protected": list(spec.data.protected), "segments": list(spec.data.segments),
                    "time": spec.data.time},
        "metrics": {"decision": (f"favourable when the score is {decision.favourable} {decision.threshold}"
                                 if decision else None), "headline": headline},
        "evaluation_data": f"current sample: {Path(spec.data.current).name}, {plan.rows.get('current', 0):,} rows",
        "training_data": model.training_data or (f"reference (development) sample: {Path(spec.data.reference).name}, "
                                                  f"{plan.rows.get('reference', 0):,} rows"),
        "quantitative_analyses": by_group,
        "ethical_considerations": model.ethical_considerations, "caveats": model.caveats or model.limitations,
        "limitations": model.limitations, "features": plan.features,
    }


def render_pack_index(pack: Path) -> None:
    """(Re)write ``index.html`` from the pack's own files: results, manifest, card, reviews, diff."""
    from validation.governance.integrity import REVIEW, content_sha256, file_hashes
    from validation.governance.regulatory import mapping
    from validation.reporting.render import render_index

    results_doc = json.loads((pack / "results.json").read_text(encoding="utf-8"))
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    card = json.loads((pack / "card.json").read_text(encoding="utf-8"))
    reviews = []
    if (pack / REVIEW).is_file():
        current = content_sha256(file_hashes(pack))
        for review in json.loads((pack / REVIEW).read_text(encoding="utf-8"))["reviews"]:
            reviews.append({**review, "valid": review["pack_sha256"] == current})
    findings = [dict(f, check=r["name"]) for r in results_doc["checks"] for f in r["findings"]]
    findings.sort(key=lambda f: (-SEVERITY.get(f["status"], -1), f["check"]))
    counts = {s: sum(1 for f in findings if f["status"] == s) for s in ("green", "amber", "red", "info")}
    counts["error"] = sum(1 for r in results_doc["checks"] if r["status"] == "error")
    diff = card.get("diff")
    html = render_index({
        "results": results_doc, "findings": findings, "counts": counts, "manifest": manifest, "card": card,
        "diff": diff, "reviews": reviews, "signed": bool(manifest.get("signature")),
        "regulatory": mapping([c["name"] for c in results_doc["checks"]]),
    })
    temporary = pack / ".index.html.tmp"
    temporary.write_text(html, encoding="utf-8")
    os.replace(temporary, pack / "index.html")


def finish_pack(plan: PackPlan, results: list[TaskResult], *,
                previous: tuple[str, str, list[Any]] | None = None) -> tuple[Path, dict[str, Any]]:
    """Write ``results.json``, ``card.json``, ``index.html`` and ``manifest.json`` (signed when
    ``VALIDATION_SIGNING_KEY`` is set), then move the pack into place.

    ``previous`` is ``(version, run_id, findings)`` of the previous version's latest run: the pack
    then holds ``html/diff.html``, the finding-by-finding comparison, linked from the index.

    Returns the final pack folder and the results document.
    """
    from validation.governance.integrity import signing_key, write_manifest

    spec = plan.spec
    records = check_records(plan, results)
    results_doc = {
        "schema_version": SCHEMA_VERSION,
        "model": {"name": spec.name, "version": spec.version, "type": spec.model.type},
        "run": {"id": plan.run_id, "started_at": plan.started_at, "finished_at": _now(),
                "spec_sha256": spec.sha256},
        "status": worst([r["status"] for r in records]),
        "checks": records,
    }
    plan.staging.mkdir(parents=True, exist_ok=True)
    _write_json(plan.staging / "results.json", results_doc)
    card = model_card(plan, results_doc)
    if previous is not None:
        from validation.reporting.history import compare_findings, render_page

        old_version, old_run, old_findings = previous
        findings = [dict(f, check=r["name"]) for r in records for f in r["findings"]]
        table = compare_findings(old_findings, findings)
        (plan.staging / "html").mkdir(parents=True, exist_ok=True)
        (plan.staging / "html" / "diff.html").write_text(render_page(
            f"{spec.name}: version {old_version} (run {old_run}) against version {spec.version} (this run)",
            table, intro="Every finding of the two runs; status changes first."), encoding="utf-8")
        changed = table[(table["diff"] == "changed") & (table["old_status"] != table["new_status"])]
        card["diff"] = {"href": "html/diff.html", "version": old_version, "run": old_run, "changed": len(changed)}
    _write_json(plan.staging / "card.json", card)
    manifest: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "run_id": plan.run_id, "inputs": plan.inputs,
                                "environment": environment(), "signed": signing_key() is not None, "files": {}}
    _write_json(plan.staging / "manifest.json", manifest)
    render_pack_index(plan.staging)
    write_manifest(plan.staging, manifest)
    os.replace(plan.staging, plan.final)
    _owner_file(plan.staging).unlink(missing_ok=True)
    return plan.final, results_doc


def discard(plan: PackPlan) -> None:
    """Remove a plan's staging folder (after a failure before the pack was complete)."""
    shutil.rmtree(plan.staging, ignore_errors=True)
    _owner_file(plan.staging).unlink(missing_ok=True)


def _owner_file(staging: Path) -> Path:
    return staging.with_name(staging.name.removesuffix(".partial") + ".owner")


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def claim(plan: PackPlan) -> None:
    """Mark the plan's staging folder as this process's (a sibling ``.<run_id>.owner`` file with
    host, boot and pid), after sweeping the abandoned staging folders next to it."""
    parent = plan.staging.parent
    parent.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(parent)
    owner = {"host": socket.gethostname(), "boot_id": _boot_id(), "pid": os.getpid(), "run_id": plan.run_id}
    _write_json(_owner_file(plan.staging), owner)


def sweep_abandoned(folder: Path) -> list[Path]:
    """Remove the staging folders in ``folder`` whose owner process is gone (killed outright, so it
    could not clean up): owned by this host, and either from an earlier boot or with no process of
    that pid. Staging folders of other hosts, of live processes, or without an owner file are left.

    Returns the folders removed.
    """
    removed = []
    host, boot = socket.gethostname(), _boot_id()
    for owner_path in folder.glob(".*.owner"):
        try:
            owner = json.loads(owner_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner.get("host") != host:
            continue
        if owner.get("boot_id") == boot and _alive(int(owner.get("pid", 0))):
            continue
        staging = owner_path.with_name(owner_path.name.removesuffix(".owner") + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        owner_path.unlink(missing_ok=True)
        removed.append(staging)
    return removed
