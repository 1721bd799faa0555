"""`validation demo`: two versions of the German credit model, validated end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validation import demo


def test_demo_data_is_deterministic_and_shifted() -> None:
    frame = demo.german_credit()
    assert len(frame) == 1000 and frame["default"].sum() == 300  # Statlog: 300 bad, 700 good
    dev1, mon1 = demo.build_samples(frame)
    dev2, mon2 = demo.build_samples(frame)
    pd.testing.assert_frame_equal(dev1, dev2)
    pd.testing.assert_frame_equal(mon1, mon2)
    assert (len(dev1), len(mon1)) == (600, 300)
    assert set(dev1["applicant_id"]).isdisjoint(mon1["applicant_id"])  # out of sample
    # drawn without replacement: every applicant at most once, 60 a month, each row its applicant's real row
    assert mon1["applicant_id"].is_unique
    assert mon1.groupby("month").size().to_dict() == dict.fromkeys(demo.MONTHS, 60)
    original = frame.set_index("applicant_id")
    pd.testing.assert_frame_equal(mon1.drop(columns="month").set_index("applicant_id"),
                                  original.loc[mon1["applicant_id"]])
    # the documented shift: younger applicants borrowing more, more so month by month
    assert mon1["age"].median() < dev1["age"].median()
    assert mon1["credit_amount"].median() > dev1["credit_amount"].median()
    by_month = mon1.groupby("month").agg(age=("age", "mean"), amount=("credit_amount", "median"))
    assert by_month["age"].is_monotonic_decreasing
    assert by_month["amount"].iloc[-1] > by_month["amount"].iloc[0]
    assert by_month["age"].iloc[-1] < dev1["age"].mean() - 5


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """AUC as the Mann-Whitney U statistic over (events x non-events) pairs (Hanley and McNeil 1982)."""
    from scipy.stats import mannwhitneyu

    events, others = score[y == 1], score[y == 0]
    return float(mannwhitneyu(events, others).statistic) / (len(events) * len(others))


def test_demo_spec_states_its_reference_honestly(demo_run: dict[str, object]) -> None:
    """The development sample is the training sample, and each version's development AUC is the
    cross-validated one: recomputed here fold by fold, with the AUC from scipy's Mann-Whitney U."""
    import yaml
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from validation.inputs.samples import load_samples
    from validation.inputs.spec import load_spec

    root = demo_run["root"]
    assert isinstance(root, Path)
    path = root / "params" / "german_credit_pd.yaml"
    document = yaml.safe_load(path.read_text())
    assert document["data"]["reference_kind"] == "training"
    development, _ = demo.build_samples(demo.german_credit())
    x, y = development[demo.FEATURES], development["default"].to_numpy()
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=demo.SEED)
    for entry, (version, pipeline) in zip(document["versions"], demo.pipelines().items()):
        aucs, out_of_fold = [], np.empty(len(y))
        for train, test in folds.split(x, y):
            fitted = clone(pipeline).fit(x.iloc[train], y[train])
            out_of_fold[test] = fitted.predict_proba(x.iloc[test])[:, 1]
            aucs.append(_auc(y[test], out_of_fold[test]))
        approved = out_of_fold < demo.THRESHOLD
        assert entry["version"] == version
        assert entry["reference_metrics"] == {"auc": pytest.approx(np.mean(aucs), abs=5e-5),
                                              "approval_rate": pytest.approx(approved.mean(), abs=5e-5),
                                              "bad_rate_approved": pytest.approx(y[approved].mean(), abs=5e-5),
                                              "source": "5-fold cross-validation on the development sample"}
        in_sample = clone(pipeline).fit(x, y).predict_proba(x)[:, 1]
        assert entry["reference_metrics"]["auc"] < _auc(y, in_sample)  # in-sample flatters
    spec = load_spec(path)
    assert [v.reference_metrics.auc for v in spec.versions if v.reference_metrics] == [
        e["reference_metrics"]["auc"] for e in document["versions"]]
    samples = load_samples(spec.versions[0], load_model=False)
    assert samples.duplicates == {"reference": 0, "current": 0}  # one row per applicant


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "VALIDATION_DEMO_ROOT": str(root)}
    result = subprocess.run([sys.executable, "-m", "validation", "demo", "--out", str(root / "reports")],
                            capture_output=True, text=True, timeout=900, env=env)
    return {"root": root, "result": result, "env": env}


def test_demo_writes_two_complete_packs(demo_run: dict[str, object]) -> None:
    result = demo_run["result"]
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode in (0, 1), result.stderr
    packs = [Path(line) for line in result.stdout.strip().splitlines()]
    assert [(p.parent.parent.name, p.parent.name) for p in packs] == [
        ("german_credit_pd", "1"), ("german_credit_pd", "2"), ("trading_desk_var", "1")]
    desk = json.loads((packs[2] / "results.json").read_text())
    (backtest,) = desk["checks"]
    values = {f["metric"]: f["value"] for f in backtest["findings"]}
    assert {"exceptions", "kupiec_pvalue", "tuff_pvalue", "christoffersen_pvalue", "conditional_coverage_pvalue",
            "basel_zone", "plus_factor"} <= set(values)
    assert values["basel_zone"] in ("green", "yellow", "red")
    packs = packs[:2]
    for pack in packs:
        assert (pack / "index.html").is_file() and (pack / "manifest.json").is_file()
        doc = json.loads((pack / "results.json").read_text())
        for check in doc["checks"]:
            assert check["status"] not in ("error", "not_applicable"), check
            assert len(check["findings"]) >= 3, check["name"]
            assert (pack / f"notebooks/{check['name']}.ipynb").is_file()
            assert (pack / f"html/{check['name']}.html").is_file()
        # protected group names such as "<25" are escaped on the summary page
        index = (pack / "index.html").read_text()
        assert "age_band:&lt;25" in index and "age_band:<25" not in index
    first, second = (json.loads((p / "results.json").read_text()) for p in packs)
    metrics = lambda doc: {(f["metric"], f["subject"]) for c in doc["checks"] for f in c["findings"]}  # noqa: E731
    assert ("importance_rank_correlation", "score") in metrics(second)
    assert ("importance_rank_correlation", "score") not in metrics(first)  # no previous version


def test_run_reproduces_the_demo_pack(demo_run: dict[str, object]) -> None:
    root = demo_run["root"]
    assert isinstance(root, Path)
    spec = root / "params" / "german_credit_pd.yaml"
    out = root / "rerun"
    env = demo_run["env"]
    assert isinstance(env, dict)
    result = subprocess.run([sys.executable, "-m", "validation", "run", str(spec), "--version", "2",
                             "--out", str(out)], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode in (0, 1), result.stderr
    again = json.loads((Path(result.stdout.strip().splitlines()[-1]) / "results.json").read_text())
    demo_result = demo_run["result"]
    assert isinstance(demo_result, subprocess.CompletedProcess)
    original_pack = Path(demo_result.stdout.strip().splitlines()[1])  # german_credit_pd version 2
    original = json.loads((original_pack / "results.json").read_text())
    values = lambda doc: {(c["name"], f["metric"], f["subject"]): f["value"]  # noqa: E731
                          for c in doc["checks"] for f in c["findings"]}
    assert values(again) == values(original)
    assert again["status"] == original["status"]


def test_demo_packs_match_the_published_schemas(demo_run: dict[str, object]) -> None:
    """docs/schemas/results.schema.json describes every demo pack's results.json, and the spec
    schema every demo spec (the schemas are generated from the models that write and read them)."""
    import jsonschema
    import yaml

    docs = Path(__file__).resolve().parent.parent / "docs" / "schemas"
    results_schema = json.loads((docs / "results.schema.json").read_text())
    spec_schema = json.loads((docs / "spec.schema.json").read_text())
    result = demo_run["result"]
    assert isinstance(result, subprocess.CompletedProcess)
    for line in result.stdout.strip().splitlines():
        jsonschema.validate(json.loads((Path(line) / "results.json").read_text()), results_schema)
    root = demo_run["root"]
    assert isinstance(root, Path)
    specs = sorted((root / "params").glob("*.yaml"))
    assert len(specs) == 2
    for spec in specs:
        jsonschema.validate(yaml.safe_load(spec.read_text()), spec_schema)
    broken = json.loads((Path(result.stdout.strip().splitlines()[0]) / "results.json").read_text())
    broken["checks"][0]["status"] = "purple"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, results_schema)


def test_the_demo_is_red_only_for_real_problems_each_explained(demo_run: dict[str, object]) -> None:
    """Issue 17, done when: the demo's packs are not red for any artefact of the method, and what
    stays red is explained on the summary page in one sentence each. What is designed into the
    demo and stays: an approval gap for young applicants (PD models) and a VaR with too many
    exceptions, bunched in its stress window (the desk). Drift (a designed shift) is amber; the
    backtests against the honest development AUC, explainability and monotonicity are not red."""
    from html import escape

    result = demo_run["result"]
    assert isinstance(result, subprocess.CompletedProcess)
    packs = [Path(line) for line in result.stdout.strip().splitlines()]
    allowed = {"german_credit_pd": {"fairness:age_band"},
               "trading_desk_var": {"backtesting:exception count", "backtesting:exception clustering"}}
    for pack in packs:
        doc = json.loads((pack / "results.json").read_text())
        index = (pack / "index.html").read_text()
        red = {issue["id"]: issue for check in doc["checks"] for issue in check["issues"] if issue["status"] == "red"}
        assert set(red) <= allowed[doc["model"]["name"]], red
        for check in doc["checks"]:  # every red finding belongs to a red issue of its check
            members = {m for issue in check["issues"] for m in issue["findings"]}
            assert {f"{f['metric']} {f['subject']}" for f in check["findings"] if f["status"] == "red"} <= members
        for issue in red.values():
            assert escape(issue["sentence"]) in index
        if doc["model"]["name"] == "german_credit_pd":
            statuses = {check["name"]: check["status"] for check in doc["checks"]}
            assert statuses["drift"] != "red" and statuses["backtesting"] != "red"
            assert statuses["explainability"] != "red"
            assert "Read first" in index and "training sample" in index
            # every judged metric's threshold names its source and materiality on the summary page
            assert "Thresholds and their sources" in index and "29 CFR 1607.4(D)" in index
            assert "observed / expected defaults 0.8 to 1.25: not material" in index
        else:
            assert set(red) == allowed["trading_desk_var"]  # the stress window is seen
