"""Paired comparison of two PD models scored on the same rows (a new version against the previous
version, or against a benchmark), and the transparent benchmark itself.

Every statistic compares a *new* score ``a`` with a *comparator* score ``b`` on the same applicants
with the same outcomes ``y`` (1 = event, a default), so each test is paired: the two scores'
errors are correlated, and an unpaired test would overstate the variance of their difference.

- Discrimination: the paired DeLong test of ``AUC(a) - AUC(b)`` (DeLong, DeLong & Clarke-Pearson
  1988, Biometrics 44(3), 837-845), computed from mid-ranks as Sun & Xu (2014), "Fast
  implementation of DeLong's algorithm for comparing the areas under correlated receiver operating
  characteristic curves", IEEE Signal Processing Letters 21(11), 1389-1393.
- Accuracy: the paired test of the Brier score difference on the rows' squared-error differences,
  the Diebold & Mariano (1995) test of equal predictive accuracy with the small-sample correction
  of Harvey, Leybourne & Newbold (1997) (which, for independent rows, is exactly the paired t-test).
- Calibration: observed over expected defaults of each model.
- Decisions at the spec's threshold: approval rates with McNemar's exact test of the paired
  decisions (McNemar 1947), and the bad rates among the approved.
- The benchmark: a logistic regression on the same features, fitted deterministically on a seeded
  sample of reference rows (the challenger check's ``benchmark_max_rows`` and ``seed``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from validation.judging.policy import NOTE_SIGNIFICANCE
from validation.metrics.backtesting import _as_arrays, brier, delong_components, observed_expected_ratio

CONFIDENCE = 1 - NOTE_SIGNIFICANCE
"""Level of the confidence interval of the AUC difference (two-sided): 95%, as the fairness check's
intervals."""

BENCHMARK_C = 1.0
"""Inverse L2 penalty of the benchmark's logistic regression: scikit-learn's default. On
standardised numeric and one-hot columns it barely shrinks a fit on hundreds of rows or more, and
keeps a separable or one-hot-collinear design finite; it is not tuned, so the benchmark takes no
choice from the data it is judged against."""

BENCHMARK_MAX_CATEGORIES = 50
"""Most one-hot columns per categorical feature (the rarest categories pooled), as the drift
check's ``max_categories``: an identifier-like text column cannot blow up the benchmark."""

MISSING_CATEGORY = "(missing)"
"""The category a missing categorical value becomes in the benchmark."""


@dataclass(frozen=True)
class AucDifference:
    """The paired DeLong test of ``AUC(a) - AUC(b)``.

    Attributes
    ----------
    auc_a, auc_b
        The two AUCs.
    difference
        ``auc_a - auc_b``.
    se
        Its standard error, ``sqrt(var_a + var_b - 2 cov_ab)``.
    ci_low, ci_high
        Its :data:`CONFIDENCE` interval, ``difference -/+ z se``.
    pvalue
        Two-sided p-value of ``H0: AUC(a) = AUC(b)``, ``2 (1 - Phi(|difference| / se))``.
    pvalue_lower
        One-sided p-value of ``H0: AUC(a) >= AUC(b)`` (small when ``a`` ranks significantly worse),
        ``Phi(difference / se)``.
    pvalue_higher
        One-sided p-value of ``H0: AUC(a) <= AUC(b)`` (small when ``a`` ranks significantly
        better), ``1 - Phi(difference / se)``.
    correlation
        Correlation of the two AUC estimates, ``cov_ab / sqrt(var_a var_b)``.
    """

    auc_a: float
    auc_b: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    pvalue_lower: float
    pvalue_higher: float
    correlation: float


def paired_auc_difference(y: np.ndarray | pd.Series, a: np.ndarray | pd.Series,
                          b: np.ndarray | pd.Series, *,
                          components_a: tuple[np.ndarray, np.ndarray] | None = None) -> AucDifference:
    """The paired DeLong test of the difference of two correlated AUCs on the same rows.

    With the structural components of each score (:func:`delong_components`), ``S10`` the 2 x 2
    sample covariance (``ddof = 1``) of ``(V10_a, V10_b)`` over the ``m`` events and ``S01`` that of
    ``(V01_a, V01_b)`` over the ``n`` non-events, ``S = S10 / m + S01 / n`` estimates the covariance
    of the two AUCs (DeLong, DeLong & Clarke-Pearson 1988, section 3), and
    ``Var(AUC_a - AUC_b) = S_aa + S_bb - 2 S_ab``; ``z = (AUC_a - AUC_b) / se`` is asymptotically
    standard normal under equal AUCs. Undefined (``nan``) when a class is empty, and the p-values
    when the difference has no variance (the two scores rank every pair alike). ``components_a``:
    ``delong_components(y, a)`` when already computed (one new score against several comparators).

    Examples
    --------
    >>> y = np.array([1, 1, 1, 0, 0, 0])
    >>> result = paired_auc_difference(y, np.array([0.9, 0.8, 0.3, 0.4, 0.2, 0.1]),
    ...                                np.array([0.9, 0.3, 0.4, 0.8, 0.2, 0.1]))
    >>> round(result.auc_a, 4), round(result.auc_b, 4), round(result.difference, 4)
    (0.8889, 0.7778, 0.1111)
    """
    v10_a, v01_a = components_a if components_a is not None else delong_components(y, a)
    v10_b, v01_b = delong_components(y, b)
    m, n = len(v10_a), len(v01_a)
    if m == 0 or n == 0:
        nan = math.nan
        return AucDifference(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan)
    s10 = np.cov(np.vstack([v10_a, v10_b]), ddof=1) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(np.vstack([v01_a, v01_b]), ddof=1) if n > 1 else np.zeros((2, 2))
    s = s10 / m + s01 / n
    auc_a, auc_b = float(v10_a.mean()), float(v10_b.mean())
    difference = auc_a - auc_b
    variance = max(float(s[0, 0] + s[1, 1] - 2 * s[0, 1]), 0.0)
    se = math.sqrt(variance)
    z_level = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    both = float(s[0, 0] * s[1, 1])
    correlation = float(s[0, 1]) / math.sqrt(both) if both > 0 else math.nan
    if se > 0:
        z = difference / se
        pvalue, lower, higher = float(2 * stats.norm.sf(abs(z))), float(stats.norm.cdf(z)), float(stats.norm.sf(z))
    else:
        pvalue = lower = higher = math.nan
    return AucDifference(auc_a, auc_b, difference, se, difference - z_level * se, difference + z_level * se,
                         pvalue, lower, higher, correlation)


@dataclass(frozen=True)
class BrierDifference:
    """The paired test of ``Brier(a) - Brier(b)``.

    Attributes
    ----------
    brier_a, brier_b
        The two Brier scores, ``mean (p - y)^2``.
    difference
        ``brier_a - brier_b`` (positive: ``a`` is less accurate).
    relative
        ``difference / brier_b``: how much less accurate ``a`` is, as a share of ``b``'s Brier score.
    statistic
        ``t = mean(d) / (sd(d) / sqrt(N))`` of the rows' differences ``d``.
    pvalue
        Two-sided, Student's t on ``N - 1`` degrees of freedom.
    pvalue_higher
        One-sided p-value of ``H0: Brier(a) <= Brier(b)`` (small when ``a`` is significantly less
        accurate).
    """

    brier_a: float
    brier_b: float
    difference: float
    relative: float
    statistic: float
    pvalue: float
    pvalue_higher: float


def paired_brier_difference(y: np.ndarray | pd.Series, a: np.ndarray | pd.Series,
                            b: np.ndarray | pd.Series) -> BrierDifference:
    """Paired test of the difference of two Brier scores on the same rows.

    Per row the loss differential ``d_i = (a_i - y_i)^2 - (b_i - y_i)^2``; ``mean(d)`` is the Brier
    difference. Diebold & Mariano (1995), "Comparing predictive accuracy", JBES 13(3), test
    ``E[d] = 0`` with ``DM = mean(d) / sqrt(g0 / N)``, ``g0 = mean((d - mean(d))^2)`` when the rows
    are independent (no autocorrelation to correct: one-step-ahead, ``h = 1``); Harvey, Leybourne &
    Newbold (1997), IJF 13(2), multiply it by ``sqrt((N + 1 - 2h + h (h - 1) / N) / N)`` and compare
    with Student's t on ``N - 1`` degrees of freedom. At ``h = 1`` that is exactly the paired t
    statistic ``mean(d) / (sd(d) / sqrt(N))`` (``sd`` with ``ddof = 1``), i.e.
    ``scipy.stats.ttest_rel((a - y)^2, (b - y)^2)``. ``nan`` p-values when every ``d_i`` is equal.

    Examples
    --------
    >>> result = paired_brier_difference(np.array([1, 0, 1, 0]), np.array([0.6, 0.4, 0.7, 0.2]),
    ...                                  np.array([0.5, 0.5, 0.5, 0.5]))
    >>> round(result.brier_a, 4), round(result.brier_b, 4), round(result.difference, 4)
    (0.1125, 0.25, -0.1375)
    """
    y_arr, a_arr = _as_arrays(y, a)
    _, b_arr = _as_arrays(y, b)
    d = (a_arr - y_arr) ** 2 - (b_arr - y_arr) ** 2
    brier_a, brier_b = brier(y_arr, a_arr), brier(y_arr, b_arr)
    difference = float(d.mean()) if len(d) else math.nan
    relative = difference / brier_b if brier_b > 0 else math.nan
    sd = float(np.std(d, ddof=1)) if len(d) > 1 else 0.0
    if sd > 0:
        t = difference / (sd / math.sqrt(len(d)))
        pvalue, higher = float(2 * stats.t.sf(abs(t), len(d) - 1)), float(stats.t.sf(t, len(d) - 1))
    else:
        t = pvalue = higher = math.nan
    return BrierDifference(brier_a, brier_b, difference, relative, t, pvalue, higher)


def mcnemar_pvalue(a_only: int, b_only: int) -> float:
    """McNemar's exact test of paired binary decisions (McNemar 1947, Psychometrika 12(2)).

    Of the rows the two decisions disagree on, ``a_only`` are favourable under ``a`` alone and
    ``b_only`` under ``b`` alone; under ``H0`` (the same approval rate) each disagreement goes
    either way with probability 1/2, so ``p = min(1, 2 BinomCDF(min(a_only, b_only); a_only +
    b_only, 1/2))``, two-sided (``statsmodels.stats.contingency_tables.mcnemar(exact=True)``).
    Exact at every size (no chi-square approximation to choose); 1 when they never disagree.

    >>> round(mcnemar_pvalue(10, 2), 4)
    0.0386
    """
    total = a_only + b_only
    if total == 0:
        return 1.0
    return float(min(1.0, 2 * stats.binom.cdf(min(a_only, b_only), total, 0.5)))


@dataclass(frozen=True)
class Decisions:
    """Decisions of two models at the spec's threshold, on the same rows.

    Attributes
    ----------
    approval_a, approval_b
        Approval rates.
    approval_difference
        ``approval_a - approval_b``.
    a_only, b_only
        Rows approved by ``a`` alone, by ``b`` alone.
    mcnemar_pvalue
        :func:`mcnemar_pvalue` of the paired decisions.
    bad_rate_a, bad_rate_b
        Default rate among each model's approved (``nan`` when it approves nobody).
    bad_rate_difference
        ``bad_rate_a - bad_rate_b``.
    """

    approval_a: float
    approval_b: float
    approval_difference: float
    a_only: int
    b_only: int
    mcnemar_pvalue: float
    bad_rate_a: float
    bad_rate_b: float
    bad_rate_difference: float


def paired_decisions(y: np.ndarray | pd.Series, a: np.ndarray | pd.Series, b: np.ndarray | pd.Series, *,
                     threshold: float, favourable: str) -> Decisions:
    """Approval and bad rates of two models at one decision rule (approve when the score is
    ``favourable`` (``below``: ``score < threshold``; ``above``: ``score >= threshold``), as
    :func:`validation.metrics.fairness.favourable_decision`), with McNemar's test of the approvals.

    >>> result = paired_decisions(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.9]),
    ...                           np.array([0.1, 0.6, 0.7, 0.9]), threshold=0.5, favourable="below")
    >>> result.approval_a, result.approval_b, result.a_only, result.bad_rate_a
    (0.75, 0.25, 2, 0.3333333333333333)
    """
    from validation.metrics.fairness import favourable_decision

    y_arr, a_arr = _as_arrays(y, a)
    _, b_arr = _as_arrays(y, b)
    approved_a = favourable_decision(a_arr, threshold, favourable).astype(bool)
    approved_b = favourable_decision(b_arr, threshold, favourable).astype(bool)
    bad_a = float(y_arr[approved_a].mean()) if approved_a.any() else math.nan
    bad_b = float(y_arr[approved_b].mean()) if approved_b.any() else math.nan
    a_only, b_only = int((approved_a & ~approved_b).sum()), int((approved_b & ~approved_a).sum())
    rate_a, rate_b = float(approved_a.mean()), float(approved_b.mean())
    return Decisions(rate_a, rate_b, rate_a - rate_b, a_only, b_only, mcnemar_pvalue(a_only, b_only),
                     bad_a, bad_b, bad_a - bad_b)


@dataclass(frozen=True)
class Comparison:
    """Everything :func:`compare` computes of a new score against a comparator on the same rows."""

    auc: AucDifference
    brier: BrierDifference
    observed_expected_a: float
    observed_expected_b: float
    decisions: Decisions | None

    def row(self) -> dict[str, float]:
        """The comparison as one row of the table of paired differences (``a`` the new model)."""
        a, br = self.auc, self.brier
        row = {"auc_new": a.auc_a, "auc_comparator": a.auc_b, "auc_difference": a.difference,
               "auc_difference_se": a.se, "ci_low": a.ci_low, "ci_high": a.ci_high, "auc_pvalue": a.pvalue,
               "brier_new": br.brier_a, "brier_comparator": br.brier_b, "brier_difference": br.difference,
               "brier_pvalue": br.pvalue, "observed_expected_new": self.observed_expected_a,
               "observed_expected_comparator": self.observed_expected_b}
        d = self.decisions
        if d is not None:
            row.update({"approval_rate_new": d.approval_a, "approval_rate_comparator": d.approval_b,
                        "approval_rate_difference": d.approval_difference, "mcnemar_pvalue": d.mcnemar_pvalue,
                        "bad_rate_approved_new": d.bad_rate_a, "bad_rate_approved_comparator": d.bad_rate_b,
                        "bad_rate_approved_difference": d.bad_rate_difference})
        return row


def compare(y: np.ndarray | pd.Series, a: np.ndarray | pd.Series, b: np.ndarray | pd.Series, *,
            threshold: float | None = None, favourable: str = "below",
            components_a: tuple[np.ndarray, np.ndarray] | None = None) -> Comparison:
    """A new score ``a`` against a comparator ``b`` on the same rows: :func:`paired_auc_difference`,
    :func:`paired_brier_difference`, observed / expected defaults of each
    (:func:`validation.metrics.backtesting.observed_expected_ratio`) and, with a ``threshold``,
    :func:`paired_decisions`.

    >>> result = compare(np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.5, 0.1]), np.array([0.9, 0.4, 0.5, 0.1]))
    >>> result.auc.difference
    0.25
    """
    decisions = (paired_decisions(y, a, b, threshold=threshold, favourable=favourable)
                 if threshold is not None else None)
    return Comparison(paired_auc_difference(y, a, b, components_a=components_a), paired_brier_difference(y, a, b),
                      observed_expected_ratio(y, a), observed_expected_ratio(y, b), decisions)


def calibration_curve(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series, *, bins: int = 10,
                      min_rows: int = 5) -> pd.DataFrame:
    """Observed default rate against mean PD in quantile bins of the score, for a calibration chart.

    At most ``bins`` bins of equal counts (``pandas.qcut``, duplicate edges merged), fewer when the
    sample holds fewer than ``min_rows`` rows per bin: a bin's default rate would otherwise tell
    individual outcomes (``min_rows`` is the pooling minimum of the other checks, 5).

    Returns
    -------
    DataFrame
        Index ``bin`` (1 = lowest scores); columns ``n``, ``mean_pd``, ``odr``.

    >>> calibration_curve(np.array([0, 0, 1, 1] * 5), np.linspace(0.1, 0.9, 20), bins=2)["n"].tolist()
    [10, 10]
    """
    y_arr, s_arr = _as_arrays(y, score)
    count = max(1, min(bins, len(s_arr) // max(min_rows, 1)))
    labels = pd.qcut(s_arr, count, labels=False, duplicates="drop") if count > 1 else np.zeros(len(s_arr), int)
    frame = pd.DataFrame({"bin": np.asarray(labels) + 1, "y": y_arr, "p": s_arr})
    table = frame.groupby("bin").agg(n=("y", "size"), mean_pd=("p", "mean"), odr=("y", "mean"))
    table["n"] = table["n"].astype(np.int64)
    return table


# --- the benchmark ---------------------------------------------------------------------------------


def benchmark_pipeline(numeric: list[str], categorical: list[str], *, seed: int) -> Any:
    """The benchmark, not fitted: numeric features imputed by their median and standardised,
    categorical features (as text, missing as ``(missing)``) one-hot encoded (categories unseen
    at fit ignored, at most :data:`BENCHMARK_MAX_CATEGORIES` columns each), then a logistic
    regression (L2, ``C =`` :data:`BENCHMARK_C`, lbfgs, ``random_state=seed``). Every step is
    deterministic: the same rows give the same coefficients."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    steps = []
    if numeric:
        steps.append(("num", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                       ("scale", StandardScaler())]), numeric))
    if categorical:
        steps.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=BENCHMARK_MAX_CATEGORIES,
                                           sparse_output=False), categorical))
    return Pipeline([("prep", ColumnTransformer(steps)),
                     ("model", LogisticRegression(C=BENCHMARK_C, max_iter=1000, random_state=seed))])


def benchmark_frame(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """The benchmark's inputs: numeric features as floats, categorical ones as text with missing
    values as :data:`MISSING_CATEGORY` (a category of its own, as a scorecard would bin it).

    >>> benchmark_frame(pd.DataFrame({"x": [1, None], "c": ["a", None]}), ["x"], ["c"])["c"].tolist()
    ['a', '(missing)']
    """
    out = pd.DataFrame(index=frame.index)
    for column in numeric:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in categorical:
        values = frame[column]
        out[column] = values.astype("object").where(values.notna(), MISSING_CATEGORY).astype(str)
    return out


PREDICT_CHUNK = 200_000
"""Rows the benchmark scores at a time (its encoded inputs: at most 200,000 x 50 columns per feature)."""


@dataclass
class Benchmark:
    """A fitted benchmark: its pipeline, its input columns and the rows it was fitted on."""

    pipeline: Any
    numeric: list[str]
    categorical: list[str]
    fitted_rows: int
    available_rows: int
    events: int = 0
    """Outcomes of the rarer class among the rows fitted on."""

    @property
    def parameters(self) -> int:
        """Coefficients fitted, the intercept included."""
        return int(self.pipeline.named_steps["model"].coef_.size) + 1

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """PD of each row of ``frame`` (the same features).

        From the fitted coefficients (:meth:`margin`), the same numbers as the pipeline's
        ``predict_proba`` (a test holds them to 1e-12) at a fraction of its cost on millions of
        rows; through the pipeline, :data:`PREDICT_CHUNK` rows at a time, when an encoder grouped
        infrequent categories."""
        from scipy.special import expit

        margin = self.margin(frame)
        if margin is not None:
            return np.asarray(expit(margin), dtype=float)
        parts = [self.pipeline.predict_proba(benchmark_frame(frame.iloc[start:start + PREDICT_CHUNK], self.numeric,
                                                             self.categorical))[:, 1]
                 for start in range(0, len(frame), PREDICT_CHUNK)]
        return np.asarray(np.concatenate(parts) if parts else np.empty(0), dtype=float)

    def margin(self, frame: pd.DataFrame) -> np.ndarray | None:
        """The log-odds ``b0 + sum_j b_j z_j + sum_k b_k[category]``: each numeric feature imputed by
        the fitted median and standardised by the fitted mean and scale, each category's own
        coefficient (missing is the category :data:`MISSING_CATEGORY`; a category unseen at fit
        adds nothing, as the encoder's all-zero row). ``None`` when an encoder grouped infrequent
        categories (the pipeline then scores)."""
        prep, model = self.pipeline.named_steps["prep"], self.pipeline.named_steps["model"]
        coef = np.asarray(model.coef_[0], dtype=float)
        out = np.full(len(frame), float(model.intercept_[0]))
        at = 0
        if self.numeric:
            steps = prep.named_transformers_["num"].named_steps
            impute, scale = steps["impute"], steps["scale"]
            for j, column in enumerate(self.numeric):  # a column at a time: no rows x features matrix
                values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
                values = np.where(np.isnan(values), impute.statistics_[j], values)
                out += (values - scale.mean_[j]) * (coef[j] / scale.scale_[j])
            at = len(self.numeric)
        if self.categorical:
            encoder = prep.named_transformers_["cat"]
            if any(group is not None for group in (getattr(encoder, "infrequent_categories_", None) or [])):
                return None
            for column, categories in zip(self.categorical, encoder.categories_):
                codes = _category_codes(frame[column], pd.Index(categories))
                weights = np.append(coef[at:at + len(categories)], 0.0)  # code -1 (unseen): the appended 0
                out += weights[codes]
                at += len(categories)
        return out

    def coefficients(self) -> pd.Series:
        """The logistic regression's coefficients by encoded column, and ``(intercept)``."""
        model = self.pipeline.named_steps["model"]
        names = [str(n) for n in self.pipeline.named_steps["prep"].get_feature_names_out()]
        return pd.Series([float(model.intercept_[0]), *model.coef_[0].tolist()], index=["(intercept)", *names])


def _category_codes(values: pd.Series, categories: pd.Index) -> np.ndarray:
    """Each value's position in ``categories`` as :func:`benchmark_frame` writes it (missing:
    :data:`MISSING_CATEGORY`), -1 for a category unseen at fit; text columns looked up as they are."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)  # one hash pass; the lookups are per distinct value
    distinct = pd.Series(uniques, name=values.name, dtype=values.dtype)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        found = categories.get_indexer(distinct.fillna(MISSING_CATEGORY))
    else:  # numbers or objects in a categorical column: compared as the text the benchmark was fitted on
        found = categories.get_indexer(benchmark_frame(distinct.to_frame(), [], [str(values.name)]).iloc[:, 0])
    return np.asarray(found, dtype=np.int64)[codes]


def fit_benchmark(frame: pd.DataFrame, features: list[str], target: str, *, max_rows: int,
                  seed: int) -> Benchmark | None:
    """Fit the transparent benchmark (:func:`benchmark_pipeline`) on ``frame`` (the reference sample).

    Above ``max_rows`` rows it is fitted on a simple random sample of ``max_rows`` rows drawn with
    ``seed`` (``DataFrame.sample(random_state=seed)``), so a sample of millions stays fast. A
    feature is numeric when :func:`validation.metrics.drift.is_numeric` says so, else categorical.

    Returns
    -------
    Benchmark or None
        ``None`` when the rows hold a single outcome class (nothing to fit).

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "c": list("ababab"), "y": [0, 0, 1, 0, 1, 1]})
    >>> fitted = fit_benchmark(frame, ["x", "c"], "y", max_rows=50_000, seed=0)
    >>> fitted.fitted_rows, fitted.predict(frame).shape
    (6, (6,))
    """
    from validation.metrics.kinds import is_numeric

    available = len(frame)
    rows = frame.sample(n=max_rows, random_state=seed).sort_index() if available > max_rows else frame
    y = rows[target].to_numpy(dtype=np.int64)
    if len(np.unique(y)) < 2:
        return None
    numeric = [f for f in features if is_numeric(frame[f])]
    categorical = [f for f in features if f not in numeric]
    pipeline = benchmark_pipeline(numeric, categorical, seed=seed)
    pipeline.fit(benchmark_frame(rows, numeric, categorical), y)
    return Benchmark(pipeline, numeric, categorical, len(rows), available, int(min(y.sum(), len(y) - y.sum())))
