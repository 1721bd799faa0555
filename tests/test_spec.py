"""Spec loading: resolved paths, versions, and one precise message per mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from validation.errors import SpecError
from validation.inputs.spec import load_spec


def test_valid_spec_is_resolved(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec())
    (entry,) = spec.versions
    assert entry.data.reference == str(tmp_path / "data" / "ref.parquet")
    assert entry.checks == {"drift": {}, "fairness": {}, "backtesting": {}}
    assert entry.version == "1" and entry.previous_version is None
    assert len(spec.sha256) == 64


def test_versions_override_model_and_data(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec({"versions": [{"version": 1}, {"version": "2", "data": {"current": "data/ref.parquet"}}]})
    first, second = load_spec(path).versions
    assert (first.version, second.version) == ("1", "2")
    assert second.previous_version == "1"
    assert first.data.current == str(tmp_path / "data" / "cur.parquet")
    assert second.data.current == str(tmp_path / "data" / "ref.parquet")


CASES: list[tuple[str, dict[str, Any] | None, str | None, str, str]] = [
    # (case, spec overrides, raw YAML, key, message fragment)
    ("unknown top-level key", {"thresholdz": {}}, None, "thresholdz", "unknown key"),
    ("unknown nested key", {"data": {"targett": "default"}}, None, "data.targett", "unknown key"),
    ("bad model name", {"model": {"name": "../etc"}}, None, "model.name", "not a valid model name"),
    ("bad version", {"model": {"version": "1/2"}}, None, "model.version", "not a valid version"),
    ("bad type", {"model": {"type": "regression"}}, None, "model.type", "'classification' or 'var'"),
    ("threshold out of range", {"decision": {"threshold": 1.5}}, None, "decision.threshold", "less than or equal to 1"),
    ("wrong type", {"data": {"features": "income"}}, None, "data.features", "valid list"),
    ("unknown check", {"checks": ["drift", "stress"]}, None, "checks.stress", "known checks: drift, fairness"),
    ("unknown check parameter", {"checks": {"drift": {"binz": 5}}}, None, "checks.drift.binz",
     "it takes: bins, max_categories, max_discrete, psi_rule, top"),
    ("hostile parameter name", {"checks": {"drift": {"x=1;import os#": 1}}}, None, "checks.drift.x=1;import os#",
     "Python identifiers"),
    ("unknown threshold metric", {"thresholds": {"psy": {"amber": 0.1}}}, None, "thresholds.psy", "metrics with thresholds: "),
    ("threshold of a reported metric", {"thresholds": {"ks_pvalue": {"amber": 0.05}}}, None, "thresholds.ks_pvalue",
     "reported, never judged"),
    ("thresholds in the wrong order", {"thresholds": {"psi": {"amber": 0.3, "red": 0.1}}}, None, "thresholds.psi",
     "red (0.1) must not be below amber (0.3)"),
    ("p-value thresholds in the wrong order", {"thresholds": {"auc": {"amber": 0.6, "red": 0.7}}}, None,
     "thresholds.auc", "must not be above amber"),
    ("artifact without hash", {"model": {"artifact": "m.skops"}}, None, "model.artifact_sha256", "required"),
    ("bad hash", {"model": {"artifact": "m.skops", "artifact_sha256": "abc"}}, None, "model.artifact_sha256",
     "64 hexadecimal"),
    ("var level out of range", {"model": {"type": "var"}, "data": {"pnl": "p", "var": "v", "var_level": 99}}, None,
     "data.var_level", "less than 1"),
    ("var without pnl", {"model": {"type": "var"}, "data": {"var": "v", "var_level": 0.99}}, None, "data.pnl",
     "required for a 'var' model"),
    ("no score and no artifact", {"data": {"score": None}}, None, "data.score", "or a model.artifact"),
    ("grades not increasing", {"grades": [0.1, 0.05, 1.0]}, None, "grades", "increase strictly"),
    ("grades not ending at 1", {"grades": [0.1, 0.5]}, None, "grades", "must be 1.0"),
    ("fairness without decision", {"decision": None}, None, "decision", "required by the fairness check"),
    ("id used as feature", {"data": {"features": ["customer_id"]}}, None, "data.features", "identifier"),
    ("duplicate versions", {"versions": [{"version": "1"}, {"version": "1"}]}, None, "versions", "listed twice"),
    ("missing section", None, "model:\n  name: x\n  version: '1'\n", "data", "required key is missing"),
    ("not a mapping", None, "- just\n- a list\n", "", "expected a YAML mapping"),
]


@pytest.mark.parametrize(("case", "overrides", "raw", "key", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_spec_errors_name_the_file_and_key(write_spec: Callable[..., Path], case: str,
                                           overrides: dict[str, Any] | None, raw: str | None,
                                           key: str, fragment: str) -> None:
    path = write_spec(overrides, raw=raw)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.key == key
    assert fragment in caught.value.problem
    assert str(path) in str(caught.value)


def test_yaml_syntax_error_gives_the_line(write_spec: Callable[..., Path]) -> None:
    path = write_spec(raw="model:\n  name: x\n  version: [1\ndata: {}\n")
    with pytest.raises(SpecError, match=r"YAML syntax error at line \d+, column \d+"):
        load_spec(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_spec_error_pickles() -> None:
    import pickle

    error = SpecError("p.yaml", "data.target", "missing")
    again = pickle.loads(pickle.dumps(error))
    assert (again.path, again.key, again.problem, str(again)) == (error.path, error.key, error.problem, str(error))


def test_version_entries_validate_like_the_model_section(write_spec: Callable[..., Path]) -> None:
    path = write_spec({"versions": [{"version": "1", "artifact": "m.skops", "artifact_sha256": "xyz"}]})
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.key == "versions[0].artifact_sha256" and "64 hexadecimal" in caught.value.problem
    with pytest.raises(SpecError, match="not a valid version"):
        load_spec(write_spec({"versions": [{"version": ".."}]}, name="dots.yaml"))
