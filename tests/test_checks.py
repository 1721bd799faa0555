"""The check registry and the checks' own input validation (before any notebook runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from validation.checks import REGISTRY
from validation.errors import SpecError, UnknownCheckError
from validation.execution.planning import plan_runs


def test_unknown_check_lists_the_known_ones() -> None:
    with pytest.raises(UnknownCheckError, match="known checks: drift, fairness, explainability, backtesting"):
        REGISTRY["stress"]


FAIRNESS_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("band of an unprotected column", {"bands": {"income": [1, 2]}}, "checks.fairness.bands.income",
     "not a protected attribute"),
    ("bands not increasing", {"bands": {"age": [50, 25]}}, "checks.fairness.bands.age", "increasing numbers"),
    ("bands on text", {"bands": {"sex": [1]}}, "checks.fairness.bands.sex", "not numeric"),
    ("intersection of one", {"intersections": [["sex"]]}, "checks.fairness.intersections[0]", "two or more"),
    ("intersection with unknown", {"intersections": [["sex", "race"]]}, "checks.fairness.intersections[0]",
     "two or more protected attributes"),
    ("numeric attribute without bands", {}, "checks.fairness.bands", "'age' is numeric with"),
]


@pytest.mark.parametrize(("case", "params", "key", "fragment"), FAIRNESS_CASES, ids=[c[0] for c in FAIRNESS_CASES])
def test_fairness_inputs_are_checked_before_running(write_spec: Callable[..., Path], tmp_path: Path, case: str,
                                                    params: dict[str, Any], key: str, fragment: str) -> None:
    from conftest import synthetic_sample

    def with_age(seed: int) -> Any:
        frame = synthetic_sample(300, seed=seed)
        return frame.assign(age=18 + (frame.index % 60))

    path = write_spec({"data": {"protected": ["sex", "age"]}, "checks": {"fairness": params}},
                      reference=with_age(1), current=with_age(2))
    with pytest.raises(SpecError) as caught:
        plan_runs([path], out=tmp_path / "out")
    assert caught.value.key == key and fragment in caught.value.problem
    assert not (tmp_path / "out").exists()


def test_banded_numeric_attribute_is_accepted(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from conftest import synthetic_sample

    frame = synthetic_sample(300, seed=2)
    path = write_spec({"data": {"protected": ["sex", "age"]},
                       "checks": {"fairness": {"bands": {"age": [25, 35, 50]}, "intersections": [["sex", "age"]]}}},
                      current=frame.assign(age=18 + (frame.index % 60)),
                      reference=frame.assign(age=18 + (frame.index % 60)))
    (plan,) = plan_runs([path], out=tmp_path / "out")
    (task,) = plan.tasks
    assert task.parameters["bands"] == {"age": [25, 35, 50]}


EXPLAIN_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown feature", {"monotone": {"height": "increasing"}}, "checks.explainability.monotone.height", "not a feature"),
    ("bad direction", {"monotone": {"income": "up"}}, "checks.explainability.monotone.income", "'increasing' or"),
    ("categorical feature", {"monotone": {"region": "increasing"}}, "checks.explainability.monotone.region",
     "numeric features"),
    ("tiny sample", {"sample_size": 0}, "checks.explainability.sample_size", "greater than or equal to 10"),
]


@pytest.mark.parametrize(("case", "params", "key", "fragment"), EXPLAIN_CASES, ids=[c[0] for c in EXPLAIN_CASES])
def test_explainability_inputs_are_checked(write_spec: Callable[..., Path], tmp_path: Path, case: str,
                                           params: dict[str, Any], key: str, fragment: str) -> None:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from conftest import synthetic_sample
    from validation.inputs.artifacts import sha256_file

    frame = synthetic_sample(300, seed=1)
    model = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])],
                                                 remainder="passthrough")),
                      ("model", LogisticRegression(max_iter=500))]).fit(frame[["income", "tenure", "region"]], frame["default"])
    sio.dump(model, tmp_path / "m.skops")
    path = write_spec({"model": {"artifact": "m.skops", "artifact_sha256": sha256_file(tmp_path / "m.skops")},
                       "checks": {"explainability": params}})
    with pytest.raises(SpecError) as caught:
        plan_runs([path], out=tmp_path / "out")
    assert caught.value.key == key and fragment in caught.value.problem
