"""The challenger check end to end: a spec of two versions with skops artifacts, a scores-only
spec with ``data.benchmark_score``, bad benchmark scores, a VaR model, and the demo's v2 against
v1 on the same applicants (the statistics themselves: ``tests/metrics/test_comparison.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from validation.checks import run_check
from validation.checks.challenger import ChallengerCheck
from validation.errors import DataError
from validation.inputs.artifacts import sha256_file
from validation.metrics import comparison

from conftest import synthetic_sample


def _artifact(path: Path, frame: pd.DataFrame, features: list[str]) -> str:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [f for f in features if f != "region"]
    steps: list[Any] = [("num", StandardScaler(), numeric)]
    if "region" in features:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]))
    model = Pipeline([("prep", ColumnTransformer(steps)), ("model", LogisticRegression(max_iter=1000))])
    model.fit(frame[features], frame["default"])
    sio.dump(model, path)
    return sha256_file(path)


@pytest.fixture
def two_versions(write_spec: Callable[..., Path], tmp_path: Path) -> Path:
    development = synthetic_sample(600, seed=7)
    v1 = _artifact(tmp_path / "v1.skops", development, ["tenure"])
    v2 = _artifact(tmp_path / "v2.skops", development, ["income", "tenure", "region"])
    return write_spec({"data": {"score": None},
                       "versions": [{"version": "1", "artifact": "v1.skops", "artifact_sha256": v1,
                                     "data": {"features": ["tenure"]}},
                                    {"version": "2", "artifact": "v2.skops", "artifact_sha256": v2}],
                       "checks": {"challenger": {}}})


def test_a_new_version_is_compared_with_the_previous_one_and_the_benchmark_on_the_same_rows(two_versions: Path) -> None:
    output = run_check("challenger", two_versions, "2")
    context = output.context
    assert context is not None
    table = output.tables["comparisons"]
    assert list(table.index) == ["previous", "benchmark"]
    # the previous version's scores of the same rows, from its own artifact: the same paired test by hand
    from validation.inputs.artifacts import load_artifact, predict_scores

    v1 = context.spec_file.version("1")
    model = load_artifact(str(v1.model.artifact), str(v1.model.artifact_sha256))
    y = context.current["default"].to_numpy()
    expected = comparison.paired_auc_difference(y, context.current[str(context.samples.score)],
                                                predict_scores(model, context.current[["tenure"]]))
    assert table.loc["previous", "auc_difference"] == pytest.approx(expected.difference)
    assert table.loc["previous", "auc_pvalue"] == pytest.approx(expected.pvalue)
    # income carries the risk and version 1 ignores it: version 2 is significantly better, so green
    judged = {(f.metric, f.subject): f for f in context.policy.judge_all(output.findings)}
    assert expected.difference > 0 and judged[("paired_auc_pvalue", "previous")].status == "green"
    # ... and its gain over the version it replaces is material and significant: the change is justified
    assert judged[("benchmark_auc_gain", "previous")].status == "green"
    assert judged[("benchmark_gain_pvalue", "previous")].status == "green"
    # the benchmark is a logistic regression on the same features: version 2 is one too, so no material gain
    assert judged[("benchmark_auc_gain", "benchmark")].status == "amber"
    assert judged[("benchmark_auc_gain", "benchmark")].cause == judged[("benchmark_gain_pvalue", "benchmark")].cause
    # the headline: a justified change against version 1; the benchmark ranks better (one-sided p < 0.05, a
    # drop beyond 0.03), so "worse" leads there
    assert output.headline.startswith("Against version 1: ΔAUC +0.103") and "a material and significant gain;" in output.headline
    assert output.headline.endswith("worse.")
    assert {"fairness:sex", "benchmark"} <= set(output.tables)
    assert output.summary["benchmark_rows"] == {"fitted": 400, "available": 400}
    assert output.not_applicable is None


def test_the_previous_version_is_judged_worse_only_when_materially_and_significantly_worse(
        two_versions: Path) -> None:
    output = run_check("challenger", two_versions, "1", benchmark=False)
    judged = {(f.metric, f.subject): f for f in output.context.policy.judge_all(output.findings)}  # type: ignore[union-attr]
    assert "previous" in output.summary["not_compared"] and "benchmark" in output.summary["not_compared"]
    assert output.not_applicable is not None and not judged


def test_a_worse_new_version_is_red(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """Version 2 was fitted on shuffled outcomes: a large loss of AUC on 3,000 applicants."""
    development = synthetic_sample(2000, seed=7)
    v1 = _artifact(tmp_path / "v1.skops", development, ["income", "tenure"])
    shuffled = development.assign(default=np.random.default_rng(0).permutation(development["default"].to_numpy()))
    v2 = _artifact(tmp_path / "v2.skops", shuffled, ["income", "tenure"])
    spec = write_spec({"data": {"score": None, "features": ["income", "tenure"]},
                       "versions": [{"version": "1", "artifact": "v1.skops", "artifact_sha256": v1},
                                    {"version": "2", "artifact": "v2.skops", "artifact_sha256": v2}]},
                      current=synthetic_sample(3000, seed=2))
    output = run_check("challenger", spec, "2", benchmark=False)
    judged = {(f.metric, f.subject): f for f in output.context.policy.judge_all(output.findings)}  # type: ignore[union-attr]
    test = judged[("paired_auc_pvalue", "previous")]
    assert test.effect is not None and test.effect >= 0.03 and test.status == "red"
    assert "worse" in output.headline


def test_a_previous_version_needing_columns_this_one_does_not_read_is_not_compared(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    development = synthetic_sample(600, seed=7)
    v1 = _artifact(tmp_path / "v1.skops", development, ["income", "tenure"])
    v2 = _artifact(tmp_path / "v2.skops", development, ["tenure"])
    spec = write_spec({"data": {"score": None},
                       "versions": [{"version": "1", "artifact": "v1.skops", "artifact_sha256": v1,
                                     "data": {"features": ["income", "tenure"]}},
                                    {"version": "2", "artifact": "v2.skops", "artifact_sha256": v2,
                                     "data": {"features": ["tenure"]}}]})
    output = run_check("challenger", spec, "2")
    assert "income are not read" in output.summary["not_compared"]["previous"]
    assert list(output.tables["comparisons"].index) == ["benchmark"]


def test_a_scores_only_spec_compares_with_its_benchmark_score(write_spec: Callable[..., Path]) -> None:
    current = synthetic_sample(300, seed=2).assign(pd_bench=lambda f: (f["pd"] * 0.5 + 0.1).clip(0, 1))
    spec = write_spec({"data": {"benchmark_score": "pd_bench"}}, current=current,
                      reference=synthetic_sample(400, seed=1).assign(pd_bench=0.2))
    output = run_check("challenger", spec, benchmark=False)
    table = output.tables["comparisons"]
    assert list(table.index) == ["benchmark_score"]
    assert "no version before" in output.summary["not_compared"]["previous"]
    # a monotone transform ranks alike: no AUC difference, so no gain to justify complexity
    assert table.loc["benchmark_score", "auc_difference"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("values", "problem"), [
    ([0.2, np.nan], "150 missing values"), ([0.2, 1.5], "must be a probability in [0, 1]"),
    (["low", "high"], "must be numeric")])
def test_bad_benchmark_scores_are_a_data_error_naming_the_column(write_spec: Callable[..., Path], values: list[Any],
                                                                 problem: str) -> None:
    current = synthetic_sample(300, seed=2)
    current["pd_bench"] = (values * 150)
    spec = write_spec({"data": {"benchmark_score": "pd_bench"}}, current=current,
                      reference=synthetic_sample(400, seed=1).assign(pd_bench=0.2))
    with pytest.raises(DataError, match="column 'pd_bench'") as caught:
        run_check("challenger", spec)
    assert problem in str(caught.value) and "data.current" in str(caught.value)


def test_a_var_model_is_not_applicable() -> None:
    from types import SimpleNamespace

    spec: Any = SimpleNamespace(model=SimpleNamespace(type="var"))
    assert "VaR" in str(ChallengerCheck().not_applicable(spec))


def test_on_the_demo_v2_is_compared_with_v1_on_the_same_applicants(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The demo's challenger (v2, gradient boosting) against its champion (v1, logistic) on the 300
    monitoring applicants: the paired difference is small and not significant (ΔAUC +0.003, 95% CI
    -0.034 to +0.039, p = 0.89 when written), so it is green, not a finding."""
    from validation.demo import prepare_demo

    spec = prepare_demo(tmp_path_factory.mktemp("demo"))
    output = run_check("challenger", spec, "2")
    row = output.tables["comparisons"].loc["previous"]
    assert row["comparator"] == "version 1"
    assert abs(row["auc_difference"]) < 0.03 and row["auc_pvalue"] > 0.05
    assert row["ci_low"] < 0 < row["ci_high"]
    judged = {(f.metric, f.subject): f for f in output.context.policy.judge_all(output.findings)}  # type: ignore[union-attr]
    assert judged[("paired_auc_pvalue", "previous")].status == "green"
    assert "benchmark" in output.tables["comparisons"].index


def test_a_benchmark_fitted_on_too_few_outcomes_is_reported_not_judged(write_spec: Callable[..., Path],
                                                                        tmp_path: Path) -> None:
    """Fewer than 10 outcomes of the rarer class per coefficient (Peduzzi et al. 1996): the gain
    over the fitted benchmark is shown without a status, and the page says why."""
    development = synthetic_sample(600, seed=7)
    v1 = _artifact(tmp_path / "v1.skops", development, ["income", "tenure", "region"])
    path = write_spec({"data": {"score": None}, "model": {"artifact": "v1.skops", "artifact_sha256": v1},
                       "checks": {"challenger": {}}}, reference=synthetic_sample(60, seed=1))
    output = run_check("challenger", path, "1")
    context = output.context
    assert context is not None
    judged = {(f.metric, f.subject): f for f in context.policy.judge_all(output.findings)}
    gain = judged[("benchmark_auc_gain", "benchmark")]
    assert gain.status == "info" and "reported, not judged" in str(gain.note) and "Peduzzi" in str(gain.note)
    assert judged[("benchmark_gain_pvalue", "benchmark")].status == "info"
    assert "gain not judged" in output.headline
