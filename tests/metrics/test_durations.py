"""Christoffersen-Pelletier duration test against scipy, closed forms, brute force and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from validation.judging.policy import DEFAULT_POLICY
from validation.metrics import backtesting as bt
from validation.metrics import durations as dur


def _hits(days: int, exceptions: list[int]) -> np.ndarray:
    hits = np.zeros(days, dtype=int)
    hits[exceptions] = 1
    return hits


def _scipy_loglik(d: np.ndarray, c: np.ndarray, rate: float, shape: float) -> float:
    """The censored Weibull log-likelihood from scipy's own density and survival (scale = 1/rate)."""
    law = stats.weibull_min(shape, scale=1.0 / rate)
    return float(law.logpdf(d[~c]).sum() + law.logsf(d[c]).sum())


def _brute_force_fit(d: np.ndarray, c: np.ndarray) -> tuple[float, float, float]:
    """(rate, shape, max log-likelihood) by Nelder-Mead on both parameters (log scale)."""
    result = optimize.minimize(lambda x: -_scipy_loglik(d, c, math.exp(x[0]), math.exp(x[1])),
                               x0=[math.log(1 / d.mean()), 0.0], method="Nelder-Mead",
                               options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000})
    return math.exp(result.x[0]), math.exp(result.x[1]), -float(result.fun)


@pytest.mark.parametrize(("exceptions", "durations", "censored"), [
    ([2, 4], [3, 2, 2], [True, False, True]),          # both ends censored (days 3 and 5 of 7)
    ([0, 4, 6], [4, 2], [False, False]),               # starts and ends with an exception: none censored
    ([0, 3], [3, 3], [False, True]),                   # only the last spell censored
    ([6], [7], [True]),                                # one exception on the last day
])
def test_spells_by_hand(exceptions: list[int], durations: list[float], censored: list[bool]) -> None:
    d, c = dur.spells(_hits(7, exceptions))
    assert d.tolist() == durations and c.tolist() == censored


def test_no_exception_no_spell_and_bad_hits_refused() -> None:
    d, c = dur.spells(np.zeros(10))
    assert len(d) == 0 and len(c) == 0
    with pytest.raises(ValueError, match="got an array of shape"):
        dur.spells(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"0 \(no exception\) or 1 \(an exception\) on each day, got 2"):
        dur.spells(np.array([0, 1, 2]))


def test_loglik_matches_scipy_weibull() -> None:
    d = np.array([7.0, 20.0, 3.0, 45.0, 12.0])
    c = np.array([True, False, False, False, True])
    for rate, shape in ((0.05, 1.0), (0.02, 0.6), (0.1, 1.7)):
        assert dur.weibull_loglik(d, c, rate, shape) == pytest.approx(_scipy_loglik(d, c, rate, shape), rel=1e-12)


def test_exponential_fit_is_the_closed_form_rate() -> None:
    hits = _hits(300, [20, 35, 90, 91, 150, 260])
    d, c = dur.spells(hits)
    rate, shape = dur.fit_weibull(d, c, shape=1.0)
    # exponential MLE with censoring: complete durations over total exposure (5 complete, 300 days in all)
    assert shape == 1.0 and rate == pytest.approx(5 / d.sum(), rel=1e-12)
    assert d.sum() == 21 + 15 + 55 + 1 + 59 + 110 + 39  # spells add up to the days, the first counted from day 0
    best = optimize.minimize_scalar(lambda a: -_scipy_loglik(d, c, a, 1.0), bounds=(1e-4, 1.0), method="bounded",
                                    options={"xatol": 1e-12})
    assert rate == pytest.approx(best.x, rel=1e-6)


def test_uncensored_fit_matches_scipy_weibull_min_fit() -> None:
    # starts and ends with an exception: every duration is complete
    hits = _hits(400, [0, 3, 40, 41, 90, 170, 172, 180, 260, 399])
    d, c = dur.spells(hits)
    assert not c.any()
    rate, shape = dur.fit_weibull(d, c)
    ref_shape, _, ref_scale = stats.weibull_min.fit(d, floc=0)
    assert shape == pytest.approx(ref_shape, rel=1e-5)
    assert 1 / rate == pytest.approx(ref_scale, rel=1e-5)


def test_censored_fit_and_statistic_match_brute_force() -> None:
    hits = _hits(500, [47, 114, 130, 181, 300, 302, 304, 306, 308, 310, 418, 424])
    d, c = dur.spells(hits)
    rate, shape = dur.fit_weibull(d, c)
    ref_rate, ref_shape, ref_max = _brute_force_fit(d, c)
    assert shape == pytest.approx(ref_shape, rel=1e-5) and rate == pytest.approx(ref_rate, rel=1e-5)
    exponential = optimize.minimize_scalar(lambda a: -_scipy_loglik(d, c, a, 1.0), bounds=(1e-4, 1.0),
                                           method="bounded", options={"xatol": 1e-12})
    lr = 2 * (ref_max + exponential.fun)
    result = dur.duration_independence_test(hits)
    assert result.statistic == pytest.approx(lr, rel=1e-6)
    assert result.pvalue == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-5)
    assert result.durations == 13


@pytest.mark.parametrize("exceptions", [[], [250], [0, 499], [100, 200]])
def test_too_few_exceptions_give_nan(exceptions: list[int]) -> None:
    result = dur.duration_independence_test(_hits(500, exceptions))
    assert math.isnan(result.statistic) and math.isnan(result.pvalue) and math.isnan(result.shape)
    assert result.durations == len(dur.spells(_hits(500, exceptions))[0])


def test_three_exceptions_are_enough() -> None:
    result = dur.duration_independence_test(_hits(500, [100, 130, 300]))
    assert math.isfinite(result.pvalue) and math.isfinite(result.shape) and result.durations == 4


def test_size_on_independent_exceptions() -> None:
    # iid Bernoulli(0.01) over 1,000 days (about ten exceptions), 2,000 seeded samples.
    # The asymptotic chi-square is oversized with so few durations (Christoffersen and Pelletier 2004,
    # section 4, use Monte Carlo p-values for this reason): measured 7.8%, almost all of it from a
    # shape above 1 (the shape MLE is biased upwards in small samples). Tolerance: 4% to 10%.
    # Clustering (p < 0.05 with a shape at or below the policy's materiality bound) is a false alarm in
    # about 1% of samples: at most 2.5% here.
    rng = np.random.default_rng(17)
    results = [dur.duration_independence_test(h) for h in rng.random((2000, 1000)) < 0.01]
    p = np.array([r.pvalue for r in results])
    shape = np.array([r.shape for r in results])
    assert np.isnan(p).mean() < 0.01  # fewer than three exceptions in 1,000 days is rare
    rejected = np.nan_to_num(p, nan=1.0) < 0.05
    assert 0.04 <= rejected.mean() <= 0.10
    material = DEFAULT_POLICY["duration_independence_pvalue"].immaterial
    assert material is not None
    assert (rejected & (shape <= material[0])).mean() <= 0.025


def test_stress_window_is_seen_where_christoffersen_is_not() -> None:
    # issue 17: 12 exceptions in 500 days, 6 of them in one 60-day stress window (every other day from
    # day 300), none on consecutive days: Christoffersen's Markov test counts no exception after an
    # exception and sees nothing; the durations (2 days in the window, up to 108 elsewhere) are clustered
    hits = _hits(500, [47, 114, 130, 181, 300, 302, 304, 306, 308, 310, 418, 424])
    assert not (hits[1:] & hits[:-1]).any()
    result = dur.duration_independence_test(hits)
    christoffersen = bt.christoffersen_pvalue(hits)
    assert result.pvalue < 0.05 and result.shape < 1
    assert christoffersen > 0.4
    assert result.pvalue == pytest.approx(0.0348, abs=1e-4) and christoffersen == pytest.approx(0.4419, abs=1e-4)


def test_power_on_stress_windows_against_christoffersen() -> None:
    # the same stress window, the six calm-period exceptions placed at random outside it (200 seeds):
    # the duration test rejects in most samples, Christoffersen's in almost none
    outside = np.r_[0:300, 360:500]
    duration_p, markov_p = [], []
    for seed in range(200):
        calm = np.random.default_rng(seed).choice(outside, 6, replace=False)
        hits = _hits(500, [*calm, *range(300, 312, 2)])
        duration_p.append(dur.duration_independence_test(hits).pvalue)
        markov_p.append(bt.christoffersen_pvalue(hits))
    assert np.mean(np.array(duration_p) < 0.05) > 0.5
    assert np.mean(np.array(markov_p) < 0.05) < 0.05
