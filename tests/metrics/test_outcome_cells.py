"""Backtesting and fairness figures from mergeable outcome cells against the rows.

The references are independent: ``sklearn.metrics.roc_auc_score``, ``scipy.stats.ks_2samp``,
``sklearn.metrics.brier_score_loss``, the row-level DeLong of
``validation.metrics.backtesting.auc_delong`` (tested against pROC's worked example) and
``np.quantile``. With at most DISTINCT_CAP distinct scores the cells must give them exactly; with
more, within the bounds the cells state, and whatever the batches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from validation.inputs.batches import Batch
from validation.metrics import backtesting as bt
from validation.metrics import outcome_cells as oc
from validation.metrics.streamed_drift import LocalSample
from validation.metrics.streamed_outcomes import order_statistics, outcome_cells, score_scan


def _frame(n: int, seed: int, *, decimals: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pd_ = rng.beta(1.2, 12, n)
    if decimals is not None:  # a master scale's PDs: few distinct values, counted exactly
        pd_ = np.round(pd_, decimals)
    y = (rng.random(n) < np.clip(pd_ * 1.3, 0, 1)).astype(float)
    return pd.DataFrame({"pd": pd_, "y": y, "region": rng.choice(["north", "south", "east"], n),
                         "ead": rng.uniform(1e3, 1e5, n), "lgd": rng.uniform(0.2, 0.6, n)})


def _sample(frame: pd.DataFrame, size: int) -> LocalSample:
    def batches(columns: list[str]):  # type: ignore[no-untyped-def]
        for start in range(0, len(frame), size):
            yield Batch(start, frame.iloc[start:start + size][columns].reset_index(drop=True))
    return LocalSample(batches)


def _cells(frame: pd.DataFrame, size: int, cuts: tuple[float, ...] = ()) -> oc.OutcomeCells:
    sample = _sample(frame, size)
    points = oc.ScorePoints.of(score_scan(sample, "pd"), cuts)
    return outcome_cells(sample, score="pd", target="y", points=points, columns=["region", "ead", "lgd"],
                         keys={"": None, "region": lambda f: f["region"]},
                         loss=lambda f: (f["ead"] * f["lgd"]).to_numpy())


@pytest.mark.parametrize("size", [10_000, 3_333])
def test_discrete_scores_give_every_figure_exactly(size: int) -> None:
    frame = _frame(40_000, 1, decimals=3)
    cells = _cells(frame, size)
    assert cells.points.exact
    whole = cells.dense()
    y, s = frame["y"].to_numpy(), frame["pd"].to_numpy()
    auc, variance = oc.auc_and_variance(whole["events"].to_numpy(), whole["nonevents"].to_numpy())
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert variance == pytest.approx(bt.auc_delong(y, s)[1], rel=1e-9)
    ks = oc.ks_distance(whole["events"].to_numpy(), whole["nonevents"].to_numpy())
    assert ks == pytest.approx(stats.ks_2samp(s[y == 1], s[y == 0]).statistic, abs=1e-12)
    assert oc.brier(whole) == pytest.approx(brier_score_loss(y, s), rel=1e-9)
    z, excess = oc.spiegelhalter(whole)
    assert 2 * stats.norm.sf(abs(z)) == pytest.approx(bt.spiegelhalter_pvalue(y, s), rel=1e-7)
    assert excess == pytest.approx(bt.brier_excess(y, s), rel=1e-7)
    assert oc.counts(whole) == (len(y), int(y.sum()))
    fpr, tpr, _ = roc_curve(*oc.roc_points(whole)[:2], sample_weight=oc.roc_points(whole)[2])
    expected_fpr, expected_tpr, _ = roc_curve(y, s)
    np.testing.assert_allclose(fpr, expected_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, expected_tpr, atol=1e-12)
    for region, part in frame.groupby("region"):
        dense = cells.dense("region", str(region))
        assert oc.auc_and_variance(dense["events"].to_numpy(), dense["nonevents"].to_numpy())[0] == pytest.approx(
            roc_auc_score(part["y"], part["pd"]), abs=1e-12)
        assert dense["score"].sum() == pytest.approx(part["pd"].sum(), rel=1e-12)


@pytest.mark.parametrize("size", [25_000, 7_919])
def test_continuous_scores_stay_within_the_stated_bounds(size: int) -> None:
    frame = _frame(120_000, 2)
    threshold = 0.12
    cells = _cells(frame, size, cuts=(oc.decision_cut(threshold), 0.05, 0.2))
    assert not cells.points.exact
    whole = cells.dense()
    e, n = whole["events"].to_numpy(), whole["nonevents"].to_numpy()
    y, s = frame["y"].to_numpy(), frame["pd"].to_numpy()
    auc, variance = oc.auc_and_variance(e, n)
    bound = oc.auc_tie_bound(e, n)
    assert bound < 2e-4  # a quarter of the bins' share: the figure reads the same to three decimals
    assert abs(auc - roc_auc_score(y, s)) <= bound + 1e-12
    assert variance == pytest.approx(bt.auc_delong(y, s)[1], rel=0.01)
    ks = oc.ks_distance(e, n)
    exact_ks = stats.ks_2samp(s[y == 1], s[y == 0]).statistic
    assert ks - 1e-12 <= exact_ks <= ks + oc.ks_bin_bound(e, n) + 1e-12
    # sums are exact whatever the points
    assert oc.brier(whole) == pytest.approx(brier_score_loss(y, s), rel=1e-9)
    # a cut is an edge: decisions and grades per point are every member's
    members = cells.points.members()
    approved = bt.assign_grades(members, (oc.decision_cut(threshold), 1.0)) == 1
    assert whole["events"].to_numpy()[approved].sum() + whole["nonevents"].to_numpy()[approved].sum() == (
        s < threshold).sum()
    assert whole["loss"].to_numpy()[approved].sum() == pytest.approx(
        (s * frame["ead"] * frame["lgd"]).to_numpy()[s < threshold].sum(), rel=1e-9)
    grade = bt.assign_grades(members, (0.05, 0.2, 1.0))
    rows = (whole["events"] + whole["nonevents"]).to_numpy()
    np.testing.assert_array_equal(np.bincount(grade, weights=rows, minlength=4)[1:],
                                  np.bincount(bt.assign_grades(s, (0.05, 0.2, 1.0)), minlength=4)[1:])


def test_batches_do_not_change_the_cells() -> None:
    frame = _frame(30_000, 3)
    whole, cut = _cells(frame, 30_000), _cells(frame, 4_001)
    for slicer in ("", "region"):
        a, b = whole.tables[slicer].sort_index(), cut.tables[slicer].sort_index()
        pd.testing.assert_frame_equal(a, b, rtol=1e-12)


@pytest.mark.parametrize("decimals", [None, 2])
def test_order_statistics_and_deciles_are_np_quantiles(decimals: int | None) -> None:
    frame = _frame(50_000, 4, decimals=decimals)
    sample = _sample(frame, 6_000)
    scan = score_scan(sample, "pd")
    ranks = np.array([0, 1, 4_999, 25_000, 49_998, 49_999])
    np.testing.assert_array_equal(order_statistics(sample, "pd", scan, ranks), np.sort(frame["pd"])[ranks])
    deciles = bt.type7_quantiles(len(frame), bt.DECILES, lambda r: order_statistics(sample, "pd", scan, r))
    np.testing.assert_array_equal(deciles, np.quantile(frame["pd"], bt.DECILES))
    assert bt.grades_at(deciles) == bt.decile_grades(frame["pd"])


def test_small_keys_pool_and_missing_keys_are_left_out() -> None:
    frame = _frame(2_000, 5, decimals=2)
    frame.loc[:2, "region"] = "west"  # three rows
    frame.loc[3:9, "region"] = None
    cells = _cells(frame, 700)
    keys = cells.keys("region")
    assert keys["west"] == 3 and sum(keys.values()) == len(frame) - 7
    cells.relabel("region", {"west": "(pooled)", "east": "(pooled)"})
    assert cells.keys("region")["(pooled)"] == 3 + int((frame["region"] == "east").sum())


def test_cap_points_start_at_zero_and_capture_every_default() -> None:
    frame = _frame(5_000, 6, decimals=3)
    population, captured = oc.cap_points(_cells(frame, 5_000).dense())
    expected_population, expected_captured = bt.cap_curve(frame["y"], frame["pd"])
    assert (population[0], captured[0], population[-1], captured[-1]) == (0.0, 0.0, 1.0, 1.0)
    # the same curve: at each of its points the rows' curve (riskiest first) is as high
    assert np.interp(0.2, population, captured) == pytest.approx(
        np.interp(0.2, expected_population, expected_captured), abs=0.01)
    assert (np.diff(captured) >= 0).all() and (np.diff(population) > 0).all()


def test_order_statistics_through_a_heap_of_equal_scores() -> None:
    """A PD floor shared by 40% of the rows: the deciles inside it are exact, and the heap is held
    as one value with its count, not as its rows."""
    frame = _frame(60_000, 8)
    frame.loc[frame.index[::5], "pd"] = 0.0003
    frame.loc[frame.index[1::5], "pd"] = 0.0003
    sample = _sample(frame, 7_000)
    scan = score_scan(sample, "pd")
    assert scan.values is None  # more distinct scores than are counted one by one
    deciles = bt.type7_quantiles(len(frame), bt.DECILES, lambda r: order_statistics(sample, "pd", scan, r))
    np.testing.assert_array_equal(deciles, np.quantile(frame["pd"], bt.DECILES))


def test_a_slicer_of_more_keys_than_allowed_is_refused_not_counted() -> None:
    """An identifier given as a slice: refused as soon as a batch (or a merge) passes the limit,
    before its cells (keys x points) fill memory."""
    frame = _frame(3_000, 9, decimals=3)
    frame["region"] = np.arange(len(frame)).astype(str)  # every row its own key
    sample = _sample(frame, 500)
    points = oc.ScorePoints.of(score_scan(sample, "pd"))
    with pytest.raises(oc.TooManyKeys) as caught:
        outcome_cells(sample, score="pd", target="y", points=points, columns=["region"],
                      keys={"region": lambda f: f["region"]}, max_keys={"region": 800})
    assert (caught.value.slicer, caught.value.limit) == ("region", 800) and caught.value.count > 800
    few = outcome_cells(sample, score="pd", target="y", points=points, columns=["region"],
                        keys={"region": lambda f: f["region"].str[-1]}, max_keys={"region": 10})
    assert len(few.keys("region")) == 10
