"""Samples read in batches (``data.batch_rows``), end to end through ``validation run``.

The in-memory run of the same spec is the reference: the drift check's findings (PSI of every
column and period, judged) must be the same, its KS and Wasserstein within the bounds its notes
state; the checks that cannot read batches are listed as not applying, with the reason; what
batches cannot do yet is refused by its key (exit 2); a bad value past the first batch fails the
drift check alone (exit 3), named as the whole-sample reader names it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_sample

VALIDATION = [sys.executable, "-m", "validation"]
ROWS = 1000  # the smallest batch data.batch_rows allows


def _run(spec: Path, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    done = subprocess.run([*VALIDATION, "run", str(spec), "--out", str(out), "--quiet", *extra],
                          capture_output=True, text=True, timeout=600)
    packs = list(out.rglob("results.json"))
    return done, json.loads(packs[0].read_text()) if packs else None


def _check(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["checks"] if c["name"] == name)


def _drift(doc: dict[str, Any]) -> dict[str, Any]:
    return _check(doc, "drift")


def _three_ways(whole: Path, batched: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The results of ``whole`` (samples read whole), and of ``batched`` in one process and on a
    LocalCluster of one single-threaded worker process (a row group a task, merged: the notebook's
    own tasks must run beside it, so no deadlock)."""
    from distributed import LocalCluster

    from validation.execution.pipeline import run_specs

    done, expected = _run(whole, tmp_path / "whole")
    assert done.returncode in (0, 1), done.stderr
    done, got = _run(batched, tmp_path / "batched")
    assert done.returncode in (0, 1), done.stderr
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        (outcome,), _ = run_specs([batched], out=tmp_path / "cluster", scheduler=cluster.scheduler_address)
    assert expected is not None and got is not None
    return expected, got, outcome.results


EXACT = {"drift": ("psi", "default_rate")}
"""Per check, the metrics whose values in batches must be the in-memory ones to the last digits
(the others: within the bounds their notes state; every check's every status must agree)."""


def _same_findings(expected: dict[str, Any], got: dict[str, Any], exact: tuple[str, ...] | None) -> None:
    """The same findings, statuses and (for ``exact`` metrics, every metric when ``None``) values."""
    assert got["error"] is None, got["error"]
    assert got["status"] == expected["status"], (got["name"], got["status"], expected["status"])
    findings = {(f["metric"], f["subject"]): f for f in expected["findings"]}
    assert {(f["metric"], f["subject"]) for f in got["findings"]} == set(findings), got["name"]
    for f in got["findings"]:
        want = findings[(f["metric"], f["subject"])]
        assert f["status"] == want["status"], (f, want)
        if exact is None or f["metric"] in exact:
            if isinstance(want["value"], (int, float)):
                assert f["value"] == pytest.approx(want["value"], rel=1e-9, abs=1e-12, nan_ok=True), (f, want)
            else:
                assert f["value"] == want["value"], (f, want)


def test_checks_in_batches_judge_as_in_memory_here_and_on_a_dask_cluster(write_spec: Callable[..., Path],
                                                                         tmp_path: Path) -> None:
    """Whole, in batches in one process, and in batches on a LocalCluster of one single-threaded
    worker process (a row group a task, merged: the notebook's own tasks must run beside it, so no
    deadlock): the same findings. Fairness and backtesting, whose scores here are fewer than
    DISTINCT_CAP, are exact to the last digits: intersections, a numeric attribute's groups, pooled
    segment values, periods, deciles of the reference score as grades and business impact included."""
    reference, current = synthetic_sample(4000, seed=1), synthetic_sample(3500, seed=2, shift=0.2)
    current.loc[current.index[:7], "tenure"] = np.nan  # a numeric group read as floats in one batch only
    for frame in (reference, current):
        frame["ead"] = np.linspace(1_000, 50_000, len(frame))
    current.loc[current.index[-3:], "region"] = "west"  # a segment value pooled with the small ones
    current.iloc[-20:-10] = current.iloc[10:20].to_numpy()  # rows repeated three batches apart
    current.loc[current.index[100:104], "income"] = -999.0  # a sentinel code, counted as missing
    current.loc[current.index[200:230], "income"] *= 50  # outside the reference's range
    data = {"ids": [], "time": "month", "protected": ["sex", "tenure", "region"], "segments": ["region", "tenure"],
            "exposure": "ead", "missing_values": {"income": [-999]}, "outcome_window": 1}
    checks = {"drift": {}, "fairness": {"intersections": [["sex", "region"]], "min_group_size": 50},
              "backtesting": {}, "data_quality": {}}
    whole = write_spec({"data": data, "checks": checks}, name="whole.yaml", reference=reference, current=current)
    batched = write_spec({"data": {**data, "batch_rows": ROWS}, "checks": checks}, name="batched.yaml",
                         reference=reference, current=current)
    reference.to_parquet(batched.parent / "data" / "ref.parquet", row_group_size=1500)  # 4 row groups
    current.to_parquet(batched.parent / "data" / "cur.parquet", row_group_size=1500)
    expected, got, on_cluster = _three_ways(whole, batched, tmp_path)
    for name in ("drift", "fairness", "backtesting", "data_quality"):
        _same_findings(_check(expected, name), _check(got, name), EXACT.get(name))
        _same_findings(_check(got, name), _check(on_cluster, name), EXACT.get(name))
    fairness = _check(got, "fairness")
    assert fairness["summary"]["missing_values"] == {"sex": 0, "tenure": 7, "region": 0}
    assert {f["subject"] for f in fairness["findings"]} >= {"tenure:1", "sex*region:female*north"}
    assert fairness["summary"]["auc_within"] is None  # 3,500 scores: each counted
    quality = {(f["metric"], f["subject"]): f["value"] for f in _check(got, "data_quality")["findings"]}
    assert quality[("duplicate_row_share", "sample:current")] == pytest.approx(10 / 3500)
    assert quality[("missing_share", "feature:income")] == pytest.approx(4 / 3500)
    assert quality[("out_of_range_share", "feature:income")] > 0
    assert _check(got, "data_quality")["summary"]["sample_description"] == \
        _check(expected, "data_quality")["summary"]["sample_description"]
    backtesting = _check(got, "backtesting")
    assert backtesting["summary"]["approximate"] == {} and backtesting["summary"]["current_rows"] == 3500
    assert {f["subject"] for f in backtesting["findings"]} >= {"region:(fewer than 5 rows)", "tenure:1",
                                                                "period:2025-01", "grade:10"}
    drift_expected, drift_got, drift_cluster = _drift(expected), _drift(got), _drift(on_cluster)
    summary = drift_got["summary"]
    assert (summary["reference_rows"], summary["current_rows"], summary["batch_rows"]) == (4000, 3500, ROWS)
    assert (summary["summarised_on"], drift_cluster["summary"]["summarised_on"]) == (
        "in this process", "on a Dask cluster, a task per parquet row group")


def test_more_scores_than_are_counted_one_by_one_stay_within_the_stated_bounds(write_spec: Callable[..., Path],
                                                                               tmp_path: Path) -> None:
    """12,000 and 10,000 continuous scores: past DISTINCT_CAP, fairness and backtesting count them
    in fine bins. Every count, rate, test and status is the in-memory one; AUC, Gini and KS (and so
    the AUC change test) within the bounds the summary states and the page shows."""
    reference, current = synthetic_sample(10_000, seed=3), synthetic_sample(12_000, seed=4, shift=0.1)
    data = {"ids": [], "time": "month", "segments": ["region"]}
    checks = ["fairness", "backtesting"]
    whole = write_spec({"data": data, "checks": checks}, name="whole.yaml", reference=reference, current=current)
    batched = write_spec({"data": {**data, "batch_rows": 2_500}, "checks": checks}, name="batched.yaml",
                         reference=reference, current=current)
    done, expected = _run(whole, tmp_path / "whole")
    assert done.returncode in (0, 1), done.stderr
    done, got = _run(batched, tmp_path / "batched")
    assert done.returncode in (0, 1), done.stderr
    assert expected is not None and got is not None
    bounded = {"auc", "gini", "ks", "auc_change_pvalue"}
    exact = tuple({f["metric"] for c in expected["checks"] for f in c["findings"]} - bounded)
    for name in checks:
        _same_findings(_check(expected, name), _check(got, name), exact)
    summary = _check(got, "backtesting")["summary"]["approximate"]
    assert set(summary) == {"auc", "ks", "reference_auc", "reference_ks", "slice_auc"}
    assert 0 < summary["auc"] < 1e-3 and 0 < summary["ks"] < 1e-3
    values = {(f["metric"], f["subject"]): f["value"] for f in _check(expected, "backtesting")["findings"]}
    found = {(f["metric"], f["subject"]): f["value"] for f in _check(got, "backtesting")["findings"]}
    assert abs(found[("auc", "score")] - values[("auc", "score")]) <= summary["auc"]
    assert abs(found[("gini", "score")] - values[("gini", "score")]) <= 2 * summary["auc"]
    assert 0 <= values[("ks", "score")] - found[("ks", "score")] <= summary["ks"] + 1e-12
    for subject in ("period:2025-01", "region:north"):  # a slice's AUC: within the bound of its own bins
        assert abs(found[("auc", subject)] - values[("auc", subject)]) <= summary["slice_auc"]
    fairness = _check(got, "fairness")["summary"]
    assert 0 < fairness["auc_within"] < 1e-3
    pages = list((tmp_path / "batched").rglob("backtesting.html"))
    assert pages and "fine bins" in pages[0].read_text()


def test_numeric_periods_and_a_reference_without_them_read_alike_whole_and_in_batches(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """Period numbers (202501) with a missing one in a later batch (read as floats there only) are
    one period each, as read whole; a reference without the time column is read in batches too."""
    reference = synthetic_sample(3000, seed=5).drop(columns=["month"])
    current = synthetic_sample(3000, seed=6)
    current["month"] = current["month"].str.replace("-", "").astype(float)
    current.loc[current.index[2500], "month"] = np.nan
    checks = ["backtesting", "data_quality"]
    data = {"ids": [], "time": "month", "segments": ["region"]}
    whole = write_spec({"data": data, "checks": checks}, name="whole.yaml", reference=reference, current=current)
    batched = write_spec({"data": {**data, "batch_rows": ROWS}, "checks": checks}, name="batched.yaml",
                         reference=reference, current=current)
    (done, expected), (done_batched, got) = _run(whole, tmp_path / "whole"), _run(batched, tmp_path / "batched")
    assert done.returncode in (0, 1) and done_batched.returncode in (0, 1), (done.stderr, done_batched.stderr)
    assert expected is not None and got is not None
    for name in checks:
        _same_findings(_check(expected, name), _check(got, name), None)
    subjects = {f["subject"] for f in _check(got, "backtesting")["findings"]}
    assert {"period:202501", "period:202502", "period:202503"} <= subjects
    assert not any(s.endswith(".0") for s in subjects)


def test_an_identifier_given_as_a_protected_attribute_is_refused_at_its_first_batch(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec({"data": {"ids": [], "batch_rows": ROWS, "protected": ["customer_id"]}, "checks": ["fairness"]},
                      reference=synthetic_sample(3000, seed=1), current=synthetic_sample(3000, seed=2))
    done, doc = _run(spec, tmp_path / "out")
    assert done.returncode == 3 and doc is not None, done.stderr
    error = _check(doc, "fairness")["error"]["evalue"]
    assert "customer_id" in error and "at least" in error and "identifier" in error, error


def test_a_check_that_reads_whole_samples_says_why_it_does_not_run(write_spec: Callable[..., Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check a scores-only spec runs reads batches now; one that did not would not apply,
    with the reason (explainability and the challenger, which need a model artifact, do not)."""
    from validation.checks import REGISTRY
    from validation.inputs.spec import load_spec

    entry = load_spec(write_spec({"data": {"ids": [], "batch_rows": ROWS}})).versions[0]
    assert all(REGISTRY[name].why_not(entry) is None for name in ("drift", "fairness", "backtesting", "data_quality"))
    assert not REGISTRY["explainability"].reads_batches and not REGISTRY["challenger"].reads_batches
    monkeypatch.setattr(type(REGISTRY["data_quality"]), "reads_batches", False)
    reason = REGISTRY["data_quality"].why_not(entry)
    assert reason is not None and "data.batch_rows" in reason and "drift, fairness, backtesting" in reason


@pytest.mark.parametrize(("data", "key"), [({"max_rows": 100}, "data.max_rows"),
                                            ({"reference_profile": "profile.json"}, "data.reference_profile")])
def test_what_batches_cannot_do_is_refused_by_its_key(write_spec: Callable[..., Path], tmp_path: Path,
                                                      data: dict[str, Any], key: str) -> None:
    spec = write_spec({"data": {"batch_rows": ROWS, **data}})
    done, doc = _run(spec, tmp_path / "out")
    assert done.returncode == 2 and doc is None
    assert key in done.stderr and "batch" in done.stderr


def test_a_bad_value_past_the_first_batch_fails_the_drift_check_alone(write_spec: Callable[..., Path],
                                                                      tmp_path: Path) -> None:
    current = synthetic_sample(3000, seed=2)
    current.loc[2500, "pd"] = 1.5  # in the third batch: the runner checked the first one only
    spec = write_spec({"data": {"ids": [], "batch_rows": ROWS}, "checks": ["drift"]},
                      reference=synthetic_sample(3000, seed=1), current=current)
    done, doc = _run(spec, tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert doc is not None
    error = _drift(doc)["error"]
    assert "pd" in error["evalue"] and "cur.parquet" in error["evalue"], error
    assert np.isfinite(current["income"]).all()


def test_the_message_lists_the_checks_that_read_batches() -> None:
    from validation.checks import REGISTRY
    from validation.checks.base import BATCH_CHECKS

    assert set(BATCH_CHECKS) == {name for name in REGISTRY.names() if REGISTRY[name].reads_batches}


def test_a_required_check_that_reads_whole_samples_must_be_waived(write_spec: Callable[..., Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading in batches never drops a check the materiality requires without a reason on record.
    Every check a scores-only spec requires reads batches (explainability, required at high
    materiality, needs a model artifact), so backtesting is made a check that reads whole samples
    here."""
    from validation.checks import REGISTRY
    from validation.errors import SpecError
    from validation.inputs.spec import load_spec

    monkeypatch.setattr(type(REGISTRY["backtesting"]), "reads_batches", False)
    data = {"ids": [], "batch_rows": ROWS}
    spec = write_spec({"model": {"materiality": "low"}, "data": data, "checks": ["drift", "fairness", "backtesting"]})
    with pytest.raises(SpecError, match="data.batch_rows") as caught:
        load_spec(spec)  # listed, the required checks would be skipped as not reading batches
    assert "requires the backtesting check, which reads whole samples" in str(caught.value)
    waived = write_spec({"model": {"materiality": "low"}, "data": data, "checks": ["drift", "fairness"],
                         "waivers": {"backtesting": "reads whole samples; run on the 1% sample monthly"}},
                        name="waived.yaml")
    assert load_spec(waived).versions[0].required_checks() == ["fairness", "backtesting"]


def test_an_artifact_scores_the_samples_batch_by_batch(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """No ``data.score``: each batch is scored with the model artifact (a scikit-learn pipeline
    saved with skops, loaded once per process), here and on a cluster; every finding of the four
    checks is the one of the samples read whole and scored at once."""
    import skops.io as sio
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from validation.inputs.artifacts import sha256_file

    features = ["income", "tenure", "region"]
    reference, current = synthetic_sample(4000, seed=1), synthetic_sample(3500, seed=2, shift=0.2)
    model = make_pipeline(make_column_transformer((StandardScaler(), ["income", "tenure"]),
                                                  (OneHotEncoder(handle_unknown="ignore"), ["region"])),
                          LogisticRegression()).fit(reference[features], reference["default"])
    reference, current = reference.drop(columns="pd"), current.drop(columns="pd")
    sio.dump(model, tmp_path / "pd.skops")
    data: dict[str, Any] = {"ids": [], "score": None, "time": "month", "protected": ["sex"], "segments": ["region"]}
    document = {"model": {"artifact": "pd.skops", "artifact_sha256": sha256_file(tmp_path / "pd.skops")},
                "data": data, "checks": ["drift", "fairness", "backtesting", "data_quality"]}
    whole = write_spec(document, name="whole.yaml", reference=reference, current=current)
    batched = write_spec({**document, "data": {**data, "batch_rows": ROWS}}, name="batched.yaml",
                         reference=reference, current=current)
    expected, got, on_cluster = _three_ways(whole, batched, tmp_path)
    for name in ("drift", "fairness", "backtesting", "data_quality"):
        assert _check(got, name)["summary"]["batch_rows"] == ROWS
        _same_findings(_check(expected, name), _check(got, name), None)
        _same_findings(_check(got, name), _check(on_cluster, name), None)
    assert ("psi", "score") in {(f["metric"], f["subject"]) for f in _drift(got)["findings"]}
    assert _check(got, "backtesting")["summary"]["current_rows"] == 3500
    assert _check(got, "data_quality")["summary"]["sample_description"] == \
        _check(expected, "data_quality")["summary"]["sample_description"]


def test_repeated_identifiers_are_removed_as_from_a_sample_read_whole(write_spec: Callable[..., Path],
                                                                      tmp_path: Path) -> None:
    """With ``data.ids``, the rows of repeated identifiers are found in passes over the identifier
    and time columns and left out of every batch (the latest row by time kept, a missing time
    earliest, a missing identifier never a repeat), here and on a cluster: the four checks find
    what they find on the samples read whole and deduplicated, the data quality check reports the
    same rows removed, and the bottom-k sample is keyed by file position."""
    reference, current = synthetic_sample(4000, seed=1), synthetic_sample(3500, seed=2, shift=0.2)
    current["customer_id"] = current["customer_id"].astype(float)
    later = current.iloc[2000:3000]  # the whole first batch repeats rows of equal time later on: all of it removed
    current.loc[current.index[:1000], ["customer_id", "month"]] = later[["customer_id", "month"]].to_numpy()
    current.loc[current.index[3000:3100], "customer_id"] = current["customer_id"].iloc[1000:1100].to_numpy()
    current.loc[current.index[3000:3100], "month"] = None  # a missing time is the earliest: these are removed
    current.loc[current.index[3200:3210], "customer_id"] = np.nan  # never a repeat
    reference.loc[reference.index[-50:], "customer_id"] = reference["customer_id"].iloc[1000:1050].to_numpy()
    data = {"ids": ["customer_id"], "time": "month", "protected": ["sex"], "segments": ["region"]}
    checks = ["drift", "fairness", "backtesting", "data_quality"]
    whole = write_spec({"data": data, "checks": checks}, name="whole.yaml", reference=reference, current=current)
    batched = write_spec({"data": {**data, "batch_rows": ROWS}, "checks": checks}, name="batched.yaml",
                         reference=reference, current=current)
    current.to_parquet(batched.parent / "data" / "cur.parquet", row_group_size=ROWS)  # a row group a batch
    expected, got, on_cluster = _three_ways(whole, batched, tmp_path)
    for name in checks:
        _same_findings(_check(expected, name), _check(got, name), EXACT.get(name))
        _same_findings(_check(got, name), _check(on_cluster, name), EXACT.get(name))
    quality = {(f["metric"], f["subject"]): f["value"] for f in _check(got, "data_quality")["findings"]}
    assert quality[("duplicate_id_rows", "sample:current")] == 1100
    assert quality[("duplicate_id_rows", "sample:reference")] == 50
    assert _check(got, "backtesting")["summary"]["current_rows"] == 2400


def test_repeated_identifiers_in_batches_are_those_deduplicate_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`~validation.inputs.identifiers.repeated_ids` against :func:`~validation.inputs.samples.deduplicate`
    on a sample read whole (the reference), with batches of every size and two passes over the
    identifiers (a part per pass), identifiers read as integers in one batch and floats in another."""
    import functools

    from validation.inputs import identifiers
    from validation.inputs.batches import Batch
    from validation.inputs.samples import deduplicate

    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame({"id": rng.integers(0, 3000, n).astype(float), "branch": rng.choice(["a", "b"], n),
                          "month": rng.choice(np.array(["2025-01", "2025-02", "2025-03", None], dtype=object), n),
                          "x": np.arange(n)})
    frame.loc[frame.index[::97], "id"] = np.nan
    kept, removed = deduplicate(frame, ["id", "branch"], "month")

    def batches(size: int, columns: list[str]) -> Iterator[Batch]:
        for start in range(0, n, size):
            part = frame.iloc[start:start + size][columns].reset_index(drop=True)
            if "id" in columns and not part["id"].isna().any():
                part["id"] = part["id"].astype(np.int64)  # a batch read without a missing identifier
            yield Batch(start, part)

    for size, per_pass in ((n, 10 ** 6), (700, 10 ** 6), (333, 2000)):  # 3 parts: 3 passes over the identifiers
        monkeypatch.setattr(identifiers, "IDS_PER_PASS", per_pass)
        found = identifiers.repeated_ids(functools.partial(batches, size), ["id", "branch"], "month", n)
        assert found.removed == removed > 100
        stays = [found.kept(start, min(size, n - start)) for start in range(0, n, size)]
        mask = np.concatenate([np.ones(min(size, n - start), bool) if kept_rows is None else kept_rows
                               for start, kept_rows in zip(range(0, n, size), stays)])
        assert frame["x"][mask].tolist() == kept["x"].tolist()


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_batches_are_read_from_an_fsspec_url_as_from_a_local_file(tmp_path: Path, suffix: str) -> None:
    """A sample at an fsspec URL (``memory://`` here: a file system no pyarrow reader knows, as
    ``s3://`` or ``gs://`` on a cluster's shared storage) is read in batches through fsspec: the
    same columns, rows, row groups and batches as the same file on disk."""
    import fsspec

    from validation.inputs.batches import iter_batches, read_row_group, row_count, row_groups

    frame = synthetic_sample(2500, seed=4)
    local = tmp_path / f"sample.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(local, row_group_size=1000)
    else:
        frame.to_csv(local, index=False)
    url = f"memory://validation-test/sample.{suffix}"
    with fsspec.open(url, "wb") as handle:
        handle.write(local.read_bytes())
    try:
        columns = ["income", "region", "month"]
        assert row_count(url) == row_count(local) == 2500
        for (a, b) in zip(iter_batches(url, columns, "data.current", batch_rows=1000),
                          iter_batches(local, columns, "data.current", batch_rows=1000), strict=True):
            assert a.start == b.start
            pd.testing.assert_frame_equal(a.frame, b.frame)
        if suffix == "parquet":
            assert row_groups(url) == row_groups(local) == [(0, 0, 1000), (1, 1000, 1000), (2, 2000, 500)]
            pd.testing.assert_frame_equal(read_row_group(url, 2, columns), read_row_group(local, 2, columns))
    finally:
        fsspec.filesystem("memory").rm("/validation-test", recursive=True)
