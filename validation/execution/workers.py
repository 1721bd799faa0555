"""Executing checks: one papermill run per (model version, check), in parallel worker processes.

A task runs in a worker process: papermill executes the template with the spec's parameters in
this environment's kernel (:mod:`validation.execution.kernel`) with a per-cell timeout; scrapbook reads the
glued findings back; nbconvert renders the executed notebook to HTML. A failure never escapes the
task: it becomes the task's ``error`` with its kind, reason, failing cell and traceback, and the
other tasks go on.

papermill marks a cell that raised, but after a cell timeout or a dead kernel it saves the notebook
with every cell marked ``completed``. :func:`execute_task` detects both from the exception, finds
the cell that was running (the last one papermill started) and marks it in the saved notebook: an
error output on the cell and a banner at the top, so the evidence says what happened.
"""

from __future__ import annotations

import keyword
import os
import time
import traceback as tb
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

from validation.errors import CheckExecutionError, InputError

DEFAULT_CELL_TIMEOUT = 600


@dataclass(frozen=True)
class Task:
    """One notebook to execute.

    Attributes
    ----------
    key
        Identifies the task in results (model, version, check).
    template
        The template notebook.
    notebook, html
        Where the executed notebook and its HTML rendering go.
    parameters
        papermill parameters (names already validated).
    timeout
        Per-cell timeout in seconds.
    title
        Title of the HTML page.
    """

    key: tuple[str, str, str]
    template: str
    notebook: str
    html: str
    parameters: dict[str, Any]
    timeout: int = DEFAULT_CELL_TIMEOUT
    title: str = ""
    template_sha256: str | None = None
    """The template's sha256 when the run was planned: the worker executes the template only if
    the bytes it reads still have it (they are the bytes executed)."""

    @property
    def check(self) -> str:
        return self.key[2]


@dataclass
class TaskResult:
    """What a task produced: raw findings and summary, or an error; and how long it took."""

    key: tuple[str, str, str]
    findings: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    error: CheckExecutionError | None = None
    duration: float = 0.0
    html_ok: bool = False
    reused_from: str | None = None
    """The run whose results were reused (inputs unchanged), or None when the notebook ran."""


def validate_parameter_names(parameters: dict[str, Any], known: set[str], *, check: str) -> None:
    """Refuse parameter names papermill would write unescaped into code.

    A name must be an identifier, not a keyword, and one of the check's parameters, so
    ``{"x=1;import os;os.system('...')#": 0}`` never reaches a kernel. The spec's loader refuses
    such names already; this is the last guard where they are written into code.
    """
    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise InputError(f"checks.{check}: parameter name {name!r} is not a Python identifier")
        if name not in known:
            raise InputError(f"checks.{check}: the template has no parameter {name!r}; "
                             f"it takes: {', '.join(sorted(known))}")


def _failing_cell(notebook: Any) -> int | None:
    """Index of the last cell papermill started (the one running when execution stopped)."""
    started = [i for i, cell in enumerate(notebook.cells)
               if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _mark_failure(path: Path, kind: str, reason: str, cell_index: int | None) -> None:
    """Write the failure into the saved notebook: an error output on the cell, a banner on top."""
    import nbformat

    if not path.exists():
        return
    notebook = nbformat.read(str(path), as_version=4)
    if cell_index is not None and cell_index < len(notebook.cells):
        cell = notebook.cells[cell_index]
        cell.metadata.setdefault("papermill", {}).update({"status": "failed", "exception": True})
        if cell.cell_type == "code":
            cell.outputs.append(nbformat.v4.new_output("error", ename=kind, evalue=reason, traceback=[reason]))
    notebook.metadata.setdefault("papermill", {})["exception"] = True
    where = f" in cell {cell_index}" if cell_index is not None else ""
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:1.3em">**Execution stopped{where}: {kind.replace("_", " ")}.** '
        f"{reason}</span>")
    banner.metadata["tags"] = ["validation-error-cell"]
    notebook.cells.insert(0, banner)
    nbformat.write(notebook, str(path))


def _execute(task: Task) -> None:
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from validation.execution.kernel import KERNEL_NAME

    output = Path(task.notebook)
    template = _verified_template(task)
    try:
        pm.execute_notebook(
            template, str(output), parameters=task.parameters, kernel_name=KERNEL_NAME,
            kernel_manager_class="validation.execution.kernel.EnvironmentKernelManager",
            execution_timeout=task.timeout, progress_bar=False, log_output=False,
            cwd=str(Path(task.template).parent),
        )
    except PapermillExecutionError as exc:
        kind = "input_changed" if exc.ename == "InputChangedError" else "cell_error"
        raise CheckExecutionError(
            task.check, str(output), kind, f"{exc.ename}: {exc.evalue}",
            cell_index=exc.cell_index, ename=exc.ename, evalue=exc.evalue,
            traceback=_strip_ansi("\n".join(exc.traceback)),
        ) from None
    except CellTimeoutError:
        reason = f"a cell ran longer than the {task.timeout} s cell timeout"
        raise _after_stop(task, output, "timeout", reason) from None
    except DeadKernelError as exc:
        reason = f"the kernel died ({str(exc).strip() or 'no message'})"
        raise _after_stop(task, output, "dead_kernel", reason) from None


def _verified_template(task: Task) -> Any:
    """The template notebook, read once and checked against the sha256 recorded at planning."""
    import hashlib

    import nbformat

    raw = Path(task.template).read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if task.template_sha256 is not None and actual != task.template_sha256:
        reason = (f"template {task.template} changed after the run was planned: sha256 was {task.template_sha256} "
                  f"when planned and is {actual} now; run again")
        raise CheckExecutionError(task.check, task.notebook, "input_changed", reason)
    return nbformat.reads(raw.decode("utf-8"), as_version=4)


def _after_stop(task: Task, output: Path, kind: str, reason: str) -> CheckExecutionError:
    import nbformat

    cell_index = None
    if output.exists():
        cell_index = _failing_cell(nbformat.read(str(output), as_version=4))
        _mark_failure(output, kind, reason, cell_index)
    return CheckExecutionError(task.check, str(output), kind, reason, cell_index=cell_index)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def execute_task(task: Task) -> TaskResult:
    """Run one task to completion; never raises (failures are the result's ``error``)."""
    from validation.reporting.render import render_notebook
    from validation.execution.scraps import FINDINGS, SUMMARY, read_scraps

    started = time.perf_counter()
    result = TaskResult(task.key)
    Path(task.notebook).parent.mkdir(parents=True, exist_ok=True)
    Path(task.html).parent.mkdir(parents=True, exist_ok=True)
    try:
        _execute(task)
        scraps = read_scraps(task.notebook)
        if FINDINGS not in scraps:
            raise CheckExecutionError(task.check, task.notebook, "no_findings",
                                      "the notebook ran but glued no findings")
        result.findings = list(scraps[FINDINGS])
        result.summary = dict(scraps.get(SUMMARY) or {})
    except CheckExecutionError as exc:
        result.error = exc
    except Exception as exc:  # anything else in the runner itself: keep it with its traceback
        result.error = CheckExecutionError(task.check, task.notebook, "runner_error",
                                           f"{type(exc).__name__}: {exc}", traceback=tb.format_exc())
    if Path(task.notebook).exists():
        try:
            render_notebook(task.notebook, task.html, title=task.title)
            result.html_ok = True
        except Exception as exc:
            if result.error is None:
                result.error = CheckExecutionError(task.check, task.notebook, "render_error",
                                                   f"HTML rendering failed: {type(exc).__name__}: {exc}",
                                                   traceback=tb.format_exc())
    result.duration = time.perf_counter() - started
    return result


def default_workers() -> int:
    return os.cpu_count() or 1


def _worker_died(task: Task, exc: BaseException) -> TaskResult:
    return TaskResult(task.key, error=CheckExecutionError(
        task.check, task.notebook, "worker_died",
        f"the worker process running this check died ({type(exc).__name__}: {exc})"))


def run_on_dask(tasks: list[Task], scheduler: str, *,
                on_done: Callable[[TaskResult], None] | None = None, connect_timeout: float = 10.0) -> list[TaskResult]:
    """Execute tasks on an existing Dask distributed cluster (``dask.distributed.Client(scheduler)``).

    The workers need this package installed and the data paths reachable (a shared file system).
    A worker that dies fails only its own tasks (after Dask's own retries on other workers).

    Raises
    ------
    InputError
        When no scheduler answers at ``scheduler`` within ``connect_timeout`` seconds (exit 2).
    """
    from distributed import Client, as_completed

    from validation.execution.cluster import execute_on_worker

    try:
        client = Client(scheduler, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {scheduler}: no Dask scheduler answers ({type(exc).__name__}: {exc}); "
                         "check the address (e.g. tcp://host:8786) and that the scheduler is running") from None
    results: dict[tuple[str, str, str], TaskResult] = {}
    futures: dict[Any, Task] = {}
    try:
        futures = {client.submit(execute_on_worker, task, key=f"validation-{'-'.join(task.key)}-{os.urandom(4).hex()}",
                                 pure=False): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker, a lost connection: this task's error, not the batch's
                result = _worker_died(task, exc)
            results[task.key] = result
            if on_done:
                on_done(result)
    except BaseException:  # interrupted: the cluster drops what this run no longer wants
        client.cancel(list(futures))
        raise
    finally:
        client.close()
    return [results[task.key] for task in tasks]


def _init_worker(parent_pid: int) -> None:
    """Pool worker set-up: stop when the main process is gone (see :mod:`validation.execution.interrupts`)."""
    from validation.execution.interrupts import watch_parent

    watch_parent(parent_pid)


def _stop_workers(pool: ProcessPoolExecutor, futures: dict[Any, Task], *, grace: float = 20.0) -> None:
    """Stop a pool now: cancel queued tasks, send running workers SIGTERM (nbclient then shuts their
    kernels down) and wait up to ``grace`` seconds before killing what is left."""
    for future in futures:
        future.cancel()
    # the pool's processes are private (pid -> process), but the attribute is stable since Python 3.2
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for process in workers:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in workers:
        if process.is_alive():
            process.kill()
            process.join(5)


def run_tasks(tasks: list[Task], *, workers: int | None = None, scheduler: str | None = None,
              on_done: Callable[[TaskResult], None] | None = None) -> list[TaskResult]:
    """Execute tasks in a pool of ``workers`` processes (default: CPU count), or on the Dask
    cluster at ``scheduler``; results in task order.

    Notebooks always run in worker processes, one worker too, so that the main process keeps its
    signal handlers (:mod:`validation.execution.interrupts`). A worker process that dies (not only its kernel)
    fails only its own task. When the run is interrupted (``BaseException``: a signal, Ctrl-C), the
    workers are stopped before the exception goes on, so none writes after it.
    """
    if not tasks:
        return []
    if scheduler:
        return run_on_dask(tasks, scheduler, on_done=on_done)
    workers = max(1, min(workers or default_workers(), len(tasks) or 1))
    results: dict[tuple[str, str, str], TaskResult] = {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))
    futures: dict[Any, Task] = {}
    try:
        futures = {pool.submit(execute_task, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker process itself died
                result = _worker_died(task, exc)
            results[task.key] = result
            if on_done:
                on_done(result)
    except BaseException:
        _stop_workers(pool, futures)
        raise
    pool.shutdown(wait=True)
    return [results[task.key] for task in tasks]
