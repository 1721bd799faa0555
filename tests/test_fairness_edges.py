"""The fairness check on valid data that leaves nothing to compare, and on unusable data.

It never crashes on valid input (nobody approved, everybody approved, one group, no group large
enough), and it is never green when it compared nothing: its status is then ``not_applicable``
with the reason, and its findings are reported (``info``) with undefined values as ``null``.
Unusable protected attributes (no value at all, an identifier) stop the run before any notebook
(exit 2), and every parameter is bounded so a spec cannot hang the tool.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_sample
from validation.checks import run_check
from validation.checks.base import CheckOutput
from validation.checks.fairness import MAX_PROTECTED_VALUES
from validation.errors import DataError, SpecError
from validation.judging.policy import Policy
from validation.metrics import fairness


def _current() -> pd.DataFrame:
    return synthetic_sample(300, seed=2, shift=0.3)


def _strict_json(value: Any) -> str:
    """JSON as results.json must be: a NaN or an infinity raises instead of becoming ``NaN``."""
    return json.dumps(value, allow_nan=False)


def _compared_nothing(output: CheckOutput) -> None:
    """What a check that compared nothing must show: a reason, no judged finding, strict JSON."""
    assert output.not_applicable
    judged = Policy().judge_all(output.findings)
    assert {f.status for f in judged} == {"info"}
    _strict_json(output.findings)
    _strict_json(output.summary)


# Independent reference of the approval rates: with ``favourable: below`` an applicant is approved
# when ``score < threshold`` (docs/spec.md, decision), so a threshold of 0 approves no PD in [0, 1]
# and ``above`` 0 approves all; a constant PD of 0.5 against 0.2 is refused for everybody.
DECISION_CASES = [
    ("threshold 0, below: nobody approved", {"threshold": 0.0, "favourable": "below"}, None, 0.0,
     "no applicant is approved at this threshold"),
    ("constant score on the refused side", {"threshold": 0.2, "favourable": "below"}, 0.5, 0.0,
     "no applicant is approved at this threshold"),
    ("threshold 0, above: everybody approved", {"threshold": 0.0, "favourable": "above"}, None, 1.0,
     "every applicant is approved at this threshold"),
]


@pytest.mark.parametrize(("case", "decision", "constant", "rate", "reason"), DECISION_CASES,
                         ids=[c[0] for c in DECISION_CASES])
def test_a_decision_that_approves_nobody_or_everybody_is_not_applicable(
        write_spec: Callable[..., Path], case: str, decision: dict[str, Any], constant: float | None, rate: float,
        reason: str) -> None:
    current = _current() if constant is None else _current().assign(pd=constant)
    output = run_check("fairness", write_spec({"decision": decision}, current=current))  # HEAD: ValueError (0/0)
    _compared_nothing(output)
    assert output.not_applicable is not None and output.not_applicable.startswith(reason)
    assert output.headline.startswith(reason)
    rates = [f["value"] for f in output.findings if f["metric"] == "approval_rate"]
    assert rates and all(r == rate for r in rates)  # the per-group counts are still there
    ratios = [f for f in output.findings if f["metric"] == "disparate_impact_ratio"]
    assert ratios and all("not judged" in f["note"] for f in ratios)
    if rate == 0.0:  # 0 / 0: undefined, as null
        assert all(f["value"] is None for f in ratios)


def test_one_group_or_no_group_large_enough_is_not_applicable(write_spec: Callable[..., Path]) -> None:
    one = run_check("fairness", write_spec(current=_current().assign(sex="female")))
    _compared_nothing(one)
    assert one.not_applicable == "sex: " + fairness.ONE_GROUP.format(group="female")
    # 300 applicants: no group reaches 1000 (HEAD: green, from the per-group Jeffreys tests)
    small = run_check("fairness", write_spec({"checks": {"fairness": {"min_group_size": 1000}}}))
    _compared_nothing(small)
    assert small.not_applicable is not None and small.not_applicable.startswith(
        "sex: fewer than two groups reach the minimum group size of 1000")


def test_every_group_pooled_is_not_applicable(write_spec: Callable[..., Path]) -> None:
    current = _current()
    current["sex"] = [f"s{i % 150}" for i in range(len(current))]  # 150 values, 2 applicants each
    output = run_check("fairness", write_spec(current=current))
    _compared_nothing(output)
    assert output.not_applicable == "sex: " + fairness.ALL_POOLED


def test_an_attribute_that_compared_nothing_is_named_and_the_others_judged(write_spec: Callable[..., Path]) -> None:
    current = _current().assign(branch="head office")
    reference = synthetic_sample(400, seed=1).assign(branch="head office")
    output = run_check("fairness", write_spec({"data": {"protected": ["sex", "branch"]}},
                                              reference=reference, current=current))
    assert output.not_applicable is None
    reason = fairness.ONE_GROUP.format(group="head office")
    assert output.summary["not_compared"] == {"branch": reason}
    assert f"branch: {reason}." in output.headline
    assert any(s.title == "Not compared" for s in output.sections)
    judged = Policy().judge_all(output.findings)
    assert {f.status for f in judged if f.subject.startswith("branch")} == {"info"}
    sex_ratios = [f for f in judged if f.metric == "disparate_impact_ratio" and f.subject.startswith("sex:")]
    assert {f.status for f in sex_ratios} - {"info"}  # sex is still judged


def test_missing_attribute_values_are_counted_not_dropped(write_spec: Callable[..., Path]) -> None:
    current = _current()
    current.loc[:39, "sex"] = None  # 40 missing: a group of its own, large enough to judge
    output = run_check("fairness", write_spec(current=current))
    assert output.summary["missing_values"] == {"sex": 40}
    table = output.tables["groups:sex"]
    assert table.loc[fairness.MISSING_GROUP, "n"] == 40 and table["n"].sum() == len(current)
    assert "40 applicants have no value (group (missing))" in output.headline


UNUSABLE = [
    ("all missing", lambda frame: frame.assign(sex=None), "protected attribute with no value in its 300 rows"),
    ("an identifier", lambda frame: frame.assign(sex=[f"id{i:06d}" for i in range(len(frame))]),
     f"(more than {MAX_PROTECTED_VALUES}): it looks like an identifier"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), UNUSABLE, ids=[c[0] for c in UNUSABLE])
def test_an_unusable_protected_attribute_is_refused_before_running(
        write_spec: Callable[..., Path], tmp_path: Path, case: str, change: Callable[[pd.DataFrame], pd.DataFrame],
        fragment: str) -> None:
    from validation.execution.planning import plan_runs

    path = write_spec({"checks": ["fairness"]}, current=change(_current()))
    with pytest.raises(DataError) as caught:
        plan_runs([path], out=tmp_path / "out")
    assert caught.value.column == "sex" and fragment in caught.value.problem
    assert not (tmp_path / "out").exists()


def test_a_hundred_thousand_distinct_values_are_refused(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from validation.execution.planning import plan_runs

    current = synthetic_sample(100_000, seed=2).astype({"customer_id": "int64"})
    current["sex"] = current["customer_id"].map("c{:07d}".format)
    path = write_spec({"checks": ["fairness"]}, current=current)
    # the runner counts distinct values up to DISTINCT_COUNTED (10,000), in batches: "at least"
    with pytest.raises(DataError, match="at least 10001 distinct values in 100000 rows"):
        plan_runs([path], out=tmp_path / "out")


BOUNDS: list[tuple[str, dict[str, Any], str, str]] = [
    ("minimum group size", {"min_group_size": 100_001}, "checks.fairness.min_group_size",
     "less than or equal to 100000"),
    ("51 band edges", {"bands": {"sex": list(range(51))}}, "checks.fairness.bands.sex", "at most 50 items"),
    ("infinite band edge", {"bands": {"sex": [25, math.inf]}}, "checks.fairness.bands.sex.1", "finite number"),
    ("NaN band edge", {"bands": {"sex": [25, math.nan]}}, "checks.fairness.bands.sex.1", "finite number"),
    ("11 intersections", {"intersections": [["sex", "region"]] * 11}, "checks.fairness.intersections",
     "at most 10 items"),
    ("four attributes crossed", {"intersections": [["sex", "region", "tenure", "income"]]},
     "checks.fairness.intersections.0", "at most 3"),
    ("an attribute crossed with itself", {"intersections": [["sex", "sex"]]}, "checks.fairness.intersections.0",
     "two or more distinct"),
]


@pytest.mark.parametrize(("case", "params", "key", "fragment"), BOUNDS, ids=[c[0] for c in BOUNDS])
def test_every_fairness_parameter_is_bounded(write_spec: Callable[..., Path], case: str, params: dict[str, Any],
                                             key: str, fragment: str) -> None:
    from validation.inputs.spec import load_spec

    with pytest.raises(SpecError) as caught:
        load_spec(write_spec({"checks": {"fairness": params}}))
    assert caught.value.key.replace("[", ".").rstrip("]").startswith(key), caught.value
    assert fragment in caught.value.problem, caught.value.problem


def test_comparison_problem_by_hand() -> None:
    # independent reference: the counts written out by hand (two groups of 40, none approved:
    # each ratio is 0 / 0; one approved in a: 1/40 / (1/40) and 0 / (1/40), comparable)
    y = np.array([0, 1] * 40)
    groups = pd.Series(["a"] * 40 + ["b"] * 40)
    nobody = fairness.group_table(y, np.zeros(80, dtype=int), groups, min_group_size=30)
    assert fairness.comparison_problem(nobody, min_group_size=30) == fairness.NONE_APPROVED
    assert nobody["disparate_impact_ratio"].isna().all()
    one = np.zeros(80, dtype=int)
    one[0] = 1
    table = fairness.group_table(y, one, groups, min_group_size=30)
    assert fairness.comparison_problem(table, min_group_size=30) is None
    assert table["disparate_impact_ratio"].tolist() == [1.0, 0.0]
    findings = fairness.fairness_findings("g", nobody, min_group_size=30)
    _strict_json(findings)
    assert not [f for f in findings if f.get("judged", True)]


def test_the_cli_records_not_applicable_with_its_reason(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from validation.cli import main

    spec = write_spec({"decision": {"threshold": 0.0, "favourable": "below"}, "checks": ["fairness"]})
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(spec), "--out", str(tmp_path / "out"), "--checks", "fairness",
                                  "--quiet"])
    assert result.exit_code == 0, result.output  # HEAD: 3 (the check crashed)
    (path,) = (tmp_path / "out").rglob("results.json")

    def refuse(constant: str) -> None:
        raise AssertionError(f"results.json holds {constant}: not strict JSON")

    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    (check,) = doc["checks"]
    assert check["status"] == "not_applicable"
    assert check["reason"].startswith("no applicant is approved at this threshold")
    assert {f["status"] for f in check["findings"]} == {"info"}
    assert doc["status"] != "green"

    missing = write_spec({"checks": ["fairness"]}, name="missing.yaml", current=_current().assign(sex=None))
    result = runner.invoke(main, ["run", str(missing), "--out", str(tmp_path / "out2"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "error: column 'sex': protected attribute with no value" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out2").exists()
