"""Validate model versions end to end: plan (:mod:`~validation.execution.planning`), execute in
parallel (:mod:`~validation.execution.workers`), reuse what is unchanged
(:mod:`~validation.execution.reuse`), assemble the packs and record them in the registry.

Once checks execute, failures are per check (status ``error``) and every pack is still written.
A failure before every pack is complete (an interruption, a registry that cannot be written)
removes the staging folders: a pack appears with its registry row or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from validation.execution.planning import PackPlan, collect_specs, plan_runs
from validation.execution.reuse import reuse_result, task_inputs_sha256, with_registry_inputs
from validation.execution.workers import DEFAULT_CELL_TIMEOUT, Task, TaskResult, run_tasks
from validation.governance.registry import Registry
from validation.judging.policy import exit_code, worst
from validation.reporting.pack import finish_pack
from validation.reporting.staging import claim, discard


@dataclass(frozen=True)
class PackOutcome:
    """A written pack: its folder, its ``results.json`` document and the task results."""

    path: Path
    results: dict[str, Any]
    tasks: list[TaskResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.results["status"])


def _schedule(plans: list[PackPlan], registry: Registry | None, force: bool,
              on_done: Callable[[TaskResult], None] | None) -> tuple[dict[tuple[str, str, str], str],
                                                                   dict[tuple[str, str, str], TaskResult], list[Task]]:
    """Claim every staging folder, hash every task's inputs and take what can be reused; returns
    the hashes, the reused results and the tasks left to execute."""
    inputs: dict[tuple[str, str, str], str] = {}
    done: dict[tuple[str, str, str], TaskResult] = {}
    pending: list[Task] = []
    for plan in plans:
        claim(plan.staging, plan.run_id)
        plan.tasks = [with_registry_inputs(task, plan, registry) for task in plan.tasks]
        for task in plan.tasks:
            inputs[task.key] = digest = task_inputs_sha256(plan, task.check, task.parameters)
            row = None if registry is None or force else registry.reusable(*task.key, digest)
            reused = reuse_result(task, row["run_id"], Path(row["pack"])) if row is not None else None
            if reused is None:
                pending.append(task)
                continue
            done[task.key] = reused
            if on_done:
                on_done(reused)
    return inputs, done, pending


def execute_plans(plans: list[PackPlan], *, workers: int | None = None, scheduler: str | None = None,
                  registry: Registry | None = None, force: bool = False,
                  on_done: Callable[[TaskResult], None] | None = None) -> list[PackOutcome]:
    """Execute every task of every plan in one pool (or on a Dask cluster), reusing unchanged
    results from the registry, then assemble, and record, the packs in spec order."""
    try:
        inputs, done, pending = _schedule(plans, registry, force, on_done)
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
            discard(plan.staging)
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


def run_specs(specs: Sequence[str | Path], *, version: str | None = None, checks: list[str] | None = None,
              out: str | Path = "reports", workers: int | None = None, scheduler: str | None = None,
              timeout: int = DEFAULT_CELL_TIMEOUT, registry: Registry | None = None, force: bool = False,
              on_done: Callable[[TaskResult], None] | None = None) -> tuple[list[PackOutcome], int]:
    """Validate and write packs; returns the packs and the CLI exit code (0, 1 or 3)."""
    plans = plan_runs(collect_specs(specs), version=version, checks=checks, out=Path(out), timeout=timeout)
    outcomes = execute_plans(plans, workers=workers, scheduler=scheduler, registry=registry, force=force,
                             on_done=on_done)
    return outcomes, exit_code(worst([o.status for o in outcomes]))
