"""The scan test of VaR exceptions bunched in a window (validation.metrics.scan), against brute
force: every placement of the exceptions enumerated, and a double loop over the windows."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from validation.metrics import backtesting as bt
from validation.metrics.scan import exception_scan_test, window_maximum


def test_window_maximum_matches_a_double_loop() -> None:
    rng = np.random.default_rng(1)
    hits = (rng.random((30, 80)) < 0.1).astype(np.int64)
    for window in (2, 5, 17, 79):
        brute = [max(int(row[t:t + window].sum()) for t in range(len(row) - window + 1)) for row in hits]
        assert window_maximum(hits, window).tolist() == brute


def test_the_p_value_matches_the_exact_null_distribution() -> None:
    """Brute force: all C(16, 4) = 1,820 placements of 4 exceptions in 16 days; the exact
    P(max count in 5 days >= 3) against the Monte Carlo p-value, within 4 standard errors."""
    days, n, window = 16, 4, 5
    hits = np.zeros(days, dtype=np.int64)
    hits[[2, 4, 6, 13]] = 1  # three exceptions in 5 days
    placements = np.zeros((math.comb(days, n), days), dtype=np.int64)
    for row, chosen in enumerate(itertools.combinations(range(days), n)):
        placements[row, list(chosen)] = 1
    exact = float(np.mean(window_maximum(placements, window) >= 3))
    result = exception_scan_test(hits, window)
    assert result.most == 3 and result.expected == pytest.approx(n * window / days)
    assert result.pvalue == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20_000) + 1e-4)


def test_the_demo_stress_window_is_seen_where_christoffersen_sees_nothing() -> None:
    """Issue 17, labels: 6 of 12 exceptions in one 60-day stress window and none on consecutive days
    passed Christoffersen's test. The scan test, conditional on the 12 exceptions, flags it."""
    hits = np.zeros(500, dtype=np.int64)
    hits[[6, 79, 104, 231, 325, 331, 333, 353, 358, 362, 383, 477]] = 1  # the demo desk's exceptions
    assert bt.christoffersen_pvalue(hits) > 0.05
    result = exception_scan_test(hits, 60)
    assert result.most == 7 and result.pvalue < 0.01 and result.ratio > 2


def test_the_test_is_valid_on_random_days() -> None:
    """Under the null (exceptions on random days) a valid p-value has P(p <= a) <= a. The scan
    statistic is a small whole number, so the test is conservative: 300 seeded samples of 10
    exceptions in 500 days, measured 1% flagged at 5% and 7% at 10%; each share must stay within
    a binomial 99% margin of its level."""
    rng = np.random.default_rng(7)
    pvalues = []
    for _ in range(300):
        hits = np.zeros(500, dtype=np.int64)
        hits[rng.choice(500, size=10, replace=False)] = 1
        pvalues.append(exception_scan_test(hits, 60, draws=2_000).pvalue)
    for level in (0.05, 0.10, 0.50):
        assert np.mean(np.array(pvalues) <= level) <= level + 2.58 * math.sqrt(level * (1 - level) / 300)


def test_too_few_exceptions_or_too_long_a_window_are_undefined() -> None:
    one = np.zeros(100, dtype=np.int64)
    one[5] = 1
    assert math.isnan(exception_scan_test(one, 20).pvalue)
    assert math.isnan(exception_scan_test(np.ones(10, dtype=np.int64), 10).pvalue)


def test_the_var_backtest_reports_it_in_the_clustering_cause() -> None:
    pnl = np.zeros(500)
    pnl[[6, 79, 104, 231, 325, 331, 333, 353, 358, 362, 383, 477]] = -10.0
    result = bt.var_backtest(pnl, np.ones(500), 0.99, scan_window=60)
    found = {f["metric"]: f for f in bt.var_findings(result, level=0.99)}
    scan = found["exception_scan_pvalue"]
    assert scan["cause"] == found["christoffersen_pvalue"]["cause"] == "exception clustering"
    assert scan["effect"] == pytest.approx(7 / (12 * 60 / 500))
    assert "7 exceptions in 60 days at most" in scan["note"]


def test_the_densest_window_matches_a_double_loop() -> None:
    """Reference: every window of ``w`` days counted by a double loop; the earliest with the most
    exceptions, narrowed to its first and last exception."""
    from validation.metrics.scan import densest_window

    rng = np.random.default_rng(7)
    for _ in range(40):
        days = int(rng.integers(20, 120))
        hits = (rng.random(days) < 0.12).astype(np.int64)
        window = int(rng.integers(2, days))
        counts = [int(hits[t:t + window].sum()) for t in range(days - window + 1)]
        found = densest_window(hits, window)
        if max(counts) < 2:
            assert found is None
            continue
        first = counts.index(max(counts))
        inside = [t for t in range(first, first + window) if hits[t]]
        assert found is not None
        assert (found.start, found.end, found.exceptions, found.window) == (inside[0], inside[-1], max(counts), window)
        assert found.exceptions == exception_scan_test(hits, window, draws=10).most


def test_no_densest_window_without_room_or_exceptions() -> None:
    from validation.metrics.scan import densest_window

    assert densest_window(np.array([1, 1, 0]), 3) is None  # a window no shorter than the sample
    assert densest_window(np.array([1, 0, 0, 0, 0, 1]), 3) is None  # at most one exception per window
