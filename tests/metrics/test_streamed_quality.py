"""Data quality figures of samples read in batches against the whole-sample functions of
``validation.metrics.quality`` (themselves tested against worked examples): the same profiles,
kinds, period counts, range excursions and duplicated rows, whatever the batches; a text column
past the category cap estimated within the k-minimum-values bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validation.inputs.batches import Batch
from validation.metrics import quality
from validation.metrics import streamed_quality as sq
from validation.metrics.streamed_drift import LocalSample


def _sample(frame: pd.DataFrame, size: int) -> LocalSample:
    def batches(columns: list[str]):  # type: ignore[no-untyped-def]
        for start in range(0, len(frame), size):
            yield Batch(start, frame.iloc[start:start + size][columns].reset_index(drop=True))
    return LocalSample(batches)


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"amount": rng.lognormal(8, 1, n), "count": rng.integers(0, 5, n),
                          "city": rng.choice(["a", "b", "c", "not_known"], n),
                          "month": rng.choice(["2025-01", "2025-02"], n),
                          "y": (rng.random(n) < 0.1).astype(int)})
    frame.loc[rng.random(n) < 0.05, "amount"] = -999.0
    frame.loc[rng.random(n) < 0.02, "city"] = None
    return frame


CODES = {"amount": [-999], "city": ["not_known"]}


@pytest.mark.parametrize("size", [1_000, 777])
def test_profiles_kinds_and_periods_are_the_whole_samples(size: int) -> None:
    frame = _frame(5_000, 1)
    summary = sq.summarise(_sample(frame, size), ["amount", "count", "city"], CODES, time="month", target="y")
    whole = quality.profile_frame(frame, ["amount", "count", "city"], CODES)
    for column, profile in sq.profiles(summary).items():
        expected = whole[column]
        assert (profile.kind, profile.rows, profile.missing, profile.minimum, profile.maximum) == (
            expected.kind, expected.rows, expected.missing, expected.minimum, expected.maximum)
        pd.testing.assert_series_equal(profile.counts.sort_index(), expected.counts.sort_index(), check_names=False)
    assert sq.kinds(summary) == {c: quality.kind_of(frame[c]) for c in ["amount", "count", "city"]}
    table, _ = quality.vintage_counts(summary.period_rows, summary.period_defaults, window=1)
    expected_table, _ = quality.vintage_table(frame["month"], frame["y"], window=1)
    pd.testing.assert_frame_equal(table, expected_table, check_dtype=False)
    assert sq.describe(summary, target="y") == quality.describe_sample(frame, time="month", target="y")


def test_integer_batches_and_float_batches_make_a_float_column() -> None:
    """A column with a missing value is read as floats in that batch only; read whole, as floats."""
    values = pd.Series([1, 2, None, 4], dtype="Float64").astype(float)
    merged = sq.ColumnSummary.of(pd.Series([1, 2])).merge(sq.ColumnSummary.of(values.iloc[2:]))
    assert merged.profile().kind == quality.kind_of(values) == "float"
    empty_text = sq.ColumnSummary.of(pd.Series([None, None], dtype=object))  # no value: no vote on the kind
    assert empty_text.merge(sq.ColumnSummary.of(pd.Series([1.5]))).profile().kind == "float"
    with pytest.raises(ValueError, match="text"):
        sq.ColumnSummary.of(pd.Series(["x"])).merge(sq.ColumnSummary.of(pd.Series([1.5])))


def test_range_excursions_are_counted_as_whole() -> None:
    reference, current = _frame(4_000, 2), _frame(3_000, 3)
    current.loc[:40, "amount"] *= 100
    low, high = quality.profile_column(reference["amount"], CODES["amount"]).minimum, \
        quality.profile_column(reference["amount"], CODES["amount"]).maximum
    assert low is not None and high is not None
    counted = sq.outside_counts(_sample(current, 500), {"amount": (low, high)}, CODES)
    assert counted["amount"] == quality.outside_range(current["amount"], low, high, CODES["amount"]) > 0


@pytest.mark.parametrize("per_pass", [10**9, 1_700])
def test_duplicated_rows_in_one_pass_or_several(per_pass: int, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _frame(6_000, 4)[["count", "city", "month"]]  # few distinct rows: many duplicates
    monkeypatch.setattr(sq, "HASHES_PER_PASS", per_pass)
    assert sq.duplicate_rows(_sample(frame, 1_000), list(frame.columns), len(frame)) == quality.duplicate_rows(frame)


def test_numbers_read_as_integers_in_one_batch_and_floats_in_another_are_equal() -> None:
    frame = pd.DataFrame({"n": [1.0, 2.0, None, 1.0, 2.0], "t": ["a", "b", "c", "a", "b"]})
    parts = [frame.iloc[:2].astype({"n": "int64"}), frame.iloc[2:]]  # the first batch has no missing value

    def batches(columns: list[str]):  # type: ignore[no-untyped-def]
        start = 0
        for part in parts:
            yield Batch(start, part[columns].reset_index(drop=True))
            start += len(part)

    assert sq.duplicate_rows(LocalSample(batches), ["n", "t"], 5) == quality.duplicate_rows(frame) == 2


def test_a_text_column_past_the_category_cap_estimates_its_distinct_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sq, "CATEGORY_CAP", 1_000)
    monkeypatch.setattr(sq, "SKETCH_SIZE", 2_048)
    rng = np.random.default_rng(5)
    values = pd.Series(rng.integers(0, 20_000, 60_000).astype(str))
    summary = sq.summarise(_sample(pd.DataFrame({"id": values}), 7_000), ["id"], {}, time=None, target=None)
    profile = sq.profiles(summary)["id"]
    exact = values.nunique()
    assert len(profile.counts) == 1_000 and profile.distinct is not None
    assert abs(profile.distinct - exact) / exact < 4 / np.sqrt(2_048)  # four standard errors of the estimate
    assert profile.distinct_share == pytest.approx(exact / len(values), rel=4 / np.sqrt(2_048))


@pytest.mark.parametrize("per_pass", [10**9, 2_500])
def test_duplicates_from_the_first_pass_or_passes_of_their_own(per_pass: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Row hashes kept from the summary's pass while they fit, else counted again in passes."""
    monkeypatch.setattr(sq, "HASHES_PER_PASS", per_pass)
    frame = _frame(6_000, 6)[["amount", "count", "city"]]
    frame.iloc[5_000:5_300] = frame.iloc[100:400].to_numpy()  # repeated four batches apart
    sample = _sample(frame, 1_000)
    summary = sq.summarise(sample, list(frame.columns), {}, time=None, target=None)
    assert (summary.hashes is None) == (per_pass < len(frame))
    assert sq.duplicates(sample, summary) == quality.duplicate_rows(frame)


def test_distinct_hashes_counted_range_by_range_are_counted_whole() -> None:
    rng = np.random.default_rng(7)
    parts = [sq.distinct_sorted(rng.integers(0, 2**64 - 1, 20_000, dtype=np.uint64)) for _ in range(4)]
    parts.append(parts[1][::3].copy())  # repeated in another batch
    assert sq.distinct_count(parts) == len(np.unique(np.concatenate(parts))) == 80_000


def test_a_boolean_column_with_missing_values_in_some_batches_is_text_as_read_whole() -> None:
    """Parquet gives a boolean column with a missing value as objects in that row group only: read
    whole, the column is text with the values True and False; so is it merged from batches."""
    whole = pd.Series([True, False, None, True], dtype=object)
    merged = sq.ColumnSummary.of(pd.Series([True, False])).merge(sq.ColumnSummary.of(whole.iloc[2:]))
    expected = quality.profile_column(whole)
    profile = merged.profile()
    assert profile.kind == expected.kind == "text"
    assert (profile.rows, profile.missing) == (expected.rows, expected.missing)
    assert profile.counts.sort_index().to_dict() == expected.counts.sort_index().to_dict() == {"False": 1, "True": 2}


def test_numbers_in_one_batch_and_text_in_another_name_the_column() -> None:
    parts = [pd.DataFrame({"code": [1.0, 2.0]}), pd.DataFrame({"code": ["A1", "B2"]})]

    def batches(columns: list[str]):  # type: ignore[no-untyped-def]
        for start, part in zip((0, 2), parts):
            yield Batch(start, part[columns])

    with pytest.raises(ValueError, match="column 'code' is float in one batch and text in another"):
        sq.summarise(LocalSample(batches), ["code"], {}, time=None, target=None)


def test_integers_beyond_float_precision_stay_distinct_rows() -> None:
    frame = pd.DataFrame({"account": [2**60 + 1, 2**60 + 2, 2**60 + 1]})
    assert sq.duplicate_rows(_sample(frame, 2), ["account"], 3) == quality.duplicate_rows(frame) == 1
