"""`validation init`: a starter spec that runs, with dates as data.time, identifiers as data.ids and
protected attributes kept as the model's features (and flagged for review)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from conftest import synthetic_sample
from validation.cli import main
from validation.inputs.spec import load_spec
from validation.inputs.starter import date_kind, guess_roles, is_id_name, is_protected_name, likely_ids


def loans(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """Loans as a bank's extract has them: an identifier, an application date (ISO text, six
    months of days), a vintage quarter ("2024-Q3"), a booking month as a number (202403), age and
    sex, income, a region and the outcome, drawn from a PD that uses age."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 182, n), unit="D")
    age = rng.integers(19, 76, n)
    income = rng.lognormal(10, 0.5, n)
    pd_score = 1 / (1 + np.exp(1.5 + 0.8 * (np.log(income) - 10) + 0.02 * (age - 40)))
    return pd.DataFrame({
        "loan_id": [f"L{i:06d}" for i in range(n)], "application_date": day.strftime("%Y-%m-%d"),
        "vintage": [f"{d.year}-Q{d.quarter}" for d in day], "booking_month": day.year * 100 + day.month,
        "age": age, "sex": rng.choice(["female", "male"], n), "income": income,
        "region": rng.choice(["north", "south", "east"], n), "pd": pd_score,
        "default": (rng.random(n) < pd_score).astype(np.int64)})


def _init(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["init", *arguments])
    return result.exit_code, result.stdout, result.stderr


def _runs(spec: Path, tmp_path: Path) -> None:
    """The spec loads and `validation run` completes on the data (exit 0 or 1, never 2 or 3)."""
    load_spec(spec)
    run = CliRunner().invoke(main, ["run", str(spec), "--out", str(tmp_path / "reports"), "--quiet", "--workers", "2"])
    assert run.exit_code in (0, 1), run.output


def test_dates_ids_and_protected_features_without_an_artifact(tmp_path: Path) -> None:
    data = tmp_path / "loans.csv"  # from CSV every date is text
    loans().to_csv(data, index=False)
    out = tmp_path / "params" / "loans.yaml"
    code, stdout, stderr = _init("--data", str(data), "--target", "default", "--score", "pd", "--out", str(out))
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    text = out.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)["data"]
    assert spec["time"] == "application_date" and spec["time_grain"] == "month"
    assert "# other date columns, left out of the features: vintage, booking_month" in text
    assert spec["ids"] == ["loan_id"]
    assert spec["features"] == ["age", "sex", "income", "region"]  # protected attributes stay features
    assert spec["protected"] == ["age", "sex"]
    assert "    - sex    # categorical; protected: see REVIEW above" in text
    comments = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "REVIEW (conceptual soundness): protected attributes are listed as features (age, sex)" in comments
    assert "disparate treatment under fair-lending rules" in comments and "12 CFR 1002" in comments
    assert "(Art. 10(2)(f))" in comments
    assert "time: application_date" in stderr and "ids: loan_id" in stderr and "protected: age, sex" in stderr
    assert "REVIEW (conceptual soundness): protected attributes are listed as features (age, sex)" in stderr
    _runs(out, tmp_path)


def test_the_artifact_names_the_features(tmp_path: Path) -> None:
    """A model on age (a protected attribute) and income: age stays a feature and is flagged, sex
    is protected but no feature; the spec pins the artifact and needs no score column."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    frame = loans().drop(columns=["pd"])
    frame["application_date"] = pd.to_datetime(frame["application_date"])  # a datetime column in parquet
    model = LogisticRegression(max_iter=1000).fit(frame[["age", "income"]], frame["default"])
    data, artifact = tmp_path / "loans.parquet", tmp_path / "models" / "pd.skops"
    frame.to_parquet(data)
    artifact.parent.mkdir()
    sio.dump(model, artifact)
    out = tmp_path / "pd.yaml"
    code, _, stderr = _init("--data", str(data), "--target", "default", "--artifact", str(artifact), "--out", str(out))
    assert code == 0, stderr
    text = out.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    assert spec["model"]["artifact"] == "models/pd.skops" and len(spec["model"]["artifact_sha256"]) == 64
    assert "allow_pickle" not in spec["model"] and "score" not in spec["data"]
    assert spec["data"]["features"] == ["age", "income"] and spec["data"]["protected"] == ["age", "sex"]
    assert spec["data"]["time"] == "application_date" and spec["data"]["ids"] == ["loan_id"]
    assert "REVIEW (conceptual soundness): the model takes protected attributes as inputs (age)." in stderr
    assert "features (the artifact's inputs): 2, 0 of them categorical" in stderr
    _runs(out, tmp_path)


def test_a_pickled_artifact_needs_the_opt_in(tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    frame = loans(200)
    model = LogisticRegression(max_iter=1000).fit(frame[["income"]], frame["default"])
    data, artifact = tmp_path / "loans.csv", tmp_path / "pd.joblib"
    frame.to_csv(data, index=False)
    joblib.dump(model, artifact)
    code, _, stderr = _init("--data", str(data), "--target", "default", "--artifact", str(artifact),
                            "--out", str(tmp_path / "a.yaml"))
    assert code == 2 and "model.allow_pickle: true" in stderr and not (tmp_path / "a.yaml").exists()
    code, _, stderr = _init("--data", str(data), "--target", "default", "--artifact", str(artifact),
                            "--allow-pickle", "--out", str(tmp_path / "b.yaml"))
    assert code == 0, stderr
    spec = yaml.safe_load((tmp_path / "b.yaml").read_text(encoding="utf-8"))
    assert spec["model"]["allow_pickle"] is True and spec["data"]["features"] == ["income"]
    assert "REVIEW" not in (tmp_path / "b.yaml").read_text(encoding="utf-8")  # no protected input
    assert spec["data"]["protected"] == ["age", "sex"]


def test_an_artifact_input_missing_from_the_data_is_refused(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    frame = loans(200)
    model = LogisticRegression().fit(frame[["income"]].rename(columns={"income": "salary"}), frame["default"])
    data, artifact = tmp_path / "loans.csv", tmp_path / "pd.skops"
    frame.to_csv(data, index=False)
    sio.dump(model, artifact)
    code, _, stderr = _init("--data", str(data), "--target", "default", "--artifact", str(artifact),
                            "--out", str(tmp_path / "a.yaml"))
    assert code == 2 and f"--artifact {artifact}: the model takes 'salary', which {data} does not have" in stderr


def test_init_writes_a_spec_that_loads(tmp_path: Path) -> None:
    data = tmp_path / "loans.parquet"
    synthetic_sample(400, seed=1).to_parquet(data)
    out = tmp_path / "params" / "loans.yaml"
    result = CliRunner().invoke(main, ["init", "--data", str(data), "--target", "default", "--score", "pd",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    spec = yaml.safe_load(text)
    assert spec["data"]["ids"] == ["customer_id"]
    assert spec["data"]["time"] == "month" and "time_grain" not in spec["data"]  # "2025-01": already months
    assert "- region    # categorical" in text
    assert spec["data"]["protected"] == ["sex"]
    assert spec["data"]["features"] == ["income", "tenure", "region", "sex"]
    load_spec(out)
    again = CliRunner().invoke(main, ["init", "--data", str(data), "--target", "default", "--out", str(out)])
    assert again.exit_code == 2 and "exists; choose another --out or add --force" in again.output


def test_init_names_a_wrong_column(tmp_path: Path) -> None:
    data = tmp_path / "loans.csv"
    synthetic_sample(50, seed=1).to_csv(data, index=False)
    result = CliRunner().invoke(main, ["init", "--data", str(data), "--target", "defaulted", "--out",
                                       str(tmp_path / "s.yaml")])
    assert result.exit_code == 2 and "--target 'defaulted': no such column" in result.output


def test_likely_ids() -> None:
    frame = synthetic_sample(100, seed=3).assign(loan_number=lambda f: range(100))
    assert likely_ids(frame) == ["customer_id", "loan_number"]
    daily = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=100).strftime("%Y-%m-%d"), "x": 1.0})
    assert likely_ids(daily, exclude=("day",)) == []  # a date unique on every row is no identifier


@pytest.mark.parametrize(("values", "name", "kind"), [
    (pd.Series(pd.date_range("2024-01-01", periods=3)), "anything", "date"),
    (pd.Series(["2024-03-15", "2024-03-16T10:00:00", None]), "opened", "date"),
    (pd.Series(["2024-03", "2024-04"]), "x", "period"),
    (pd.Series(["2024-Q3", "2024Q4", "2025-H1"]), "vintage", "period"),
    (pd.Series([202401, 202412]), "period", "period"),
    (pd.Series([2023, 2024]), "vintage_year", "period"),
    (pd.Series(["15/03/2024", "16/03/2024"]), "application_date", "dates as text"),
    (pd.Series(["15/03/2024", "16/03/2024"]), "code", None),
    (pd.Series([202401, 202413]), "month", None),  # month 13: not a date
    (pd.Series([202401, 202402]), "income", None),  # a number, not named like a date
    (pd.Series(["north", "south"]), "month", None),
    (pd.Series([True, False]), "date_flag", None),
])
def test_date_kind(values: pd.Series, name: str, kind: str | None) -> None:
    assert date_kind(values, name) == kind


@pytest.mark.parametrize(("name", "protected", "identifier"), [
    ("age", True, False), ("Age_Band", True, False), ("applicantAge", True, False), ("marital_status", True, False),
    ("account_age", False, False), ("agency", False, False), ("usage", False, False), ("sex_code", True, False),
    ("customer_id", False, True), ("customerId", False, True), ("id", False, True), ("loan_number", False, True),
    ("paid", False, False), ("customer_tenure", False, False), ("ssn", False, True),
])
def test_names(name: str, protected: bool, identifier: bool) -> None:
    assert (is_protected_name(name), is_id_name(name)) == (protected, identifier)


def test_a_time_column_the_model_uses_stays_a_feature() -> None:
    frame = pd.DataFrame({"vintage_year": [2023, 2024] * 15, "x": np.arange(30.0), "y": [0, 1] * 15})
    assert guess_roles(frame, "y").time == "vintage_year"
    roles = guess_roles(frame, "y", inputs=["vintage_year", "x"])
    assert roles.time is None and roles.features == ["vintage_year", "x"] and roles.review_note() is None


def test_which_date_becomes_the_time() -> None:
    """Dates first (time_grain groups them), then periods, then text dates that are not ISO (each
    value its own period, said in the spec)."""
    frame = loans(60)
    day_first = pd.to_datetime(frame["application_date"]).dt.strftime("%d/%m/%Y")
    assert guess_roles(frame, "default", "pd").time == "application_date"
    roles = guess_roles(frame.assign(application_date=day_first), "default", "pd")
    assert roles.time == "vintage" and roles.other_dates == ["application_date", "booking_month"]
    assert roles.time_grain is None and not roles.time_as_text
    alone = guess_roles(frame.drop(columns=["vintage", "booking_month"]).assign(application_date=day_first),
                        "default", "pd")
    assert alone.time == "application_date" and alone.time_as_text and alone.time_grain is None
