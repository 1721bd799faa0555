"""A check's own work spread over a Dask cluster: a sample's row groups summarised by the workers.

With ``validation batch --scheduler ADDRESS``, each notebook runs on a worker of the cluster
(:func:`validation.execution.workers.run_on_dask`), which tells its kernel the scheduler's address
in :data:`SCHEDULER_VARIABLE`. A check that reads samples in batches (``data.batch_rows``) then
gives each row group of a parquet sample to the cluster as a task (read, checked as any batch is,
summarised) and merges the summaries in a tree of tasks, in row-group order, so the result does
not depend on which worker finished first: the same summaries, the same code
(:mod:`validation.metrics.streamed_drift`), as a run in one process. The workers must reach the
files at the paths the spec gives (a shared file system).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

if TYPE_CHECKING:
    from validation.inputs.batches import Batch
    from validation.inputs.spec import ModelVersionSpec

T = TypeVar("T")

SCHEDULER_VARIABLE = "VALIDATION_SCHEDULER"
"""Environment variable a notebook on a cluster's worker finds the scheduler's address in."""


@dataclass(frozen=True)
class ClusterSample:
    """A sample's parquet row groups, each read, checked and summarised by a worker.

    Attributes
    ----------
    client
        A ``distributed.Client`` of the cluster.
    read
        ``(row group, first row, columns) -> Batch``: runs on a worker.
    parts
        The row groups as ``(index, first row)``, in file order.
    """

    client: Any
    read: Callable[[int, int, list[str]], "Batch"]
    parts: list[tuple[int, int]]

    def first(self, columns: list[str]) -> "Batch | None":
        return self.read(*self.parts[0], columns) if self.parts else None

    def map_merge(self, columns: list[str], work: Callable[["Batch"], T], merge: Callable[[T, T], T]) -> T | None:
        """``work`` on every row group on the workers; merged pairwise on the workers, in row-group
        order (a tree: no worker holds more than two summaries, the client only the result)."""
        read = self.read

        def part_work(part: tuple[int, int]) -> T | None:  # a row group all of whose rows were removed: nothing
            batch = read(part[0], part[1], columns)
            return work(batch) if len(batch.frame) else None

        def either(x: T | None, y: T | None) -> T | None:
            return y if x is None else x if y is None else merge(x, y)

        level = [self.client.submit(part_work, part, pure=False) for part in self.parts]
        while len(level) > 1:
            level = [self.client.submit(either, level[i], level[i + 1], pure=False) if i + 1 < len(level) else level[i]
                     for i in range(0, len(level), 2)]
        return level[0].result() if level else None


def cluster_sample(client: Any, spec: "ModelVersionSpec", role: str, features: list[str],
                   sources: "Mapping[str, str] | None" = None) -> ClusterSample:
    """A version's sample (``data.reference`` or ``data.current``, a parquet file, or the snapshot
    of a SQL source in ``sources``) as row groups for the cluster behind ``client``, each checked
    as :func:`validation.inputs.samples.sample_batches` checks a batch."""
    import functools

    from validation.inputs.batches import row_groups

    path = (sources or {}).get(role) or str(getattr(spec.data, role.removeprefix("data.")))
    read = functools.partial(_read_part, spec, role, features, dict(sources or {}))
    return ClusterSample(client, read, [(index, start) for index, start, _ in row_groups(path)])


def _read_part(spec: "ModelVersionSpec", role: str, features: list[str], sources: "Mapping[str, str]", index: int,
               start: int, columns: list[str]) -> "Batch":
    from validation.inputs.samples import checked_row_group

    return checked_row_group(spec, role, columns, features, index, start, sources)


def execute_on_worker(task: Any) -> Any:
    """:func:`validation.execution.workers.execute_task` on a cluster's worker: the kernel learns the
    scheduler's address (:data:`SCHEDULER_VARIABLE`), and the worker's thread leaves its slot while
    it waits on the notebook (``distributed.secede``), so that the notebook's own tasks can run on
    this worker too: a cluster of one single-threaded worker cannot deadlock on them."""
    from distributed import get_worker, rejoin, secede

    from validation.execution.workers import execute_task

    os.environ[SCHEDULER_VARIABLE] = str(get_worker().scheduler.address)
    secede()
    try:
        return execute_task(task)
    finally:
        rejoin()


def scheduler() -> str | None:
    """The address of the cluster this notebook runs on, or ``None`` (a run in one machine's pool)."""
    return os.environ.get(SCHEDULER_VARIABLE) or None
