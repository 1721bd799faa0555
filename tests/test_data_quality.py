"""The data_quality check end to end: planted data with exact expected counts, the German credit demo
data with its "not_known" codes declared missing and repeated applicants planted, a VaR model with no
reference, bad input, and the sample section of the pack's index.

Expected values are recomputed here from the planted frames with pandas, independently of
validation.metrics.quality (whose statistics are tested against scipy and statsmodels in
tests/metrics/test_quality.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pytest

from tests.conftest import synthetic_sample
from validation.checks.data_quality import DataQualityCheck


@pytest.fixture(scope="module", autouse=True)
def registered() -> Iterator[None]:
    """The check registered for these tests (until the integrator registers it in _builtin)."""
    from validation.checks import REGISTRY

    added = "data_quality" not in REGISTRY
    if added:
        REGISTRY.register(DataQualityCheck())
    yield
    if added:  # leave the registry as other test modules expect it
        del REGISTRY._checks["data_quality"]


def _judged(output: Any) -> dict[tuple[str, str], Any]:
    return {(f.metric, f.subject): f for f in output.context.policy.judge_all(output.findings)}


def _run(spec: Path, **parameters: Any) -> Any:
    from validation.checks import run_check

    return run_check("data_quality", spec, **parameters)


def _planted() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current samples with planted problems (see the test for what each is)."""
    reference = synthetic_sample(400, seed=1).assign(const="same", ref_code=[f"R{i:05d}" for i in range(400)])
    current = synthetic_sample(300, seed=2).assign(const="same", ref_code=[f"C{i:05d}" for i in range(300)])
    current["tenure"] = current["tenure"].astype(float)  # integer in the reference: a number stored another way
    current.loc[0:8, "income"] = reference["income"].max() * 10  # 9 rows far above the reference's range
    current.loc[10:21, "region"] = "west"  # 12 rows in a category the reference never shows
    current.loc[30:119, "region"] = "unknown"  # 90 rows coded missing (data.missing_values)
    repeated = current.iloc[100:105]  # 5 repeated applicants: same customer_id
    copies = current.iloc[200:204].assign(customer_id=np.arange(4) + 9_000_000)  # 4 full copies under new ids
    return reference, pd.concat([current, repeated, copies], ignore_index=True)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    import yaml

    folder = tmp_path_factory.mktemp("planted")
    reference, current = _planted()
    (folder / "data").mkdir()
    reference.to_parquet(folder / "data" / "ref.parquet")
    current.to_parquet(folder / "data" / "cur.parquet")
    spec = {"model": {"name": "toy_pd", "version": "1", "owner": "Tests", "purpose": "planted data quality"},
            "data": {"reference": "data/ref.parquet", "current": "data/cur.parquet", "target": "default", "score": "pd",
                     "features": ["income", "tenure", "region", "const", "ref_code"], "protected": ["sex"],
                     "ids": ["customer_id"], "time": "month", "outcome_window": 2,
                     "missing_values": {"region": ["unknown"]}},
            "checks": {"data_quality": {}}}
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return _run(folder / "spec.yaml"), reference, current


def test_planted_problems_are_counted_exactly_and_judged(planted: tuple[Any, pd.DataFrame, pd.DataFrame]) -> None:
    output, reference, raw = planted
    found = _judged(output)
    current = raw.drop_duplicates("customer_id", keep="last")  # what the loader keeps
    assert len(output.context.current) == len(current) == 304
    # sentinel codes: 90 'unknown' of 304 rows missing, none in the reference: a significant, material jump
    share = found[("missing_share", "feature:region")]
    assert share.value == pytest.approx(90 / 304) and share.status == "amber"
    change = found[("missing_share_change", "feature:region")]
    assert change.value == pytest.approx(90 / 304) and change.status == "red" and change.p_value < 1e-12
    # income is missing in neither sample: no change to test, so no finding to dilute the Holm family
    assert ("missing_share_change", "feature:income") not in found
    assert found[("missing_share", "feature:income")].value == 0
    # range excursions: current rows outside the reference's [min, max], recomputed here
    low, high = reference["income"].min(), reference["income"].max()
    outside = int(((current["income"] < low) | (current["income"] > high)).sum())
    assert outside >= 9
    excursion = found[("out_of_range_share", "feature:income")]
    assert excursion.value == pytest.approx(outside / 304) and excursion.status in ("amber", "red")
    # unseen categories: 12 'west' rows (the code 'unknown' is missing, not a category)
    unseen = found[("unseen_category_share", "feature:region")]
    assert unseen.value == pytest.approx(12 / 304) and unseen.status == "amber" and "west (12)" in unseen.note
    # schema: tenure integer -> float (amber); the rest unchanged
    tenure = found[("schema_change", "feature:tenure")]
    assert tenure.value == 1 and tenure.status == "amber"
    assert found[("schema_change", "feature:income")].status == "green"
    # duplicates: 5 repeated applicants removed on reading; 4 full copies under new ids
    assert found[("duplicate_id_rows", "sample:current")].value == 5
    assert found[("duplicate_id_rows", "sample:current")].status == "amber"
    assert found[("duplicate_row_share", "sample:current")].value == pytest.approx(4 / 304)
    assert found[("duplicate_row_share", "sample:current")].status == "amber"
    assert found[("duplicate_row_share", "sample:reference")].value == 0
    # constant and identifier-like features; an ordinary one is neither
    assert found[("constant_feature", "feature:const")].status == "amber"
    assert found[("constant_feature", "feature:income")].status == "green"
    assert found[("distinct_share", "feature:ref_code")].value == pytest.approx(current["ref_code"].nunique() / 304)
    assert found[("distinct_share", "feature:ref_code")].status == "amber"
    assert found[("distinct_share", "feature:region")].status == "green"
    # outcome maturity: a 2-month window closes after 2025-03-31 for 2025-02 and 2025-03
    immature = int(current["month"].isin(["2025-02", "2025-03"]).sum())
    maturity = found[("immature_outcome_share", "sample:current")]
    assert maturity.value == pytest.approx(immature / 304) and maturity.status == "amber"
    assert output.summary["as_of"] == "2025-03-31"
    vintages = output.tables["vintages"]
    assert vintages["rows"].to_dict() == current["month"].value_counts().sort_index().to_dict()
    rates = current.groupby("month")["default"].mean()
    assert vintages["default_rate"].round(10).to_dict() == rates.round(10).to_dict()


def test_privacy_no_identifier_value_is_shown(planted: tuple[Any, pd.DataFrame, pd.DataFrame]) -> None:
    output, reference, current = planted
    shown = json.dumps(output.findings) + json.dumps(output.summary) + output.headline
    shown += "".join(t.to_string() for t in output.tables.values())
    shown += "".join(str(item) for section in output.sections for item in section.items)
    assert not any(code in shown for code in [*reference["ref_code"], *current["ref_code"]])
    assert "customer_id" not in output.tables["schema"].index


def test_the_sample_description_states_the_exclusions(planted: tuple[Any, pd.DataFrame, pd.DataFrame]) -> None:
    output, _, _ = planted
    rows = {row["item"]: row for row in output.summary["sample_description"]}
    assert rows["rows"] == {"item": "rows", "reference": "400", "current": "304"}
    assert rows["duplicate-id rows removed"]["current"] == "5" and rows["periods"]["current"] == "3"
    assert rows["date range"]["current"] == "2025-01 to 2025-03"
    assert rows["codes counted as missing (data.missing_values)"]["current"] == "region: unknown"
    maturity = next(f for f in output.findings if f["metric"] == "immature_outcome_share")
    assert rows["outcome maturity"]["current"] == f"{maturity['value']:.1%} of rows immature (2-month window, as of " \
                                                  f"{output.summary['as_of']})"
    assert output.headline.startswith("304 current rows against 400 reference rows")


def test_as_of_moves_the_maturity(write_spec: Callable[..., Path]) -> None:
    spec = write_spec({"data": {"time": "month", "outcome_window": 2}, "checks": {"data_quality": {}}})
    current = synthetic_sample(300, seed=2, shift=0.3)
    found = _judged(_run(spec, as_of="2025-05-30"))  # 2025-03 closes 2025-05-31
    assert found[("immature_outcome_share", "sample:current")].value == pytest.approx(
        (current["month"] == "2025-03").mean())
    assert found[("immature_outcome_share", "sample:current")].status == "amber"
    closed = _judged(_run(spec, as_of="2025-05-31"))  # 2025-03 closed on the day
    assert closed[("immature_outcome_share", "sample:current")].value == 0


def test_a_new_column_is_a_schema_finding(write_spec: Callable[..., Path]) -> None:
    """With data.features left out every column is read: one only the current sample has is a finding."""
    current = synthetic_sample(300, seed=2).assign(extra=1.0)
    spec = write_spec({"data": {"features": None}, "checks": {"data_quality": {}}}, current=current)
    found = _judged(_run(spec))
    assert found[("schema_change", "column:extra")].value == 1
    assert found[("schema_change", "column:extra")].status == "amber"


@pytest.mark.parametrize("change", ["missing", "retyped"])
def test_a_missing_or_retyped_feature_is_refused_where_the_data_enter(write_spec: Callable[..., Path],
                                                                     change: str) -> None:
    """The loader stops a feature missing from the current sample or turned from number to text (exit 2), naming
    it; the check's schema finding covers what the loader lets through (tests/metrics/test_quality.py)."""
    from validation.errors import DataError

    current = synthetic_sample(300, seed=2)
    current = (current.drop(columns=["tenure"]) if change == "missing"
               else current.assign(tenure=current["tenure"].astype(str)))
    spec = write_spec({"checks": {"data_quality": {}}}, current=current)
    with pytest.raises(DataError, match="tenure"):
        _run(spec)


def test_a_missing_values_column_not_in_the_data_is_a_spec_error(write_spec: Callable[..., Path]) -> None:
    from validation.errors import SpecError

    spec = write_spec({"data": {"missing_values": {"no_such": ["n/a"]}}, "checks": {"data_quality": {}}})
    with pytest.raises(SpecError, match=r"data\.missing_values\.no_such: 'no_such' is not a column of the samples"):
        _run(spec)


def test_a_bad_as_of_is_refused(write_spec: Callable[..., Path]) -> None:
    from validation.errors import InputError

    spec = write_spec({"checks": {"data_quality": {}}})
    with pytest.raises(InputError, match="as_of"):
        _run(spec, as_of="2025-02-30")


def test_a_var_model_without_reference(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from validation.demo import trading_desk

    desk = trading_desk().iloc[250:].reset_index(drop=True)
    desk = pd.concat([desk, desk.iloc[[3]]], ignore_index=True)  # one day booked twice
    (tmp_path / "data").mkdir(exist_ok=True)
    desk.to_parquet(tmp_path / "data" / "desk.parquet")
    spec = tmp_path / "var.yaml"
    spec.write_text("model: {name: desk, version: '1', type: var, owner: Tests, purpose: VaR}\n"
                    "data: {current: data/desk.parquet, pnl: pnl, var: var_99, var_level: 0.99, time: date,\n"
                    "       features: []}\n"
                    "checks: {data_quality: {}}\n")
    output = _run(spec)
    found = _judged(output)
    assert found[("missing_share", "column:pnl")].value == 0 and ("missing_share_change", "column:pnl") not in found
    assert not any(metric == "schema_change" for metric, _ in found)
    assert found[("duplicate_row_share", "sample:current")].value == pytest.approx(1 / 251)
    assert "not applicable: the spec gives no reference sample" in output.sections[0].items[0].text
    rows = {row["item"]: row for row in output.summary["sample_description"]}
    assert rows["rows"] == {"item": "rows", "reference": "no sample", "current": "251"}


@pytest.fixture(scope="module")
def demo_spec(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """The German credit demo's samples (validation/demo.py: checking_account comes from the vendored
    german.csv, where 'not_known' codes an applicant with no checking account information) with 3 repeated
    applicants planted in the monitoring months; written with or without data.missing_values."""
    import yaml

    from validation.demo import CHAMPION_FEATURES, build_samples, german_credit

    folder = tmp_path_factory.mktemp("demo")
    _, reference, monitoring = build_samples(german_credit())
    repeated = monitoring.iloc[[0, 1, 2]].assign(month="2025-11")  # the same applicants again, later
    current = pd.concat([monitoring, repeated], ignore_index=True)
    (folder / "data").mkdir()
    # a placeholder score column: the data quality check reads no score, and the loader wants one
    reference.assign(pd_=0.3).to_parquet(folder / "data" / "reference.parquet")
    current.assign(pd_=0.3).to_parquet(folder / "data" / "monitoring.parquet")

    def write(missing_values: dict[str, list[str]] | None) -> Path:
        data: dict[str, Any] = {"reference": "data/reference.parquet", "current": "data/monitoring.parquet",
                                "target": "default", "score": "pd_", "features": list(CHAMPION_FEATURES),
                                "protected": ["sex", "age_band"], "ids": ["applicant_id"], "time": "month"}
        if missing_values:
            data["missing_values"] = missing_values
        path = folder / f"spec_{bool(missing_values)}.yaml"
        path.write_text(yaml.safe_dump({"model": {"name": "german_credit_pd", "version": "1", "owner": "Tests",
                                                  "purpose": "demo data quality"},
                                        "data": data, "checks": {"data_quality": {}}}, sort_keys=False))
        return path

    write.monitoring = monitoring  # type: ignore[attr-defined]
    write.reference = reference  # type: ignore[attr-defined]
    return write


def test_the_demo_flags_not_known_once_declared_and_the_repeated_applicants(demo_spec: Callable[..., Path]) -> None:
    monitoring: pd.DataFrame = demo_spec.monitoring  # type: ignore[attr-defined]
    reference: pd.DataFrame = demo_spec.reference  # type: ignore[attr-defined]
    declared = _judged(_run(demo_spec({"checking_account": ["not_known"]})))
    share = declared[("missing_share", "feature:checking_account")]
    expected = float((monitoring["checking_account"] == "not_known").mean())  # one row per applicant
    assert share.value == pytest.approx(expected) and expected > 0.3 and share.status == "amber"
    assert f"{100 * (reference['checking_account'] == 'not_known').mean():.1f}%" in share.note
    # as often (or more) in the reference: a notable data fact, not a change
    assert declared[("missing_share_change", "feature:checking_account")].status == "green"
    assert declared[("duplicate_id_rows", "sample:current")].value == 3
    assert declared[("duplicate_id_rows", "sample:current")].status == "amber"
    # undeclared, 'not_known' is silently a category: that is what data.missing_values is for
    silent = _judged(_run(demo_spec(None)))
    assert silent[("missing_share", "feature:checking_account")].value == 0


# --- the pack's index ----------------------------------------------------------------------------


def _cli(arguments: list[str], cwd: Path, site: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "validation", *arguments], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def _entry_point_site(folder: Path) -> Path | None:
    """Until the check is built in, an entry point registers it in the runner and its kernels."""
    from validation.checks import _builtin

    if "data_quality" in _builtin().names():
        return None
    info = folder / "site" / "data_quality_check-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: data-quality-check\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[validation.checks]\n"
                                           "data_quality = validation.checks.data_quality:DataQualityCheck\n")
    return folder / "site"


def test_the_pack_index_shows_the_sample_section_only_with_the_check(write_spec: Callable[..., Path],
                                                                      tmp_path: Path) -> None:
    from validation.reporting.pack import render_pack_index

    spec = write_spec({"data": {"time": "month"}, "checks": {"data_quality": {}}})
    run = _cli(["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"], tmp_path, _entry_point_site(tmp_path))
    assert run.returncode in (0, 1), run.stderr
    pack = Path(run.stdout.strip().splitlines()[-1])
    index = (pack / "index.html").read_text()
    assert '<h2 id="sample">Sample</h2>' in index and '<a href="#sample">Sample</a>' in index
    assert "<td>2025-01 to 2025-03</td>" in index and "<td>400</td><td>300</td>" in index
    results = json.loads((pack / "results.json").read_text())
    (check,) = results["checks"]
    assert check["name"] == "data_quality" and check["summary"]["sample_description"][0]["item"] == "rows"
    assert check["status"] in ("green", "amber", "red") and (pack / "html" / "data_quality.html").is_file()
    # the same pack with a hostile label, then without the check's description: escaped, then absent
    copy = tmp_path / "copy"
    shutil.copytree(pack, copy)
    check["summary"]["sample_description"][0]["current"] = "<script>alert(1)</script>"
    (copy / "results.json").write_text(json.dumps(results))
    render_pack_index(copy)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (copy / "index.html").read_text()
    del check["summary"]["sample_description"]
    (copy / "results.json").write_text(json.dumps(results))
    render_pack_index(copy)
    without = (copy / "index.html").read_text()
    assert 'id="sample"' not in without and 'href="#sample"' not in without
