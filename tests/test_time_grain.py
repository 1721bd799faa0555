"""Dates in ``data.time`` counted in periods at ``data.time_grain``; missing segments and protected
values as their own ``(missing)`` group; a VaR model without a reference sample.

Independent references: the periods are computed here from Python's ``datetime`` (its ISO
calendar for weeks), row by row, not with the pandas accessors the loader uses; the group counts
are counted from the data written.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from conftest import synthetic_sample
from validation.errors import DataError, InputError
from validation.inputs.samples import load_samples, period_labels
from validation.inputs.spec import load_spec

DAYS = 181  # 2025-01-01 to 2025-06-30: what made 181 periods before there was a grain


def _daily(n: int, *, seed: int) -> pd.DataFrame:
    frame = synthetic_sample(n, seed=seed)
    frame["day"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) % DAYS, unit="D")
    return frame


def _reference_label(day: datetime.date, grain: str) -> str:
    """The period of one day, by the standard library (ISO 8601 weeks from ``date.isocalendar``)."""
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _spec(write_spec: Callable[..., Path], current: pd.DataFrame, **data: object) -> Path:
    return write_spec({"data": {"time": "day", **data}}, current=current)


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year", None])
def test_dates_are_counted_by_the_grain(write_spec: Callable[..., Path], grain: str | None) -> None:
    current = _daily(600, seed=2)
    extra = {"time_grain": grain} if grain else {}
    samples = load_samples(load_spec(_spec(write_spec, current, **extra)).versions[0])
    expected = [_reference_label(d.date(), grain or "month") for d in current["day"]]
    assert samples.current["day"].tolist() == expected
    assert samples.time_grain == (grain or "month")
    periods = {"day": DAYS, "week": 27, "month": 6, "quarter": 2, "year": 1}[grain or "month"]
    assert samples.current["day"].nunique() == periods


def test_iso_weeks_cross_years() -> None:
    days = pd.Series(pd.to_datetime(["2024-12-29", "2024-12-30", "2026-01-01", "2027-01-03", "2020-12-31"]))
    assert period_labels(days, "week").tolist() == [_reference_label(d.date(), "week") for d in days] == [
        "2024-W52", "2025-W01", "2026-W01", "2026-W53", "2020-W53"]


@pytest.mark.parametrize("form", ["text", "text with a time", "date objects", "time zone"])
def test_date_forms_agree(form: str) -> None:
    days = pd.date_range("2025-03-30", periods=5, freq="D")
    values = {"text": pd.Series(days.strftime("%Y-%m-%d"), dtype=object),
              "text with a time": pd.Series(days.strftime("%Y-%m-%dT23:30:00+05:00")),
              "date objects": pd.Series([d.date() for d in days], dtype=object),
              "time zone": pd.Series(days.tz_localize("Europe/Paris"))}[form]
    # a time and its offset never move a row to another day: the date as written
    assert period_labels(values, "month").tolist() == ["2025-03", "2025-03", "2025-04", "2025-04", "2025-04"]


@pytest.mark.parametrize("values", [["2025-03", "2025-04"], [202503, 202504], ["2025Q1", "2025Q2"], [1.0, 2.0]])
def test_periods_that_are_not_dates_stay_as_they_are(write_spec: Callable[..., Path], values: list[object]) -> None:
    """Not counted in periods; period numbers become their text, a whole number without decimals,
    so that a batch read as floats (with a missing value) names them as the others (docs/spec.md)."""
    current = synthetic_sample(300, seed=2)
    current["day"] = [values[i % 2] for i in range(len(current))]
    samples = load_samples(load_spec(_spec(write_spec, current, time_grain="quarter")).versions[0])
    expected = [v if isinstance(v, str) else str(int(v)) for v in current["day"]]
    assert samples.current["day"].tolist() == expected
    assert samples.time_grain is None


@pytest.mark.parametrize(("values", "fragment"), [
    (["2025-03-14", "2025-03"], "column 'day': data.time holds dates such as '2025-03-14' and other values such as "
                                "'2025-03'; give one kind of period"),
    (["2025-02-30", "2025-03-01"], "column 'day': data.time holds a date that does not exist"),
])
def test_dates_mixed_with_other_values_are_refused(write_spec: Callable[..., Path], values: list[str],
                                                   fragment: str) -> None:
    current = synthetic_sample(300, seed=2)
    current["day"] = [values[i % 2] for i in range(len(current))]
    with pytest.raises(DataError, match="data.current") as raised:
        load_samples(load_spec(_spec(write_spec, current)).versions[0])
    assert fragment in str(raised.value)


def test_duplicates_are_removed_by_the_full_date_before_the_grain(write_spec: Callable[..., Path]) -> None:
    """Two rows of one applicant in one month: the later day is kept, though both are '2025-03'
    and the earlier is last in the file."""
    current = _daily(300, seed=2)
    current.loc[0, ["customer_id", "day", "income"]] = [999_999, pd.Timestamp("2025-03-30"), 111.0]
    current.loc[1, ["customer_id", "day", "income"]] = [999_999, pd.Timestamp("2025-03-02"), 222.0]
    samples = load_samples(load_spec(_spec(write_spec, current)).versions[0])
    kept = samples.current.loc[samples.current["income"].isin([111.0, 222.0])]
    assert kept["income"].tolist() == [111.0] and kept["day"].tolist() == ["2025-03"]
    assert samples.duplicates["current"] == 1


def test_drift_and_backtesting_report_months(write_spec: Callable[..., Path]) -> None:
    from validation.checks import run_check

    current = _daily(600, seed=2)
    spec = _spec(write_spec, current)
    months = sorted({_reference_label(d.date(), "month") for d in current["day"]})
    backtest = run_check("backtesting", spec)
    sizes = pd.Series([_reference_label(d.date(), "month") for d in current["day"]]).value_counts()
    assert backtest.tables["period"]["n"].to_dict() == sizes.sort_index().to_dict()
    drift = run_check("drift", spec)
    assert sorted({f["subject"].removeprefix("period:") for f in drift.findings
                   if f["subject"].startswith("period:")}) == months


def test_a_var_model_keeps_its_days(write_spec: Callable[..., Path]) -> None:
    days = pd.bdate_range("2025-01-02", periods=250)
    desk = pd.DataFrame({"day": days, "pnl": np.random.default_rng(3).normal(0, 1e6, 250), "var": 2.33e6})
    spec = write_spec({"model": {"type": "var"}, "data": {"time": "day", "time_grain": "month", "pnl": "pnl",
                                                          "var": "var", "var_level": 0.99, "features": [], "target": None,
                                                          "score": None, "protected": [], "ids": []},
                       "decision": None, "checks": ["backtesting"]}, reference=desk, current=desk)
    samples = load_samples(load_spec(spec).versions[0])
    assert samples.current["day"].tolist() == days.tolist() and samples.time_grain is None


@pytest.mark.parametrize("missing", [40, 3])
def test_missing_segments_are_their_own_slice(write_spec: Callable[..., Path], missing: int) -> None:
    """Rows with no segment are the slice '(missing)'; fewer than 5 of them are pooled with the
    other small slices, like any small slice."""
    from validation.checks import run_check

    current = synthetic_sample(600, seed=2)
    current.loc[current.index[:missing], "region"] = None
    current.loc[current.index[missing:missing + 2], "region"] = "west"  # a slice of two
    output = run_check("backtesting", write_spec({"data": {"segments": ["region"]}}, current=current))
    table = output.tables["region"]
    assert int(table["n"].sum()) == 600  # no row dropped
    subjects = {f["subject"] for f in output.findings if f["subject"].startswith("region:")}
    if missing >= 5:
        assert table.loc["(missing)", "n"] == missing and "region:(missing)" in subjects
        assert table.loc["(fewer than 5 rows)", "n"] == 2
    else:
        assert "(missing)" not in table.index
        assert table.loc["(fewer than 5 rows)", "n"] == missing + 2


@pytest.mark.parametrize("missing", [40, 3])
def test_missing_protected_values_are_their_own_group(write_spec: Callable[..., Path], missing: int) -> None:
    from validation.checks import run_check

    current = synthetic_sample(600, seed=2)
    current.loc[current.index[:missing], "sex"] = None
    output = run_check("fairness", write_spec(current=current))
    table = output.tables["groups:sex"]
    assert int(table["n"].sum()) == 600
    if missing >= 5:
        assert table.loc["(missing)", "n"] == missing
    else:
        assert "(missing)" not in table.index and table.loc["(groups under 5)", "n"] == missing
    assert output.summary["missing_values"] == {"sex": missing}


def test_a_var_model_needs_no_reference_sample(tmp_path: Path) -> None:
    """The VaR backtest runs through the CLI on the P&L and VaR alone; drift says it does not apply."""
    from validation.checks import run_check
    from validation.cli import main
    from validation.demo import trading_desk

    desk = trading_desk()
    (tmp_path / "data").mkdir()
    desk.to_parquet(tmp_path / "data" / "desk.parquet", index=False)
    spec = tmp_path / "desk.yaml"
    spec.write_text(yaml.safe_dump({
        "model": {"name": "desk", "version": "1", "type": "var"},
        "data": {"current": "data/desk.parquet", "pnl": "pnl", "var": "var_99", "var_level": 0.99, "time": "date",
                 "features": []},
        "checks": ["backtesting", "drift"]}))
    result = CliRunner().invoke(main, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code in (0, 1), (result.output, result.exception)
    pack = next((tmp_path / "out" / "desk" / "1").iterdir())
    results = json.loads((pack / "results.json").read_text())
    statuses = {c["name"]: c["status"] for c in results["checks"]}
    assert statuses["drift"] == "not_applicable" and statuses["backtesting"] in ("green", "amber", "red")
    manifest = json.loads((pack / "manifest.json").read_text())
    assert "data.reference" not in manifest["inputs"] and "data.current" in manifest["inputs"]
    exceptions = next(f for c in results["checks"] for f in c["findings"] if f["metric"] == "exceptions")
    losses, var = desk["pnl"].to_numpy(), desk["var_99"].to_numpy()
    assert exceptions["value"] == float((-losses > var).sum())
    with pytest.raises(InputError, match="does not apply"):
        run_check("drift", spec)


def test_a_classification_model_needs_its_reference(write_spec: Callable[..., Path]) -> None:
    from validation.errors import SpecError

    path = write_spec()
    document = yaml.safe_load(path.read_text())
    del document["data"]["reference"]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError, match="data.reference: required for a classification model"):
        load_spec(path)
