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

from validation.checks import REGISTRY
from validation.execution.planning import PackPlan, collect_specs, plan_runs
from validation.execution.reuse import reuse_result, task_inputs_sha256, with_registry_inputs
from validation.execution.workers import DEFAULT_CELL_TIMEOUT, Task, TaskResult, run_tasks
from validation.governance.registry import Registry
from validation.inputs.spec import Alerts
from validation.judging.policy import exit_code, worst
from validation.reporting.pack import finish_pack, publish_pack
from validation.reporting.staging import claim, discard


@dataclass(frozen=True)
class PackOutcome:
    """A written pack: its folder, its ``results.json`` document and the task results."""

    path: Path
    results: dict[str, Any]
    tasks: list[TaskResult] = field(default_factory=list)
    alerts: Alerts | None = None
    """The spec's ``alerts`` block: who hears about this pack (:mod:`validation.governance.alerts`)."""

    @property
    def status(self) -> str:
        return str(self.results["status"])


def _schedule(plans: list[PackPlan], registry: Registry | None, force: bool,
              on_done: Callable[[TaskResult], None] | None) -> tuple[dict[tuple[str, str, str], str],
                                                                   dict[tuple[str, str, str], TaskResult], list[Task]]:
    """Claim every staging folder, hash every task's inputs and take what can be reused; returns
    the hashes, the reused results and the tasks left to execute, the costliest first
    (:attr:`validation.checks.Check.relative_cost`; ties keep spec order)."""
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
    pending.sort(key=lambda task: -REGISTRY[task.check].relative_cost)
    return inputs, done, pending


def execute_plans(plans: list[PackPlan], *, workers: int | None = None, scheduler: str | None = None,
                  registry: Registry | None = None, force: bool = False,
                  on_done: Callable[[TaskResult], None] | None = None, pdf: bool = False) -> list[PackOutcome]:
    """Execute every task of every plan in one pool (or on a Dask cluster), reusing unchanged
    results from the registry, then assemble, and record, the packs in spec order.

    With a registry, each pack carries the register items of earlier versions of its model that
    are not closed (``register.json``); with ``pdf``, each pack holds ``pack.pdf``."""
    try:
        inputs, done, pending = _schedule(plans, registry, force, on_done)
        for result in run_tasks(pending, workers=workers, scheduler=scheduler, on_done=on_done):
            done[result.key] = result
        outcomes = []
        for plan in plans:
            previous = _previous_run(registry, plan)
            task_results = [done[t.key] for t in plan.tasks]
            carried = None if registry is None else registry.carried_items(plan.spec.name, plan.spec.version)
            path, doc = finish_pack(plan, task_results, previous=previous, carried=carried, pdf=pdf)
            if registry is not None:  # the pack moves into place inside the registry's transaction
                registry.record(doc, path, inputs={t.check: inputs[t.key] for t in plan.tasks},
                                reused={r.key[2]: r.reused_from for r in task_results if r.reused_from},
                                publish=lambda plan=plan: publish_pack(plan))  # type: ignore[misc]
            else:
                publish_pack(plan)
            outcomes.append(PackOutcome(path, doc, task_results, plan.spec.alerts))
        return outcomes
    except BaseException:
        for plan in plans:
            discard(plan.staging)
        raise
    finally:  # the SQL sources' snapshots go once every notebook has run
        for plan in plans:
            plan.release()


def _previous_run(registry: Registry | None, plan: PackPlan) -> tuple[str, str, list[Any]] | None:
    """The previous version's latest run in the registry: (version, run id, findings)."""
    previous = plan.spec.previous_version
    if registry is None or previous is None:
        return None
    run = registry.latest_run(plan.spec.name, previous)
    if run is None:
        return None
    return previous, run["run_id"], registry.findings(run["run_id"])


def prepare_output(out: Path, registry: Registry | None, plans: list[PackPlan]) -> None:
    """Before anything runs: the output folder can be written, the registry is a writable SQLite
    database, and no pack folder would land on the registry file.

    Raises
    ------
    OutputError, RegistryError
        (exit 2) With nothing left behind: a folder created here is removed again.
    """
    from validation.errors import RegistryError

    created = _make_folder(out)
    try:
        if registry is not None:
            target = registry.path.absolute()
            for plan in plans:
                if target in (plan.final.parent.absolute(), plan.final.parent.parent.absolute()):
                    raise RegistryError(registry.path, f"is where the packs of {plan.spec.name} version "
                                        f"{plan.spec.version} would go; give --registry another file")
            registry.check_writable()
    except BaseException:
        _remove_empty(created)
        raise


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` (and missing parents) and prove it writable with a probe file; returns the
    folders created, outermost first."""
    import tempfile

    from validation.errors import OutputError

    missing = [p for p in [out, *out.parents] if not p.exists()][::-1]
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not out.is_dir():
            raise OutputError(out, "is a file, not a folder; give a folder for the packs")
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        _remove_empty(missing)
        raise OutputError(out, f"cannot be written ({exc.strerror or exc}); give a folder you can write to, "
                          "e.g. --out reports") from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders (innermost first) that are still empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            pass


def run_specs(specs: Sequence[str | Path], *, version: str | None = None, checks: list[str] | None = None,
              out: str | Path = "reports", workers: int | None = None, scheduler: str | None = None,
              timeout: int = DEFAULT_CELL_TIMEOUT, registry: Registry | None = None, force: bool = False,
              on_done: Callable[[TaskResult], None] | None = None, pdf: bool = False
              ) -> tuple[list[PackOutcome], int]:
    """Validate and write packs (with ``pack.pdf`` each when ``pdf``); returns the packs and the
    CLI exit code (0, 1 or 3).

    Raises
    ------
    InputError
        (exit 2, nothing written) Bad input; with ``pdf``, Chromium or the PDF module missing.
    """
    if pdf:
        from validation.reporting.pack import check_pdf_printer

        check_pdf_printer()
    plans = plan_runs(collect_specs(specs), version=version, checks=checks, out=Path(out), timeout=timeout)
    prepare_output(Path(out), registry, plans)
    outcomes = execute_plans(plans, workers=workers, scheduler=scheduler, registry=registry, force=force,
                             on_done=on_done, pdf=pdf)
    return outcomes, exit_code(worst([o.status for o in outcomes]))
