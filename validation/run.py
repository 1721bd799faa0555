"""Validate model versions end to end: check inputs, plan, execute in parallel, assemble packs.

Everything the user gave is checked before anything is written: the spec, every version's data
and artifact, the check names. Any :class:`~validation.errors.InputError` then stops the run with
nothing on disk. Once checks execute, failures are per check (status ``error``) and every pack is
still written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from validation.checks import REGISTRY
from validation.data import load_samples, release_memory
from validation.errors import InputError
from validation.pack import PackPlan, discard, finish_pack, plan_pack
from validation.policy import exit_code, worst
from validation.runner import DEFAULT_CELL_TIMEOUT, TaskResult, run_tasks
from validation.spec import ModelVersionSpec, Spec, load_spec


@dataclass(frozen=True)
class PackOutcome:
    """A written pack: its folder and its ``results.json`` document."""

    path: Path
    results: dict[str, Any]

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


def execute_plans(plans: list[PackPlan], *, workers: int | None = None,
                  on_done: Callable[[TaskResult], None] | None = None) -> list[PackOutcome]:
    """Execute every task of every plan in one worker pool, then assemble the packs."""
    tasks = [task for plan in plans for task in plan.tasks]
    try:
        results = run_tasks(tasks, workers=workers, on_done=on_done)
        by_key = {r.key: r for r in results}
        outcomes = []
        for plan in plans:
            path, doc = finish_pack(plan, [by_key[t.key] for t in plan.tasks])
            outcomes.append(PackOutcome(path, doc))
        return outcomes
    except BaseException:
        for plan in plans:
            discard(plan)
        raise


def run(specs: Sequence[str | Path], *, version: str | None = None, checks: list[str] | None = None,
        out: str | Path = "reports", workers: int | None = None,
        timeout: int = DEFAULT_CELL_TIMEOUT,
        on_done: Callable[[TaskResult], None] | None = None) -> tuple[list[PackOutcome], int]:
    """Validate and write packs; returns the packs and the CLI exit code (0, 1 or 3)."""
    plans = validate_specs([Path(s) for s in specs], version=version, checks=checks,
                           out=Path(out), timeout=timeout)
    outcomes = execute_plans(plans, workers=workers, on_done=on_done)
    return outcomes, exit_code(worst([o.status for o in outcomes]))
