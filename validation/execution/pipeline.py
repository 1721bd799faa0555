"""Validate model versions end to end: check inputs, plan, execute in parallel, assemble packs,
record them in the registry.

Everything the user gave is checked before anything is written: the spec, every version's data
and artifact, the check names and parameters. Any :class:`~validation.errors.InputError` then
stops the run with nothing on disk. Once checks execute, failures are per check (status ``error``)
and every pack is still written.

Incremental runs: a (version, check) whose inputs are unchanged since its last successful run
(sha256 of the spec's section for that version and check, the data files, the artifact, the
template and the package version) is not executed again: its executed notebook, HTML and findings
are taken from that run's pack, and the pack says so. ``force=True`` runs everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

from validation.checks import REGISTRY
from validation.inputs.samples import load_samples, release_memory
from validation.errors import InputError
from validation.reporting.pack import PackPlan, claim, discard, finish_pack, plan_pack
from validation.judging.policy import exit_code, worst
from validation.governance.registry import Registry
from validation.execution.workers import DEFAULT_CELL_TIMEOUT, Task, TaskResult, run_tasks
from validation.inputs.spec import ModelVersionSpec, Spec, load_spec


@dataclass(frozen=True)
class PackOutcome:
    """A written pack: its folder, its ``results.json`` document and the task results."""

    path: Path
    results: dict[str, Any]
    tasks: list[TaskResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.results["status"])


def select_checks(spec: ModelVersionSpec, requested: list[str] | None) -> list[str]:
    """The spec's checks, or the requested subset (any registered check may be requested)."""
    if not requested:
        return list(spec.checks)
    for name in requested:
        REGISTRY[name]  # raises UnknownCheckError listing the known names
    return list(dict.fromkeys(requested))


def select_versions(spec: Spec, version: str | None) -> list[ModelVersionSpec]:
    return [spec.version(version)] if version is not None else list(spec.versions)


def collect_specs(paths: Sequence[str | Path]) -> list[Path]:
    """Spec files from files and folders (a folder gives its ``*.yaml`` and ``*.yml``, sorted)."""
    specs: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            found = sorted([*item.glob("*.yaml"), *item.glob("*.yml")])
            if not found:
                raise InputError(f"{item}: no spec files (*.yaml) in this folder")
            specs.extend(found)
        else:
            specs.append(item)
    return list(dict.fromkeys(specs))


def validate_specs(specs: list[Path], *, version: str | None = None,
                   checks: list[str] | None = None, out: Path, timeout: int = DEFAULT_CELL_TIMEOUT) -> list[PackPlan]:
    """Check every input and plan one pack per model version; writes nothing."""
    plans: list[PackPlan] = []
    for spec_path in specs:
        spec = load_spec(spec_path)
        for entry in select_versions(spec, version):
            selected = select_checks(entry, checks)
            samples = load_samples(entry)
            for name in selected:
                if not REGISTRY[name].not_applicable(entry):
                    REGISTRY[name].validate_inputs(entry, samples)
            rows = {"reference": len(samples.reference), "current": len(samples.current)}
            features = samples.features
            del samples  # checked: the notebooks load their own copy; free this one now
            release_memory()
            plans.append(plan_pack(entry, selected, out, timeout=timeout, rows=rows, features=features))
    if not plans:
        raise InputError("nothing to validate: no model versions selected")
    return plans


def _with_registry_previous(task: Task, plan: PackPlan, registry: Registry | None) -> Task:
    """For explainability when the spec names no previous version (a spec per version): the
    importances of the registry's latest run of a version first seen before this one, passed to the
    template as ``previous_importances``. The first version of a ``versions:`` list has none."""
    spec = plan.spec
    if task.check != "explainability" or spec.previous_version is not None or spec.first_listed or registry is None:
        return task
    previous = registry.previous_importances(spec.name, spec.version)
    if previous is None:
        return task
    return dataclasses.replace(task, parameters={**task.parameters, "previous_importances": previous})


def task_inputs_sha256(plan: PackPlan, check: str, parameters: dict[str, Any] | None = None) -> str:
    """sha256 of everything a check's result depends on (see the module docstring)."""
    spec = plan.spec
    files = {k: v["sha256"] for k, v in plan.inputs.items()
             if k in ("data.reference", "data.current", "data.reference_profile", "model.artifact", f"template:{check}")}
    previous_artifact = None
    if check == "explainability" and spec.previous_version is not None:
        previous_artifact = load_spec(spec.path).version(spec.previous_version).model.artifact_sha256
    parameters = dict(parameters if parameters is not None else spec.checks.get(check, {}))
    if isinstance(parameters.get("previous_importances"), dict):
        # the importances compared against count, not the id of the run they were read from: the
        # same values from a newer run of the same version leave the result unchanged
        parameters["previous_importances"] = {k: v for k, v in parameters["previous_importances"].items() if k != "run"}
    payload = {
        "check": check, "parameters": parameters,
        "model": spec.model.model_dump(mode="json"), "data": spec.data.model_dump(mode="json"),
        "decision": spec.decision.model_dump(mode="json") if spec.decision else None,
        "grades": spec.grades, "thresholds": {k: v.model_dump(mode="json") for k, v in spec.thresholds.items()},
        "files": files, "previous_version": spec.previous_version, "previous_artifact": previous_artifact,
        "package": metadata.version("validation"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _reuse(task: Task, run_id: str, pack: Path) -> TaskResult | None:
    """Copy a previous run's notebook and HTML of this check into the new pack and read its glued
    findings back (the raw findings, judged again like fresh ones)."""
    from validation.execution.scraps import FINDINGS, SUMMARY, read_scraps

    old_notebook = pack / "notebooks" / Path(task.notebook).name
    old_html = pack / "html" / Path(task.html).name
    if not old_notebook.is_file() or not old_html.is_file():
        return None
    Path(task.notebook).parent.mkdir(parents=True, exist_ok=True)
    Path(task.html).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(old_notebook, task.notebook)
    shutil.copy2(old_html, task.html)
    scraps = read_scraps(task.notebook)
    return TaskResult(task.key, findings=list(scraps.get(FINDINGS) or []), summary=dict(scraps.get(SUMMARY) or {}),
                      html_ok=True, reused_from=run_id)


def execute_plans(plans: list[PackPlan], *, workers: int | None = None, scheduler: str | None = None,
                  registry: Registry | None = None, force: bool = False,
                  on_done: Callable[[TaskResult], None] | None = None) -> list[PackOutcome]:
    """Execute every task of every plan in one pool (or on a Dask cluster), reusing unchanged
    results from the registry, then assemble, and record, the packs in spec order."""
    inputs: dict[tuple[str, str, str], str] = {}
    done: dict[tuple[str, str, str], TaskResult] = {}
    pending: list[Task] = []
    try:
        for plan in plans:
            claim(plan)
            plan.tasks = [_with_registry_previous(task, plan, registry) for task in plan.tasks]
            for task in plan.tasks:
                inputs[task.key] = digest = task_inputs_sha256(plan, task.check, task.parameters)
                row = None if registry is None or force else registry.reusable(*task.key, digest)
                reused = _reuse(task, row["run_id"], Path(row["pack"])) if row is not None else None
                if reused is not None:
                    done[task.key] = reused
                    if on_done:
                        on_done(reused)
                else:
                    pending.append(task)
        for result in run_tasks(pending, workers=workers, scheduler=scheduler, on_done=on_done):
            done[result.key] = result
        outcomes = []
        for plan in plans:
            previous = _previous_run(registry, plan)
            task_results = [done[t.key] for t in plan.tasks]
            path, doc = finish_pack(plan, task_results, previous=previous)
            if registry is not None:
                registry.record(doc, path, inputs={t.check: inputs[t.key] for t in plan.tasks},
                                reused={r.key[2]: r.reused_from for r in task_results if r.reused_from})
            outcomes.append(PackOutcome(path, doc, task_results))
        return outcomes
    except BaseException:
        for plan in plans:
            discard(plan)
        raise


def _previous_run(registry: Registry | None, plan: PackPlan) -> tuple[str, str, list[Any]] | None:
    """The previous version's latest run in the registry: (version, run id, findings)."""
    previous = plan.spec.previous_version
    if registry is None or previous is None:
        return None
    run = registry.latest_run(plan.spec.name, previous)
    if run is None:
        return None
    return previous, run["run_id"], registry.findings(run["run_id"])


def run(specs: Sequence[str | Path], *, version: str | None = None, checks: list[str] | None = None,
        out: str | Path = "reports", workers: int | None = None, scheduler: str | None = None,
        timeout: int = DEFAULT_CELL_TIMEOUT, registry: Registry | None = None, force: bool = False,
        on_done: Callable[[TaskResult], None] | None = None) -> tuple[list[PackOutcome], int]:
    """Validate and write packs; returns the packs and the CLI exit code (0, 1 or 3)."""
    plans = validate_specs(collect_specs(specs), version=version, checks=checks, out=Path(out), timeout=timeout)
    outcomes = execute_plans(plans, workers=workers, scheduler=scheduler, registry=registry, force=force,
                             on_done=on_done)
    return outcomes, exit_code(worst([o.status for o in outcomes]))
