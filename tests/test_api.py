"""``validation.validate``: a model validated from DataFrames and a model object computes what
``validation run`` computes on the same files, and refuses bad input as the spec does.

The reference for "the same numbers" is the command line itself: the test writes the parquet files,
the skops artifact and the spec by hand (not through ``validate``), runs ``validation run`` on them
(notebooks in kernels, the pack's ``results.json``) and compares every judged finding, issue and
status with what ``validate`` returned in this process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import validation
from validation.cli import main
from validation.demo import german_credit
from validation.errors import ArtifactError, DataError, InputError, SpecError

FEATURES = ["duration", "credit_amount", "age", "job"]


@pytest.fixture(scope="module")
def credit() -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """The German credit data (1,000 applicants): the first 600 as development, the other 400 as
    monitoring; a logistic regression fitted on the development sample's DataFrame."""
    from sklearn.linear_model import LogisticRegression

    frame = german_credit()
    development, recent = frame.iloc[:600].reset_index(drop=True), frame.iloc[600:].reset_index(drop=True)
    model = LogisticRegression(max_iter=1000).fit(development[FEATURES], development["default"])
    return development, recent, model


SPEC_FIELDS = {"ids": ["applicant_id"], "protected": ["sex"], "decision": {"threshold": 0.35}}


@pytest.fixture(scope="module")
def in_process(credit: tuple[pd.DataFrame, pd.DataFrame, Any]) -> validation.ValidationResult:
    development, recent, model = credit
    return validation.validate(model=model, reference=development, current=recent, target="default", **SPEC_FIELDS)


def _comparable(check: dict[str, Any]) -> dict[str, Any]:
    """A check's record without what differs between two runs by nature (timing, file links)."""
    summary = {k: v for k, v in check["summary"].items() if k != "kernel_python"}
    return {"name": check["name"], "status": check["status"], "reason": check["reason"], "summary": summary,
            "findings": check["findings"], "issues": check["issues"]}


def test_validate_computes_what_validation_run_computes(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                                        in_process: validation.ValidationResult,
                                                        tmp_path: Path) -> None:
    import skops.io as sio

    from validation.inputs.artifacts import sha256_file

    development, recent, model = credit
    development.to_parquet(tmp_path / "development.parquet", index=False)
    recent.to_parquet(tmp_path / "recent.parquet", index=False)
    sio.dump(model, tmp_path / "pd.skops")
    spec = {"model": {"name": "model", "version": "1", "artifact": "pd.skops",
                      "artifact_sha256": sha256_file(tmp_path / "pd.skops")},
            "data": {"reference": "development.parquet", "current": "recent.parquet", "target": "default",
                     "features": FEATURES, "ids": ["applicant_id"], "protected": ["sex"]},
            "decision": {"threshold": 0.35}}
    (tmp_path / "pd.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    run = CliRunner().invoke(main, ["run", str(tmp_path / "pd.yaml"), "--out", str(tmp_path / "reports"), "--quiet"])
    assert run.exit_code == in_process.exit_code, run.output
    pack = Path(run.stdout.strip().splitlines()[-1])
    document = json.loads((pack / "results.json").read_text(encoding="utf-8"))
    here = in_process.results.model_dump(mode="json")
    assert [c["name"] for c in here["checks"]] == ["data_quality", "drift", "fairness", "explainability", "backtesting"]
    assert document["status"] == here["status"] == in_process.status
    assert sum(len(c["findings"]) for c in here["checks"]) > 50
    for ours, theirs in zip(here["checks"], document["checks"], strict=True):
        assert _comparable(ours) == _comparable(theirs), ours["name"]


def test_validate_writes_the_pack_validation_run_writes(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                                        in_process: validation.ValidationResult,
                                                        tmp_path: Path) -> None:
    development, recent, model = credit
    result = validation.validate(model=model, reference=development, current=recent, target="default",
                                 checks=["drift"], pack=tmp_path / "reports",
                                 workdir=tmp_path / "work", **SPEC_FIELDS)
    assert result.pack is not None and result.pack.parent == tmp_path / "reports" / "model" / "1"
    written = json.loads((result.pack / "results.json").read_text(encoding="utf-8"))
    assert written == result.results.model_dump(mode="json")
    assert (tmp_path / "reports" / "registry.sqlite").is_file()
    assert result.spec == tmp_path / "work" / "spec.yaml" and (tmp_path / "work" / "model.skops").is_file()
    ran_here = {c["name"]: _comparable(c) for c in in_process.results.model_dump(mode="json")["checks"]}
    for check in result.results.model_dump(mode="json")["checks"]:
        assert _comparable(check) == ran_here[check["name"]]
    assert result.outputs == {} and f"pack {result.pack}" in repr(result)
    with pytest.raises(KeyError, match="its notebook is in the pack"):
        result.output("drift")


def test_the_result_is_typed_and_shows_in_a_notebook(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                                      in_process: validation.ValidationResult) -> None:
    from sklearn.metrics import roc_auc_score  # the independent reference of the AUC: scikit-learn's

    from validation.judging.results import CheckResult

    result = in_process
    assert result.spec is None  # the temporary work folder is gone
    assert all(isinstance(check, CheckResult) for check in result.checks.values())
    assert result.status == max((c.status for c in result.checks.values()),
                                key=["green", "amber", "red", "error"].index)
    assert result.exit_code == {"red": 1, "error": 3}.get(result.status, 0)
    findings = result.findings
    assert list(findings.columns[:7]) == ["check", "metric", "subject", "value", "status", "amber", "red"]
    assert len(findings) == sum(len(c.findings) for c in result.checks.values())
    auc = findings[(findings["check"] == "backtesting") & (findings["metric"] == "auc")
                   & (findings["subject"] == "score")]["value"].iloc[0]
    _, recent, model = credit
    expected = roc_auc_score(recent["default"], model.predict_proba(recent[FEATURES])[:, 1])
    assert auc == pytest.approx(expected, abs=1e-12)
    assert set(result.issues["status"]) <= {"amber", "red"}
    assert len(result.issues) == sum(len(c.issues) for c in result.checks.values())
    assert "drift" in result.tables("drift")
    text = repr(result)
    assert text.startswith(f"<ValidationResult model v1: {result.status} (data_quality ")
    page = result._repr_html_()
    assert page.count('class="v-red"') >= 1 and "<b>model</b> version 1" in page


def test_features_come_from_the_model_and_the_spec_is_kept(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                                           tmp_path: Path) -> None:
    development, recent, model = credit
    result = validation.validate(model=model, reference=development, current=recent, target="default",
                                 checks=["drift"], workdir=tmp_path, name="german_pd", version="7",
                                 ids=["applicant_id"], time_grain="month")
    spec = yaml.safe_load((tmp_path / "spec.yaml").read_text(encoding="utf-8"))
    assert spec["data"]["features"] == FEATURES  # the model's feature_names_in_
    assert spec["model"]["name"] == "german_pd" and spec["model"]["version"] == "7"
    assert spec["data"]["time_grain"] == "month" and "allow_pickle" not in spec["model"]
    assert repr(result).startswith("<ValidationResult german_pd v7:") and result.spec == tmp_path / "spec.yaml"
    loaded = validation.load_spec(result.spec).versions[0]
    assert loaded.data.features == FEATURES and loaded.model.artifact == str(tmp_path / "model.skops")


def test_a_model_skops_does_not_trust_is_saved_with_joblib(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                                          tmp_path: Path) -> None:
    """A LightGBM model (types outside scikit-learn, numpy and scipy): joblib, with allow_pickle."""
    from lightgbm import LGBMClassifier

    development, recent, _ = credit
    model = LGBMClassifier(n_estimators=20, verbose=-1, random_state=0)
    model.fit(development[FEATURES], development["default"])
    result = validation.validate(model=model, reference=development, current=recent, target="default",
                                 checks=["backtesting"], workdir=tmp_path, ids=["applicant_id"])
    spec = yaml.safe_load((tmp_path / "spec.yaml").read_text(encoding="utf-8"))
    assert spec["model"]["artifact"] == "model.joblib" and spec["model"]["allow_pickle"] is True
    assert not (tmp_path / "model.skops").exists()
    auc = result.findings.query("metric == 'auc' and subject == 'score'")["value"].iloc[0]
    from sklearn.metrics import roc_auc_score  # the independent reference of the AUC

    expected = roc_auc_score(recent["default"], model.predict_proba(recent[FEATURES])[:, 1])
    assert auc == pytest.approx(expected, abs=1e-12)


def test_a_model_file_is_used_where_it_is(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                          in_process: validation.ValidationResult, tmp_path: Path) -> None:
    import skops.io as sio

    development, recent, model = credit
    sio.dump(model, tmp_path / "pd.skops")
    result = validation.validate(model=tmp_path / "pd.skops", reference=development, current=recent, target="default",
                                 features=FEATURES, checks="backtesting", workdir=tmp_path / "work", **SPEC_FIELDS)
    spec = yaml.safe_load((tmp_path / "work" / "spec.yaml").read_text(encoding="utf-8"))
    assert spec["model"]["artifact"] == str(tmp_path / "pd.skops") and spec["checks"] == ["backtesting"]
    assert result.checks["backtesting"].findings == in_process.checks["backtesting"].findings


def test_scores_only(credit: tuple[pd.DataFrame, pd.DataFrame, Any]) -> None:
    development, recent, model = credit
    scored = [f.assign(pd=model.predict_proba(f[FEATURES])[:, 1]) for f in (development, recent)]
    result = validation.validate(reference=scored[0], current=scored[1], target="default", score="pd",
                                 features=FEATURES, ids=["applicant_id"], checks=["drift", "explainability"])
    assert result.checks["explainability"].status == "not_applicable"
    assert result.checks["drift"].status in ("green", "amber", "red")


@pytest.mark.parametrize(("fields", "error", "message"), [
    ({"protectd": ["sex"]}, InputError, "validate() got no such keyword 'protectd'; it takes model, reference, "),
    ({"time_grain": "hourly"}, SpecError, "validate(): data.time_grain (time_grain=): Input should be 'day', "
                                          "'week', 'month', 'quarter' or 'year' (got 'hourly')"),
    ({"checks": ["drfit"]}, SpecError, "validate(): checks.drfit (checks=): unknown check; known checks: data_quality, drift, "),
    ({"checks": {"drift": {"bins": "ten"}}}, SpecError, "validate(): checks.drift.bins (checks=): expected a whole "
                                                        "number (the check's default is 10), got 'ten'"),
    ({"decision": {"threshold": 2}}, SpecError, "validate(): decision.threshold (decision=): Input should be less "
                                                "than or equal to 1 (got 2)"),
    ({"name": "my model"}, SpecError, "validate(): model.name (name=): 'my model' is not a valid model name"),
    ({"features": ["duration", "income"]}, DataError, "column 'income': named in data.features but missing from the "
                                                      "file; it has: "),
    ({"ids": [object()]}, InputError, "validate(): ids= holds a value of type object, which a spec cannot hold"),
    ({"allow_pickle": True}, InputError, "validate(): allow_pickle is set by validate() itself"),
])
def test_bad_keywords_and_values_are_the_specs_errors(credit: tuple[pd.DataFrame, pd.DataFrame, Any],
                                                      fields: dict[str, Any], error: type[Exception],
                                                      message: str) -> None:
    development, recent, model = credit
    with pytest.raises(error) as raised:
        validation.validate(model=model, reference=development, current=recent, target="default", **fields)
    assert type(raised.value) is error and message in str(raised.value)
    if isinstance(raised.value, DataError):
        assert str(raised.value).endswith("(data.reference: the reference DataFrame)")


def test_bad_frames_and_models_are_named(credit: tuple[pd.DataFrame, pd.DataFrame, Any]) -> None:
    development, recent, _ = credit
    with pytest.raises(ArtifactError, match=r"the model given \(object\): has no predict_proba"):
        validation.validate(model=object(), reference=development, current=recent, target="default")
    with pytest.raises(DataError, match=r"column '1': a column name that is not text.*\(reference=: the reference "):
        validation.validate(reference=development.rename(columns={"age": 1}), current=recent, target="default",
                            score="duration")
    with pytest.raises(DataError, match=r"column 'duration': score must lie in \[0, 1\]; 600 values do not"):
        validation.validate(reference=development, current=recent, target="default", score="duration")
    with pytest.raises(TypeError, match=r"current= must be a pandas DataFrame or the path of a data file, got list"):
        validation.validate(reference=development, current=[1, 2], target="default", score="duration")
