"""Evidence bound to its inputs, and the same numbers in Jupyter as in the pack.

- Every input's sha256 is recorded when the run is planned and passed to the notebook, which
  verifies it after reading: a file changed in between is that check's error, with both hashes.
- A template run by papermill with only ``spec`` and ``version`` (as a modeler runs it) gives
  exactly the findings the pack holds for that version: the check reads its parameters from the
  spec, whoever runs it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import synthetic_sample
from validation.checks import REGISTRY
from validation.execution.pipeline import execute_plans
from validation.execution.planning import plan_runs
from validation.inputs.spec import load_spec
from validation.execution.kernel import KERNEL_NAME
from validation.judging.policy import Policy


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_data_file_changed_after_planning_is_refused(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec({"checks": ["drift", "backtesting"]})
    current = spec.parent / "data" / "cur.parquet"
    planned = _sha(current)
    (plan,) = plan_runs([spec], out=tmp_path / "out")
    assert plan.tasks[0].parameters["input_sha256"]["data.current"] == planned
    synthetic_sample(300, seed=9, shift=1.0).to_parquet(current)  # swapped after the manifest was planned
    (outcome,) = execute_plans([plan], workers=1)
    for check in outcome.results["checks"]:
        assert check["status"] == "error" and check["findings"] == []
        error = check["error"]
        assert (error["kind"], error["ename"]) == ("input_changed", "InputChangedError")
        assert planned in error["evalue"] and _sha(current) in error["evalue"] and "data.current" in error["evalue"]
    manifest = json.loads((outcome.path / "manifest.json").read_text())
    assert manifest["inputs"]["data.current"]["sha256"] == planned  # the manifest says what was planned


def test_a_spec_changed_after_planning_is_refused(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec({"checks": ["drift"]})
    (plan,) = plan_runs([spec], out=tmp_path / "out")
    spec.write_text(spec.read_text().replace("threshold: 0.2", "threshold: 0.3"))
    (outcome,) = execute_plans([plan], workers=1)
    (check,) = outcome.results["checks"]
    assert check["status"] == "error" and "spec (" in check["error"]["evalue"]


def test_a_template_changed_after_planning_is_not_executed(write_spec: Callable[..., Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(REGISTRY["drift"].template_path().parent, folder)
    monkeypatch.setenv("VALIDATION_TEMPLATES", str(folder))
    (plan,) = plan_runs([write_spec({"checks": ["drift"]})], out=tmp_path / "out")
    planned = plan.inputs["template:drift"]["sha256"]
    template = folder / "drift.ipynb"
    template.write_text(template.read_text().replace("output.show()", "output.show()  # edited"))
    (outcome,) = execute_plans([plan], workers=1)
    (check,) = outcome.results["checks"]
    assert check["status"] == "error" and check["error"]["kind"] == "input_changed"
    assert planned in check["error"]["reason"] and _sha(template) in check["error"]["reason"]


PARITY_CHECKS: dict[str, dict[str, Any]] = {
    "drift": {"bins": 5, "psi_rule": "critical", "max_discrete": 3},
    "fairness": {"min_group_size": 40, "intersections": [["sex", "region"]]},
    "explainability": {"sample_size": 150, "seed": 2, "monotone": {"income": "decreasing"}, "reasons": 2},
    "backtesting": {},  # no parameters: its master scale comes from the spec's grades
}


def _artifact(folder: Path) -> dict[str, str]:
    """A fitted pipeline saved with skops: the spec's model.artifact and its sha256."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = synthetic_sample(400, seed=1)
    model = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])],
                                                 remainder="passthrough")),
                      ("model", LogisticRegression(max_iter=500))])
    model.fit(frame[["income", "tenure", "region"]], frame["default"])
    sio.dump(model, folder / "model.skops")
    return {"artifact": "model.skops", "artifact_sha256": _sha(folder / "model.skops")}


@pytest.mark.parametrize("check", sorted(PARITY_CHECKS))
def test_a_bare_template_run_gives_the_packs_findings(check: str, write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """Interactive parity: the spec's check parameters are not the defaults, so a template that
    ignored them would disagree with the pack."""
    import papermill as pm

    from validation.execution.pipeline import run_specs
    from validation.execution.scraps import read_scraps

    document: dict[str, Any] = {"data": {"time": "month", "protected": ["sex", "region"]},
                                "checks": {check: PARITY_CHECKS[check]}, "grades": [0.1, 0.2, 0.4, 1.0]}
    if check == "explainability":
        document["model"] = _artifact(tmp_path)
    spec = write_spec(document)
    (outcome,), _ = run_specs([spec], out=tmp_path / "out", workers=1)
    (packed,) = outcome.results["checks"]
    assert packed["status"] != "error", packed["error"]
    template = REGISTRY[check].template_path()
    bare = tmp_path / f"{check}.ipynb"
    pm.execute_notebook(str(template), str(bare), parameters={"spec": str(spec), "version": "1"},
                        kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(template.parent),
                        kernel_manager_class="validation.execution.kernel.EnvironmentKernelManager")
    policy = Policy.for_spec(load_spec(spec).versions[-1])
    judged = [f.model_dump() for f in policy.judge_all(read_scraps(bare)["findings"])]
    assert judged == packed["findings"]
    if check == "drift":  # the comparison can tell: a parameter given in Jupyter overrides the spec's
        pm.execute_notebook(str(template), str(bare), parameters={"spec": str(spec), "version": "1", "bins": 10},
                            kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(template.parent),
                            kernel_manager_class="validation.execution.kernel.EnvironmentKernelManager")
        assert [f.model_dump() for f in policy.judge_all(read_scraps(bare)["findings"])] != packed["findings"]
