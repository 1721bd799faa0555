"""The check registry and the checks' own input validation (before any notebook runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from validation.checks import REGISTRY
from validation.errors import SpecError, UnknownCheckError
from validation.execution.planning import plan_runs


def test_unknown_check_lists_the_known_ones() -> None:
    with pytest.raises(UnknownCheckError, match="known checks: data_quality, drift, fairness, explainability, backtesting, challenger"):
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


def _context(frame: Any, *, model_type: str = "classification", **data: Any) -> Any:
    """A check context on one DataFrame (reference and current), as ``open_context`` builds it."""
    from validation.checks.base import CheckContext
    from validation.inputs.samples import Samples
    from validation.inputs.spec import DataSection, Decision, ModelSection, ModelVersionSpec
    from validation.judging.policy import Policy

    columns = {"target": "default", "score": "pd"} if model_type == "classification" else {}
    spec = ModelVersionSpec(
        path=Path("spec.yaml"), sha256="0" * 64, model=ModelSection(name="toy", version="1", type=model_type),
        data=DataSection(reference="ref.parquet", current="cur.parquet", **columns, **data),
        decision=Decision(threshold=0.2) if model_type == "classification" else None, grades=None,
        checks={}, thresholds={})
    samples = Samples(frame, frame, [], columns.get("score"), columns.get("target"))
    return CheckContext(spec, None, samples, Policy.for_spec(spec))  # type: ignore[arg-type]


def test_the_fairness_tables_and_card_show_age_bands_in_their_order() -> None:
    """Issue 18: age bands read ``25-34, 35-49, 50+, <25``; now ``<25, 25-34, 35-49, 50+``."""
    import numpy as np
    import pandas as pd

    from conftest import synthetic_sample
    from validation.checks.fairness import FairnessCheck, FairnessParams

    frame = synthetic_sample(800, seed=3)
    frame["age_band"] = np.array(["35-49", "<25", "50+", "25-34"])[np.arange(800) % 4]
    context = _context(frame, protected=["sex", "age_band"])
    output = FairnessCheck().run(context, FairnessParams())
    assert list(output.tables["groups:age_band"].index) == ["<25", "25-34", "35-49", "50+"]
    judged = context.policy.judge_all(output.findings)
    rows = [row["group"] for row in FairnessCheck().card_analyses(judged)]
    assert rows == ["sex:female", "sex:male", "age_band:<25", "age_band:25-34", "age_band:35-49", "age_band:50+"]
    shown = [item for s in output.sections for item in s.items if isinstance(item, pd.DataFrame)]
    assert any(list(t.index) == ["<25", "25-34", "35-49", "50+"] for t in shown)


def test_the_var_page_lists_the_exceptions_and_shades_the_densest_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: an exceptions table (day, P&L, VaR, loss beyond VaR, in the stress window) and the
    P&L chart shading the scan test's densest window. Reference: the planted exceptions, the
    densest 60-day window by hand (days 300 to 310 hold 6 of the 10)."""
    import numpy as np
    import pandas as pd

    from validation.checks.backtesting import BacktestingCheck, BacktestingParams
    from validation.reporting import plots

    planted = [47, 114, 181, 300, 302, 304, 306, 308, 310, 424]
    hits = np.zeros(500, dtype=int)
    hits[planted] = 1
    pnl = np.where(hits == 1, -1.0 - np.arange(500) / 1000, 0.5)
    days = pd.date_range("2024-01-01", periods=500, freq="B").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"day": days, "pnl": pnl, "var": np.ones(500)})
    seen: dict[str, Any] = {}
    original = plots.pnl_against_var

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(plots, "pnl_against_var", spy)
    context = _context(frame, model_type="var", pnl="pnl", var="var", var_level=0.99, time="day")
    output = BacktestingCheck().run(context, BacktestingParams())
    table = output.tables["exceptions"]
    assert list(table.index) == [days[i] for i in planted]
    assert list(table.columns) == ["pnl", "var", "loss_beyond_var", "in_densest_window"]
    assert table["loss_beyond_var"].to_numpy() == pytest.approx(-pnl[planted] - 1.0)
    assert list(table["in_densest_window"]) == [i in range(300, 311) for i in planted]
    assert seen["window"] == (days[300], days[310])
    assert seen["window_label"].startswith("densest 60-day window: 6 exceptions")
    section = next(s for s in output.sections if s.title == "Exceptions")
    assert any(item is table for item in section.items)
