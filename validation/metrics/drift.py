"""Distribution drift between a reference (development) and a current (monitoring) sample.

Conventions (``docs/results.md``, "Metrics"):

- **Bins.** A numeric column with more than ``max_discrete`` distinct reference values is cut at
  its reference deciles into bins ``(-inf, q1], (q1, q2], ..., (q9, inf)``, each edge halfway
  between two adjacent distinct reference values (:func:`quantile_edges`): no reference value lies
  on an edge, so a heaped value (durations of 12, 24, 36 months) falls wholly in one bin and the
  PSI does not depend on whether bins are closed on the right or the left (duplicate edges
  merged). A numeric column with few distinct values (integers 1-4, say) and every
  categorical column is binned by value; values seen only in the current sample keep bins of their
  own. Missing values are a bin of their own whenever either sample has one. A categorical column
  with more than ``max_categories`` values keeps its ``max_categories - 1`` most frequent reference
  categories and pools the rest in an ``(other)`` bin (said in the column's note); a category seen
  fewer than 5 times in both samples is always pooled there, so no rare value (a name, an
  identifier) is ever shown. A column with no
  reference values at all is cut at the current sample's deciles, so its move from missing to
  present still shows.
- **PSI** ``= sum_i (a_i - e_i) ln(a_i / e_i)`` over the bins, ``e`` the reference share and ``a``
  the current share; a share of 0 is floored at ``1e-4`` (no renormalisation).
  Source: Siddiqi, *Credit Risk Scorecards* (2006), ch. 8; Yurdakul (2018), "Statistical
  properties of the population stability index", *Journal of Risk Model Validation*.
- **PSI critical values.** Under "no drift" ``PSI ~ chi2_{B-1} (1/N + 1/M)`` approximately (Yurdakul
  2018), ``B`` bins, ``N`` and ``M`` the sample sizes; the critical values at ``q = 0.95`` and
  ``0.999`` are ``chi2.ppf(q, B - 1) * (1/N + 1/M)``.
- **How a PSI is judged** (:func:`psi_bounds`, the drift check's ``psi_rule``). ``both`` (the
  default): amber from ``max(policy amber, 95% critical value)``, red from ``max(policy red, 99.9%
  critical value)``: a shift is flagged when it is material (the policy's bound, Siddiqi 2006) and
  significant (beyond what sampling alone gives at this size, Yurdakul 2018), so neither a
  100-row slice's noise nor a negligible shift in a million rows is amber. ``fixed``: the policy's
  bounds alone; ``critical``: the critical values alone. The PSI of a period with fewer than
  ``min_slice_rows`` rows is reported, not judged.
- **KS**: two-sample Kolmogorov-Smirnov statistic and p-value exactly as ``scipy.stats.ks_2samp``
  with its defaults (exact p-value up to 10,000 rows per sample, Smirnov's asymptotic one above),
  on the non-missing values of numeric columns.
- **Chi-square**: test of homogeneity on the 2 x k table of reference and current counts over the
  PSI bins, ``scipy.stats.chi2_contingency`` without continuity correction.
- **JS distance**: Jensen-Shannon distance with natural logarithms over the PSI bins
  (unfloored shares), as ``scipy.spatial.distance.jensenshannon(e, a)``; in [0, sqrt(ln 2)].
- **Normalised Wasserstein distance** (numeric columns): ``W1(reference, current) / sd(reference)``
  (population standard deviation), ``W1 = integral |F_ref(x) - F_cur(x)| dx`` as
  ``scipy.stats.wasserstein_distance``; undefined for a constant reference column.

Speed: each numeric column is sorted once per sample; bin counts come from a binary search of the
edges in the sorted values, and KS and Wasserstein from one linear merge of the two sorted arrays
(no per-row Python, no second sort). Categorical columns are counted once with pandas.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from validation.judging.policy import PSI_CRITICAL_LEVELS, Bounds, Policy, severity, worst
from validation.metrics.kinds import is_numeric

if TYPE_CHECKING:
    from validation.judging.findings import Finding

SHARE_FLOOR = 1e-4
MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"
MIN_CATEGORY_COUNT = 5
"""A category seen fewer times than this in both samples is pooled in ``(other)``."""
KS_EXACT_MAX_N = 10_000
"""Up to this many values per sample the KS p-value is exact (as scipy's ``method='auto'``)."""
KS_LIMIT_BELOW = 1e-6
"""Below this, the KS p-value of large samples is Kolmogorov's limiting distribution's
(``kstwobign.sf(D sqrt(n))``) instead of Smirnov's finite-n one (``kstwo.sf(D, n)``), which takes
time linear in ``n``, about half a second a column at a million rows. Above 1e-6 the finite-n one
is kept. Measured against ``kstwo.sf`` for ``n`` from 20,000 to 500,000, the limit is within 2.5%
of it down to 1e-14 and parts further into the far tail (14% at 1e-56, a factor of a few at
1e-200), where both read "< 0.001" and every decision (alpha 0.05 to 0.001, over at most a few
hundred columns) is the same."""

BinKind = Literal["numeric", "discrete", "categorical"]


# --- one sample's summary of one column ------------------------------------------------------


@dataclass(frozen=True)
class ColumnSample:
    """What the statistics need from one sample of one column.

    Attributes
    ----------
    numeric
        Whether the column is numeric.
    n
        Rows, missing values included.
    n_missing
        Missing values.
    sorted_values
        Numeric columns: the non-missing values, sorted (in memory only: never stored or glued).
    quantiles
        Numeric columns read from a stored reference profile: 1,001 quantiles standing in for
        ``sorted_values`` (KS and Wasserstein are then approximate; see :mod:`validation.inputs.profile`).
    categories
        Categorical columns: value -> count, non-missing values.
    """

    numeric: bool
    n: int
    n_missing: int
    sorted_values: np.ndarray | None = None
    quantiles: np.ndarray | None = None
    categories: dict[str, int] | None = None
    stored_sd: float = math.nan

    @property
    def values_for_distance(self) -> np.ndarray | None:
        """Sorted values for KS and Wasserstein: exact values, else profile quantiles."""
        return self.sorted_values if self.sorted_values is not None else self.quantiles

    @property
    def sd(self) -> float:
        """Population standard deviation of the non-missing values (numeric columns)."""
        if self.sorted_values is not None:
            return float(np.std(self.sorted_values)) if len(self.sorted_values) else math.nan
        return self.stored_sd


def column_sample(values: pd.Series) -> ColumnSample:
    """Summarise one sample of one column (numeric: sorted values; categorical: counts).

    Raises
    ------
    ValueError
        For infinite values (the data loader refuses them first, naming file and column).
    """
    missing = values.isna()
    n_missing = int(missing.sum())
    if is_numeric(values):
        present = values.to_numpy(dtype=float, na_value=np.nan)
        present = present[~np.isnan(present)]
        if np.isinf(present).any():
            raise ValueError(f"column {values.name!r} has infinite values")
        return ColumnSample(True, len(values), n_missing, sorted_values=np.sort(present))
    counts = values[~missing].astype(str).value_counts(sort=False)
    return ColumnSample(False, len(values), n_missing,
                        categories={str(k): int(v) for k, v in counts.items()})


# --- bins --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binning:
    """The PSI bins of one column.

    Attributes
    ----------
    kind
        ``numeric`` (cut at reference quantiles), ``discrete`` (few numeric values, binned by
        value) or ``categorical`` (binned by value).
    edges
        Interior cut points of a ``numeric`` binning (bins are right-closed); empty otherwise.
    categories
        The values of a ``discrete`` or ``categorical`` binning: reference values first, then
        current-only values.
    has_other
        Whether a categorical binning pools rare categories in an ``(other)`` bin (after the
        categories).
    has_missing
        Whether the last bin holds missing values.
    note
        What a validator should know about this binning (a cap, a fallback), or ``""``.
    """

    kind: BinKind
    edges: tuple[float, ...] = ()
    categories: tuple[Any, ...] = ()
    has_other: bool = False
    has_missing: bool = False
    note: str = ""

    @property
    def n_bins(self) -> int:
        body = len(self.edges) + 1 if self.kind == "numeric" else len(self.categories)
        return body + int(self.has_other) + int(self.has_missing)

    def labels(self) -> list[str]:
        """Readable bin labels, e.g. ``(25, 31]``, ``rent``, ``(other)``, ``(missing)``."""
        if self.kind == "numeric":
            bounds = [-math.inf, *self.edges, math.inf]
            body = [f"({_fmt(lo)}, {_fmt(hi)}]" if hi != math.inf else f"({_fmt(lo)}, inf)"
                    for lo, hi in zip(bounds, bounds[1:])]
        elif self.kind == "discrete":
            body = [_fmt(float(c)) for c in self.categories]
        else:
            body = [str(c) for c in self.categories]
        return body + [OTHER_LABEL] * self.has_other + [MISSING_LABEL] * self.has_missing

    def counts(self, sample: ColumnSample) -> np.ndarray:
        """Counts of a sample per bin, in bin order (binary search of the edges in the sorted
        values for numeric columns; a lookup of the value counts for the others)."""
        if self.kind == "numeric":
            values = sample.sorted_values
            if values is None:
                raise ValueError("a numeric column needs its sorted values to be binned")
            cumulative = np.searchsorted(values, np.asarray(self.edges, dtype=float), side="right")
            body = np.diff(np.concatenate([[0], cumulative, [len(values)]]))
        elif self.kind == "discrete":
            values = sample.sorted_values
            if values is None:
                raise ValueError("a numeric column needs its sorted values to be binned")
            points = np.asarray(self.categories, dtype=float)
            body = np.searchsorted(values, points, side="right") - np.searchsorted(values, points, side="left")
            if body.sum() != len(values):
                raise ValueError("values outside the binning")
        else:
            counts = sample.categories or {}
            body = np.array([counts.get(str(c), 0) for c in self.categories], dtype=np.int64)
            if self.has_other:
                body = np.append(body, sum(counts.values()) - body.sum())
            elif body.sum() != sum(counts.values()):
                raise ValueError("categories outside the binning")
        body = np.asarray(body, dtype=np.int64)
        if self.has_missing:
            return np.append(body, sample.n_missing)
        if sample.n_missing:
            raise ValueError("missing values but the binning has no missing bin")
        return body

    def assign(self, values: pd.Series) -> np.ndarray:
        """Bin index of every row (for counts by period): one vectorised pass."""
        missing = values.isna().to_numpy()
        index = np.empty(len(values), dtype=np.int64)
        present = values[~missing]
        if self.kind == "numeric":
            index[~missing] = np.searchsorted(np.asarray(self.edges, dtype=float),
                                              present.to_numpy(dtype=float), side="left")
        else:
            keys = present.astype(float) if self.kind == "discrete" else present.astype(str)
            # each distinct value looked up once; -1 for a value outside the categories (pandas 3.1
            # warns when a Categorical is built with one)
            found, distinct = pd.factorize(keys)
            codes = pd.Index(list(self.categories)).get_indexer(distinct).astype(np.int64)[found]
            if (codes < 0).any():
                if not self.has_other:
                    raise ValueError("values outside the binning")
                codes[codes < 0] = len(self.categories)
            index[~missing] = codes
        if missing.any():
            if not self.has_missing:
                raise ValueError("missing values but the binning has no missing bin")
            index[missing] = self.n_bins - 1
        return index


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """Distinct values of a sorted array (no second sort, unlike ``np.unique``)."""
    if len(values) == 0:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def quantile_edges(sorted_values: np.ndarray, bins: int) -> np.ndarray:
    """Interior edges of ``bins`` quantile bins, each halfway between two adjacent distinct values.

    Tie convention: no value of the sample lies on an edge. The candidate cut points are the
    midpoints ``(d_j + d_(j+1)) / 2`` between adjacent distinct values ``d_1 < d_2 < ...``; for
    the ``k``-th quantile (``k = 1, ..., bins - 1``) the cut whose share of values below it is
    closest to ``k / bins`` is kept, and when two cuts are equally close (a heap straddles the
    quantile) both are kept, so the heap is a bin of its own. Equal edges are merged. A heaped
    value (a loan duration of 24 months, an age of 40) therefore always falls wholly in one bin,
    and right-closed ``(a, b]`` and left-closed ``[a, b)`` bins count the sample alike: the PSI
    does not depend on the convention, and ``PSI(x, y) = PSI(-x, -y)`` (the rule is symmetric).
    Quantiles at a heap's value (``np.quantile``) put the whole heap on one side of an edge by
    the closedness convention alone, and a feature's PSI could move from 0.085 to 0.136 with it.
    Only a current value the reference never took can still sit on an edge (a reference with 5
    and 9 months but no 7 is cut at 7.0); bins being ``(a, b]``, it counts in the lower one.

    Parameters
    ----------
    sorted_values
        The sample's non-missing values, sorted, with at least two distinct values.
    bins
        Number of quantile bins asked for (fewer result when heaps merge edges).

    Examples
    --------
    Distinct values: the usual deciles, halfway between neighbours.

    >>> quantile_edges(np.arange(1.0, 21.0), 4).tolist()
    [5.5, 10.5, 15.5]

    Half of the sample at 2: the median falls on the heap, which becomes a bin of its own
    (``(-inf, 1.5], (1.5, 2.5], (2.5, inf)``), whichever side of it the quantile lies.

    >>> quantile_edges(np.array([1.0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3]), 2).tolist()
    [1.5, 2.5]
    """
    values = np.asarray(sorted_values, dtype=float)
    run_ends = np.flatnonzero(np.r_[values[1:] != values[:-1], True])
    return quantile_cuts(values[run_ends], (run_ends + 1).astype(np.int64), len(values), bins)


def quantile_cuts(distinct: np.ndarray, at_or_below: np.ndarray, n: int, bins: int) -> np.ndarray:
    """:func:`quantile_edges` from distinct values and how many values of the sample are at or
    below each (``n`` values in all): the same cuts, from value counts or from windows of the
    sorted values (:mod:`validation.metrics.summaries`), without the values themselves.

    The distinct values may have gaps (windows around each quantile): a cut is only taken between
    two listed neighbours, and the cuts next to a quantile are between the distinct values
    around it, which every window holds.

    >>> quantile_cuts(np.array([1.0, 2.0, 3.0]), np.array([3, 8, 11]), 11, 2).tolist()
    [1.5, 2.5]
    """
    if len(distinct) < 2 or bins < 2:
        return np.array([], dtype=float)
    below = np.asarray(at_or_below, dtype=np.int64)[:-1]  # values below the cut after d_j
    cuts = distinct[:-1] / 2 + distinct[1:] / 2  # halves first: no overflow near the float limit
    scaled = below * bins  # compared with k * n: integers, so equal distances are exactly equal
    chosen: list[float] = []
    for target in np.arange(1, bins, dtype=np.int64) * n:
        i = int(np.searchsorted(scaled, target, side="left"))
        left = target - scaled[i - 1] if i > 0 else None
        right = scaled[i] - target if i < len(scaled) else None
        if left is not None and (right is None or left <= right):
            chosen.append(float(cuts[i - 1]))
        if right is not None and (left is None or right <= left):
            chosen.append(float(cuts[i]))
    return np.unique(np.asarray(chosen, dtype=float))


def fit_bins(reference: ColumnSample, current: ColumnSample, *, bins: int = 10,
             max_discrete: int = 10, max_categories: int = 50) -> Binning:
    """Fit the PSI bins of one column (see the module docstring for the rules).

    Examples
    --------
    >>> ref = column_sample(pd.Series(range(1, 1001)))
    >>> b = fit_bins(ref, column_sample(pd.Series([5, 500])))
    >>> b.kind, len(b.edges), b.counts(ref).tolist()
    ('numeric', 9, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100])
    """
    has_missing = bool(reference.n_missing or current.n_missing)
    if reference.numeric != current.numeric:
        raise ValueError("the column is numeric in one sample and not in the other")
    if reference.numeric:
        ref_values, cur_values = reference.sorted_values, current.sorted_values
        if ref_values is None or cur_values is None:
            raise ValueError("bins are fitted on samples' values (a stored profile has its own bins)")
        note = ""
        basis = ref_values
        if len(ref_values) == 0:
            basis, note = cur_values, "no reference values: bins cut at the current sample's deciles"
        distinct = _distinct_sorted(basis)
        if len(distinct) <= max_discrete:
            extra = np.setdiff1d(_distinct_sorted(cur_values), distinct)
            values = [*distinct.tolist(), *extra.tolist()]
            return Binning("discrete", categories=tuple(values), has_missing=has_missing, note=note)
        edges = quantile_edges(basis, bins)
        return Binning("numeric", edges=tuple(float(e) for e in edges), has_missing=has_missing, note=note)
    ref_counts = reference.categories or {}
    cur_counts = current.categories or {}
    # a value seen fewer than MIN_CATEGORY_COUNT times in both samples is never shown on its own:
    # it is pooled, so a rare value (a name, an identifier) cannot reach a pack
    rare = {c for c in set(ref_counts) | set(cur_counts)
            if ref_counts.get(c, 0) < MIN_CATEGORY_COUNT and cur_counts.get(c, 0) < MIN_CATEGORY_COUNT}
    ref_labels = sorted(set(ref_counts) - rare)
    new_labels = sorted(set(cur_counts) - set(ref_counts) - rare)
    total = len(set(ref_counts) | set(cur_counts))
    if not rare and len(ref_labels) + len(new_labels) <= max_categories:
        return Binning("categorical", categories=tuple([*ref_labels, *new_labels]), has_missing=has_missing)
    kept = sorted(sorted(ref_labels, key=lambda c: (-ref_counts[c], c))[: max_categories - 1])
    if len(kept) < max_categories - 1:  # room left for the most frequent current-only categories
        room = max_categories - 1 - len(kept)
        kept += sorted(sorted(new_labels, key=lambda c: (-cur_counts[c], c))[:room])
    note = (f"{total:,} categories: {len(kept)} kept, {total - len(kept):,} pooled in {OTHER_LABEL} "
            f"(the rarest, and any seen fewer than {MIN_CATEGORY_COUNT} times)")
    return Binning("categorical", categories=tuple(kept), has_other=True, has_missing=has_missing, note=note)


# --- statistics --------------------------------------------------------------------------------


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as shares of their total (integer counts divided once: exact tenths stay exact)."""
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def psi(expected: np.ndarray, actual: np.ndarray, *, floor: float = SHARE_FLOOR) -> float:
    """Population stability index between two share vectors over the same bins.

    ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)``, each share floored at ``floor`` (1e-4).

    Examples
    --------
    Two bins moving from 50/50 to 60/40: ``0.1 ln(0.6/0.5) + (-0.1) ln(0.4/0.5)``.

    >>> round(psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 6)
    0.040547
    """
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_critical_value(n_bins: int, n_reference: int, n_current: int, q: float) -> float:
    """Critical value of the PSI under "no drift": ``chi2.ppf(q, B - 1) * (1/N + 1/M)``.

    Source: Yurdakul (2018), PSI is approximately ``chi2_{B-1} (1/N + 1/M)`` under the null.

    >>> round(psi_critical_value(10, 1000, 1000, 0.95), 5)   # 16.919 * 0.002
    0.03384
    """
    if n_bins < 2 or n_reference <= 0 or n_current <= 0:
        return math.nan
    return float(stats.chi2.ppf(q, n_bins - 1) * (1.0 / n_reference + 1.0 / n_current))


def chi2_homogeneity_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """p-value of the chi-square test of homogeneity on the 2 x k table of counts.

    Bins empty in both samples are dropped; with fewer than two bins left the test is undefined
    and ``nan`` is returned. No continuity correction (``scipy.stats.chi2_contingency``).
    """
    table = np.vstack([reference_counts, current_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return math.nan
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def js_distance(expected: np.ndarray, actual: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) between two share vectors:
    ``sqrt((KL(e || m) + KL(a || m)) / 2)``, ``m = (e + a) / 2``."""
    if not expected.sum() or not actual.sum():
        return math.nan
    return float(jensenshannon(expected, actual, base=math.e))


def ks_and_wasserstein(reference_sorted: np.ndarray, current_sorted: np.ndarray, *,
                       n_reference: int | None = None) -> tuple[float, float, float]:
    """KS statistic and p-value, and the Wasserstein-1 distance, from two sorted arrays.

    One linear merge: every value's position in the merged order comes from a binary search in
    the other array; the two empirical CDFs are then cumulative counts. The statistic is
    ``max |F_ref - F_cur|`` at the end of each run of tied values (as ``scipy.stats.ks_2samp``);
    ``W1 = sum |F_ref - F_cur| * (x_(k+1) - x_(k))`` over the merged values (as
    ``scipy.stats.wasserstein_distance``). The p-value is ``ks_2samp``'s: exact up to 10,000
    values per sample, else Smirnov's ``kstwo.sf(D, round(n m / (n + m)))``, except below
    :data:`KS_LIMIT_BELOW`, where Kolmogorov's limit stands in for it (much faster, same decisions).

    Parameters
    ----------
    reference_sorted, current_sorted
        Sorted non-missing values.
    n_reference
        Size of the reference sample when ``reference_sorted`` are profile quantiles standing in
        for it (the p-value then uses this size).
    """
    n1, n2 = len(reference_sorted), len(current_sorted)
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    pos_ref = np.arange(n1) + np.searchsorted(current_sorted, reference_sorted, side="left")
    pos_cur = np.arange(n2) + np.searchsorted(reference_sorted, current_sorted, side="right")
    merged = np.empty(n1 + n2)
    merged[pos_ref] = reference_sorted
    merged[pos_cur] = current_sorted
    from_ref = np.zeros(n1 + n2, dtype=bool)
    from_ref[pos_ref] = True
    count_ref = np.cumsum(from_ref)
    cdf_ref = count_ref / n1
    cdf_cur = (np.arange(1, n1 + n2 + 1) - count_ref) / n2
    run_ends = np.r_[merged[1:] != merged[:-1], True]
    statistic = float(np.max(np.abs(cdf_ref[run_ends] - cdf_cur[run_ends])))
    wasserstein = float(np.sum(np.abs(cdf_ref[:-1] - cdf_cur[:-1]) * np.diff(merged)))
    size_ref = n_reference if n_reference is not None else n1
    if n_reference is None and max(n1, n2) <= KS_EXACT_MAX_N:
        pvalue = float(stats.ks_2samp(reference_sorted, current_sorted).pvalue)
    else:
        pvalue = ks_pvalue(statistic, size_ref, n2)
    return statistic, pvalue, wasserstein


def ks_pvalue(statistic: float, n1: int, n2: int) -> float:
    """Two-sample KS p-value of large samples: Smirnov's ``kstwo.sf(D, round(n m / (n + m)))``
    as ``scipy.stats.ks_2samp`` (method ``asymp``), Kolmogorov's limit below :data:`KS_LIMIT_BELOW`.

    >>> round(ks_pvalue(0.01, 100_000, 100_000), 4) == round(float(stats.kstwo.sf(0.01, 50_000)), 4)
    True
    """
    if math.isnan(statistic) or min(n1, n2) <= 0:
        return math.nan
    m, n = sorted([float(n1), float(n2)], reverse=True)
    effective = np.round(m * n / (m + n))
    pvalue = float(stats.kstwobign.sf(statistic * math.sqrt(effective)))
    if pvalue >= KS_LIMIT_BELOW:
        pvalue = float(np.clip(stats.kstwo.sf(statistic, effective), 0.0, 1.0))
    return pvalue


@dataclass(frozen=True)
class ColumnDrift:
    """Drift statistics of one column, with the bin table they came from."""

    column: str
    binning: Binning
    reference_counts: np.ndarray
    current_counts: np.ndarray
    psi: float
    psi_critical_95: float
    psi_critical_999: float
    js_distance: float
    chi2_pvalue: float
    ks_stat: float = math.nan
    ks_pvalue: float = math.nan
    wasserstein_norm: float = math.nan
    notes: tuple[str, ...] = field(default=())

    def bin_table(self) -> pd.DataFrame:
        """Bins with counts and shares in both samples (an aggregate: safe to show and glue)."""
        return pd.DataFrame(
            {
                "reference_count": self.reference_counts,
                "current_count": self.current_counts,
                "reference_share": shares(self.reference_counts),
                "current_share": shares(self.current_counts),
            },
            index=pd.Index(self.binning.labels(), name="bin"),
        )


def compare(name: str, reference: ColumnSample, current: ColumnSample, *, bins: int = 10,
            max_discrete: int = 10, max_categories: int = 50,
            binning: Binning | None = None, reference_counts: np.ndarray | None = None) -> ColumnDrift:
    """All drift statistics of one column from its two samples.

    ``binning`` and ``reference_counts`` may come from a stored reference profile (they are then
    extended with the current sample's new values and missing bin).
    """
    if binning is None:
        binning = fit_bins(reference, current, bins=bins, max_discrete=max_discrete,
                           max_categories=max_categories)
        ref_counts = binning.counts(reference)
    else:
        assert reference_counts is not None
        binning, ref_counts = extend(binning, np.asarray(reference_counts, dtype=np.int64), current,
                                     max_categories=max_categories)
    cur_counts = binning.counts(current)
    notes = [binning.note] if binning.note else []
    result: dict[str, Any] = {}
    if reference.numeric:
        ref_values, cur_values = reference.values_for_distance, current.values_for_distance
        assert ref_values is not None and cur_values is not None
        approximate = reference.sorted_values is None
        statistic, pvalue, wasserstein = ks_and_wasserstein(
            ref_values, cur_values, n_reference=(reference.n - reference.n_missing) if approximate else None)
        spread = reference.sd
        result = {"ks_stat": statistic, "ks_pvalue": pvalue,
                  "wasserstein_norm": wasserstein / spread if spread > 0 else math.nan}
        if approximate:
            notes.append("KS and Wasserstein from the reference profile's 1,001 quantiles (approximate)")
        if len(ref_values) == 0 or len(cur_values) == 0:
            notes.append("KS and Wasserstein undefined: a sample has no values")
        elif not spread > 0:
            notes.append("normalised Wasserstein undefined: the reference column is constant")
    return from_counts(name, binning, ref_counts, cur_counts, reference.n, current.n, notes=notes, **result)


def from_counts(name: str, binning: Binning, reference_counts: np.ndarray, current_counts: np.ndarray,
                n_reference: int, n_current: int, *, notes: list[str], **distances: float) -> ColumnDrift:
    """A column's drift from its bins' counts in both samples (PSI, its critical values,
    chi-square, JS) and the distances computed from its values (``ks_stat``, ``ks_pvalue``,
    ``wasserstein_norm``; numeric columns)."""
    e, a = shares(reference_counts), shares(current_counts)
    chi2_p = chi2_homogeneity_pvalue(reference_counts, current_counts)
    if math.isnan(chi2_p):
        notes = [*notes, "chi-square undefined: fewer than two bins hold values"]
    return ColumnDrift(
        column=name, binning=binning, reference_counts=reference_counts, current_counts=current_counts,
        psi=psi(e, a),
        psi_critical_95=psi_critical_value(binning.n_bins, n_reference, n_current, PSI_CRITICAL_LEVELS[0]),
        psi_critical_999=psi_critical_value(binning.n_bins, n_reference, n_current, PSI_CRITICAL_LEVELS[1]),
        js_distance=js_distance(e, a), chi2_pvalue=chi2_p, notes=tuple(notes), **distances,
    )


def extend(binning: Binning, reference_counts: np.ndarray, current: ColumnSample, *,
           max_categories: int = 50) -> tuple[Binning, np.ndarray]:
    """A stored binning with the current sample's new values (and missing bin) added, reference
    counts 0 in the new bins."""
    body = reference_counts[:-1] if binning.has_missing else reference_counts
    missing = int(reference_counts[-1]) if binning.has_missing else 0
    categories = list(binning.categories)
    other = binning.has_other
    if binning.kind == "discrete" and current.sorted_values is not None:
        new = np.setdiff1d(np.unique(current.sorted_values), np.asarray(categories, dtype=float)).tolist()
        categories += new
        body = np.append(body, np.zeros(len(new), dtype=np.int64))
    elif binning.kind == "categorical" and not other:
        new = sorted(set(current.categories or {}) - set(map(str, categories)))
        if len(categories) + len(new) <= max_categories:
            categories += new
            body = np.append(body, np.zeros(len(new), dtype=np.int64))
        else:
            other = True
            body = np.append(body, 0)
    has_missing = binning.has_missing or current.n_missing > 0
    counts = np.append(body, missing) if has_missing else body
    extended = Binning(binning.kind, binning.edges, tuple(categories), other, has_missing, binning.note)
    return extended, counts.astype(np.int64)


def column_drift(reference: pd.Series, current: pd.Series, *, bins: int = 10, max_discrete: int = 10,
                 max_categories: int = 50) -> ColumnDrift:
    """All drift statistics of one column, from the two samples' values."""
    return compare(str(reference.name), column_sample(reference), column_sample(current), bins=bins,
                   max_discrete=max_discrete, max_categories=max_categories)


TABLE_COLUMNS = ["kind", "bins", "psi", "psi_critical_95", "psi_critical_999", "ks_stat", "ks_pvalue",
                 "chi2_pvalue", "js_distance", "wasserstein_norm", "note"]


def drift_table(reference: pd.DataFrame | dict[str, ColumnSample], current: pd.DataFrame, columns: list[str], *,
                bins: int = 10, max_discrete: int = 10, max_categories: int = 50,
                profile: Any = None) -> tuple[pd.DataFrame, dict[str, ColumnDrift]]:
    """Drift statistics for several columns.

    Parameters
    ----------
    reference
        The reference sample (ignored for columns the ``profile`` holds).
    current
        The current sample.
    columns
        Columns to compare.
    profile
        A :class:`validation.inputs.profile.ReferenceProfile` to take reference bins and counts from.

    Returns
    -------
    table
        One row per column (index ``column``), sorted by PSI descending, with the columns of
        :data:`TABLE_COLUMNS`.
    details
        The :class:`ColumnDrift` of each column, for bin tables and plots.
    """
    def one(column: str) -> ColumnDrift:
        cur = column_sample(current[column])
        if profile is not None:
            stored = profile.column(column)
            return compare(column, stored.sample, cur, binning=stored.binning,
                           reference_counts=stored.counts, max_categories=max_categories)
        ref = column_sample(reference[column]) if isinstance(reference, pd.DataFrame) else reference[column]
        return compare(column, ref, cur, bins=bins, max_discrete=max_discrete, max_categories=max_categories)

    # numpy's sorts and binary searches release the GIL: columns run in parallel threads
    with ThreadPoolExecutor(max_workers=max(1, min(len(columns), os.cpu_count() or 1))) as pool:
        details = dict(zip(columns, pool.map(one, columns)))
    return table_of(details), details


def table_of(details: dict[str, ColumnDrift]) -> pd.DataFrame:
    """The drift table (:func:`drift_table`'s) of the columns' drift: sorted by PSI, descending."""
    rows = [{"column": c, "kind": d.binning.kind, "bins": d.binning.n_bins, "psi": d.psi,
             "psi_critical_95": d.psi_critical_95, "psi_critical_999": d.psi_critical_999,
             "ks_stat": d.ks_stat, "ks_pvalue": d.ks_pvalue, "chi2_pvalue": d.chi2_pvalue,
             "js_distance": d.js_distance, "wasserstein_norm": d.wasserstein_norm,
             "note": "; ".join(d.notes)} for c, d in details.items()]
    table = pd.DataFrame(rows, columns=["column", *TABLE_COLUMNS])
    return table.set_index("column").sort_values("psi", ascending=False, kind="stable")


def psi_by_period(details: dict[str, ColumnDrift], current: pd.DataFrame, time: str) -> pd.DataFrame:
    """PSI of each column per period of the current sample, against the whole reference.

    Every row is assigned to its bin once (the binning of the overall comparison); counts per
    (period, bin) come from one ``bincount``. Returns a DataFrame indexed by column with one
    column per period (in the time column's order).
    """
    periods = current[time]
    order = pd.Index(pd.unique(periods.dropna())).sort_values()
    codes = pd.Categorical(periods, categories=order).codes.astype(np.int64)
    keep = codes >= 0
    result = {}
    for column, detail in details.items():
        n_bins = detail.binning.n_bins
        index = detail.binning.assign(current[column])
        counts = np.bincount(codes[keep] * n_bins + index[keep], minlength=len(order) * n_bins)
        per_period = counts.reshape(len(order), n_bins)
        e = shares(detail.reference_counts)
        result[column] = [psi(e, shares(row)) for row in per_period]
    return pd.DataFrame(result, index=pd.Index([str(p) for p in order], name="period")).T


def subject_of(column: str, score: str | None) -> str:
    """Finding subject of a column: ``score`` for the score, else ``feature:<column>``."""
    return "score" if column == score else f"feature:{column}"


PSI_RULES = ("both", "fixed", "critical")
"""How a PSI is judged (the drift check's ``psi_rule``): ``both``, material and significant (the
default); ``fixed``, the policy's bounds alone; ``critical``, its critical values alone."""

FLAGGED = ("amber", "red")


def level_text(q: float) -> str:
    """A confidence level as people write it: ``95%``, ``99.9%``."""
    return f"{q * 100:g}%"


def psi_bounds(psi_rule: str, policy: Bounds, critical_95: float, critical_999: float, *,
               levels: tuple[float, float] = PSI_CRITICAL_LEVELS) -> tuple[dict[str, float | None] | None, str]:
    """The amber and red bounds of one PSI under ``psi_rule``, and a note saying which applied and why.

    - ``both`` (default): amber from ``max(policy amber, 95% critical value)``, red from
      ``max(policy red, 99.9% critical value)``. A PSI is flagged only when the shift is material
      (at least the policy's bound: Siddiqi 2006, or the spec's ``thresholds.psi``) and
      significant (beyond its critical value under no drift, ``chi2.ppf(q, B - 1) (1/N + 1/M)``:
      Yurdakul 2018; levels :data:`~validation.judging.policy.PSI_CRITICAL_LEVELS`). In a small
      slice the critical value is the larger: the policy's bound would flag sampling noise. In a
      large sample the policy's bound is: a significant but negligible shift is not flagged. A
      level the policy leaves open (``None``) is never reached.
    - ``critical``: the critical values alone.
    - ``fixed``: no bounds of the finding's own (the policy judges by its bounds).

    Parameters
    ----------
    psi_rule
        One of :data:`PSI_RULES`.
    policy
        The policy's bounds of ``psi`` (``Policy.bounds("psi")``: the spec's when it sets them).
    critical_95, critical_999
        The PSI's critical values at the two levels (:func:`psi_critical_value`); ``nan`` when
        undefined (the policy's bound then applies alone).
    levels
        The confidence levels they were computed at, for the note: the policy's, or those adjusted
        for multiplicity over a family of periods (:func:`family_levels`).

    Returns
    -------
    thresholds
        ``{"amber": a, "red": r}``, the finding's own bounds, or ``None`` under ``fixed``.
    note
        Which bound applied at each level, and why.

    Examples
    --------
    >>> from validation.judging.policy import Policy
    >>> policy = Policy().bounds("psi")
    >>> psi_bounds("both", policy, 0.197, 0.325)[0]   # a 100-row slice: its critical values
    {'amber': 0.197, 'red': 0.325}
    >>> psi_bounds("both", policy, 0.034, 0.056)[0] == {"amber": policy.amber, "red": policy.red}
    True
    """
    named = (("amber", policy.amber, critical_95, levels[0]), ("red", policy.red, critical_999, levels[1]))
    if psi_rule == "fixed":
        return None, (f"psi_rule fixed: the policy's bounds; critical values {critical_95:.4f} "
                      f"({level_text(levels[0])}) / {critical_999:.4f} ({level_text(levels[1])})")
    if psi_rule == "critical":
        return {"amber": critical_95, "red": critical_999}, (
            f"psi_rule critical: amber and red at its critical values {critical_95:.4f} "
            f"({level_text(levels[0])}) / {critical_999:.4f} ({level_text(levels[1])})")
    if psi_rule != "both":
        raise ValueError(f"psi_rule must be one of {', '.join(PSI_RULES)}, got {psi_rule!r}")
    bounds: dict[str, float | None] = {}
    parts = []
    for name, bound, critical, q in named:
        defined = math.isfinite(critical)
        if bound is None:
            bounds[name] = None
            parts.append(f"{name}: never (no {name} bound for psi in the policy)")
        elif defined and critical > bound:
            bounds[name] = critical
            parts.append(f"{name} {critical:.4f}: its {level_text(q)} critical value, above the policy's {bound:g} "
                         "(a smaller PSI is within sampling noise at this size)")
        else:
            bounds[name] = bound
            beside = (f", above its {level_text(q)} critical value {critical:.4f} (a smaller PSI is not material)"
                      if defined else " (its critical value is undefined)")
            parts.append(f"{name} {bound:g}: the policy's bound{beside}")
    return bounds, "psi_rule both (material and significant): " + "; ".join(parts)


def drift_findings(table: pd.DataFrame, score: str | None, *, psi_rule: str = "both",
                   bounds: Bounds | None = None, multiplicity: str = "none") -> list[dict[str, object]]:
    """Findings of a :func:`drift_table`: ``psi``, ``js_distance`` and ``chi2_pvalue`` (effect: the
    PSI over the same bins) for every column; ``ks_stat``, ``ks_pvalue`` (effect: the KS
    statistic) and ``wasserstein_norm`` for numeric ones.

    Each PSI carries the bounds of ``psi_rule`` (:func:`psi_bounds`) against the policy's
    ``bounds`` of ``psi`` (the defaults when ``None``), and a note saying which applied. The
    columns are one family: their critical values are taken at the levels of
    :func:`family_levels` over the number of columns (``multiplicity`` ``none``: the policy's
    levels), ``chi2.ppf(q', B - 1) (1/N + 1/M)``, rescaled from the table's.
    """
    from validation.judging.findings import finding

    if psi_rule not in PSI_RULES:
        raise ValueError(f"psi_rule must be one of {', '.join(PSI_RULES)}, got {psi_rule!r}")
    policy_bounds = bounds if bounds is not None else Policy().bounds("psi")
    levels = family_levels(len(table), multiplicity)
    family = (f"critical values adjusted over {len(table)} columns (Bonferroni, multiplicity {multiplicity})"
              if levels != PSI_CRITICAL_LEVELS else "")
    items: list[dict[str, object]] = []
    for column, row in table.iterrows():
        subject = subject_of(str(column), score)
        dof = int(row["bins"]) - 1
        critical = [float(row[name]) * (stats.chi2.ppf(q, dof) / stats.chi2.ppf(base, dof) if dof >= 1 else 1.0)
                    for name, q, base in (("psi_critical_95", levels[0], PSI_CRITICAL_LEVELS[0]),
                                          ("psi_critical_999", levels[1], PSI_CRITICAL_LEVELS[1]))]
        thresholds, rule_note = psi_bounds(psi_rule, policy_bounds, critical[0], critical[1], levels=levels)
        note = "; ".join(x for x in (rule_note, family, row["note"]) if x)
        items.append(finding("psi", subject, row["psi"], note=note, thresholds=thresholds))
        if row["kind"] != "categorical":
            items.append(finding("ks_stat", subject, row["ks_stat"]))
            items.append(finding("ks_pvalue", subject, row["ks_pvalue"], effect=row["ks_stat"]))
            items.append(finding("wasserstein_norm", subject, row["wasserstein_norm"]))
        items.append(finding("chi2_pvalue", subject, row["chi2_pvalue"], effect=row["psi"]))
        items.append(finding("js_distance", subject, row["js_distance"]))
    return items


def _listed(items: list[str], shown: int = 3) -> str:
    """``a, b, c and 2 more``."""
    text = ", ".join(items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")


def headline(table: pd.DataFrame, findings: Sequence[Finding], score: str | None) -> str:
    """A few plain sentences for the summary that agree with the check's status: they count what
    is amber or red over *all* the judged findings (every metric of the features, the score and
    the periods), so a red check never reads "0 of 8 features at amber or red".

    Examples
    --------
    >>> from validation.judging.policy import Policy
    >>> table = pd.DataFrame({"psi": [0.02, 0.04]}, index=pd.Index(["age", "s"], name="column"))
    >>> judged = Policy().judge_all([
    ...     {"metric": "psi", "subject": "feature:age", "value": 0.02},
    ...     {"metric": "psi", "subject": "score", "value": 0.04},
    ...     {"metric": "psi", "subject": "period:2025-01", "value": 0.3},
    ...     {"metric": "psi", "subject": "period:2025-02", "value": 0.01},
    ...     {"metric": "psi", "subject": "period:2025-03", "value": 0.9, "judged": False}])
    >>> print(headline(table, judged, "s"))
    0 of 1 features at amber or red; the largest PSI is age (0.02, green). The score's PSI is 0.04
    (green). By period: 1 of 2 judged periods at amber or red (2025-01: red); 1 period reported,
    not judged (too few rows; the largest PSI is 0.90, 2025-03).
    """
    by_subject: dict[str, list[Finding]] = {}
    for item in findings:
        by_subject.setdefault(item.subject, []).append(item)
    status = {subject: worst(f.status for f in items) for subject, items in by_subject.items()}

    def psi_status(subject: str) -> str:
        return next((f.status for f in by_subject.get(subject, []) if f.metric == "psi"), "info")

    sentences = []
    features = [str(c) for c in table.index if c != score]
    if features:
        flagged = sorted((c for c in features if status.get(subject_of(c, score)) in FLAGGED),
                         key=lambda c: (-severity(status[subject_of(c, score)]), -table.loc[c, "psi"]))
        listed = f" ({_listed([f'{c}: {status[subject_of(c, score)]}' for c in flagged])})" if flagged else ""
        top = max(features, key=lambda c: table.loc[c, "psi"])
        sentences.append(f"{len(flagged)} of {len(features)} features at amber or red{listed}; the largest PSI is "
                         f"{top} ({table.loc[top, 'psi']:.2f}, {psi_status(subject_of(top, score))}).")
    if score is not None and score in table.index:
        others = [f"{f.metric} {f.status}" for f in by_subject.get("score", [])
                  if f.metric != "psi" and f.status in FLAGGED]
        sentences.append(f"The score's PSI is {table.loc[score, 'psi']:.2f} ({psi_status('score')})"
                         + (f"; also {_listed(others)}" if others else "") + ".")
    periods = [s for s in by_subject if s.startswith("period:")]
    judged = [s for s in periods if status[s] != "info"]
    unjudged = [s for s in periods if any(f.metric == "psi" and f.status == "info" and f.value is not None
                                           for f in by_subject[s])]
    if judged or unjudged:
        flagged = sorted((s for s in judged if status[s] in FLAGGED), key=lambda s: -severity(status[s]))
        names = [f"{s.removeprefix('period:')}: {status[s]}" for s in flagged]
        listed = f" ({_listed(names)})" if flagged else ""
        text = (f"By period: {len(flagged)} of {len(judged)} judged periods at amber or red{listed}" if judged
                else "By period: no period judged")
        if unjudged:
            psi_of = {s: next(float(f.value) for f in by_subject[s] if f.metric == "psi" and f.value is not None)
                      for s in unjudged}
            largest = max(unjudged, key=psi_of.__getitem__)
            text += (f"; {len(unjudged)} period{'s' if len(unjudged) > 1 else ''} reported, not judged "
                     f"(too few rows; the largest PSI is {psi_of[largest]:.2f}, {largest.removeprefix('period:')})")
        sentences.append(text + ".")
    known = {"score", *(subject_of(c, score) for c in features), *periods}
    rest = [f"{f.metric} of {f.subject}: {f.status}" for f in findings
            if f.subject not in known and f.status in FLAGGED]
    if rest:
        sentences.append(f"Also at amber or red: {_listed(rest)}.")
    return " ".join(sentences)


def family_levels(judged_periods: int, multiplicity: str) -> tuple[float, float]:
    """The confidence levels of the PSI critical values for a family of ``judged_periods``
    periods: :data:`~validation.judging.policy.PSI_CRITICAL_LEVELS` adjusted by Bonferroni,
    ``1 - (1 - q) / m``, unless ``multiplicity`` is ``none``.

    A critical value is a bound, not a p-value, so Holm's step-down and Benjamini-Hochberg cannot
    be applied period by period; Bonferroni is Holm's first step (it decides whether the most
    shifted period is flagged) and controls the family-wise error under either method. Without it
    a 7% chance of flagging a 100-row period of pure noise becomes a 58% chance over 12 months.

    >>> [round(q, 6) for q in family_levels(5, "holm")]
    [0.99, 0.9998]
    >>> family_levels(5, "none") == family_levels(1, "holm")
    True
    """
    if multiplicity == "none" or judged_periods <= 1:
        return PSI_CRITICAL_LEVELS
    amber, red = PSI_CRITICAL_LEVELS
    return 1.0 - (1.0 - amber) / judged_periods, 1.0 - (1.0 - red) / judged_periods


def period_findings(by_period: pd.DataFrame, details: dict[str, ColumnDrift], current: pd.DataFrame | None, *,
                    time: str, score: str | None, target: str | None, reference_default_rate: float | None,
                    min_slice_rows: int, psi_rule: str = "both", bounds: Bounds | None = None,
                    multiplicity: str = "none", period_rows: pd.DataFrame | None = None) -> list[dict[str, object]]:
    """Findings per period (subjects ``period:<value>``): the score's ``psi``, judged by the same
    rule as the whole sample against the period's own critical values (:func:`psi_bounds`) at
    levels adjusted for the number of judged periods (:func:`family_levels`, by the policy's
    ``multiplicity``), and reported, not judged, for a period of fewer than ``min_slice_rows``
    rows; with a target, the period's ``default_rate`` (reported). The rows and default rate of
    each period come from ``current``, or from ``period_rows`` (:func:`default_rate_by_period`'s
    table, as a sample read in batches gives it) when there is no ``current``."""
    from validation.judging.findings import finding

    if psi_rule not in PSI_RULES:
        raise ValueError(f"psi_rule must be one of {', '.join(PSI_RULES)}, got {psi_rule!r}")
    policy_bounds = bounds if bounds is not None else Policy().bounds("psi")
    items: list[dict[str, object]] = []
    if current is not None:
        period_rows = default_rate_by_period(current, time, target)
    assert period_rows is not None, "period_findings needs the current sample or its rows per period"
    sizes = period_rows["rows"]
    rates = period_rows["default_rate"] if target else None
    judged_periods = sum(1 for period in by_period.columns if int(sizes.get(period, 0)) >= min_slice_rows)
    levels = family_levels(judged_periods, multiplicity)
    family = (f"; critical values adjusted over {judged_periods} judged periods (Bonferroni, multiplicity "
              f"{multiplicity})" if levels != PSI_CRITICAL_LEVELS else "")
    for period in by_period.columns:
        subject = f"period:{period}"
        n = int(sizes.get(period, 0))
        if score is not None and score in by_period.index:
            detail = details[score]
            n_ref = int(detail.reference_counts.sum())
            crit95, crit999 = (psi_critical_value(detail.binning.n_bins, n_ref, n, q) for q in levels)
            value = by_period.loc[score, period]
            if n < min_slice_rows:
                items.append(finding("psi", subject, value, judged=False,
                                     note=f"score, {n:,} rows; fewer than {min_slice_rows:,} rows (min_slice_rows): "
                                          f"reported, not judged; critical values {crit95:.4f} / {crit999:.4f}"))
            else:
                thresholds, rule_note = psi_bounds(psi_rule, policy_bounds, crit95, crit999, levels=levels)
                items.append(finding("psi", subject, value, thresholds=thresholds,
                                     note=f"score, {n:,} rows; {rule_note}{family}"))
        if rates is not None and n < MIN_CATEGORY_COUNT:  # a few rows' default rate discloses their outcomes
            items.append(finding("default_rate", subject, None,
                                 note=f"{n:,} rows: fewer than {MIN_CATEGORY_COUNT}, not disclosed"))
        elif rates is not None:
            note = f"{n:,} rows" + (f"; reference {reference_default_rate:.4f}" if reference_default_rate is not None else "")
            items.append(finding("default_rate", subject, rates.get(period), note=note))
    return items


def default_rate_by_period(current: pd.DataFrame, time: str, target: str | None) -> pd.DataFrame:
    """Rows and default rate per period of ``time`` (rows alone without a ``target``); the rate of
    a period with fewer than :data:`MIN_CATEGORY_COUNT` rows is left undefined (a few rows' rate
    is their outcomes).

    >>> frame = pd.DataFrame({"m": ["a"] * 6 + ["b"] * 2, "y": [1, 0, 0, 0, 0, 1, 1, 0]})
    >>> default_rate_by_period(frame, "m", "y")
        rows  default_rate
    m
    a      6      0.333333
    b      2           NaN
    """
    if target is None:
        return current[time].astype(str).value_counts(sort=False).rename("rows").sort_index().to_frame()
    grouped = current.groupby(current[time].astype(str))[target]
    rates = grouped.agg(["size", "mean"]).rename(columns={"size": "rows", "mean": "default_rate"})
    rates.loc[rates["rows"] < MIN_CATEGORY_COUNT, "default_rate"] = np.nan
    return rates
