"""Running a check where a notebook runs: the pack's templates and a modeler's own notebook alike.

:func:`run_check` reads the spec once, verifies that every input is the one the run was planned
on, loads and checks the samples once, takes the check's parameters from the spec (a parameter
given here, other than ``None``, overrides it) and calls the check. A template run by papermill
with only ``spec`` and ``version`` therefore computes exactly what the pack holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from validation.checks.base import Check, CheckContext, CheckOutput, CheckParams


def _verify(key: str, path: str, expected: str | None, actual: str | None = None) -> None:
    """Raise :class:`~validation.errors.InputChangedError` when ``path``'s sha256 is not
    ``expected`` (``actual``: the hash already computed of the bytes that were read)."""
    from validation.errors import InputChangedError
    from validation.inputs.artifacts import sha256_file

    if expected is None:
        return
    actual = actual or sha256_file(path)
    if actual != expected:
        raise InputChangedError(key, path, expected, actual)


def open_context(spec: str | Path | None = None, version: str | None = None, *,
                 input_sha256: Mapping[str, str] | None = None,
                 runner_inputs: Mapping[str, Any] | None = None) -> CheckContext:
    """Load a model version and its checked samples.

    Parameters
    ----------
    spec
        A spec file; ``None`` uses the demo spec, building the demo data and models on first use.
    version
        A version label in that spec; ``None`` takes the last version listed.
    input_sha256
        Input key (``spec``, ``data.reference``, ``data.current``, ``data.reference_profile``) ->
        the sha256 recorded when the run was planned. Each input is verified after it is read:
        evidence is never computed on a file that changed since (``InputChangedError``). For a
        SQL source, ``snapshot:<key>`` gives the parquet snapshot the run took of it when it was
        planned: its rows are read (not the database's now) and verified against ``<key>``.
    runner_inputs
        Inputs the runner passed (a previous version's importances from the registry, say).
    """
    from validation.inputs.samples import batch_samples, load_samples
    from validation.inputs.spec import load_spec
    from validation.judging.policy import Policy
    from validation.errors import InputError
    from validation.inputs.spec import SqlSource
    from validation.reporting.lineage import SNAPSHOT_PREFIX, VERIFIED_INPUTS

    if spec is None:
        from validation.demo import ensure_demo

        spec = ensure_demo()
    expected = dict(input_sha256 or {})
    spec_file = load_spec(spec)
    _verify("spec", str(spec_file.path), expected.get("spec"), spec_file.sha256)
    entry = spec_file.versions[-1] if version is None else spec_file.version(str(version))
    snapshots = {key.removeprefix(SNAPSHOT_PREFIX): path for key, path in expected.items()
                 if key.startswith(SNAPSHOT_PREFIX)}
    files: dict[str, Any] = {"data.reference": entry.data.reference, "data.current": entry.data.current,
                             "data.reference_profile": entry.data.reference_profile, **snapshots}
    for key, source in files.items():
        if isinstance(source, SqlSource) and key in expected:  # a planned run's rows are its snapshot's
            raise InputError(f"{key} ({source}) is a SQL source with a sha256 recorded but no snapshot "
                             f"({SNAPSHOT_PREFIX}{key}) to read the planned rows from; run the pack again")
    keep = None
    if entry.data.batch_rows is not None:
        if any(isinstance(files[key], SqlSource) for key in ("data.reference", "data.current")):
            # a notebook run by hand: its own snapshot of the query, read in batches like a planned run's
            from validation.inputs.samples import wanted_columns
            from validation.inputs.sql import SnapshotStore, take_snapshots

            keep = SnapshotStore()
            taken = take_snapshots(entry, keep, wanted_columns(entry))
            snapshots.update({key: str(snapshot.path) for key, snapshot in taken.items() if key not in snapshots})
        samples = batch_samples(entry, sources=snapshots)
    else:
        samples = load_samples(entry, sources=snapshots)
    from validation.inputs.storage import sha256_each

    verified = [key for key in VERIFIED_INPUTS if key in files and files[key] is not None
                and not isinstance(files[key], SqlSource) and expected.get(key) is not None]
    for key, digest in zip(verified, sha256_each([str(files[key]) for key in verified])):  # the samples at once
        _verify(key, str(files[key]), expected.get(key), digest)
    return CheckContext(entry, spec_file, samples, Policy.for_spec(entry), dict(runner_inputs or {}),
                        sources=snapshots, keep=keep)


def check_parameters(check: Check, spec_values: Mapping[str, Any], overrides: Mapping[str, Any]) -> CheckParams:
    """The check's parameters: the spec's, then every override that is not ``None``; a bad value is
    an :class:`~validation.errors.InputError` naming the parameter, worded as the spec's are."""
    from pydantic import ValidationError

    from validation.errors import InputError
    from validation.inputs.spec import describe_parameter_error

    values = {**spec_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return check.parse_params(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise InputError(f"check {check.name!r}: parameter {name}: {describe_parameter_error(first, check.params)}") from None


def run_check(name: str, spec: str | Path | None = None, version: str | None = None, *,
              input_sha256: Mapping[str, str] | None = None, **parameters: Any) -> CheckOutput:
    """Run one check on a model version, as its template does.

    Parameters
    ----------
    name
        A registered check (``validation checks`` lists them).
    spec, version, input_sha256
        See :func:`open_context`.
    **parameters
        The check's parameters (``None``: the spec's value, else the default) and the runner's
        parameters of that check.

    Examples
    --------
    In a notebook::

        output = run_check("drift", "params/my_model.yaml", "3", bins=20)
        output.show()
        output.tables["drift"]
    """
    from validation.checks import REGISTRY
    from validation.errors import InputError

    check = REGISTRY[name]
    runner_names = set(check.runner_parameters)
    unknown = set(parameters) - runner_names - set(check.params.model_fields)
    if unknown:
        raise InputError(f"check {name!r} has no parameter {', '.join(sorted(unknown))}; it takes: "
                         f"{', '.join([*check.params.model_fields, *check.runner_parameters])}")
    runner_inputs = {k: v for k, v in parameters.items() if k in runner_names}
    context = open_context(spec, version, input_sha256=input_sha256, runner_inputs=runner_inputs)
    reason = check.why_not(context.spec)
    if reason:
        raise InputError(f"check {name!r} does not apply to {context.spec.name} version {context.spec.version}: {reason}")
    overrides = {k: v for k, v in parameters.items() if k not in runner_names}
    params = check_parameters(check, context.spec.checks.get(name, {}), overrides)
    check.check_inputs(context.spec, context.samples, params)
    output = check.run(context, params)
    output.context = context
    output.parameters = params.model_dump(mode="json")
    return output
