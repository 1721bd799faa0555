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
    first, second = demo.build_samples(frame), demo.build_samples(frame)
    for one, other in zip(first, second):
        pd.testing.assert_frame_equal(one, other)
    dev1, ref1, mon1 = first
    assert (len(dev1), len(ref1), len(mon1)) == (500, 150, 300)
    # three disjoint samples: the reference and the months are out of sample
    ids = [set(sample["applicant_id"]) for sample in first]
    assert all(a.isdisjoint(b) for i, a in enumerate(ids) for b in ids[i + 1:])
    assert set(ref1["month"]) == {demo.REFERENCE_MONTH} and demo.REFERENCE_MONTH < min(demo.MONTHS)
    # drawn without replacement: every applicant at most once, 60 a month, each row its applicant's real row
    assert mon1["applicant_id"].is_unique
    assert mon1.groupby("month").size().to_dict() == dict.fromkeys(demo.MONTHS, 60)
    original = frame.set_index("applicant_id")
    for sample in (ref1, mon1):
        pd.testing.assert_frame_equal(sample.drop(columns="month").set_index("applicant_id"),
                                      original.loc[sample["applicant_id"]])
    # the documented shift: younger applicants borrowing more, more so month by month
    assert mon1["age"].median() < min(dev1["age"].median(), ref1["age"].median())
    assert mon1["credit_amount"].median() > dev1["credit_amount"].median()
    by_month = mon1.groupby("month").agg(age=("age", "mean"), amount=("credit_amount", "median"))
    assert by_month["age"].is_monotonic_decreasing
    assert by_month["amount"].iloc[-1] > by_month["amount"].iloc[0]
    assert by_month["age"].iloc[-1] < dev1["age"].mean() - 5


def test_the_champion_leaves_age_and_its_proxy_out_and_the_challenger_uses_them() -> None:
    """Version 1 never sees age: neither ``age`` nor ``housing`` (renting stands in for youth in
    this data) is among its inputs, and its fitted pipeline scores without them; version 2 uses both."""
    frame = demo.german_credit()
    renting = frame.assign(rent=frame["housing"] == "rent").groupby("age_band")["rent"].mean()
    assert renting["<25"] > 3 * renting["35-49"]  # the proxy, measured
    features = demo.version_features()
    assert not {"age", "age_band", "housing", "sex"} & set(features[demo.CHAMPION])
    assert {"age", "housing"} <= set(features[demo.CHALLENGER])
    development, _, monitoring = demo.build_samples(frame)
    models = demo.train_models(development)
    champion = models[demo.CHAMPION].predict_proba(monitoring[features[demo.CHAMPION]])[:, 1]
    assert champion.shape == (300,) and np.isfinite(champion).all()
    with pytest.raises(ValueError, match="age"):
        models[demo.CHALLENGER].predict_proba(monitoring[features[demo.CHAMPION]])


def test_the_champions_penalty_is_the_best_of_its_grid_in_cross_validation() -> None:
    """``CHAMPION_C`` is chosen on the development sample alone: the highest cross-validated AUC of
    the grid, and the development AUC the spec states (rounded to 4 places)."""
    development, _, _ = demo.build_samples(demo.german_credit())
    features = demo.version_features()[demo.CHAMPION]
    champion = demo.pipelines()[demo.CHAMPION]
    aucs = {c: demo.cross_validated_auc(champion.set_params(model__C=c), development, features)
            for c in demo.CHAMPION_C_GRID}
    assert max(aucs, key=aucs.__getitem__) == demo.CHAMPION_C
    assert round(aucs[demo.CHAMPION_C], 3) == 0.759


def test_the_desks_exceptions_come_from_its_stress_period() -> None:
    """The same seeded desk with and without its stress period: the stress takes the backtest
    window from the green zone into the yellow (5 to 9 exceptions in 250 days at 99%), and the
    exceptions fall inside it. Exceptions are counted here from the P&L and the VaR directly."""
    from scipy.stats import binom

    calm = demo.trading_desk(stress_days=0).iloc[demo.DESK_DAYS:]
    desk = demo.trading_desk().iloc[demo.DESK_DAYS:]
    assert len(desk) == demo.DESK_DAYS and desk["var_99"].notna().all()
    pd.testing.assert_series_equal(desk["pnl"].iloc[:demo.STRESS_START], calm["pnl"].iloc[:demo.STRESS_START])
    hits = desk.loc[desk["pnl"] < -desk["var_99"], "date"]
    calm_hits = int((calm["pnl"] < -calm["var_99"]).sum())
    assert calm_hits < 5 <= len(hits) <= 9  # the Basel traffic light: green below 5, yellow 5 to 9
    assert binom.sf(calm_hits - 1, demo.DESK_DAYS, 0.01) > 0.05  # calm: in line with a 99% VaR
    first, last = demo.stress_window()
    inside = hits[(hits >= first) & (hits <= last)]
    assert len(inside) >= len(hits) - 1 and len(inside) >= 5


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """AUC as the Mann-Whitney U statistic over (events x non-events) pairs (Hanley and McNeil 1982)."""
    from scipy.stats import mannwhitneyu

    events, others = score[y == 1], score[y == 0]
    return float(mannwhitneyu(events, others).statistic) / (len(events) * len(others))


def test_demo_spec_states_its_reference_honestly(demo_run: dict[str, object]) -> None:
    """The reference sample is out of time: applicants neither model was fitted on. Each version's
    development AUC is the cross-validated one on the development sample, recomputed here fold by
    fold with the AUC from scipy's Mann-Whitney U."""
    import yaml
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from validation.inputs.samples import load_samples
    from validation.inputs.spec import load_spec

    root = demo_run["root"]
    assert isinstance(root, Path)
    path = root / "params" / "german_credit_pd.yaml"
    document = yaml.safe_load(path.read_text())
    assert document["data"]["reference_kind"] == "out_of_time"
    development = pd.read_parquet(root / "demo" / "data" / "development.parquet")
    reference = pd.read_parquet(path.parent / document["data"]["reference"])
    assert set(reference["applicant_id"]).isdisjoint(development["applicant_id"])
    y = development["default"].to_numpy()
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=demo.SEED)
    for entry, (version, pipeline) in zip(document["versions"], demo.pipelines().items()):
        assert entry["version"] == version
        assert entry["data"]["features"] == demo.version_features()[version]
        x = development[entry["data"]["features"]]
        aucs, out_of_fold = [], np.empty(len(y))
        for train, test in folds.split(x, y):
            fitted = clone(pipeline).fit(x.iloc[train], y[train])
            out_of_fold[test] = fitted.predict_proba(x.iloc[test])[:, 1]
            aucs.append(_auc(y[test], out_of_fold[test]))
        approved = out_of_fold < demo.THRESHOLD
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
    assert "age" not in samples.features and "housing" not in samples.features


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


def _packs(demo_run: dict[str, object]) -> dict[tuple[str, str], tuple[Path, dict[str, object]]]:
    """The demo's packs by (model, version), each with its results.json."""
    result = demo_run["result"]
    assert isinstance(result, subprocess.CompletedProcess)
    packs = {}
    for line in result.stdout.strip().splitlines():
        doc = json.loads((Path(line) / "results.json").read_text())
        packs[(doc["model"]["name"], doc["model"]["version"])] = (Path(line), doc)
    return packs


def _red_issues(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    checks = doc["checks"]
    assert isinstance(checks, list)
    return {issue["id"]: issue for check in checks for issue in check["issues"] if issue["status"] == "red"}


def _finding(doc: dict[str, object], check: str, metric: str, subject: str) -> dict[str, object]:
    checks = doc["checks"]
    assert isinstance(checks, list)
    (found,) = [f for c in checks if c["name"] == check for f in c["findings"]
                if f["metric"] == metric and f["subject"] == subject]
    return dict(found)


def test_the_demo_is_red_only_for_real_problems_each_explained(demo_run: dict[str, object]) -> None:
    """What stays red is a real problem, explained on the summary page in one sentence: the
    challenger's approval gap for young applicants, and nothing else. Every red finding belongs to a
    red issue of its check."""
    from html import escape

    allowed = {("german_credit_pd", "1"): set(), ("german_credit_pd", "2"): {"fairness:age_band"},
               ("trading_desk_var", "1"): set()}
    packs = _packs(demo_run)
    assert set(packs) == set(allowed)
    for key, (pack, doc) in packs.items():
        index = (pack / "index.html").read_text()
        red = _red_issues(doc)
        assert set(red) == allowed[key], red
        checks = doc["checks"]
        assert isinstance(checks, list)
        for check in checks:  # every red finding belongs to a red issue of its check
            members = {m for issue in check["issues"] for m in issue["findings"]}
            assert {f"{f['metric']} {f['subject']}" for f in check["findings"] if f["status"] == "red"} <= members
        for issue in red.values():
            assert escape(str(issue["sentence"])) in index
        if key[0] == "german_credit_pd":
            # every judged metric's threshold names its source and materiality on the summary page
            assert "Thresholds and their sources" in index and "29 CFR 1607.4(D)" in index
            assert "observed / expected defaults 0.8 to 1.25: not material" in index
            assert "out of time" in index  # the reference says what it is


def test_the_demo_tells_its_story(demo_run: dict[str, object]) -> None:
    """The champion passes against its out-of-time reference, the challenger fails on its age gap
    alone, and the desk's VaR is in the yellow zone because of its stress period: the statuses are
    the real run's, and the figures behind them are checked against the data."""
    result = demo_run["result"]
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode == 1, result.stderr  # a red pack (the challenger): exit 1, as documented
    packs = _packs(demo_run)
    champion, challenger = packs[("german_credit_pd", "1")][1], packs[("german_credit_pd", "2")][1]
    desk_pack, desk = packs[("trading_desk_var", "1")]
    assert champion["status"] in ("green", "amber") and not _red_issues(champion)
    young = _finding(champion, "fairness", "disparate_impact_ratio", "age_band:<25")
    assert young["status"] == "green"
    assert _finding(champion, "backtesting", "auc_change_pvalue", "score")["status"] != "red"

    assert challenger["status"] == "red" and list(_red_issues(challenger)) == ["fairness:age_band"]
    gap = _finding(challenger, "fairness", "disparate_impact_ratio", "age_band:<25")
    assert float(gap["value"]) < 0.8 and float(gap["p_adjusted"]) < 0.05  # type: ignore[arg-type]
    assert float(gap["value"]) < float(young["value"])  # type: ignore[arg-type]

    assert desk["status"] == "amber" and not _red_issues(desk)
    zone, exceptions = (_finding(desk, "backtesting", metric, "portfolio")["value"]
                        for metric in ("basel_zone", "exceptions"))
    root = demo_run["root"]
    assert isinstance(root, Path)
    current = pd.read_parquet(root / "demo" / "data" / "desk_current.parquet")
    hits = current.loc[current["pnl"] < -current["var_99"], "date"]
    assert zone == "yellow" and exceptions == len(hits) and 5 <= len(hits) <= 9
    first, last = demo.stress_window()
    assert ((hits >= first) & (hits <= last)).sum() >= len(hits) - 1
    page = (desk_pack / "html" / "backtesting.html").read_text()
    assert all(day in page for day in hits) and "stress window" in page


def test_the_demo_records_a_completed_review_of_the_champion(demo_run: dict[str, object]) -> None:
    """`validation demo` ends with the champion's sign-off: a rating, a conclusion written from the
    pack's own figures, two issues raised into the registry's register (owner, due date,
    remediation, open) on real observations of the pack, one accepted finding; the index shows
    them and the pack still verifies."""
    from html import escape

    from validation.governance.register import valid_targets
    from validation.governance.registry import Registry

    packs = _packs(demo_run)
    pack, champion = packs[("german_credit_pd", "1")]
    (review,) = json.loads((pack / "review.json").read_text())["reviews"]
    assert review["rating"] == demo.RATING and review["reviewer"] == demo.REVIEWER
    auc = _finding(champion, "backtesting", "auc", "score")["value"]
    assert f"{auc:.3f}" in review["conclusion"]
    raised = [a for a in review["assessments"] if a["action"] == "raise"]
    assert len(raised) == 2 and [a["action"] for a in review["assessments"]].count("accept") == 1
    root = demo_run["root"]
    assert isinstance(root, Path)
    items = {item["id"]: item for item in Registry(root / "reports" / "registry.sqlite").register_items(
        model="german_credit_pd")}
    assert sorted(items) == sorted(a["issue_id"] for a in raised)
    targets = valid_targets(champion)
    amber = {issue["id"] for check in champion["checks"] for issue in check["issues"] if issue["status"] == "amber"}
    assert {item["target"] for item in items.values()} & amber  # an amber issue of the pack is raised
    for item in items.values():
        assert item["target"] in targets and item["status"] == "open" and item["version"] == "1"
        assert item["owner"] and item["remediation"] and item["due"] > review["reviewed_at"][:10]
    index = (pack / "index.html").read_text()
    assert escape(review["conclusion"]) in index and demo.RATING in index
    assert all(item_id in index for item_id in items)
    env = demo_run["env"]
    assert isinstance(env, dict)
    verified = subprocess.run([sys.executable, "-m", "validation", "verify", str(pack)], capture_output=True,
                              text=True, timeout=120, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
