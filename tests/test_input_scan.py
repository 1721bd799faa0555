"""The runner's input check of samples the checks read whole, in batches (validation.inputs.scan):
the same verdict as loading each sample whole (validation.inputs.samples.load_samples, which each
notebook still does), on the same rows, whatever the batch size, without ever loading a sample whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_sample
from validation.errors import DataError, InputError, SpecError
from validation.inputs.samples import load_samples
from validation.inputs.scan import scanned_samples
from validation.inputs.spec import ModelVersionSpec, load_spec

BATCHES = [7, 64, 299, 300, 1000]
"""Batch sizes: smaller than, equal to and larger than the 300- and 400-row samples."""


def _entry(path: Path) -> ModelVersionSpec:
    return load_spec(path).versions[-1]


def _with_repeats(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every fifth row's identifier repeated by a later row, some in an earlier month."""
    frame = frame.copy()
    rng = np.random.default_rng(seed)
    later = np.arange(5, len(frame), 5)
    frame.loc[later, "customer_id"] = frame.loc[rng.integers(0, 5, len(later)) + later - 5, "customer_id"].to_numpy()
    return frame


def _same_verdict(entry: ModelVersionSpec, batch_rows: int) -> None:
    """Whole and in batches: both pass with the same rows, columns and kinds, or both raise the same error."""
    try:
        whole = load_samples(entry)
    except InputError as exc:
        with pytest.raises(type(exc)) as raised:
            scanned_samples(entry, batch_rows=batch_rows)
        if isinstance(exc, DataError):  # the same column of the same sample (a count may be a batch's)
            assert (raised.value.column, raised.value.role) == (exc.column, exc.role)  # type: ignore[attr-defined]
        return
    scanned = scanned_samples(entry, batch_rows=batch_rows)
    assert scanned.rows == {role: len(frame) for role, frame in
                            (("data.reference", whole.reference), ("data.current", whole.current))}
    assert scanned.features == whole.features and scanned.score == whole.score
    assert scanned.sampled == whole.sampled and scanned.duplicates == whole.duplicates
    assert scanned.time_grain == whole.time_grain
    for attribute in ("reference", "current"):
        ours, theirs = getattr(scanned, attribute), getattr(whole, attribute)
        assert len(ours) == 0 and list(ours.columns) == list(theirs.columns)
        assert [pd.api.types.is_numeric_dtype(ours[c]) for c in ours] == \
            [pd.api.types.is_numeric_dtype(theirs[c]) for c in theirs]
    for column in entry.data.protected:
        assert scanned.column_totals(column) == whole.column_totals(column)


@pytest.mark.parametrize("batch_rows", BATCHES)
@pytest.mark.parametrize("data", [{}, {"max_rows": 123}, {"time": "month"}, {"time": "month", "max_rows": 250}],
                         ids=["all rows", "max_rows", "time", "time and max_rows"])
def test_valid_samples_give_what_a_whole_read_gives(write_spec: Callable[..., Path], data: dict[str, Any],
                                                    batch_rows: int) -> None:
    """Repeated identifiers removed (the row kept by data.time when given), then data.max_rows'
    seeded sample: the same row counts, columns, kinds and protected groups as load_samples."""
    reference = _with_repeats(synthetic_sample(400, seed=1), 1)
    current = _with_repeats(synthetic_sample(300, seed=2), 2)
    entry = _entry(write_spec({"data": data}, reference=reference, current=current))
    whole = load_samples(entry)
    assert whole.duplicates["current"] > 0 and (whole.sampled is not None) == ("max_rows" in data)
    _same_verdict(entry, batch_rows)


def _bad_row(change: Callable[[pd.DataFrame, int], pd.DataFrame], row: int = 250) -> pd.DataFrame:
    return change(synthetic_sample(300, seed=2), row)


BAD_ROWS: list[tuple[str, Callable[[pd.DataFrame, int], pd.DataFrame], str]] = [
    ("a missing score", lambda f, i: f.assign(pd=f["pd"].where(f.index != i)), "score has 1 missing values"),
    ("a score above 1", lambda f, i: f.assign(pd=f["pd"].where(f.index != i, 7.0)), "score must lie in [0, 1]"),
    ("a target of 2", lambda f, i: f.assign(default=f["default"].where(f.index != i, 2)), "target must be 0 or 1"),
    ("an infinite income", lambda f, i: f.assign(income=f["income"].where(f.index != i, np.inf)), "infinite values"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_a_bad_row_past_the_first_batch_is_found_and_its_rows_named(write_spec: Callable[..., Path], case: str,
                                                                     change: Callable[[pd.DataFrame, int], pd.DataFrame],
                                                                     fragment: str) -> None:
    entry = _entry(write_spec(current=_bad_row(change)))
    with pytest.raises(DataError, match=fragment.replace("[", r"\[")):
        load_samples(entry)
    with pytest.raises(DataError) as raised:
        scanned_samples(entry, batch_rows=64)
    assert fragment in raised.value.problem and raised.value.role == "data.current"
    assert "[in rows 193 to 256 of the file, read 64 at a time: the first rows with the problem]" in str(raised.value)
    with pytest.raises(DataError) as whole_batch:
        scanned_samples(entry, batch_rows=1000)  # one batch: the message of a whole read, word for word
    assert str(whole_batch.value) == str(pytest.raises(DataError, load_samples, entry).value)


def test_a_bad_row_a_whole_read_drops_is_not_refused(write_spec: Callable[..., Path]) -> None:
    """A row removed as a repeated identifier, or left out by data.max_rows' sample, is not read by
    any check: it is not refused in batches either; the same bad row kept is."""
    current = synthetic_sample(300, seed=2)
    current.loc[40, "pd"] = np.nan
    current.loc[41, "customer_id"] = current.loc[40, "customer_id"]  # row 40 repeated by a later row: removed
    entry = _entry(write_spec(current=current))
    assert load_samples(entry).duplicates["current"] == 1
    assert scanned_samples(entry, batch_rows=16).rows == {"data.reference": 400, "data.current": 299}

    chosen = pd.DataFrame({"row": np.arange(300)}).sample(n=100, random_state=0)["row"]
    left_out, taken = min(set(range(300)) - set(chosen)), int(chosen.max())
    for row, refused in ((left_out, False), (taken, True)):
        current = synthetic_sample(300, seed=2)
        current.loc[row, "pd"] = 3.0
        entry = _entry(write_spec({"data": {"max_rows": 100}}, current=current))
        for batch_rows in (16, 1000):
            if refused:
                with pytest.raises(DataError, match="score must lie"):
                    scanned_samples(entry, batch_rows=batch_rows)
            else:
                assert scanned_samples(entry, batch_rows=batch_rows).sampled == {"data.reference": (100, 400),
                                                                                 "data.current": (100, 300)}
        _same_verdict(entry, 16)


def test_protected_groups_are_counted_over_every_batch(write_spec: Callable[..., Path]) -> None:
    """300 distinct values of a protected attribute, fewer than 250 in any batch: refused as an
    identifier, as in a whole read, with the same count."""
    from validation.checks import REGISTRY
    from validation.checks.context import check_parameters

    current = synthetic_sample(300, seed=2).assign(sex=[f"code {i}" for i in range(300)])
    entry = _entry(write_spec(current=current))
    fairness = REGISTRY["fairness"]
    params = check_parameters(fairness, {}, {})
    with pytest.raises(DataError) as whole:
        fairness.check_inputs(entry, load_samples(entry), params)
    scanned = scanned_samples(entry, batch_rows=100)
    assert scanned.column_totals("sex").distinct == 300
    with pytest.raises(DataError) as batches:
        fairness.check_inputs(entry, scanned, params)
    assert str(batches.value) == str(whole.value) and "300 distinct values in 300 rows" in str(whole.value)


def test_a_numeric_protected_attribute_counted_past_its_limit_says_at_least(write_spec: Callable[..., Path],
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from validation.checks import REGISTRY
    from validation.checks.context import check_parameters
    from validation.inputs import samples, scan

    monkeypatch.setattr(samples, "DISTINCT_COUNTED", 30)  # read by ColumnTotals
    monkeypatch.setattr(scan, "DISTINCT_COUNTED", 30)  # and by the count
    entry = _entry(write_spec(reference=synthetic_sample(400, seed=1).assign(sex=np.arange(400) % 3),
                              current=synthetic_sample(300, seed=2).assign(sex=np.arange(300))))
    scanned = scanned_samples(entry, batch_rows=64)
    assert scanned.column_totals("sex").distinct == 31 and scanned.column_totals("sex").at_least
    with pytest.raises(SpecError, match="is numeric with at least 31 distinct values; give band edges"):
        REGISTRY["fairness"].check_inputs(entry, scanned, check_parameters(REGISTRY["fairness"], {}, {}))


def test_a_csv_column_text_in_a_later_chunk_is_text_as_in_a_whole_read(write_spec: Callable[..., Path],
                                                                         tmp_path: Path) -> None:
    """pandas types each chunk of a CSV file on its own: a column of numbers in the first chunk and
    text in the second is text, as the whole file's reader types it; both samples must then agree."""
    current = synthetic_sample(300, seed=2).astype({"tenure": object})
    current.loc[200, "tenure"] = "three"
    path = write_spec({"data": {"current": "data/cur.csv"}})
    current.to_csv(tmp_path / "data" / "cur.csv", index=False)
    entry = _entry(path)
    with pytest.raises(DataError, match="column 'tenure': is text here but numeric in the reference"):
        load_samples(entry)
    with pytest.raises(DataError, match="column 'tenure': is text here but numeric in the reference"):
        scanned_samples(entry, batch_rows=64)
    _same_verdict(entry, 64)


def test_dates_in_some_batches_and_periods_in_others_are_refused(write_spec: Callable[..., Path]) -> None:
    current = synthetic_sample(300, seed=2)
    current["month"] = ["2025-03-14"] * 128 + ["2025-04"] * 172  # batches of 64: two of dates, then periods
    entry = _entry(write_spec({"data": {"time": "month"}}, current=current))
    with pytest.raises(DataError, match="holds dates such as '2025-03-14' and other values such as '2025-04'"):
        load_samples(entry)
    with pytest.raises(DataError, match="data.time holds dates in some rows and other values") as raised:
        scanned_samples(entry, batch_rows=64)
    assert "[in rows 129 to 192" in str(raised.value)


def test_scores_from_the_artifact_are_checked_on_every_batch(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """Without data.score, each batch is scored with the artifact, as the whole sample would be."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    from validation.inputs.artifacts import sha256_file
    from validation.inputs.samples import SCORE_FROM_ARTIFACT

    train = synthetic_sample(200, seed=1)
    sio.dump(LogisticRegression().fit(train[["income", "tenure"]], train["default"]), tmp_path / "m.skops")
    current = synthetic_sample(300, seed=2)
    current.loc[260, "tenure"] = np.nan  # logistic regression cannot score a missing value
    spec = {"model": {"artifact": "m.skops", "artifact_sha256": sha256_file(tmp_path / "m.skops")},
            "data": {"score": None, "features": ["income", "tenure"]}}
    entry = _entry(write_spec(spec))
    scanned = scanned_samples(entry, batch_rows=64)
    assert scanned.score == SCORE_FROM_ARTIFACT and SCORE_FROM_ARTIFACT in scanned.current.columns
    _same_verdict(entry, 64)
    broken = _entry(write_spec(spec, current=current))
    with pytest.raises(DataError, match="the model could not score these rows") as raised:
        scanned_samples(broken, batch_rows=64)
    assert "[in rows 257 to 300 of the file" in str(raised.value)


def test_the_runner_never_loads_a_sample_whole(write_spec: Callable[..., Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning a run (every input checked, exit 2 on bad input) reads no sample whole: whole reads
    fail here, and the run is planned; its row counts are the samples'."""
    from validation.execution.planning import plan_runs
    from validation.inputs import samples

    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a sample was loaded whole")

    monkeypatch.setattr(samples, "read_table", refused)
    monkeypatch.setattr(samples, "load_samples", refused)
    spec = write_spec({"checks": ["data_quality", "drift", "fairness", "backtesting"]})
    (plan,) = plan_runs([spec], out=tmp_path / "out")
    assert plan.rows == {"reference": 400, "current": 300} and len(plan.tasks) == 4


def test_a_csv_file_with_a_short_row_is_counted_as_pandas_reads_it(write_spec: Callable[..., Path],
                                                                    tmp_path: Path) -> None:
    """pandas fills a row with fewer fields than the header with missing values, as a whole read
    does; the row count (for repeated identifiers and data.max_rows) agrees with it."""
    from validation.inputs.batches import row_count

    current = synthetic_sample(300, seed=2)
    path = write_spec({"data": {"current": "data/cur.csv", "max_rows": 100}})
    text = current.to_csv(index=False)
    (tmp_path / "data" / "cur.csv").write_text(text + "5,1000.0,1\n")  # a short last row: its target missing
    assert row_count(tmp_path / "data" / "cur.csv") == 301
    entry = _entry(path)
    with pytest.raises(DataError, match="target has 1 missing values"):
        load_samples(entry)
    _same_verdict(entry, 64)


def test_a_count_in_a_parquet_file_of_several_row_groups_names_its_rows(write_spec: Callable[..., Path],
                                                                         tmp_path: Path) -> None:
    """Row groups of 100 rows read as batches of their own: a problem in the first is counted in it
    alone, and the message says so (the file has 300 rows)."""
    current = synthetic_sample(300, seed=2)
    current.loc[[10, 250], "pd"] = np.nan
    path = write_spec()
    current.to_parquet(tmp_path / "data" / "cur.parquet", row_group_size=100)
    with pytest.raises(DataError) as raised:
        scanned_samples(_entry(path), batch_rows=250)
    assert "score has 1 missing values" in str(raised.value) and "[in rows 1 to 100 of the file" in str(raised.value)
