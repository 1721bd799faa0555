"""Incremental runs: a (version, check) whose inputs are unchanged since its last successful run is
not executed again.

The inputs of a task are hashed (:func:`task_inputs_sha256`): the spec's sections for that version
and check, the check's fingerprint (its parameters, and what else it depends on), the data files,
the artifact, the template, the package version and the package's own code (:func:`code_sha256`:
a change to how a check computes or judges is a new result, even at the same version number). When
the registry holds a run with the same
hash, its executed notebook, HTML and glued findings are taken from that run's pack, judged again
like fresh ones, and the pack says so. ``force=True`` runs everything.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import shutil
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validation.checks import REGISTRY, RUNNER_PARAMETERS
from validation.execution.workers import Task, TaskResult
from validation.reporting.lineage import DATA_INPUTS

if TYPE_CHECKING:
    from validation.execution.planning import PackPlan
    from validation.governance.registry import Registry

@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """sha256 of this package's Python sources, in path order: what computes every result. A
    release number alone misses a change between releases (an editable install, a patched
    checkout), and a result computed by other code must not be reused as this code's."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def task_inputs_sha256(plan: "PackPlan", check: str, parameters: dict[str, Any] | None = None) -> str:
    """sha256 of everything a check's result depends on (see the module docstring)."""
    spec = plan.spec
    files = {k: v["sha256"] for k, v in plan.inputs.items() if k in DATA_INPUTS or k == f"template:{check}"}
    parameters = dict(parameters if parameters is not None else spec.checks.get(check, {}))
    for runner in RUNNER_PARAMETERS:
        parameters.pop(runner, None)  # paths and hashes already counted by value
    payload = {
        "check": check, "parameters": REGISTRY[check].fingerprint(spec, plan.spec_file, parameters),
        "model": spec.model.model_dump(mode="json"), "data": spec.data.model_dump(mode="json"),
        "decision": spec.decision.model_dump(mode="json") if spec.decision else None,
        "grades": spec.grades, "thresholds": {k: v.model_dump(mode="json") for k, v in spec.thresholds.items()},
        "files": files, "previous_version": spec.previous_version, "package": metadata.version("validation"),
        "code": code_sha256(),
        "check_code": REGISTRY.providers.get(check),  # a new release of a third-party check is a new result
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def with_registry_inputs(task: Task, plan: "PackPlan", registry: "Registry | None") -> Task:
    """The task with the runner parameters its check takes from the registry."""
    if registry is None:
        return task
    extra = REGISTRY[task.check].registry_inputs(plan.spec, registry)
    return dataclasses.replace(task, parameters={**task.parameters, **extra}) if extra else task


def reuse_result(task: Task, run_id: str, pack: Path) -> TaskResult | None:
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
    if FINDINGS not in scraps:  # no evidence to reuse: run the check again
        return None
    return TaskResult(task.key, findings=list(scraps.get(FINDINGS) or []), summary=dict(scraps.get(SUMMARY) or {}),
                      html_ok=True, reused_from=run_id)
