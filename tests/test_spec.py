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
    ("unknown check", {"checks": ["drift", "stress"]}, None, "checks.stress", "known checks: data_quality, drift, fairness"),
    ("unknown check parameter", {"checks": {"drift": {"binz": 5}}}, None, "checks.drift.binz",
     "the check has no such parameter; it takes: bins, max_categories, max_discrete, "),
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


# Keys of issue 17: multiplicity, reference_metrics, data.reference_kind, thresholds.<metric>.immaterial

NEW_KEY_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, spec overrides, key, message fragment)
    ("unknown multiplicity method", {"multiplicity": "bonferroni"}, "multiplicity",
     "(got 'bonferroni'); expected 'holm', 'bh' (Benjamini-Hochberg) or 'none'"),
    ("multiplicity as a boolean", {"multiplicity": False}, "multiplicity", "'holm', 'bh' or 'none'"),
    ("reference metrics without a source", {"reference_metrics": {"auc": 0.75}}, "reference_metrics.source",
     "required key is missing"),
    ("reference metrics with an empty source", {"reference_metrics": {"auc": 0.75, "source": ""}},
     "reference_metrics.source", "at least 1 character"),
    ("a reference AUC above 1", {"reference_metrics": {"auc": 1.2, "source": "cv"}}, "reference_metrics.auc",
     "less than or equal to 1 (got 1.2)"),
    ("a negative reference rate", {"reference_metrics": {"bad_rate_approved": -0.01, "source": "cv"}},
     "reference_metrics.bad_rate_approved", "greater than or equal to 0"),
    ("a reference rate given as a percentage", {"reference_metrics": {"approval_rate": 72, "source": "cv"}},
     "reference_metrics.approval_rate", "less than or equal to 1 (got 72)"),
    ("an unknown reference metric", {"reference_metrics": {"gini": 0.5, "source": "cv"}}, "reference_metrics.gini",
     "allowed here: source, auc, approval_rate, bad_rate_approved, default_rate"),
    ("a bad reference metric of a version", {"versions": [{"version": "1", "reference_metrics": {"auc": 0.7}}]},
     "versions[0].reference_metrics.source", "required key is missing"),
    ("an unknown reference kind", {"data": {"reference_kind": "test"}}, "data.reference_kind",
     "expected what the reference sample is: 'training', 'holdout' or 'out_of_time'"),
    ("an unknown reference kind of a version", {"versions": [{"version": "1", "data": {"reference_kind": "oot"}}]},
     "versions[0].data.reference_kind", "'training', 'holdout' or 'out_of_time'"),
    ("materiality of a metric that is not a test", {"thresholds": {"psi": {"immaterial": [0.0, 0.1]}}},
     "thresholds.psi.immaterial", "not a statistical test"),
    ("materiality bounds in the wrong order", {"thresholds": {"jeffreys_pvalue": {"immaterial": [1.25, 0.8]}}},
     "thresholds.jeffreys_pvalue.immaterial", "expected [low, high] with low < high (null for an open side); "
     "got [1.25, 0.8]"),
    ("materiality bounds equal", {"thresholds": {"jeffreys_pvalue": {"immaterial": [1.0, 1.0]}}},
     "thresholds.jeffreys_pvalue.immaterial", "low < high"),
    ("materiality with one bound", {"thresholds": {"jeffreys_pvalue": {"immaterial": [0.8]}}},
     "thresholds.jeffreys_pvalue.immaterial", "at least 2 items"),
    ("materiality open on both sides", {"thresholds": {"calibration_pvalue": {"immaterial": [None, None]}}},
     "thresholds.calibration_pvalue.immaterial", "could never flag"),
    ("materiality as text", {"thresholds": {"jeffreys_pvalue": {"immaterial": ["low", 1.25]}}},
     "thresholds.jeffreys_pvalue.immaterial[0]", "valid number"),
]


@pytest.mark.parametrize(("case", "overrides", "key", "fragment"), NEW_KEY_CASES, ids=[c[0] for c in NEW_KEY_CASES])
def test_new_keys_are_checked(write_spec: Callable[..., Path], case: str, overrides: dict[str, Any], key: str,
                              fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(overrides))
    assert caught.value.key == key
    assert fragment in caught.value.problem


def test_a_bad_multiplicity_exits_2_with_one_error_line(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from validation.cli import main

    path = write_spec({"multiplicity": "bonferroni"})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: {path}: multiplicity: Input should be 'holm', 'bh' or 'none' (got 'bonferroni'); "
        "expected 'holm', 'bh' (Benjamini-Hochberg) or 'none'"]
    assert not out.exists()


@pytest.mark.parametrize("method", ["holm", "bh", "none"])
def test_multiplicity_reaches_every_version_and_the_policy(write_spec: Callable[..., Path], method: str) -> None:
    from validation.judging.policy import Policy

    path = write_spec({"multiplicity": method, "versions": [{"version": "1"}, {"version": "2"}]})
    versions = load_spec(path).versions
    assert [v.multiplicity for v in versions] == [method, method]
    assert Policy.for_spec(versions[1]).multiplicity == method


def test_multiplicity_defaults_to_holm(write_spec: Callable[..., Path]) -> None:
    from validation.judging.policy import Policy

    (entry,) = load_spec(write_spec()).versions
    assert entry.multiplicity == "holm" == Policy.for_spec(entry).multiplicity


def test_reference_metrics_of_a_version_replace_the_spec_s(write_spec: Callable[..., Path]) -> None:
    top = {"source": "holdout of 2024", "auc": 0.74, "approval_rate": 0.6, "bad_rate_approved": 0.05,
           "default_rate": 0.1}
    path = write_spec({"reference_metrics": top,
                       "versions": [{"version": "1"},
                                    {"version": "2", "reference_metrics": {"source": "5-fold CV", "auc": 0.71}}]})
    first, second = load_spec(path).versions
    assert first.reference_metrics is not None and first.reference_metrics.model_dump() == top
    # the entry's block replaces the spec's whole block, not key by key
    assert second.reference_metrics is not None
    assert second.reference_metrics.model_dump() == {"source": "5-fold CV", "auc": 0.71, "approval_rate": None,
                                                     "bad_rate_approved": None, "default_rate": None}
    assert load_spec(write_spec(name="plain.yaml")).versions[0].reference_metrics is None


@pytest.mark.parametrize("kind", ["training", "holdout", "out_of_time"])
def test_reference_kind_and_its_override_per_version(write_spec: Callable[..., Path], kind: str) -> None:
    path = write_spec({"data": {"reference_kind": kind},
                       "versions": [{"version": "1"}, {"version": "2", "data": {"reference_kind": "out_of_time"}}]})
    first, second = load_spec(path).versions
    assert (first.data.reference_kind, second.data.reference_kind) == (kind, "out_of_time")
    assert load_spec(write_spec(name="plain.yaml")).versions[0].data.reference_kind is None  # not stated


def test_materiality_override_reaches_the_policy(write_spec: Callable[..., Path]) -> None:
    """``immaterial`` sets a test's materiality; a null side is open; amber and red stay the policy's
    unless given (an override of the bounds alone keeps the default materiality)."""
    import math

    from validation.judging.policy import DEFAULT_POLICY, Policy

    path = write_spec({"thresholds": {"jeffreys_pvalue": {"immaterial": [None, 1.1]},
                                      "calibration_pvalue": {"amber": 0.01, "red": 0.001, "immaterial": [0.9, 1.1]},
                                      "hosmer_lemeshow_pvalue": {"amber": 0.01, "red": 0.001}}})
    policy = Policy.for_spec(load_spec(path).versions[0])
    jeffreys = DEFAULT_POLICY["jeffreys_pvalue"]
    assert policy.immaterial("jeffreys_pvalue") == (-math.inf, 1.1)
    assert (policy.bounds("jeffreys_pvalue").amber, policy.bounds("jeffreys_pvalue").red) == (jeffreys.amber, jeffreys.red)
    assert policy.immaterial("calibration_pvalue") == (0.9, 1.1)
    assert (policy.bounds("calibration_pvalue").amber, policy.bounds("calibration_pvalue").red) == (0.01, 0.001)
    assert policy.immaterial("hosmer_lemeshow_pvalue") == DEFAULT_POLICY["hosmer_lemeshow_pvalue"].immaterial
    # judged: observed defaults 15% above those expected are material under [null, 1.1], not by default
    raw = {"metric": "jeffreys_pvalue", "subject": "grade:3", "value": 1e-9, "effect": 1.15}
    assert policy.judge(raw).status == "red"
    assert Policy.for_spec(None).judge(raw).status == "green"
    assert policy.judge({**raw, "effect": 1.05}).status == "green"
