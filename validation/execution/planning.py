"""Planning: every input checked, then one pack planned per model version; nothing written.

Everything the user gave is checked before anything is written: the spec, every version's data
and artifact, the check names and their parameters, and what each check needs of the samples. Any
:class:`~validation.errors.InputError` then stops the run with nothing on disk (exit 2). Each
input's sha256 is recorded here and passed to the notebooks, which refuse a file that changed since.

A SQL source is read once, here, into a parquet snapshot in a temporary folder of the run
(:class:`~validation.inputs.sql.SnapshotStore`): the data are checked on those rows, every notebook
reads those rows (their path passed as ``input_sha256["snapshot:<key>"]``) and verifies their
sha256, and the manifest records the query's sha256 beside the snapshot's. The folder goes when
the plans holding it are gone (or at exit), or at once when planning fails.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from validation.checks import REGISTRY
from validation.errors import InputError
from validation.execution.workers import DEFAULT_CELL_TIMEOUT, Task, validate_parameter_names
from validation.inputs.spec import ModelVersionSpec, Spec, load_spec
from validation.reporting.lineage import new_run_id, now

if TYPE_CHECKING:
    from validation.inputs.sql import Snapshot, SnapshotStore

@dataclass
class PackPlan:
    """Everything needed to execute and assemble one pack."""

    spec: ModelVersionSpec
    spec_file: Spec
    run_id: str
    staging: Path
    final: Path
    tasks: list[Task]
    not_applicable: dict[str, str]
    checks: list[str]
    started_at: str
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    snapshots: "dict[str, Snapshot]" = field(default_factory=dict)
    """The SQL sources' snapshots by spec key (they keep their temporary folder alive)."""

    def release(self) -> None:
        """Remove the SQL sources' snapshots, once every notebook of every pack planned with this
        one has run (the plans of one :func:`plan_runs` share them). Without a call, they go when
        the plans are garbage collected, or at exit."""
        for snapshot in self.snapshots.values():
            if snapshot.store is not None:
                snapshot.store.close()


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


def select_checks(spec: ModelVersionSpec, requested: list[str] | None) -> list[str]:
    """The spec's checks, or the requested subset (any registered check may be requested)."""
    if not requested:
        return list(spec.checks)
    for name in requested:
        REGISTRY[name]  # raises UnknownCheckError listing the known names
    return list(dict.fromkeys(requested))


def select_versions(spec: Spec, version: str | None) -> list[ModelVersionSpec]:
    return [spec.version(version)] if version is not None else list(spec.versions)


def plan_pack(spec_file: Spec, spec: ModelVersionSpec, checks: list[str], out: Path, *,
              timeout: int = DEFAULT_CELL_TIMEOUT, rows: dict[str, int] | None = None,
              features: list[str] | None = None, snapshots: "dict[str, Snapshot] | None" = None) -> PackPlan:
    """Plan one pack: a task per applicable check, the others recorded as not applicable
    (``snapshots``: the SQL sources' snapshots the notebooks read, by spec key)."""
    from validation.reporting.lineage import SNAPSHOT_PREFIX, VERIFIED_INPUTS, input_hashes

    run_id = new_run_id()
    parent = out / spec.name / spec.version
    staging = parent / f".{run_id}.partial"
    applicable = [name for name in checks if not REGISTRY[name].why_not(spec)]
    for name in applicable:
        template = REGISTRY[name].template_path()
        if not template.is_file():
            raise InputError(f"check {name!r}: its template {template} is missing; the built-in templates are in "
                             "notebooks/ of the checkout or validation/notebooks/ of the installed package "
                             "(VALIDATION_TEMPLATES overrides the folder); a third-party check ships its own")
    not_applicable = {name: str(REGISTRY[name].why_not(spec)) for name in checks if name not in applicable}
    snapshots = dict(snapshots or {})
    inputs = input_hashes(spec, {name: REGISTRY[name].template_path() for name in applicable}, snapshots)
    verified = {key: str(inputs[key]["sha256"]) for key in VERIFIED_INPUTS if key in inputs}
    verified.update({SNAPSHOT_PREFIX + key: str(snapshot.path) for key, snapshot in snapshots.items()})
    tasks: list[Task] = []
    for name in applicable:
        check = REGISTRY[name]
        user = dict(spec.checks.get(name, {}))
        validate_parameter_names(user, set(check.params.model_fields), check=name)
        tasks.append(Task(
            key=(spec.name, spec.version, name), template=str(check.template_path()),
            notebook=str(staging / "notebooks" / f"{name}.ipynb"), html=str(staging / "html" / f"{name}.html"),
            parameters={"spec": str(spec.path), "version": spec.version, "input_sha256": verified, **user},
            timeout=timeout, title=f"{name}: {spec.name} version {spec.version}",
            template_sha256=inputs[f"template:{name}"]["sha256"],
        ))
    return PackPlan(spec, spec_file, run_id, staging, parent / run_id, tasks, not_applicable, list(checks),
                    now(), inputs, dict(rows or {}), list(features or []), snapshots)


def plan_runs(specs: list[Path], *, version: str | None = None, checks: list[str] | None = None,
              out: Path, timeout: int = DEFAULT_CELL_TIMEOUT) -> list[PackPlan]:
    """Check every input and plan one pack per model version; writes nothing (a SQL source's
    snapshot goes to a temporary folder, removed again when planning fails)."""
    from validation.inputs.sql import SnapshotStore

    store = SnapshotStore()
    try:
        plans = [_plan_version(spec_file, entry, checks, out, timeout, store)
                 for spec_file in map(load_spec, specs) for entry in select_versions(spec_file, version)]
    except BaseException:
        store.close()
        raise
    if not plans:
        raise InputError("nothing to validate: no model versions selected")
    return plans


def _plan_version(spec_file: Spec, entry: ModelVersionSpec, checks: list[str] | None, out: Path, timeout: int,
                  store: "SnapshotStore") -> PackPlan:
    """Snapshot the version's SQL sources, load and check its samples, and plan its pack."""
    from validation.checks.context import check_parameters
    from validation.inputs.batches import row_count
    from validation.inputs.samples import batch_samples, release_memory, wanted_columns
    from validation.inputs.scan import scanned_samples
    from validation.inputs.sql import take_snapshots

    selected = select_checks(entry, checks)
    applying = {name: check_parameters(REGISTRY[name], entry.checks.get(name, {}), {})
                for name in selected if not REGISTRY[name].why_not(entry)}
    snapshots = take_snapshots(entry, store, wanted_columns(entry))
    sources = {key: str(snapshot.path) for key, snapshot in snapshots.items()}
    if entry.data.batch_rows is not None:  # the first batches checked here, every batch by the checks
        samples = batch_samples(entry, sources=sources)
    else:  # every row checked here, in batches: each notebook loads the samples whole, the runner never does
        samples = scanned_samples(entry, sources, batch_checks=tuple(
            functools.partial(REGISTRY[name].check_batch, entry, params=params) for name, params in applying.items()))
    for name, params in applying.items():
        REGISTRY[name].check_inputs(entry, samples, params)
    rows = ({role.removeprefix("data."): samples.rows.get(role, 0) for role in ("data.reference", "data.current")}
            if samples.rows is not None
            else {role.removeprefix("data."): snapshots[role].rows if role in snapshots
                  else row_count(str(getattr(entry.data, role.removeprefix("data."))))
                  for role in ("data.reference", "data.current")})
    features = samples.features
    del samples  # checked: each notebook loads its own copy; free this one now
    release_memory()
    plan = plan_pack(spec_file, entry, selected, out, timeout=timeout, rows=rows, features=features,
                     snapshots=snapshots)
    if not plan.tasks:  # a pack that ran nothing would read as a clean result
        reasons = "; ".join(f"{name}: {reason}" for name, reason in plan.not_applicable.items())
        raise InputError(f"{entry.path}: nothing to run for {entry.name} version {entry.version}: no "
                         f"selected check applies ({reasons})")
    return plan
