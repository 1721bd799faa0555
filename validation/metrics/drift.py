"""Distribution drift between a reference (development) and a current (monitoring) sample.

Conventions (DESIGN.md, "Metric names and conventions"):

- **Bins.** A numeric column with more than ``max_discrete`` distinct reference values is cut at
  its reference deciles into right-closed bins ``(-inf, q1], (q1, q2], ..., (q9, inf)`` (duplicate
  edges merged). A numeric column with few distinct values (integers 1-4, say) and every
  categorical column is binned by value; values seen only in the current sample keep bins of their
  own. Missing values are a bin of their own whenever either sample has one.
- **PSI** ``= sum_i (a_i - e_i) ln(a_i / e_i)`` over the bins, ``e`` the reference share and ``a``
  the current share; a share of 0 is floored at ``1e-4`` (no renormalisation).
  Source: Siddiqi, *Credit Risk Scorecards* (2006), ch. 8; Yurdakul (2018), "Statistical
  properties of population stability index".
- **KS**: ``scipy.stats.ks_2samp`` with its defaults, on the non-missing values (numeric only).
- **Chi-square**: test of homogeneity on the 2 x k table of reference and current counts over the
  PSI bins, ``scipy.stats.chi2_contingency`` without continuity correction.
- **JS distance**: Jensen-Shannon distance with natural logarithms over the PSI bins
  (unfloored shares), ``scipy.spatial.distance.jensenshannon(e, a)``; between 0 and sqrt(ln 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

SHARE_FLOOR = 1e-4
MISSING_LABEL = "(missing)"

BinKind = Literal["numeric", "discrete", "categorical"]


@dataclass(frozen=True)
class Binning:
    """The bins of one column, fitted on the reference (and the current sample's extra values).

    Attributes
    ----------
    kind
        ``numeric`` (cut at reference quantiles), ``discrete`` (few numeric values, binned by
        value) or ``categorical`` (binned by value).
    edges
        Interior cut points of a ``numeric`` binning (bins are right-closed); empty otherwise.
    categories
        The values of a ``discrete`` or ``categorical`` binning: reference values first (sorted),
        then current-only values (sorted).
    has_missing
        Whether the last bin holds missing values.
    """

    kind: BinKind
    edges: tuple[float, ...]
    categories: tuple[object, ...]
    has_missing: bool

    @property
    def n_bins(self) -> int:
        body = len(self.edges) + 1 if self.kind == "numeric" else len(self.categories)
        return body + int(self.has_missing)

    def labels(self) -> list[str]:
        """Readable bin labels, e.g. ``(25, 31]`` or ``rent``."""
        if self.kind == "numeric":
            bounds = [-math.inf, *self.edges, math.inf]
            body = [f"({_fmt(lo)}, {_fmt(hi)}]" if hi != math.inf else f"({_fmt(lo)}, inf)"
                    for lo, hi in zip(bounds, bounds[1:])]
        elif self.kind == "discrete":
            body = [_fmt(float(c)) for c in self.categories]  # type: ignore[arg-type]
        else:
            body = [str(c) for c in self.categories]
        return body + ([MISSING_LABEL] if self.has_missing else [])

    def counts(self, values: pd.Series) -> np.ndarray:
        """Counts of ``values`` per bin, in bin order (vectorised: one searchsorted or one
        categorical coding, then one bincount)."""
        missing = values.isna().to_numpy()
        if self.kind == "numeric":
            x = values.to_numpy(dtype=float, na_value=np.nan)
            index = np.searchsorted(np.asarray(self.edges, dtype=float), x[~missing], side="left")
        else:
            present = values[~missing]
            if self.kind == "categorical":
                present = present.astype(str)
            else:
                present = present.astype(float)
            codes = pd.Categorical(present, categories=list(self.categories)).codes
            if (codes < 0).any():
                unknown = sorted(set(present[codes < 0].astype(str)))[:5]
                raise ValueError(f"values outside the binning: {unknown}")
            index = codes.astype(np.int64)
        body = len(self.edges) + 1 if self.kind == "numeric" else len(self.categories)
        counts = np.bincount(index, minlength=body)
        if self.has_missing:
            counts = np.append(counts, missing.sum())
        elif missing.any():
            raise ValueError("missing values but the binning has no missing bin")
        return counts


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def is_numeric(values: pd.Series) -> bool:
    """Numeric for drift purposes: a numeric dtype that is not boolean."""
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))


def fit_bins(reference: pd.Series, current: pd.Series, *, bins: int = 10,
             max_discrete: int = 10) -> Binning:
    """Fit the PSI bins of one column.

    Parameters
    ----------
    reference, current
        The column in the two samples.
    bins
        Number of quantile bins for numeric columns (10: deciles).
    max_discrete
        A numeric column with at most this many distinct reference values is binned by value.

    Examples
    --------
    >>> b = fit_bins(pd.Series(range(1, 1001)), pd.Series([5, 500]))
    >>> b.kind, len(b.edges), b.counts(pd.Series(range(1, 1001))).tolist()
    ('numeric', 9, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100])
    """
    has_missing = bool(reference.isna().any() or current.isna().any())
    ref = reference.dropna()
    cur = current.dropna()
    if is_numeric(reference) and is_numeric(current):
        distinct = np.unique(ref.to_numpy(dtype=float))
        if len(distinct) > max_discrete:
            quantiles = np.quantile(ref.to_numpy(dtype=float), np.arange(1, bins) / bins)
            return Binning("numeric", tuple(float(q) for q in np.unique(quantiles)), (), has_missing)
        extra = np.setdiff1d(np.unique(cur.to_numpy(dtype=float)), distinct)
        values = [*distinct.tolist(), *extra.tolist()]
        return Binning("discrete", (), tuple(values), has_missing)
    ref_values = sorted(pd.unique(ref.astype(str)))
    extra_values = sorted(set(pd.unique(cur.astype(str))) - set(ref_values))
    return Binning("categorical", (), tuple([*ref_values, *extra_values]), has_missing)


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as shares of their total (exact: integer counts divided once)."""
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def psi(expected: np.ndarray, actual: np.ndarray, *, floor: float = SHARE_FLOOR) -> float:
    """Population stability index between two share vectors over the same bins.

    ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)``, each share floored at ``floor`` (1e-4).

    Parameters
    ----------
    expected
        Reference shares ``e_i`` (summing to 1).
    actual
        Current shares ``a_i`` (summing to 1).
    floor
        Lower bound applied to every share before the logarithm.

    Examples
    --------
    Two bins moving from 50/50 to 60/40: ``0.1 ln(0.6/0.5) + (-0.1) ln(0.4/0.5)``.

    >>> round(psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 6)
    0.040547
    """
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return float(np.sum((a - e) * np.log(a / e)))


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
    """Jensen-Shannon distance (natural log) between two share vectors.

    ``JS = sqrt( (KL(e || m) + KL(a || m)) / 2 )`` with ``m = (e + a) / 2``.
    """
    return float(jensenshannon(expected, actual, base=math.e))


@dataclass(frozen=True)
class ColumnDrift:
    """Drift statistics of one column, with the bin table they came from."""

    column: str
    binning: Binning
    reference_counts: np.ndarray
    current_counts: np.ndarray
    psi: float
    js_distance: float
    chi2_pvalue: float
    ks_stat: float
    ks_pvalue: float

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


def column_drift(reference: pd.Series, current: pd.Series, *, bins: int = 10,
                 max_discrete: int = 10) -> ColumnDrift:
    """All drift statistics of one column (see the module docstring for the conventions)."""
    binning = fit_bins(reference, current, bins=bins, max_discrete=max_discrete)
    ref_counts = binning.counts(reference)
    cur_counts = binning.counts(current)
    e, a = shares(ref_counts), shares(cur_counts)
    ks_stat = ks_p = math.nan
    if binning.kind != "categorical":
        ref = reference.dropna().to_numpy(dtype=float)
        cur = current.dropna().to_numpy(dtype=float)
        if len(ref) and len(cur):
            result = stats.ks_2samp(ref, cur)
            ks_stat, ks_p = float(result.statistic), float(result.pvalue)
    return ColumnDrift(
        column=str(reference.name),
        binning=binning,
        reference_counts=ref_counts,
        current_counts=cur_counts,
        psi=psi(e, a),
        js_distance=js_distance(e, a),
        chi2_pvalue=chi2_homogeneity_pvalue(ref_counts, cur_counts),
        ks_stat=ks_stat,
        ks_pvalue=ks_p,
    )


def drift_table(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], *,
                bins: int = 10, max_discrete: int = 10) -> tuple[pd.DataFrame, dict[str, ColumnDrift]]:
    """Drift statistics for several columns.

    Returns
    -------
    table
        One row per column (index ``column``), sorted by PSI descending, with ``kind``, ``psi``,
        ``ks_stat``, ``ks_pvalue``, ``chi2_pvalue``, ``js_distance``, ``bins``.
    details
        The :class:`ColumnDrift` of each column, for bin tables and plots.
    """
    details = {c: column_drift(reference[c], current[c], bins=bins, max_discrete=max_discrete)
               for c in columns}
    table = pd.DataFrame(
        [
            {
                "column": c,
                "kind": d.binning.kind,
                "bins": d.binning.n_bins,
                "psi": d.psi,
                "ks_stat": d.ks_stat,
                "ks_pvalue": d.ks_pvalue,
                "chi2_pvalue": d.chi2_pvalue,
                "js_distance": d.js_distance,
            }
            for c, d in details.items()
        ]
    )
    if table.empty:
        return table, details
    return table.set_index("column").sort_values("psi", ascending=False), details


def subject_of(column: str, score: str | None) -> str:
    """Finding subject of a column: ``score`` for the score, else ``feature:<column>``."""
    return "score" if column == score else f"feature:{column}"


def drift_findings(table: pd.DataFrame, score: str | None) -> list[dict[str, object]]:
    """Findings of a :func:`drift_table`: psi, js_distance and chi2_pvalue for every column,
    ks_stat and ks_pvalue for numeric ones."""
    from validation.findings import finding

    items: list[dict[str, object]] = []
    for column, row in table.iterrows():
        subject = subject_of(str(column), score)
        items.append(finding("psi", subject, row["psi"]))
        if row["kind"] != "categorical":
            items.append(finding("ks_stat", subject, row["ks_stat"]))
            items.append(finding("ks_pvalue", subject, row["ks_pvalue"]))
        items.append(finding("chi2_pvalue", subject, row["chi2_pvalue"]))
        items.append(finding("js_distance", subject, row["js_distance"]))
    return items
