"""``validation.validate``: a model validated from a modeler's own DataFrames and model object.

No spec file to write first: :func:`validate` writes the frames to parquet, the model to an
artifact and a spec naming them into a work folder (a temporary one unless ``workdir`` is given),
then runs the checks on them through the code the command line runs, so the numbers are the
pack's:

- in this process (the default): each check runs as its template runs it
  (:func:`validation.checks.run_check` with the parameters the runner gives the notebook), and its
  findings are judged by the code that judges a pack's (:func:`validation.reporting.pack.check_results`:
  the same policy, multiplicity and issues);
- with ``pack="reports"``: the real pipeline of ``validation run`` (plan, notebooks in parallel
  kernels, pack, registry ``<pack>/registry.sqlite``), and the pack's own ``results.json``.

The model is saved with skops when the artifact loader trusts every type in it (scikit-learn,
numpy, scipy), and otherwise with joblib and ``model.allow_pickle: true``: the object is the
modeler's own, already in memory. Either way the artifact is pinned by its sha256 in the spec.

Every problem with what was given is an :class:`~validation.errors.InputError` (a
:class:`~validation.errors.SpecError` worded as the spec's own, naming the keyword), never a
traceback from deep inside.
"""

from __future__ import annotations

import contextlib
import html
import json
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from validation.errors import ArtifactError, DataError, InputError, SpecError

__all__ = ["ValidationResult", "spec_keys", "validate"]

if TYPE_CHECKING:
    import pandas as pd

    from validation.checks.base import CheckOutput
    from validation.execution.workers import TaskResult
    from validation.judging.results import CheckResult, Results

SPEC_NAME = "spec.yaml"
REFERENCE_FILE = "reference.parquet"
CURRENT_FILE = "current.parquet"
GIVEN = "validate()"
"""What a spec error names as its file when the spec was generated from :func:`validate`'s keywords."""

NOT_KEYWORDS = ("reference", "current", "target", "score", "artifact", "artifact_sha256", "versions", "model",
                "data", "checks")
"""Spec keys that are not ``**spec_fields``: they have keywords of their own, or are written by
:func:`validate` itself."""


def spec_keys() -> dict[str, str]:
    """Keyword -> the spec key it sets: every ``model.*`` and ``data.*`` key, and the top-level keys
    (``decision``, ``grades``, ``thresholds``, ...), except those :func:`validate` sets itself.

    >>> keys = spec_keys()
    >>> keys["protected"], keys["version"], keys["decision"]
    ('data.protected', 'model.version', 'decision')
    """
    from validation.inputs.spec import DataSection, ModelSection, SpecFile

    keys = {name: name for name in SpecFile.model_fields}
    keys.update({name: f"data.{name}" for name in DataSection.model_fields})
    keys.update({name: f"model.{name}" for name in ModelSection.model_fields})
    return {name: key for name, key in keys.items() if name not in NOT_KEYWORDS}


@dataclass(frozen=True)
class ValidationResult:
    """What :func:`validate` found: typed as ``results.json`` is.

    Attributes
    ----------
    results
        The :class:`~validation.judging.results.Results` of the model version (the pack's
        ``results.json`` when a pack was written).
    outputs
        Check name -> its :class:`~validation.checks.base.CheckOutput` (tables, sections,
        ``show()``) when the checks ran in this process; empty when they ran in a pack's notebooks.
    pack
        The pack folder, when one was written.
    spec
        The spec file written, when ``workdir`` kept it (``validation run`` on it reproduces the
        result); ``None`` when the work folder was temporary.
    """

    results: "Results"
    outputs: Mapping[str, "CheckOutput"] = field(default_factory=dict)
    pack: Path | None = None
    spec: Path | None = None

    @property
    def status(self) -> str:
        """The worst status of the checks (``info`` when nothing was judged)."""
        return str(self.results.status)

    @property
    def exit_code(self) -> int:
        """The code ``validation run`` exits with on this result: 0, 1 (red) or 3 (a check failed)."""
        from validation.judging.policy import exit_code

        return exit_code(self.status)

    @property
    def checks(self) -> dict[str, "CheckResult"]:
        """Check name -> its :class:`~validation.judging.results.CheckResult` (status, findings, issues)."""
        return {check.name: check for check in self.results.checks}

    @property
    def findings(self) -> "pd.DataFrame":
        """Every judged finding, one row each, with its check (the columns of ``results.json``)."""
        import pandas as pd

        rows = [{"check": check.name, **finding.model_dump()} for check in self.results.checks
                for finding in check.findings]
        return pd.DataFrame(rows, columns=["check", "metric", "subject", "value", "status", "amber", "red",
                                           *_optional_columns(rows)])

    @property
    def issues(self) -> "pd.DataFrame":
        """The amber and red issues (findings grouped by root cause), worst first."""
        import pandas as pd

        from validation.judging.policy import severity

        rows = [issue.model_dump() for check in self.results.checks for issue in check.issues]
        rows.sort(key=lambda row: -severity(row["status"]))
        return pd.DataFrame(rows, columns=["id", "check", "status", "sentence", "cause", "findings"])

    def tables(self, check: str) -> dict[str, "pd.DataFrame"]:
        """The named tables of a check that ran in this process."""
        return dict(self.output(check).tables)

    def output(self, check: str) -> "CheckOutput":
        """The output of a check that ran in this process (``show()`` displays it)."""
        if check in self.outputs:
            return self.outputs[check]
        ran = ", ".join(self.outputs) or "none"
        where = f"; its notebook is in the pack {self.pack}" if self.pack is not None else ""
        raise KeyError(f"no output of check {check!r} in this process (checks run here: {ran}){where}")

    def show(self, check: str | None = None) -> None:
        """Display a check's output (every check's when ``check`` is None) in a notebook."""
        for name in [check] if check is not None else list(self.outputs):
            self.output(name).show()

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for check in self.results.checks:
            text = (check.error.reason if check.error is not None else check.reason
                    or str(check.summary.get("headline") or ""))
            rows.append((check.name, str(check.status), text))
        return rows

    def __repr__(self) -> str:
        model = self.results.model
        checks = ", ".join(f"{name} {status}" for name, status, _ in self._rows())
        issues = sum(len(check.issues) for check in self.results.checks)
        where = f"; pack {self.pack}" if self.pack is not None else ""
        return (f"<ValidationResult {model.name} v{model.version}: {self.status} ({checks}); "
                f"{issues} issue{'s' * (issues != 1)}{where}>")

    def _repr_html_(self) -> str:
        """A notebook's view: the overall status, each check's status and headline, the issues."""
        from validation.reporting.display import status_table

        import pandas as pd

        model = self.results.model
        head = (f"<p><b>{html.escape(model.name)}</b> version {html.escape(model.version)}: "
                f"<b>{html.escape(self.status)}</b>"
                + (f" · pack <code>{html.escape(str(self.pack))}</code>" if self.pack is not None else "") + "</p>")
        checks = pd.DataFrame(self._rows(), columns=["check", "status", "headline"])
        issues = self.issues[["check", "status", "sentence"]]
        body = status_table(checks)._repr_html_()
        if len(issues):
            body += "<p>Issues, worst first:</p>" + status_table(issues)._repr_html_()
        return head + body


def _optional_columns(rows: list[dict[str, Any]]) -> list[str]:
    from validation.judging.findings import OPTIONAL_FIELDS

    return [name for name in ("direction", *OPTIONAL_FIELDS) if any(name in row for row in rows)]


def validate(*, model: Any = None, reference: Any = None, current: Any = None, target: str | None = None,
             score: str | None = None, checks: Sequence[str] | Mapping[str, Mapping[str, Any] | None] | None = None,
             pack: str | Path | None = None, workdir: str | Path | None = None,
             **spec_fields: Any) -> ValidationResult:
    """Validate a model on a development and a monitoring sample, as ``validation run`` would.

    Parameters
    ----------
    model
        The fitted model (anything with ``predict_proba``), or ``None`` with ``score``. Saved as an
        artifact pinned by its sha256: skops when every type in it is trusted, else joblib with
        ``model.allow_pickle: true``. Its ``feature_names_in_`` (when it has them) are
        ``data.features`` unless ``features`` is given. Or the path of a saved model file, used
        where it is and pinned by its sha256 (a pickle then needs ``allow_pickle=True``).
    reference, current
        The development and monitoring samples: DataFrames (written to parquet), or the path or
        URL of a file (used where it is).
    target, score
        ``data.target`` (the 0/1 outcome) and ``data.score`` (a column of probabilities, instead
        of or beside the model's).
    checks
        The checks to run (a name, names, or name -> parameters); ``None``: the spec's default checks.
    pack
        A folder to write the pack under, exactly as ``validation run --out`` does (with its
        registry, ``<pack>/registry.sqlite``); ``None`` runs the checks in this process instead.
    workdir
        The folder to write the spec, data and artifact into, kept afterwards (``validation run
        <workdir>/spec.yaml`` then reproduces the result); ``None``: a temporary folder, removed.
    **spec_fields
        Any other ``model.*`` or ``data.*`` key of the spec by its name (``name``, ``version``,
        ``features``, ``protected``, ``time``, ``ids``, ``materiality``, ...) and the top-level keys
        (``decision``, ``grades``, ``thresholds``, ``multiplicity``, ...): ``docs/spec.md``.

    Returns
    -------
    ValidationResult
        The overall and per-check statuses, judged findings and issues, and (in this process) each
        check's tables and output.

    Raises
    ------
    InputError
        Anything given that the spec or the data cannot use (``SpecError``, ``DataError``,
        ``ArtifactError``), as ``validation run`` would refuse it, naming the keyword or column.

    Examples
    --------
    The README's "Python API" section runs a German credit model through it (a doctest).
    """
    from validation.inputs.spec import load_spec

    unknown = sorted(set(spec_fields) - set(spec_keys()))
    if unknown:
        raise InputError(f"validate() got no such keyword {', '.join(map(repr, unknown))}; it takes model, reference, "
                         f"current, target, score, checks, pack, workdir and the spec keys: {', '.join(spec_keys())}")
    if model is not None and not isinstance(model, (str, Path)) and "allow_pickle" in spec_fields:
        raise InputError("validate(): allow_pickle is set by validate() itself when it saves the model object "
                         "(true only when skops cannot hold it); remove it")
    with _folder(workdir) as folder:
        document = _document(folder, model=model, reference=reference, current=current, target=target,
                             score=score, checks=checks, fields=spec_fields)
        spec_path = folder / SPEC_NAME
        _write_yaml(spec_path, document)
        with _relabelled(folder):
            load_spec(spec_path)  # the spec's own errors first, naming the keyword
            if pack is None:
                results, outputs = _run_here(spec_path, folder)
                return ValidationResult(results, outputs, None, spec_path if workdir is not None else None)
            results, path = _run_pack(spec_path, Path(pack))
            return ValidationResult(results, {}, path, spec_path if workdir is not None else None)


@contextlib.contextmanager
def _folder(workdir: str | Path | None) -> Iterator[Path]:
    """The work folder: ``workdir`` (created, kept), or a temporary folder removed afterwards."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="validation-") as temporary:
            yield Path(temporary).resolve()
        return
    folder = Path(workdir).expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"validate(): workdir {folder} cannot be created ({exc.strerror or exc}); "
                         "give a folder you can write to") from None
    yield folder


def _document(folder: Path, *, model: Any, reference: Any, current: Any, target: str | None, score: str | None,
              checks: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The spec document: the samples and the model written into ``folder``, every keyword in its
    section."""
    keys = spec_keys()
    document: dict[str, Any] = {"model": {"name": "model", "version": "1"}, "data": {}}
    if reference is not None:
        document["data"]["reference"] = _sample(reference, folder / REFERENCE_FILE, "reference")
    if current is not None:
        document["data"]["current"] = _sample(current, folder / CURRENT_FILE, "current")
    for key, value in (("target", target), ("score", score)):
        if value is not None:
            document["data"][key] = value
    if model is not None:
        document["model"].update(_artifact(model, folder))
        if "features" not in fields and not isinstance(model, (str, Path)):
            from validation.inputs.starter import model_features

            names = model_features(model)
            if names:
                document["data"]["features"] = names
    for name, value in fields.items():
        section, _, key = keys[name].rpartition(".")
        target_section = document[section] if section else document
        target_section[key or section] = _yaml_value(value, name)
    if isinstance(checks, str):  # one check by name, not its letters
        checks = [checks]
    if checks is not None:
        document["checks"] = _yaml_value(checks if isinstance(checks, Mapping) else list(checks), "checks")
    return document


def _yaml_value(value: Any, name: str) -> Any:
    """``value`` as YAML can hold it: numpy scalars as numbers, tuples and arrays as lists."""
    import numpy as np

    if isinstance(value, Mapping):
        return {str(k): _yaml_value(v, name) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)) or type(value).__name__ in ("Index", "Series"):
        return [_yaml_value(v, name) for v in list(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise InputError(f"validate(): {name}= holds a value of type {type(value).__name__}, which a spec cannot hold; "
                     "give text, numbers, lists or mappings (docs/spec.md)")


def _sample(value: Any, path: Path, role: str) -> str:
    """A sample for the spec: a DataFrame written to ``path`` (parquet); a path or URL as given."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        names = [c for c in value.columns if not isinstance(c, str)]
        if names:
            raise DataError(f"the {role} DataFrame", str(names[0]), "a column name that is not text; name every "
                            "column with a string (frame.columns = frame.columns.astype(str))", f"{role}=")
        try:
            value.to_parquet(path, index=False)
        except Exception as exc:  # pyarrow's refusal (mixed types in a column) is the frame's problem
            raise DataError(f"the {role} DataFrame", None, f"cannot be written to parquet ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}); give each column one type",
                            f"{role}=") from None
        return path.name
    if isinstance(value, (str, Path)):
        text = str(value)
        return text if "://" in text else str(Path(text).expanduser().resolve())
    if isinstance(value, Mapping):
        return _yaml_value(value, role)  # a source the spec describes by keys (docs/spec.md)
    raise TypeError(f"validate(): {role}= must be a pandas DataFrame or the path of a data file, "
                    f"got {type(value).__name__}")


def _artifact(model: Any, folder: Path) -> dict[str, Any]:
    """``model.artifact``, its sha256 and ``allow_pickle``: skops when the artifact loader trusts
    every type it holds (it is loaded back by the loader to find out), else joblib."""
    if isinstance(model, (str, Path)):
        from validation.inputs.artifacts import sha256_file

        path = Path(model).expanduser().resolve()
        if not path.is_file():
            raise ArtifactError(path, "no such file; give the fitted model object, or the path of its artifact")
        return {"artifact": str(path), "artifact_sha256": sha256_file(path)}
    if not hasattr(model, "predict_proba"):
        raise ArtifactError(f"the model given ({type(model).__name__})", "has no predict_proba; a classification "
                            "model must predict the probability of the event: give its scikit-learn estimator "
                            "(a booster's XGBClassifier or LGBMClassifier), the path of its saved file, or score= "
                            "and no model")
    saved = _as_skops(model, folder / "model.skops")
    if saved is not None:
        return {"artifact": "model.skops", "artifact_sha256": saved}
    return {"artifact": "model.joblib", "artifact_sha256": _as_joblib(model, folder / "model.joblib"),
            "allow_pickle": True}


def _as_skops(model: Any, path: Path) -> str | None:
    """The sha256 of ``model`` saved with skops, when the artifact loader loads it back (every type
    trusted); else ``None`` (and no file)."""
    import skops.io as sio

    from validation.inputs.artifacts import load_artifact, sha256_file

    try:
        sio.dump(model, path)
        digest = sha256_file(path)
        load_artifact(path, digest)
        return digest
    except Exception:  # skops cannot write it, or the loader does not trust a type in it: joblib
        path.unlink(missing_ok=True)
        return None


def _as_joblib(model: Any, path: Path) -> str:
    import joblib

    from validation.inputs.artifacts import sha256_file

    try:
        joblib.dump(model, path)
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise ArtifactError(f"the model given ({type(model).__name__})", f"cannot be saved with skops or joblib "
                            f"({type(exc).__name__}: {exc}); give a model that pickles, or score=") from None
    return sha256_file(path)


def _write_yaml(path: Path, document: Mapping[str, Any]) -> None:
    import yaml

    header = ("# Written by validation.validate(): `validation run` on this file computes what it returned.\n")
    path.write_text(header + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True), encoding="utf-8")


@contextlib.contextmanager
def _relabelled(folder: Path) -> Iterator[None]:
    """Errors that name the generated files name what was given instead: the keyword (a spec
    key), the reference or current DataFrame, the model object."""
    files = {str(folder / REFERENCE_FILE): "the reference DataFrame",
             str(folder / CURRENT_FILE): "the current DataFrame",
             str(folder / "model.skops"): "the model given", str(folder / "model.joblib"): "the model given"}
    try:
        yield
    except SpecError as error:
        if Path(error.path) != folder / SPEC_NAME:
            raise
        parts = error.key.split("[", 1)[0].split(".")
        name = parts[1] if parts[0] in ("model", "data") and len(parts) > 1 else parts[0]
        keyword = name if name in spec_keys() or name in ("target", "score", "reference", "current", "checks") else ""
        key = f"{error.key} ({keyword}=)" if keyword else error.key
        raise SpecError(GIVEN, key, error.problem) from None
    except DataError as error:
        if error.path not in files:
            raise
        raise DataError(files[error.path], error.column, error.problem, error.role) from None
    except ArtifactError as error:
        if error.path not in files:
            raise
        raise ArtifactError(files[error.path], error.problem) from None


def _run_here(spec_path: Path, folder: Path) -> tuple["Results", dict[str, "CheckOutput"]]:
    """Plan as ``validation run`` plans (every input checked first), run each applicable check as
    its template does, and judge the findings with the pack's own code."""
    from validation.execution.planning import plan_runs
    from validation.judging.policy import worst
    from validation.judging.results import ModelInfo, Results, RunInfo
    from validation.reporting.lineage import now
    from validation.reporting.pack import check_results

    plan = plan_runs([spec_path], out=folder / "reports")[0]
    outputs: dict[str, CheckOutput] = {}
    results: list[TaskResult] = []
    for task in plan.tasks:
        result, output = _run_task(task.check, task.parameters, task.key)
        results.append(result)
        if output is not None:
            outputs[task.check] = output
    records = check_results(plan, results)
    spec = plan.spec
    return Results(model=ModelInfo(name=spec.name, version=spec.version, type=spec.model.type),
                   run=RunInfo(id=plan.run_id, started_at=plan.started_at, finished_at=now(), spec_sha256=spec.sha256),
                   status=worst(r.status for r in records), checks=records), outputs


def _run_task(check: str, parameters: Mapping[str, Any],
              key: tuple[str, str, str]) -> tuple["TaskResult", "CheckOutput | None"]:
    """One check run as its template runs it (``run_check`` with the notebook's parameters), its
    findings and summary as the notebook glues them; a failure is the check's ``error``, as in a pack."""
    from validation.checks import run_check
    from validation.errors import CheckExecutionError
    from validation.execution.workers import TaskResult

    started = time.perf_counter()
    try:
        output = run_check(check, **parameters)
    except Exception as exc:  # as a failing notebook cell: that check's error, the others go on
        kind = "input_changed" if type(exc).__name__ == "InputChangedError" else "cell_error"
        error = CheckExecutionError(check, "", kind, f"{type(exc).__name__}: {exc}", ename=type(exc).__name__,
                                    evalue=str(exc), traceback=traceback.format_exc())
        return TaskResult(key, error=error, duration=time.perf_counter() - started), None
    findings, summary = _glued(output)
    return TaskResult(key, findings=findings, summary=summary, duration=time.perf_counter() - started), output


def _glued(output: "CheckOutput") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The findings and summary as the template glues them (:meth:`CheckOutput.glue`) and the runner
    reads them back: JSON-safe (numpy to Python, non-finite to ``None``) through a JSON round trip."""
    from validation.judging.findings import plain

    extra = {"not_applicable": output.not_applicable} if output.not_applicable else {}
    summary = {**output.summary, "headline": output.headline, "parameters": output.parameters, **extra,
               "kernel_python": sys.executable}
    findings = [plain(dict(f)) for f in output.findings]
    return json.loads(json.dumps(findings)), json.loads(json.dumps(plain(summary)))


def _run_pack(spec_path: Path, out: Path) -> tuple["Results", Path]:
    """``validation run <spec> --out <out>``: the pack, recorded in ``<out>/registry.sqlite``."""
    from validation.execution.pipeline import run_specs
    from validation.governance.registry import Registry
    from validation.judging.results import Results

    out = out.expanduser().resolve()
    with _workers_without_caller_script():
        outcomes, _ = run_specs([spec_path], out=out, registry=Registry(out / "registry.sqlite"))
    outcome = outcomes[0]
    return Results.model_validate(outcome.results), outcome.path


@contextlib.contextmanager
def _workers_without_caller_script() -> Iterator[None]:
    """While the pack's worker processes start: ``__main__`` is a module without a file.

    The workers are spawned, and a spawned process first re-runs the script that is ``__main__``,
    which calls :func:`validate` again unless the caller guarded it with ``if __name__ ==
    "__main__":``; every worker would then die. The workers need nothing from the caller's script
    (a task is a notebook and its parameters), so they are started as from a notebook, whose
    ``__main__`` has no file; the caller's module is back in place when the pack is written.
    """
    import types

    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__file__", None) is None:
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__", "the caller's script, hidden from spawned workers")
    try:
        yield
    finally:
        sys.modules["__main__"] = main
