"""Outcomes analysis (backtesting) of PD models and VaR models.

PD / classification models are judged on the current sample against observed outcomes
(``y = 1`` an event, e.g. a default). Sources: ECB, *Instructions for reporting the validation
results of internal models, IRB Pillar I models for credit risk* (2019), section 2.5 (PD):
2.5.3.1 (Jeffreys test per grade and portfolio), 2.5.4.1 (current against initial AUC) and 2.5.5.3
(concentration in rating grades); Hosmer & Lemeshow, *Applied Logistic Regression* (2000);
DeLong, DeLong & Clarke-Pearson (1988), computed as in Sun & Xu (2014), "Fast implementation of
DeLong's algorithm".

VaR models: Kupiec (1995) proportion-of-failures test, Christoffersen (1998) independence and
conditional coverage tests, Christoffersen & Pelletier (2004) duration test
(:mod:`validation.metrics.durations`), Basel Committee (1996) traffic-light zones.

Every test's finding carries its effect size (``effect``) beside its p-value, in the unit its rule
names (:data:`validation.judging.policy.DEFAULT_POLICY`), and the family its p-value is adjusted in
for multiplicity (``family``): ``grade`` for the grades of the master scale, ``period`` for the
periods, the segment column's name for a segment's values; a portfolio-level test has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from validation.judging.policy import BASEL_ZONE_PROBABILITIES
from scipy.special import xlogy
from sklearn.metrics import brier_score_loss, roc_auc_score


def _as_arrays(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=np.int64)
    s_arr = np.asarray(score, dtype=float)
    if y_arr.shape != s_arr.shape:
        raise ValueError(f"outcomes and scores differ in length: {y_arr.shape} vs {s_arr.shape}")
    return y_arr, s_arr


def delong_components(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components of one score, from mid-ranks.

    With ``m`` events ``X`` and ``n`` non-events ``Y``, ``V10_i = mean_j psi(X_i, Y_j)`` (the share
    of non-events an event outranks) and ``V01_j = mean_i psi(X_i, Y_j)`` (the share of events that
    outrank a non-event), ``psi`` = 1 if ``x > y``, 1/2 if equal, else 0. From mid-ranks (Sun & Xu
    2014): ``V10_i = (R_i - R^X_i) / n`` and ``V01_j = 1 - (R_{m+j} - R^Y_j) / m``, ``R`` the
    mid-ranks in the pooled sample, ``R^X``, ``R^Y`` within each class: ``O((m + n) log(m + n))``.
    ``AUC = mean(V10) = mean(V01)``; :func:`auc_delong` gives that AUC and
    ``var(V10) / m + var(V01) / n``; :func:`validation.metrics.comparison.paired_auc_difference` pairs two scores.

    Returns
    -------
    (v10, v01)
        Arrays of length ``m`` and ``n`` (empty when a class is empty).

    Examples
    --------
    >>> v10, v01 = delong_components(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.5, 0.1]))
    >>> v10.tolist(), v01.tolist()
    ([1.0, 0.5], [0.5, 1.0])
    """
    y_arr, s_arr = _as_arrays(y, score)
    positives, negatives = s_arr[y_arr == 1], s_arr[y_arr == 0]
    m, n = len(positives), len(negatives)
    if m == 0 or n == 0:
        return np.empty(0), np.empty(0)
    rank_all = stats.rankdata(np.concatenate([positives, negatives]))
    v10 = (rank_all[:m] - stats.rankdata(positives)) / n
    v01 = 1.0 - (rank_all[m:] - stats.rankdata(negatives)) / m
    return v10, v01


def auc_delong(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> tuple[float, float]:
    """AUC and its DeLong variance.

    With ``m`` events ``X`` and ``n`` non-events ``Y``, the structural components are
    ``V10_i = mean_j psi(X_i, Y_j)`` and ``V01_j = mean_i psi(X_i, Y_j)``, ``psi`` = 1 if
    ``x > y``, 1/2 if equal, else 0; ``AUC = mean(V10)`` and
    ``Var = var(V10)/m + var(V01)/n`` (sample variances). Computed in ``O((m+n) log(m+n))`` from
    mid-ranks (Sun & Xu 2014).

    Returns
    -------
    (auc, variance)
        ``(nan, nan)`` when either class is empty.

    Examples
    --------
    >>> auc, var = auc_delong(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.5, 0.1]))
    >>> auc
    0.75
    """
    v10, v01 = delong_components(y, score)
    m, n = len(v10), len(v01)
    if m == 0 or n == 0:
        return math.nan, math.nan
    auc = float(v10.mean())
    var10 = float(np.var(v10, ddof=1)) if m > 1 else 0.0
    var01 = float(np.var(v01, ddof=1)) if n > 1 else 0.0
    return auc, var10 / m + var01 / n


def auc_change_pvalue(reference_auc: float, current_auc: float, current_variance: float) -> float:
    """ECB test of a deterioration of discriminatory power.

    ``S = (AUC_init - AUC_curr) / s``, ``s^2`` the DeLong variance of the current AUC;
    ``p = 1 - Phi(S)`` (one-sided: a small p-value says the current AUC is significantly lower).
    Source: ECB IRB validation instructions (2019), section 2.5.4.1.

    >>> round(auc_change_pvalue(0.80, 0.75, 0.02 ** 2), 4)   # S = 2.5
    0.0062
    """
    if not math.isfinite(current_variance) or current_variance <= 0:
        return math.nan
    s = (reference_auc - current_auc) / math.sqrt(current_variance)
    return float(stats.norm.sf(s))


@dataclass(frozen=True)
class AucChange:
    """The ECB AUC change test against one reference AUC, and where that AUC comes from.

    Attributes
    ----------
    reference_auc, current_auc
        The AUC the test compares with, and the current sample's.
    pvalue
        :func:`auc_change_pvalue` with the current AUC's DeLong variance.
    source
        Where the reference AUC comes from, for people: ``the reference sample``, or
        ``development (<source>)`` for the spec's ``reference_metrics.auc``.
    judged
        False when the reference cannot bear the test (an in-sample AUC): reported, not judged.
    caveat
        Why it is not judged, when it is not.
    """

    reference_auc: float
    current_auc: float
    pvalue: float
    source: str
    judged: bool = True
    caveat: str | None = None

    @property
    def drop(self) -> float:
        """The test's effect: ``reference - current`` AUC (positive when the AUC fell).

        >>> AucChange(0.80, 0.75, 0.0062, "the reference sample").drop
        0.05...
        """
        return self.reference_auc - self.current_auc


def auc_change(reference_auc: float, discrimination_now: dict[str, float], *, source: str, judged: bool = True,
               caveat: str | None = None) -> AucChange:
    """The ECB AUC change test of the current sample (``discrimination_now``, from
    :func:`discrimination`) against ``reference_auc``, taken from ``source``.

    >>> now = {"auc": 0.75, "auc_se": 0.02}
    >>> round(auc_change(0.80, now, source="the reference sample").pvalue, 4)   # S = 2.5
    0.0062
    """
    pvalue = auc_change_pvalue(reference_auc, discrimination_now["auc"], discrimination_now["auc_se"] ** 2)
    return AucChange(float(reference_auc), float(discrimination_now["auc"]), pvalue, source, judged, caveat)


def ks_statistic(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> float:
    """Kolmogorov-Smirnov distance between the score distributions of events and non-events."""
    y_arr, s_arr = _as_arrays(y, score)
    if (y_arr == 1).sum() == 0 or (y_arr == 0).sum() == 0:
        return math.nan
    return float(stats.ks_2samp(s_arr[y_arr == 1], s_arr[y_arr == 0]).statistic)


def brier(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> float:
    """Brier score ``mean((score - y)^2)`` (``sklearn.metrics.brier_score_loss``)."""
    y_arr, s_arr = _as_arrays(y, score)
    return float(brier_score_loss(y_arr, s_arr))


def discrimination(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> dict[str, float]:
    """AUC (sklearn), its DeLong standard error and 95% CI, Gini = 2 AUC - 1, KS and Brier."""
    y_arr, s_arr = _as_arrays(y, score)
    if len(np.unique(y_arr)) < 2:
        nan = math.nan
        return {"auc": nan, "auc_se": nan, "auc_ci_low": nan, "auc_ci_high": nan, "gini": nan,
                "ks": nan, "brier": brier(y_arr, s_arr)}
    auc = float(roc_auc_score(y_arr, s_arr))
    _, variance = auc_delong(y_arr, s_arr)
    se = math.sqrt(variance)
    z = float(stats.norm.ppf(0.975))
    return {"auc": auc, "auc_se": se, "auc_ci_low": auc - z * se, "auc_ci_high": auc + z * se,
            "gini": 2.0 * auc - 1.0, "ks": ks_statistic(y_arr, s_arr), "brier": brier(y_arr, s_arr)}


DECILES = np.arange(1, 10) / 10
"""The quantiles whose values bound the grades of a score with no master scale."""


def type7_positions(n: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the quantiles ``q`` of ``n`` sorted values lie: ``h = (n - 1) q``, the order
    statistics ``floor(h)`` and the next (0-based, at most ``n - 1``) and the weight ``h - floor(h)``
    of the second (Hyndman & Fan 1996, definition 7: numpy's and R's default).

    >>> [x.tolist() for x in type7_positions(11, np.array([0.25, 1.0]))]
    [[2, 10], [3, 10], [0.5, 0.0]]
    """
    h = (n - 1) * np.asarray(q, dtype=float)
    low = np.floor(h).astype(np.int64)
    return low, np.minimum(low + 1, n - 1), h - low


def type7_quantiles(n: int, q: np.ndarray, order_statistics: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Quantiles ``q`` of ``n`` values from a function giving their order statistics at 0-based
    ranks (``np.partition`` of the values in memory; counts and windows of a sample read in batches):
    ``x_(lo) + w (x_(lo+1) - x_(lo))`` (:func:`type7_positions`), taken from the upper value
    (``x_(lo+1) - (1 - w) (x_(lo+1) - x_(lo))``) when ``w >= 1/2``, as numpy does, so that the
    figures are ``np.quantile``'s to the last bit.

    >>> values = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    >>> type7_quantiles(5, np.array([0.3, 0.5]), lambda r: np.sort(values)[r]).tolist()
    [1.4, 3.0]
    """
    low, high, weight = type7_positions(n, q)
    ranks = np.unique(np.r_[low, high])
    found = dict(zip(ranks.tolist(), np.asarray(order_statistics(ranks), dtype=float).tolist()))
    a = np.array([found[r] for r in low.tolist()])
    b = np.array([found[r] for r in high.tolist()])
    return np.where(weight >= 0.5, b - (b - a) * (1 - weight), a + (b - a) * weight)


def grades_at(quantiles: np.ndarray) -> tuple[float, ...]:
    """Upper bounds of grades at a score's quantiles (ties merged), the last bound 1.0."""
    return tuple(float(b) for b in np.unique(quantiles) if b < 1.0) + (1.0,)


def decile_grades(score: np.ndarray | pd.Series) -> tuple[float, ...]:
    """Upper bounds of grades at the score's deciles (:func:`type7_quantiles`, ties merged), the
    last bound 1.0.

    >>> decile_grades(np.arange(1, 12) / 100)   # 11 values: the deciles are the 2nd to the 10th
    (0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 1.0)
    """
    s = np.asarray(score, dtype=float)
    return grades_at(type7_quantiles(len(s), DECILES, lambda ranks: np.partition(s, ranks)[ranks]))


def assign_grades(score: np.ndarray | pd.Series, upper_bounds: tuple[float, ...]) -> np.ndarray:
    """Grade 1..K of each score: the first grade whose upper bound the score does not exceed.

    >>> assign_grades(np.array([0.004, 0.005, 0.0051, 0.9]), (0.005, 0.01, 1.0)).tolist()
    [1, 1, 2, 3]
    """
    return np.searchsorted(np.asarray(upper_bounds, dtype=float), np.asarray(score, dtype=float),
                           side="left") + 1


def jeffreys_pvalue(pd_estimate: float, n: int, defaults: int) -> float:
    """ECB Jeffreys test: ``p = BetaCDF(PD; D + 1/2, N - D + 1/2)``.

    One-sided: a small p-value says the observed default rate is significantly above the PD
    (the PD underestimates risk). Source: ECB IRB validation instructions (2019), section 2.5.3.1.

    >>> round(jeffreys_pvalue(0.01, 100, 1), 4)   # one default in 100 at PD 1%
    0.4286
    """
    if n <= 0 or pd_estimate <= 0.0:
        return math.nan  # a PD of 0 makes the posterior probability 0 whatever happened: undefined
    return float(stats.beta.cdf(pd_estimate, defaults + 0.5, n - defaults + 0.5))


def jeffreys_two_sided_pvalue(pd_estimate: float, n: int, defaults: int) -> float:
    """Two-sided Jeffreys test of a PD: ``p = min(1, 2 min(F, 1 - F))``, ``F = BetaCDF(PD; D + 1/2,
    N - D + 1/2)``, the posterior of the default rate under Jeffreys' prior (ECB IRB validation
    instructions (2019), section 2.5.3.1, which uses the one-sided ``F``).

    Two-sided, because for a protected group both directions do harm: a PD that overstates the
    group's risk refuses it more often than its defaults warrant, one that understates it hides risk.

    >>> round(jeffreys_two_sided_pvalue(0.01, 100, 1), 4)   # 2 x min(0.42864, 0.57136)
    0.8573
    """
    one_sided = jeffreys_pvalue(pd_estimate, n, defaults)
    if not math.isfinite(one_sided):
        return math.nan
    return float(min(1.0, 2.0 * min(one_sided, 1.0 - one_sided)))


def binomial_pvalue(pd_estimate: float, n: int, defaults: int) -> float:
    """Binomial test of the PD: ``p = P(X >= D)``, ``X ~ Binomial(N, PD)`` (one-sided, as Jeffreys).

    >>> round(binomial_pvalue(0.5, 4, 4), 4)   # 1/16
    0.0625
    """
    if n <= 0:
        return math.nan
    return float(stats.binom.sf(defaults - 1, n, pd_estimate))


def observed_expected(defaults: float, n: float, mean_pd: float) -> float:
    """Observed over expected defaults of a group: ``D / (N PD)``, the effect the Jeffreys and
    binomial tests measure; ``nan`` when nothing is expected (``N PD = 0``).

    >>> observed_expected(13, 1000, 0.01)
    1.3
    """
    expected = n * mean_pd
    return float(defaults / expected) if expected > 0 else math.nan


def grade_table(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series,
                upper_bounds: tuple[float, ...]) -> pd.DataFrame:
    """Calibration per grade: N, defaults, mean PD, observed default rate, observed / expected
    defaults (the tests' effect), Jeffreys and binomial p-values. Grades with no members are left
    out; the index is the grade number (1 = lowest PD).
    """
    y_arr, s_arr = _as_arrays(y, score)
    grades = assign_grades(s_arr, upper_bounds)
    k = len(upper_bounds)
    n = np.bincount(grades, minlength=k + 1)[1:]
    d = np.bincount(grades, weights=y_arr, minlength=k + 1)[1:]
    total_pd = np.bincount(grades, weights=s_arr, minlength=k + 1)[1:]
    return grade_rows(n, d, total_pd, upper_bounds)


def grade_rows(n: np.ndarray, defaults: np.ndarray, total_pd: np.ndarray,
               upper_bounds: tuple[float, ...]) -> pd.DataFrame:
    """:func:`grade_table` from each grade's applicants, defaults and sum of PDs (grades 1..K in
    order): what a sample read in batches counts (:mod:`validation.metrics.outcome_cells`)."""
    rows = []
    lower = 0.0
    for index in range(len(upper_bounds)):
        if n[index] > 0:
            mean_pd = total_pd[index] / n[index]
            count = int(round(float(n[index])))
            d = int(round(float(defaults[index])))
            rows.append({
                "grade": index + 1,
                "pd_from": lower,
                "pd_to": upper_bounds[index],
                "n": count,
                "defaults": d,
                "pd": float(mean_pd),
                "odr": d / count,
                "observed_expected_ratio": observed_expected(d, count, float(mean_pd)),
                "jeffreys_pvalue": jeffreys_pvalue(mean_pd, count, d),
                "binomial_pvalue": binomial_pvalue(mean_pd, count, d),
            })
        lower = upper_bounds[index]
    return pd.DataFrame(rows).set_index("grade")


@dataclass(frozen=True)
class HosmerLemeshow:
    statistic: float
    dof: int
    pvalue: float
    sparse_grades: int = 0
    """Grades with fewer than 5 expected defaults (or non-defaults), where the chi-square
    approximation is poor."""
    misplaced_share: float = math.nan
    """The test's effect: ``sum_k |D_k - N_k PD_k| / sum_k N_k PD_k`` over the same grades, the
    share of the expected defaults that the grades misplace (0 when every grade is exact)."""


MIN_EXPECTED_COUNT = 5
"""Expected counts below this make a chi-square approximation unreliable (Cochran 1954's rule of
thumb): Hosmer-Lemeshow says how many grades fall short."""


def hosmer_lemeshow(table: pd.DataFrame) -> HosmerLemeshow:
    """Hosmer-Lemeshow test over grades, out of sample: ``K`` degrees of freedom.

    ``HL = sum_k (D_k - N_k PD_k)^2 / (N_k PD_k (1 - PD_k))`` over the ``K`` grades with members
    and ``0 < PD_k < 1``; ``p = 1 - chi2_K(HL)``. Out of sample the PDs are not fitted to these
    data, hence ``K`` (not ``K - 2``) degrees of freedom (Hosmer & Lemeshow 2000, section 5.2.2).
    Its effect (:attr:`HosmerLemeshow.misplaced_share`) is ``sum_k |D_k - E_k| / sum_k E_k``,
    ``E_k = N_k PD_k``: at 200,000 rows a misplacement of 2% of the defaults is significant, and
    the effect says it is small.

    Parameters
    ----------
    table
        A :func:`grade_table` (columns ``n``, ``defaults``, ``pd``).
    """
    usable = table[(table["pd"] > 0) & (table["pd"] < 1) & (table["n"] > 0)]
    expected = usable["n"] * usable["pd"]
    variance = expected * (1 - usable["pd"])
    statistic = float((((usable["defaults"] - expected) ** 2) / variance).sum())
    dof = int(len(usable))
    pvalue = float(stats.chi2.sf(statistic, dof)) if dof else math.nan
    sparse = int(((expected < MIN_EXPECTED_COUNT) | (usable["n"] - expected < MIN_EXPECTED_COUNT)).sum())
    total = float(expected.sum())
    misplaced = float((usable["defaults"] - expected).abs().sum()) / total if total > 0 else math.nan
    return HosmerLemeshow(statistic, dof, pvalue, sparse, misplaced)


# --- VaR backtesting -------------------------------------------------------------------------


def var_exceptions(pnl: np.ndarray | pd.Series, var: np.ndarray | pd.Series) -> np.ndarray:
    """Exception indicators: a day is an exception when ``pnl < -var`` (VaR a positive loss)."""
    return (np.asarray(pnl, dtype=float) < -np.asarray(var, dtype=float)).astype(np.int64)


def kupiec_lr(exceptions: int, days: int, level: float) -> float:
    """Kupiec (1995) proportion-of-failures likelihood ratio.

    ``LR_pof = -2 ln[(1-p)^(T-x) p^x] + 2 ln[(1-x/T)^(T-x) (x/T)^x]``, ``p = 1 - level``, ``x``
    exceptions in ``T`` days; ``nan`` without days.

    >>> round(kupiec_lr(6, 252, 0.99), 3)   # Jorion (2007), chapter 6, question 10: 3.498
    3.499
    """
    p = 1.0 - level
    x, t = exceptions, days
    if t <= 0:
        return math.nan
    rate = x / t
    null = xlogy(t - x, 1 - p) + xlogy(x, p)
    alternative = xlogy(t - x, 1 - rate) + xlogy(x, rate)
    return float(max(-2.0 * (null - alternative), 0.0))


def kupiec_pvalue(exceptions: int, days: int, level: float) -> float:
    """Kupiec (1995) proportion-of-failures test: ``p-value = 1 - chi2_1(LR_pof)`` (two-sided in the
    exception rate), ``LR_pof`` from :func:`kupiec_lr`.

    >>> round(kupiec_pvalue(2, 250, 0.99), 4)
    0.7419
    """
    lr = kupiec_lr(exceptions, days, level)
    return float(stats.chi2.sf(lr, 1)) if math.isfinite(lr) else math.nan


def independence_lr(hits: np.ndarray | pd.Series) -> float:
    """Christoffersen (1998) likelihood ratio of independence of exceptions.

    From the transition counts ``n_ij`` (day t-1 in state i, day t in state j, over the ``T - 1``
    consecutive pairs of days), ``pi0 = n01 / (n00 + n01)``, ``pi1 = n11 / (n10 + n11)`` and
    ``pi = (n01 + n11) / (T - 1)``:
    ``LR_ind = -2 ln[(1 - pi)^(n00 + n10) pi^(n01 + n11)] + 2 ln[(1 - pi0)^n00 pi0^n01 (1 - pi1)^n10 pi1^n11]``.
    ``nan`` for fewer than two days.
    """
    h = np.asarray(hits, dtype=np.int64)
    prev, curr = h[:-1], h[1:]
    n00 = int(((prev == 0) & (curr == 0)).sum())
    n01 = int(((prev == 0) & (curr == 1)).sum())
    n10 = int(((prev == 1) & (curr == 0)).sum())
    n11 = int(((prev == 1) & (curr == 1)).sum())
    total = n00 + n01 + n10 + n11
    if total == 0:
        return math.nan
    pi = (n01 + n11) / total
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    null = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
    alternative = xlogy(n00, 1 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1 - pi1) + xlogy(n11, pi1)
    return float(max(-2.0 * (null - alternative), 0.0))


def exception_clustering_ratio(hits: np.ndarray | pd.Series) -> float:
    """The effect of Christoffersen's independence test: ``pi1 / pi0``, the probability of an
    exception the day after an exception over that after a day without.

    ``pi1 = n11 / (n10 + n11)`` and ``pi0 = n01 / (n00 + n01)`` from the day-to-day transition
    counts (:func:`independence_lr`). 1 when exceptions are independent; 2 says an exception is
    twice as likely right after another.

    Conventions where a probability is undefined or zero:

    - ``nan`` (undefined) when no exception is followed by another day (no exception, or only on
      the last day: ``pi1`` has no days to be measured on), or when fewer than two days;
    - ``nan`` when no day follows a quiet day (``pi0`` unmeasured), or when both are 0 (no exception
      follows any day: nothing to compare);
    - ``inf`` when exceptions come only right after exceptions (``pi0 = 0 < pi1``): a finding
      shows it as ``null`` and is judged on its p-value alone;
    - ``0`` when no exception follows an exception (``pi1 = 0 < pi0``): no clustering at all.

    >>> exception_clustering_ratio(np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0]))   # pi1 = 1/3, pi0 = 2/6
    1.0
    >>> exception_clustering_ratio(np.array([0, 0, 0, 0]))
    nan
    """
    h = np.asarray(hits, dtype=np.int64)
    prev, curr = h[:-1], h[1:]
    after_hit = int((prev == 1).sum())
    after_quiet = int((prev == 0).sum())
    if after_hit == 0 or after_quiet == 0:
        return math.nan
    pi1 = int(((prev == 1) & (curr == 1)).sum()) / after_hit
    pi0 = int(((prev == 0) & (curr == 1)).sum()) / after_quiet
    if pi0 == 0:
        return math.inf if pi1 > 0 else math.nan
    return pi1 / pi0


def christoffersen_pvalue(hits: np.ndarray | pd.Series) -> float:
    """Christoffersen (1998) test of independence of exceptions (first-order Markov alternative):
    ``p = 1 - chi2_1(LR_ind)``, ``LR_ind`` from :func:`independence_lr`."""
    lr = independence_lr(hits)
    return float(stats.chi2.sf(lr, 1)) if math.isfinite(lr) else math.nan


def conditional_coverage_pvalue(hits: np.ndarray | pd.Series, level: float) -> float:
    """Christoffersen (1998) conditional coverage: ``LR_cc = LR_pof + LR_ind`` with 2 degrees of
    freedom, ``LR_pof`` the Kupiec statistic on all the days and ``LR_ind`` on their transitions."""
    h = np.asarray(hits, dtype=np.int64)
    lr = kupiec_lr(int(h.sum()), len(h), level) + independence_lr(h)
    return float(stats.chi2.sf(lr, 2)) if math.isfinite(lr) else math.nan


BASEL_DAYS = 250
"""The Basel window: zones and plus factors are defined on the last 250 business days (Basel
Committee 1996)."""


def basel_zone(exceptions: int, days: int, level: float) -> str:
    """Basel traffic-light zone from ``F = BinomialCDF(exceptions; days, 1 - level)``: green below
    the first of :data:`~validation.judging.policy.BASEL_ZONE_PROBABILITIES` (0.95), yellow below
    the second (0.9999), else red (Basel Committee 1996, table 2).

    >>> [basel_zone(x, 250, 0.99) for x in (4, 5, 9, 10)]
    ['green', 'yellow', 'yellow', 'red']
    """
    yellow, red = BASEL_ZONE_PROBABILITIES
    f = float(stats.binom.cdf(exceptions, days, 1.0 - level))
    if f < yellow:
        return "green"
    if f < red:
        return "yellow"
    return "red"


def basel_zone_starts(days: int, level: float) -> tuple[int, int]:
    """The fewest exceptions in ``days`` days that reach the yellow and the red zone.

    >>> basel_zone_starts(250, 0.99)
    (5, 10)
    """
    yellow, red = BASEL_ZONE_PROBABILITIES
    counts = np.arange(days + 1)
    f = stats.binom.cdf(counts, days, 1.0 - level)
    first = [int(counts[np.argmax(f >= bound)]) if (f >= bound).any() else days + 1 for bound in (yellow, red)]
    return first[0], first[1]


def _shown(value: float) -> str:
    """A number to four decimals for a note, ``undefined`` when it is not finite."""
    return f"{value:.4f}" if math.isfinite(value) else "undefined"


def classification_findings(discrimination_now: dict[str, float], grades: pd.DataFrame,
                            hl: HosmerLemeshow, *, portfolio_pd: float, portfolio_n: int,
                            portfolio_defaults: int, auc_change: AucChange) -> list[dict[str, object]]:
    """Findings of a PD backtest: discrimination, the AUC change test, Hosmer-Lemeshow, and
    Jeffreys and binomial p-values per grade (family ``grade``) and for the portfolio (no family),
    each test with its effect: the AUC drop, the share of defaults misplaced over the grades,
    observed / expected defaults. A grade's two tests share its cause (``grade:<n>``), so that a
    spec judging the binomial test too counts a grade once."""
    from validation.judging.findings import finding

    portfolio_oe = observed_expected(portfolio_defaults, portfolio_n, portfolio_pd)
    items: list[dict[str, object]] = [
        finding("auc", "score", discrimination_now["auc"],
                note=f"95% CI {discrimination_now['auc_ci_low']:.3f} to {discrimination_now['auc_ci_high']:.3f} (DeLong)"
                if math.isfinite(discrimination_now["auc_se"]) else None),
        finding("gini", "score", discrimination_now["gini"]),
        finding("ks", "score", discrimination_now["ks"]),
        finding("brier", "score", discrimination_now["brier"]),
        finding("auc_change_pvalue", "score", auc_change.pvalue, judged=auc_change.judged,
                effect=auc_change.drop,
                note="; ".join(part for part in (
                    f"reference AUC {_shown(auc_change.reference_auc)} ({auc_change.source}), "
                    f"current {_shown(auc_change.current_auc)}", auc_change.caveat) if part)),
        finding("hosmer_lemeshow_pvalue", "portfolio", hl.pvalue, effect=hl.misplaced_share,
                note=f"HL = {hl.statistic:.2f} on {hl.dof} degrees of freedom"
                + (f"; {hl.sparse_grades} of the grades expect fewer than 5 defaults or non-defaults, "
                   "where the chi-square approximation is rough" if hl.sparse_grades else "")),
        finding("jeffreys_pvalue", "portfolio", jeffreys_pvalue(portfolio_pd, portfolio_n, portfolio_defaults),
                effect=portfolio_oe, cause="portfolio calibration",
                note=f"PD {portfolio_pd:.4f}, {portfolio_defaults} defaults in {portfolio_n}"),
        finding("binomial_pvalue", "portfolio", binomial_pvalue(portfolio_pd, portfolio_n, portfolio_defaults),
                effect=portfolio_oe, cause="portfolio calibration"),
    ]
    for grade, row in grades.iterrows():
        subject = f"grade:{grade}"
        note = f"PD {row['pd']:.4f}, {int(row['defaults'])} defaults in {int(row['n'])}"
        if row["pd"] <= 0:
            note += "; undefined at a PD of 0 (any default at all contradicts it)"
        effect = observed_expected(row["defaults"], row["n"], row["pd"])
        items.append(finding("jeffreys_pvalue", subject, row["jeffreys_pvalue"], note=note, effect=effect,
                             family="grade", cause=subject))
        items.append(finding("binomial_pvalue", subject, row["binomial_pvalue"], effect=effect, family="grade",
                             cause=subject))
    return items


# --- further calibration and concentration tests (issue 6) --------------------------------------


def spiegelhalter_pvalue(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> float:
    """Spiegelhalter (1986) test of calibration of individual PDs, two-sided.

    ``z = sum (y_i - p_i)(1 - 2 p_i) / sqrt(sum (1 - 2 p_i)^2 p_i (1 - p_i))``; under perfect
    calibration ``z ~ N(0, 1)``; ``p = 2 (1 - Phi(|z|))``.
    """
    y_arr, p = _as_arrays(y, score)
    variance = float(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    if variance <= 0:
        return math.nan
    z = float(np.sum((y_arr - p) * (1 - 2 * p))) / math.sqrt(variance)
    return float(2 * stats.norm.sf(abs(z)))


def brier_excess(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> float:
    """The Spiegelhalter test's effect: the relative excess of the Brier score over its expectation
    under calibration, ``(B - E0[B]) / E0[B]``.

    ``B = mean (y_i - p_i)^2`` and, when every ``y_i ~ Bernoulli(p_i)``,
    ``E0[B] = mean p_i (1 - p_i)``; for 0/1 outcomes ``B - E0[B] = mean (y_i - p_i)(1 - 2 p_i)``,
    the numerator of Spiegelhalter's z (Spiegelhalter 1986). 0 for calibrated PDs; 0.10 says the
    Brier score is a tenth worse than calibrated PDs would give. ``nan`` when ``E0[B] = 0`` (every
    PD 0 or 1).

    >>> round(brier_excess(np.array([1, 0]), np.array([0.5, 0.5])), 6)   # B = E0[B] = 0.25
    0.0
    """
    y_arr, p = _as_arrays(y, score)
    expected = float(np.mean(p * (1 - p)))
    if expected <= 0:
        return math.nan
    return float(np.mean((y_arr - p) * (1 - 2 * p))) / expected


def observed_expected_ratio(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> float:
    """Observed defaults over expected defaults: ``sum y / sum p``."""
    y_arr, p = _as_arrays(y, score)
    expected = float(p.sum())
    return float(y_arr.sum()) / expected if expected > 0 else math.nan


def herfindahl(counts: np.ndarray) -> tuple[float, float]:
    """Concentration of a grade distribution: ``(HI, CV)``.

    ``R_i = N_i / N`` over the ``K`` grades, ``CV = sqrt(K sum (R_i - 1/K)^2)`` and
    ``HI = 1 + ln((CV^2 + 1) / K) / ln K`` (0 when all grades hold the same share, 1 when one grade
    holds everything). Source: ECB IRB validation instructions (2019), section 2.5.5.3.

    >>> [round(x, 6) for x in herfindahl(np.array([25, 25, 25, 25]))]
    [0.0, 0.0]
    """
    k = len(counts)
    shares = np.asarray(counts, dtype=float) / float(np.sum(counts))
    cv = math.sqrt(k * float(np.sum((shares - 1 / k) ** 2)))
    hi = 1 + math.log((cv**2 + 1) / k) / math.log(k) if k > 1 else math.nan
    return hi, cv


def herfindahl_change_pvalue(current_counts: np.ndarray, reference_counts: np.ndarray) -> float:
    """ECB test of an increase in concentration, one-sided:
    ``p = 1 - Phi( sqrt(K - 1) (CV_curr - CV_init) / sqrt(CV_curr^2 (0.5 + CV_curr^2)) )``,
    ``K`` the number of grades of the scale (empty ones included), ``CV`` from :func:`herfindahl`.

    H0: the current concentration is not higher than the reference (initial) one; a small p-value
    says the current grade distribution is significantly more concentrated. The denominator is the
    asymptotic variance of a coefficient of variation (Miller 1991, Communications in Statistics -
    Theory and Methods 20(10)). Source: ECB IRB validation instructions (2019), section 2.5.5.3."""
    k = len(current_counts)
    _, cv_now = herfindahl(current_counts)
    _, cv_then = herfindahl(reference_counts)
    denominator = math.sqrt(cv_now**2 * (0.5 + cv_now**2))
    if k < 2 or denominator == 0:
        return math.nan
    return float(stats.norm.sf(math.sqrt(k - 1) * (cv_now - cv_then) / denominator))


def herfindahl_change(current_counts: np.ndarray, reference_counts: np.ndarray) -> float:
    """The concentration test's effect: the increase of the ECB's Herfindahl index,
    ``HI_curr - HI_init`` (:func:`herfindahl`, 0 for equally filled grades, 1 for one grade), on
    its own 0-1 scale. A difference, not a ratio: with nearly equally filled grades the reference
    index is near 0 and a ratio would call noise a large change.

    >>> round(herfindahl_change(np.array([60, 30, 10]), np.array([50, 30, 20])), 4)
    0.1739
    """
    hi_now, _ = herfindahl(current_counts)
    hi_then, _ = herfindahl(reference_counts)
    return hi_now - hi_then


def cap_curve(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series, *, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative accuracy profile: share of applicants (riskiest first) against share of defaults
    captured, thinned to ``points`` points (aggregates)."""
    y_arr, s = _as_arrays(y, score)
    order = np.argsort(-s, kind="stable")
    captured = np.concatenate([[0.0], np.cumsum(y_arr[order]) / max(int(y_arr.sum()), 1)])
    population = np.linspace(0.0, 1.0, len(captured))
    keep = np.unique(np.linspace(0, len(captured) - 1, min(points, len(captured))).astype(int))
    return population[keep], captured[keep]


MIN_DISCLOSED_SLICE = 5
"""Periods and segments with fewer rows are pooled, and a pool that small shows no outcomes."""


def slice_table(frame: pd.DataFrame, column: str, *, target: str, score: str) -> pd.DataFrame:
    """AUC, observed/expected and the portfolio Jeffreys test per value of ``column`` (a period
    or a segment): N, defaults, mean PD, observed default rate, ``auc``, ``observed_expected_ratio``,
    ``jeffreys_pvalue``.

    Values with fewer than :data:`MIN_DISCLOSED_SLICE` rows are pooled in one row,
    ``(fewer than 5 rows)``, so that no slice discloses a few applicants' outcomes (a segment value
    can identify someone); if that pool is itself that small, its outcome columns are left empty.
    """
    keys = frame[column].astype(str)
    small = small_slices(keys.value_counts())
    if len(small):
        keys = keys.where(~keys.isin(small), POOLED_SLICES)
    measured = {}
    for value, part in frame.groupby(keys, sort=True):
        y, s = part[target].to_numpy(), part[score].to_numpy(dtype=float)
        n, d = len(part), int(y.sum())
        measured[str(value)] = (n, d, float(s.sum()), float(roc_auc_score(y, s)) if 0 < d < n else math.nan)
    return slice_rows(column, measured)


POOLED_SLICES = f"(fewer than {MIN_DISCLOSED_SLICE} rows)"
"""The slice that pools the periods or segment values of fewer than :data:`MIN_DISCLOSED_SLICE` rows."""


def small_slices(sizes: Mapping[str, int] | pd.Series) -> list[str]:
    """The slices of fewer than :data:`MIN_DISCLOSED_SLICE` rows, pooled in :data:`POOLED_SLICES`.

    >>> small_slices({"2025-01": 900, "2025-02": 3})
    ['2025-02']
    """
    return [str(k) for k, n in dict(sizes).items() if n < MIN_DISCLOSED_SLICE]


def slice_rows(column: str, measured: Mapping[str, tuple[int, int, float, float]]) -> pd.DataFrame:
    """:func:`slice_table` from each slice's ``(rows, defaults, sum of PDs, AUC)``, small slices
    already pooled: sorted by value, the pool last."""
    rows = []
    for value in sorted(measured):
        n, d, total, auc = measured[value]
        if n < MIN_DISCLOSED_SLICE:
            rows.append({column: value, "n": n})
            continue
        mean_pd = total / n
        rows.append({column: value, "n": n, "defaults": d, "pd": mean_pd, "odr": d / n, "auc": auc,
                     "observed_expected_ratio": d / total if total > 0 else math.nan,
                     "jeffreys_pvalue": jeffreys_pvalue(mean_pd, n, d)})
    columns = [column, "n", "defaults", "pd", "odr", "auc", "observed_expected_ratio", "jeffreys_pvalue"]
    table = pd.DataFrame(rows).reindex(columns=columns).set_index(column)
    # the pool last, whatever its label sorts as
    return pd.concat([table.drop(index=POOLED_SLICES, errors="ignore"), table.loc[table.index == POOLED_SLICES]])


def business_impact(frame: pd.DataFrame, *, score: str, target: str, threshold: float, favourable: str,
                    exposure: str | None = None, lgd: str | None = None) -> dict[str, float]:
    """Approval rate, bad rate among the approved, and (with an exposure column) the expected
    default exposure ``sum PD x EAD`` or (with an LGD column too) the expected loss
    ``sum PD x LGD x EAD`` of the approved, at the spec's decision threshold; the default rate of
    all applicants; with the counts of ``applicants`` and ``approved`` that the totals are over."""
    s = frame[score].to_numpy(dtype=float)
    approved = s < threshold if favourable == "below" else s >= threshold
    result = {"applicants": float(len(s)), "approved": float(approved.sum()),
              "default_rate": float(frame[target].to_numpy().mean()),
              "approval_rate": float(approved.mean()),
              "bad_rate_approved": float(frame[target].to_numpy()[approved].mean()) if approved.any() else math.nan}
    if exposure:
        ead = frame[exposure].to_numpy(dtype=float)[approved]
        loss_given = frame[lgd].to_numpy(dtype=float)[approved] if lgd else np.ones(approved.sum())
        key = "expected_loss" if lgd else "expected_default_exposure"
        result[key] = float(np.sum(s[approved] * loss_given * ead))
    return result


# --- VaR: time until first failure, plus factor -------------------------------------------------

PLUS_FACTORS_250 = {5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85}
"""Basel Committee (1996), supervisory framework for backtesting, table 2 (250 days at 99%)."""


def plus_factor(exceptions: int) -> float:
    """Plus factor to the capital multiplier for exceptions in the last 250 days at 99%:
    0 in the green zone (0-4), 0.40 ... 0.85 in the yellow zone (5-9), 1.00 in the red zone (10+)."""
    if exceptions <= 4:
        return 0.0
    return PLUS_FACTORS_250.get(exceptions, 1.0)


def tuff_pvalue(hits: np.ndarray | pd.Series, level: float) -> float:
    """Kupiec (1995) time-until-first-failure test.

    With the first exception on day ``v``:
    ``LR = -2 ln[p (1 - p)^(v - 1)] + 2 ln[(1/v) (1 - 1/v)^(v - 1)]``, ``p = 1 - level``;
    ``p-value = 1 - chi2_1(LR)``. Undefined (``nan``) when no exception occurred.
    """
    h = np.asarray(hits, dtype=np.int64)
    first = np.flatnonzero(h)
    if len(first) == 0:
        return math.nan
    v = int(first[0]) + 1
    p = 1.0 - level
    null = math.log(p) + xlogy(v - 1, 1 - p)
    alternative = math.log(1 / v) + xlogy(v - 1, 1 - 1 / v)
    return float(stats.chi2.sf(max(-2.0 * (null - alternative), 0.0), 1))


def var_backtest(pnl: np.ndarray | pd.Series, var: np.ndarray | pd.Series, level: float, *,
                 scan_window: int = 60) -> dict[str, Any]:
    """Every VaR backtest on one window: exceptions, Kupiec POF with observed / expected exceptions
    (its effect), TUFF with the expected over the observed day of the first exception
    (``first_failure_ratio``, its effect), Christoffersen independence with ``pi1 / pi0``
    (:func:`exception_clustering_ratio`, its effect) and conditional coverage, the Christoffersen
    and Pelletier (2004) duration test with its Weibull shape
    (:func:`validation.metrics.durations.duration_independence_test`), Basel zone of the whole
    window and of its last 250 days with the plus factor (250 days at 99% only), and the scan test
    of exceptions bunched in ``scan_window`` days (:func:`validation.metrics.scan.exception_scan_test`,
    with the most exceptions in a window over its expected share as its effect)."""
    from validation.metrics.durations import duration_independence_test
    from validation.metrics.scan import exception_scan_test

    hits = var_exceptions(pnl, var)
    days, x = len(hits), int(hits.sum())
    expected = days * (1 - level)
    durations = duration_independence_test(hits)
    scan = exception_scan_test(hits, scan_window)
    result: dict[str, Any] = {
        "days": days, "exceptions": x, "expected_exceptions": expected,
        "exception_ratio": x / expected if expected > 0 else math.nan,
        "kupiec_pvalue": kupiec_pvalue(x, days, level), "tuff_pvalue": tuff_pvalue(hits, level),
        "first_failure_ratio": (1.0 / (1 - level)) / (int(np.flatnonzero(hits)[0]) + 1) if x else math.nan,
        "christoffersen_pvalue": christoffersen_pvalue(hits),
        "clustering_ratio": exception_clustering_ratio(hits),
        "conditional_coverage_pvalue": conditional_coverage_pvalue(hits, level),
        "duration_independence_pvalue": durations.pvalue, "duration_shape": durations.shape,
        "durations": durations.durations,
        "scan_window": scan.window, "scan_most": scan.most, "scan_expected": scan.expected, "scan_ratio": scan.ratio,
        "exception_scan_pvalue": scan.pvalue,
        "basel_zone": basel_zone(x, days, level), "plus_factor": math.nan, "last_250_exceptions": None,
        "last_250_zone": None,
    }
    if days >= BASEL_DAYS:
        recent = int(hits[-BASEL_DAYS:].sum())
        result["last_250_exceptions"] = recent
        result["last_250_zone"] = basel_zone(recent, BASEL_DAYS, level)
        if math.isclose(level, 0.99):
            result["plus_factor"] = plus_factor(recent)
    return result


def rolling_exceptions(hits: np.ndarray, window: int = BASEL_DAYS) -> np.ndarray:
    """Exceptions in the trailing ``window`` days, for every day from the ``window``-th on."""
    c = np.concatenate([[0], np.cumsum(hits)])
    return c[window:] - c[:-window] if len(hits) >= window else np.array([], dtype=np.int64)


def var_findings(result: dict[str, Any], *, level: float) -> list[dict[str, object]]:
    """Findings of a VaR backtest (subject ``portfolio``), each test with its effect: observed /
    expected exceptions (Kupiec), ``pi1 / pi0`` (Christoffersen), the Weibull shape of the
    durations between exceptions (Christoffersen and Pelletier). The exception count's findings
    (Kupiec, Basel zone, plus factor) share the cause ``exception count``, the two independence
    tests the cause ``exception clustering``: the pack counts each once."""
    from validation.judging.findings import finding

    short = result["days"] < BASEL_DAYS
    caveat = f"only {result['days']} days: Basel zones and plus factors are defined on {BASEL_DAYS}" if short else None
    count, clustering = "exception count", "exception clustering"
    shape = result["duration_shape"]
    return [
        finding("exceptions", "portfolio", result["exceptions"],
                note=f"{result['days']} days at {level:.1%}; {result['expected_exceptions']:.1f} expected"),
        finding("kupiec_pvalue", "portfolio", result["kupiec_pvalue"], effect=result["exception_ratio"], cause=count,
                note=(f"{result['expected_exceptions']:.2f} exceptions expected in {result['days']} days: too few "
                      "for the test to reject an under-estimating VaR" if result["expected_exceptions"] < 1 else None)),
        finding("tuff_pvalue", "portfolio", result["tuff_pvalue"], effect=result.get("first_failure_ratio"),
                note=None if math.isfinite(result["tuff_pvalue"]) else "no exception: time to first failure undefined"),
        finding("christoffersen_pvalue", "portfolio", result["christoffersen_pvalue"],
                effect=result["clustering_ratio"], cause=clustering,
                note=None if math.isfinite(result["clustering_ratio"]) else (
                    "pi1 / pi0 infinite: exceptions only right after exceptions" if result["clustering_ratio"] == math.inf
                    else "pi1 / pi0 undefined: too few exceptions to compare the day after an exception with the "
                         "day after none")),
        finding("conditional_coverage_pvalue", "portfolio", result["conditional_coverage_pvalue"],
                effect=result["exception_ratio"]),
        finding("duration_independence_pvalue", "portfolio", result["duration_independence_pvalue"], effect=shape,
                cause=clustering,
                note=(f"Weibull shape {shape:.3f} over {result['durations']} durations between exceptions"
                      if math.isfinite(shape) else f"{result['exceptions']} exception{'s' * (result['exceptions'] != 1)}: "
                      "the test needs at least three (two complete durations between them)")),
        finding("exception_scan_pvalue", "portfolio", result["exception_scan_pvalue"], effect=result["scan_ratio"],
                cause=clustering,
                note=(f"{result['scan_most']} exceptions in {result['scan_window']} days at most, "
                      f"{result['scan_expected']:.2f} expected in a window"
                      if math.isfinite(result["exception_scan_pvalue"]) else
                      f"{result['exceptions']} exception{'s' * (result['exceptions'] != 1)} in {result['days']} days: "
                      "the scan test needs at least two, and a window shorter than the sample")),
        finding("basel_zone", "portfolio", result["basel_zone"], cause=count,
                note=caveat or (f"whole window of {result['days']} days; last {BASEL_DAYS} days: "
                                f"{result['last_250_exceptions']} exceptions, {result['last_250_zone']}"
                                if result["days"] > BASEL_DAYS else None)),
        finding("plus_factor", "portfolio", result["plus_factor"], cause=count,
                note=(f"{result['last_250_exceptions']} exceptions in the last {BASEL_DAYS} days"
                      if result["last_250_exceptions"] is not None else caveat)),
    ]


def calibration_findings(y: np.ndarray, score: np.ndarray, grades_now: pd.Series, grades_before: pd.Series,
                         k: int) -> list[dict[str, object]]:
    """Spiegelhalter, observed/expected and the ECB concentration test (subject ``portfolio``),
    each test with its effect (:func:`brier_excess`, :func:`herfindahl_change`).

    ``grades_now`` and ``grades_before`` are grade numbers (1..K) of the current and reference
    samples on the same master scale."""
    now = np.bincount(np.asarray(grades_now), minlength=k + 1)[1:]
    before = np.bincount(np.asarray(grades_before), minlength=k + 1)[1:]
    return portfolio_findings(spiegelhalter_pvalue(y, score), brier_excess(y, score), int(np.sum(y)),
                              float(np.sum(score)), now, before)


def portfolio_findings(spiegelhalter: float, excess: float, defaults: int, expected: float, now: np.ndarray,
                       before: np.ndarray) -> list[dict[str, object]]:
    """:func:`calibration_findings` from the Spiegelhalter p-value and :func:`brier_excess`, the
    defaults observed and expected (the sum of PDs), and the applicants per grade now and at the
    reference: what a sample read in batches gives."""
    from validation.judging.findings import finding

    hi_now, _ = herfindahl(now)
    hi_before, _ = herfindahl(before)
    return [
        finding("spiegelhalter_pvalue", "portfolio", spiegelhalter, effect=excess,
                note=f"Brier score {excess:+.1%} against its expectation under calibration"
                if math.isfinite(excess) else None),
        finding("observed_expected_ratio", "portfolio", defaults / expected if expected > 0 else math.nan,
                note=f"{defaults} defaults observed, {expected:.1f} expected"),
        finding("herfindahl_index", "portfolio", hi_now, note=f"reference {hi_before:.4f}; {len(now)} grades"),
        finding("herfindahl_change_pvalue", "portfolio", herfindahl_change_pvalue(now, before),
                effect=herfindahl_change(now, before)),
    ]


def slice_findings(table: pd.DataFrame, subject_prefix: str, *, min_rows: int,
                   family: str | None = None) -> list[dict[str, object]]:
    """``auc`` and ``observed_expected_ratio`` (reported) and ``jeffreys_pvalue`` per period or
    segment of a :func:`slice_table`; subjects ``<prefix>:<value>``.

    The Jeffreys tests of one column form one family for multiplicity, named ``family`` (else
    ``subject_prefix``: ``period``; a segment is ``segment <column>``, so that a segment column
    named ``grade`` is never one family with the master scale's grades), and carry their observed / expected defaults as
    effect. A slice of fewer than ``min_rows`` rows (the check's ``min_slice_rows``,
    :data:`validation.checks.backtesting.MIN_SLICE_ROWS` by default) is reported, not judged
    (``judged: False``, with a note). A pool too small to disclose gives one reported finding
    saying so.
    """
    from validation.judging.findings import finding

    items: list[dict[str, object]] = []
    for value, row in table.iterrows():
        subject = f"{subject_prefix}:{value}"
        if not math.isfinite(row["defaults"]):
            items.append(finding("jeffreys_pvalue", subject, None, judged=False,
                                 note=f"{int(row['n'])} rows pooled from slices under {MIN_DISCLOSED_SLICE}: "
                                      "outcomes not disclosed"))
            continue
        n = int(row["n"])
        judged = n >= min_rows
        note = f"{int(row['defaults'])} defaults in {n}, mean PD {row['pd']:.4f}" + (
            "" if judged else f"; fewer than {min_rows} rows (min_slice_rows): reported, not judged")
        items.append(finding("auc", subject, row["auc"], judged=False,
                             note=None if math.isfinite(row["auc"]) else "AUC undefined: a single outcome class"))
        items.append(finding("observed_expected_ratio", subject, row["observed_expected_ratio"]))
        items.append(finding("jeffreys_pvalue", subject, row["jeffreys_pvalue"], note=note, judged=judged,
                             effect=row["observed_expected_ratio"], family=family or subject_prefix))
    return items


def impact_findings(now: dict[str, float], before: dict[str, float], *,
                    development: dict[str, float] | None = None, development_label: str = "development",
                    reference_label: str = "reference") -> list[dict[str, object]]:
    """Business impact at the decision threshold, current against reference (reported).

    A figure given in ``development`` (the spec's ``reference_metrics``: ``approval_rate``,
    ``bad_rate_approved``, ``default_rate``) is compared with that instead of the reference
    sample's, and its note
    says so (``development_label``, e.g. ``development (5-fold CV)``): a training sample's bad rate
    among the approved is in-sample. ``reference_label`` names the reference sample in the notes
    (with what it is: ``reference (training sample: in-sample)``). Totals (expected loss or default
    exposure) say how many applicants they are over, since the two samples differ in size.
    """
    from validation.judging.findings import finding

    counts = ("applicants", "approved")
    given = {k: v for k, v in (development or {}).items() if v is not None and math.isfinite(v)}
    items = []
    for metric, value in now.items():
        if metric in counts:
            continue
        if metric in given:
            note = f"{development_label} {given[metric]:.4g}"
        else:
            reference = before.get(metric, math.nan)
            note = f"{reference_label} {reference:.4g}" if math.isfinite(reference) else ""
        if metric in ("expected_loss", "expected_default_exposure"):
            note += (f"; over {now['approved']:.0f} approved of {now['applicants']:.0f} applicants "
                     f"({reference_label} {before['approved']:.0f} of {before['applicants']:.0f})")
        items.append(finding(metric, "portfolio", value, note=note or None))
    return items
