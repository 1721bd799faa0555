"""Drift from mergeable summaries of batches against the in-memory computation.

The in-memory drift (``drift.drift_table``, itself tested against scipy) is the exact answer; the
streamed one must give the same bins and counts (so the same PSI, chi-square and JS) whatever the
batches, the same KS and Wasserstein where the values are counted exactly, and otherwise stay
within the bounds its note states, checked here against scipy's ks_2samp and wasserstein_distance.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from validation.errors import DataError
from validation.inputs.batches import Batch, iter_batches, row_count
from validation.metrics import drift, summaries
from validation.metrics.streamed_drift import streamed_by_period, streamed_drift_table

COLUMNS = ["cont", "heap", "disc", "cat", "empty_ref", "mixed"]


def _sample(n: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "cont": rng.normal(shift, 1, n),  # continuous: more distinct values than DISTINCT_CAP
        "heap": np.round(rng.exponential(3, n)),  # heaped integers: value counts, exact
        "disc": rng.integers(0, 4, n).astype(float),  # four values: binned by value
        "cat": rng.choice(["a", "b", "c", "d"], n),
        "empty_ref": rng.normal(0, 1, n) if shift else np.full(n, np.nan),  # no reference values at all
        # counted in the reference (one decimal: ~80 values), continuous in the current: cut exactly from the
        # reference's counts, counted in the current from its fine bins and windows
        "mixed": rng.normal(shift, 1, n) if shift else np.round(rng.normal(0, 1, n), 1),
        "month": rng.choice(["2025-01", "2025-02", "2025-03"], n),
    })
    frame.loc[rng.random(n) < 0.05, "cont"] = np.nan
    frame.loc[rng.random(n) < 0.03, "cat"] = None
    return frame


def _batches(frame: pd.DataFrame, size: int):  # type: ignore[no-untyped-def]
    def batches(columns: list[str]):  # type: ignore[no-untyped-def]
        for start in range(0, len(frame), size):
            yield Batch(start, frame.iloc[start:start + size][columns].reset_index(drop=True))
    return batches


@pytest.fixture(scope="module")
def samples() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _sample(60_000, 0.0, 1), _sample(45_000, 0.1, 2)


def test_streamed_bins_and_counts_are_the_in_memory_ones(samples: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = samples
    table, details = drift.drift_table(reference, current, COLUMNS)
    for ref_size, cur_size in ((7001, 5003), (60_000, 45_000)):
        streamed, streamed_details = streamed_drift_table(_batches(reference, ref_size), _batches(current, cur_size),
                                                          COLUMNS)
        for column in COLUMNS:
            exact, batched = details[column], streamed_details[column]
            assert batched.binning == exact.binning, column
            np.testing.assert_array_equal(batched.reference_counts, exact.reference_counts)
            np.testing.assert_array_equal(batched.current_counts, exact.current_counts)
        for metric in ("psi", "psi_critical_95", "psi_critical_999", "chi2_pvalue", "js_distance"):
            pd.testing.assert_series_equal(streamed[metric], table[metric], rtol=1e-12)


def test_counted_columns_have_exact_distances_and_gridded_ones_stay_within_their_bounds(
        samples: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = samples
    streamed, _ = streamed_drift_table(_batches(reference, 10_000), _batches(current, 10_000), COLUMNS)
    for column in ("heap", "disc"):  # counted exactly: scipy on all the values is the reference
        ref, cur = reference[column].dropna(), current[column].dropna()
        assert streamed.loc[column, "ks_stat"] == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=1e-12)
        assert streamed.loc[column, "wasserstein_norm"] == pytest.approx(
            stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-9)
    ref, cur = reference["cont"].dropna(), current["cont"].dropna()
    note = streamed.loc["cont", "note"]
    ks_bound, w_bound = (float(x) for x in re.findall(r"within \+?([0-9.e-]+)", note))
    exact_ks = stats.ks_2samp(ref, cur).statistic
    assert streamed.loc["cont", "ks_stat"] <= exact_ks + 1e-12 <= streamed.loc["cont", "ks_stat"] + ks_bound
    assert 0 < ks_bound < 0.002  # about one fine bin's share of 60,000 rows in 4,096 bins
    exact_w = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert abs(streamed.loc["cont", "wasserstein_norm"] - exact_w) <= w_bound
    assert streamed.loc["cont", "ks_pvalue"] == pytest.approx(
        drift.ks_pvalue(streamed.loc["cont", "ks_stat"], len(ref), len(cur)))


def test_streamed_periods_are_the_in_memory_ones(samples: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = samples
    _, details = drift.drift_table(reference, current, COLUMNS)
    _, streamed_details = streamed_drift_table(_batches(reference, 9000), _batches(current, 9000), COLUMNS)
    expected = drift.psi_by_period(details, current.assign(y=current["disc"] > 1), "month")
    got, rows = streamed_by_period(streamed_details, _batches(current.assign(y=current["disc"] > 1), 8000), "month", "y")
    pd.testing.assert_frame_equal(got.loc[expected.index], expected, rtol=1e-12)
    pd.testing.assert_frame_equal(rows, drift.default_rate_by_period(current.assign(y=current["disc"] > 1), "month", "y"),
                                  check_dtype=False, rtol=1e-12)



@pytest.mark.parametrize("columns", [COLUMNS, [c for c in COLUMNS if c != "empty_ref"]])
def test_periods_counted_in_the_last_pass_are_those_of_a_pass_of_their_own(
        samples: tuple[pd.DataFrame, pd.DataFrame], columns: list[str]) -> None:
    """``streamed_drift`` with a time column counts the periods in the current sample's last pass
    when every binning comes from the reference, and in a pass of their own when one does not (a
    column with no reference value): the same tables and details either way."""
    from validation.metrics.streamed_drift import streamed_drift

    reference, current = samples
    current = current.assign(y=current["disc"] > 1)
    passes: list[list[str]] = []
    read = _batches(current, 8000)

    def counted(wanted: list[str]):  # type: ignore[no-untyped-def]
        passes.append(wanted)
        return read(wanted)

    found = streamed_drift(_batches(reference, 9000), counted, columns, time="month", target="y")
    # the scan, then one last pass (or the grid, windows and periods apart)
    assert len(passes) == (2 if "empty_ref" not in columns else 4)
    table, details = streamed_drift_table(_batches(reference, 9000), _batches(current, 8000), columns)
    pd.testing.assert_frame_equal(found.table, table)
    assert found.periods is not None
    for got, expected in zip(streamed_by_period(found.details, found.periods, "month", "y"),
                             streamed_by_period(details, _batches(current, 8000), "month", "y")):
        pd.testing.assert_frame_equal(got, expected)
    assert len(found.periods.rows) == current["month"].nunique()


def test_the_sample_is_the_same_rows_whatever_the_batches() -> None:
    """Bottom-k by hashed position: merged batch scans hold the k rows of smallest hash of the whole."""
    values = pd.Series(np.random.default_rng(5).normal(size=200_000))
    keys = summaries.row_hash(np.arange(len(values)))
    whole = summaries.ColumnScan.of(values, keys, numeric=True)
    parts = [summaries.ColumnScan.of(values.iloc[s:s + 30_001].reset_index(drop=True), keys[s:s + 30_001],
                                     numeric=True) for s in range(0, len(values), 30_001)]
    merged = functools.reduce(lambda a, b: a.merge(b), parts[::-1])  # merged in another order
    np.testing.assert_array_equal(merged.sample_keys, whole.sample_keys)
    np.testing.assert_array_equal(merged.sample_values, whole.sample_values)
    smallest = np.sort(keys)[:summaries.SAMPLE_ROWS]
    np.testing.assert_array_equal(whole.sample_keys, smallest)
    assert (merged.n, merged.low, merged.high) == (len(values), values.min(), values.max())
    assert merged.values is None  # far more distinct values than counted


def test_categories_past_the_cap_are_pooled_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summaries, "CATEGORY_CAP", 3)
    values = pd.Series(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d", "e"])
    scan = summaries.ColumnScan.of(values, summaries.row_hash(np.arange(len(values))), numeric=False)
    assert scan.category_counts() == {"a": 5, "b": 4, "c": 3, summaries.OVERFLOW: 2} and not scan.exact


def test_uncounted_categories_are_pooled_in_other_never_a_bin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap, the drift table holds no bin of the uncounted (its label is no value a pack may
    show): they are in (other), every row is counted once, and the note says the counts are approximate."""
    monkeypatch.setattr(summaries, "CATEGORY_CAP", 3)
    rng = np.random.default_rng(2)
    reference = pd.DataFrame({"cat": rng.choice([f"v{i}" for i in range(12)], 3000)})
    current = pd.DataFrame({"cat": rng.choice([f"v{i}" for i in range(12)], 2000)})
    _, details = streamed_drift_table(_batches(reference, 1000), _batches(current, 1000), ["cat"])
    binning = details["cat"].binning
    assert binning.has_other and summaries.OVERFLOW not in binning.categories
    assert all("\x00" not in label for label in binning.labels())
    assert (details["cat"].reference_counts.sum(), details["cat"].current_counts.sum()) == (3000, 2000)
    assert "counted together in (other)" in binning.note


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_batches_read_the_file_in_order(tmp_path: Path, suffix: str) -> None:
    frame = _sample(2500, 0.1, 3)
    path = tmp_path / f"sample.{suffix}"
    frame.to_parquet(path) if suffix == "parquet" else frame.to_csv(path, index=False)
    batches = list(iter_batches(path, ["cont", "cat"], "data.current", batch_rows=1000))
    assert [b.start for b in batches] == [0, 1000, 2000]
    whole = pd.concat([b.frame for b in batches], ignore_index=True)
    np.testing.assert_allclose(whole["cont"].to_numpy(dtype=float), frame["cont"].to_numpy(), equal_nan=True)
    assert whole["cat"].fillna("-").tolist() == frame["cat"].fillna("-").tolist()
    assert row_count(path) == 2500
    with pytest.raises(DataError, match="not a column"):
        list(iter_batches(path, ["nope"], "data.current"))


@pytest.mark.parametrize("kind", ["lognormal", "normal", "zeros and heaps", "wide"])
def test_fine_bins_by_lookup_are_those_of_a_binary_search(kind: str) -> None:
    """:class:`~validation.metrics.summaries.FineBins` against ``np.searchsorted`` (the reference),
    on values equal to an edge, one float either side of one, both signs, zeros of both signs,
    subnormals and magnitudes far apart; and :class:`GridCounts` against counting the sorted
    values bin by bin."""
    rng = np.random.default_rng(11)
    base = {"lognormal": rng.lognormal(10, 1, 50_000), "normal": rng.normal(0, 1, 50_000),
            "zeros and heaps": np.r_[np.zeros(20_000), rng.integers(0, 50, 20_000) * 0.25, rng.normal(0, 3, 10_000)],
            "wide": np.r_[rng.normal(0, 1e-300, 1000), 5e-324, -5e-324, rng.lognormal(0, 30, 20_000),
                          -rng.lognormal(0, 30, 20_000)]}[kind]
    edges = np.unique(np.quantile(base, np.linspace(0, 1, 4097)[1:-1]))
    values = np.r_[base, edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf), 0.0, -0.0,
                   base.min() - 1, base.max() + 1]
    np.testing.assert_array_equal(summaries.fine_bins(edges).of(values), np.searchsorted(edges, values, side="left"))
    grid = summaries.GridCounts.of(pd.Series(values), edges, 0.0)
    ordered = np.sort(values)  # the reference: each bin a run of the sorted values
    ends = np.r_[np.searchsorted(ordered, edges, side="right"), len(ordered)]
    starts = np.r_[0, ends[:-1]]
    np.testing.assert_array_equal(grid.counts, ends - starts)
    filled = ends > starts
    np.testing.assert_array_equal(grid.low[filled], ordered[starts[filled]])
    np.testing.assert_array_equal(grid.high[filled], ordered[ends[filled] - 1])
    assert np.isinf(grid.low[~filled]).all()
