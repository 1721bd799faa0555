"""Explainability: SHAP values in the model's margin units, global importance, stability.

Explainer choice (shap): ``TreeExplainer`` for tree models, ``LinearExplainer`` for linear models,
a model-agnostic ``PermutationExplainer`` on a seeded background sample otherwise. For a
scikit-learn ``Pipeline`` the final estimator is explained on the preprocessed columns and the
SHAP values of the columns derived from one input feature (one-hot columns, say) are summed back
to that feature; SHAP values are additive, so the sum is that feature's contribution.

- ``shap_importance`` of a feature: ``mean_i |phi_i(feature)|`` over the explained sample
  (Lundberg & Lee 2017), in margin units (log-odds for classifiers).
- additivity: ``max_i |base + sum_f phi_i(f) - margin_i|``, the margin computed independently
  by the model (``decision_function`` or ``logit(predict_proba)``).
- ``importance_rank_correlation``: Spearman's rank correlation between two versions' importances
  over the union of their features (a feature absent from one version has importance 0).
- ``monotonicity_reversal``: the largest move of the partial dependence (mean ICE curve) against
  a declared direction, as a share of its range (:func:`monotonicity_reversal`); judged by size,
  so the small dips of a model without monotone constraints are not a broken declaration.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from validation.inputs.artifacts import margin


@dataclass(frozen=True)
class Explanation:
    """SHAP values of a sample, per input feature.

    Attributes
    ----------
    values
        One row per explained applicant, one column per input feature (never glued or shown
        per row in a pack: aggregate it).
    base_value
        The explainer's expected margin.
    margin
        The model's own margin per row, for the additivity check.
    explainer
        Which shap explainer was used.
    units
        What the values measure (``log-odds`` for classifiers).
    """

    values: pd.DataFrame
    base_value: float
    margin: np.ndarray
    explainer: str
    units: str

    def importance(self) -> pd.Series:
        """Mean absolute SHAP value per feature, largest first (name ``shap_importance``)."""
        result = self.values.abs().mean().sort_values(ascending=False)
        result.name = "shap_importance"
        result.index.name = "feature"
        return result

    def additivity_error(self) -> float:
        """``max |base + sum of contributions - model margin|`` over the sample."""
        reconstructed = self.base_value + self.values.to_numpy().sum(axis=1)
        return float(np.max(np.abs(reconstructed - self.margin))) if len(self.margin) else math.nan


def _split_pipeline(model: Any) -> tuple[Any | None, Any]:
    steps = getattr(model, "steps", None)
    if steps and len(steps) > 1:
        from sklearn.pipeline import Pipeline

        return Pipeline(steps[:-1]), steps[-1][1]
    return None, model


def _source_feature(name: str, features: list[str]) -> str:
    """The input feature an output column of a transformer comes from (longest prefix match)."""
    bare = name.split("__", 1)[1] if "__" in name else name
    matches = [f for f in features if bare == f or bare.startswith(f + "_")]
    if not matches:
        raise ValueError(f"cannot tell which input feature the column {name!r} comes from")
    return max(matches, key=len)


_TREE_MODELS = ("DecisionTree", "RandomForest", "ExtraTrees", "GradientBoosting", "XGB", "LGBM")


def _kind(estimator: Any) -> str:
    name = type(estimator).__name__
    if any(tree in name for tree in _TREE_MODELS):
        return "tree"
    if hasattr(estimator, "coef_") and hasattr(estimator, "intercept_"):
        return "linear"
    return "other"


def _import_shap() -> Any:
    """The ``shap`` module, imported without the warning tqdm gives in a kernel without ipywidgets."""
    with warnings.catch_warnings():
        # shap imports tqdm.auto, which warns in a kernel without ipywidgets: not our business
        warnings.filterwarnings("ignore", message="IProgress not found")
        import shap
    return shap


def _dense(matrix: Any) -> np.ndarray:
    """A transformer's output as a dense array: a sparse matrix densified, anything else as floats."""
    dense: np.ndarray = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix, dtype=float)
    return dense


def _explained_columns(preprocess: Any | None, sample: pd.DataFrame,
                       background: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The rows the final estimator sees, for ``sample`` and ``background``, and their column
    names: the preprocessed columns of a pipeline, else the input features as floats."""
    if preprocess is None:
        return sample.to_numpy(dtype=float), background.to_numpy(dtype=float), list(sample.columns)
    columns = [str(c) for c in preprocess.get_feature_names_out()]
    return _dense(preprocess.transform(sample)), _dense(preprocess.transform(background)), columns


def _shap_values(estimator: Any, x: np.ndarray, background: np.ndarray, seed: int) -> tuple[np.ndarray, float, str]:
    """SHAP values of ``x`` per column in the estimator's margin units, the explainer's base
    value and the explainer's name (tree, linear, else permutation on ``background``)."""
    shap = _import_shap()
    kind = _kind(estimator)
    if kind == "tree":
        explainer = shap.TreeExplainer(estimator)
        raw = explainer.shap_values(x, check_additivity=False)
        name = "TreeExplainer"
    elif kind == "linear":
        # every background row counts (shap would otherwise subsample 100 of them)
        explainer = shap.LinearExplainer(estimator, shap.maskers.Independent(background, max_samples=len(background)))
        raw = explainer.shap_values(x)
        name = "LinearExplainer"
    else:
        def margin_of(rows: np.ndarray) -> np.ndarray:
            return margin(estimator, rows)

        explainer = shap.PermutationExplainer(margin_of, background, seed=seed)
        raw = explainer(x).values
        name = "PermutationExplainer"
    values = np.asarray(raw[1] if isinstance(raw, list) else raw, dtype=float)
    if values.ndim == 3:  # (rows, columns, classes): keep the event class
        values = values[:, :, -1]
    return values, float(np.ravel(explainer.expected_value)[-1]), name


def _per_feature(values: np.ndarray, columns: list[str], features: list[str]) -> pd.DataFrame:
    """SHAP values per input feature: the columns derived from one feature summed back to it
    (SHAP values are additive), in the order of ``features``."""
    per_column = pd.DataFrame(values, columns=columns)
    sources = [_source_feature(c, features) for c in columns]
    per_feature = per_column.T.groupby(np.array(sources), sort=False).sum().T
    return per_feature.reindex(columns=features, fill_value=0.0)


def explain(model: Any, sample: pd.DataFrame, *, background: pd.DataFrame | None = None,
            seed: int = 0, background_size: int = 200) -> Explanation:
    """SHAP values of ``sample`` in the model's margin units, per input feature.

    Parameters
    ----------
    model
        A fitted classifier or scikit-learn ``Pipeline`` ending in one.
    sample
        The rows to explain (input features only).
    background
        Rows for the explainer's baseline; default a seeded draw of ``background_size`` rows
        from ``sample``.
    seed
        Seed for the background draw and the permutation explainer.
    background_size
        Rows drawn from ``sample`` when no ``background`` is given.
    """
    features = list(sample.columns)
    if background is None:
        background = sample.sample(n=min(background_size, len(sample)), random_state=seed)
    preprocess, estimator = _split_pipeline(model)
    x, bg, columns = _explained_columns(preprocess, sample, background)
    values, base_value, name = _shap_values(estimator, x, bg, seed)
    units = "log-odds" if hasattr(estimator, "predict_proba") else "model output"
    return Explanation(_per_feature(values, columns, features), base_value, margin(model, sample), name, units)


def importance_rank_correlation(current: pd.Series, previous: pd.Series) -> float:
    """Spearman rank correlation of two importance vectors over the union of their features.

    >>> importance_rank_correlation(pd.Series({"a": 3.0, "b": 2.0, "c": 1.0}),
    ...                             pd.Series({"a": 0.3, "b": 0.1, "c": 0.2}))
    0.5
    """
    union = current.index.union(previous.index)
    a = current.reindex(union, fill_value=0.0)
    b = previous.reindex(union, fill_value=0.0)
    if len(union) < 2:
        return math.nan
    return float(stats.spearmanr(a.to_numpy(), b.to_numpy()).statistic)


def top_k_overlap(current: pd.Series, previous: pd.Series, k: int = 5) -> float:
    """Jaccard overlap of the top-``k`` features of two importance vectors."""
    a = set(current.sort_values(ascending=False).index[:k])
    b = set(previous.sort_values(ascending=False).index[:k])
    return len(a & b) / len(a | b) if a | b else math.nan


def explain_findings(explanation: Explanation, *, rank_correlation: float | None,
                     previous_version: str | None, overlap: float | None = None) -> list[dict[str, object]]:
    """Findings of the explainability check: ``shap_importance`` per feature, the additivity
    error, and ``importance_rank_correlation`` and ``importance_top_k_overlap`` against the
    previous version when there is one."""
    from validation.judging.findings import finding

    items: list[dict[str, object]] = [
        finding("shap_importance", f"feature:{feature}", value, note=explanation.units)
        for feature, value in explanation.importance().items()
    ]
    items.append(finding("shap_additivity_error", "score", explanation.additivity_error(),
                         note=f"{explanation.explainer}, {explanation.units}"))
    if previous_version is not None:
        items.append(finding("importance_rank_correlation", "score", rank_correlation,
                             note=f"Spearman vs version {previous_version}"))
        items.append(finding("importance_top_k_overlap", "score", overlap,
                             note=f"Jaccard overlap of the top 5 features vs version {previous_version}"))
    return items


# --- reason codes -------------------------------------------------------------------------------


def reason_codes(explanation: Explanation, unfavourable: np.ndarray, *, adverse_sign: int = 1,
                 k: int = 4) -> pd.DataFrame:
    """How often each feature is among the top ``k`` reasons for an unfavourable decision.

    For every applicant with an unfavourable decision, the reasons are the ``k`` features whose
    SHAP values push the score furthest towards that decision (``adverse_sign * phi > 0``: with
    ``favourable: below`` a reason raises the PD, so ``adverse_sign = 1``); a feature that pushes
    the other way is never a reason. Four reasons, after Regulation B (12 CFR 1002.9, comment
    9(b)(2)-1: more than four reasons are unlikely to be helpful). Only aggregates are returned:
    never an applicant's reasons.

    Returns
    -------
    DataFrame
        Index ``feature``; columns ``reason_rate`` (share of unfavourable decisions where the feature
        is among the reasons) and ``first_reason_rate`` (share where it is the main reason), sorted
        by ``reason_rate``; its ``attrs["unfavourable"]`` is the number of decisions explained.
    """
    mask = np.asarray(unfavourable, dtype=bool)
    adverse = adverse_sign * explanation.values.to_numpy()[mask]
    features = list(explanation.values.columns)
    n = len(adverse)
    if n == 0:
        table = pd.DataFrame({"reason_rate": 0.0, "first_reason_rate": 0.0}, index=pd.Index(features, name="feature"))
        table.attrs["unfavourable"] = 0
        return table
    ranked = np.argsort(-adverse, axis=1, kind="stable")[:, :k]
    pushes = np.take_along_axis(adverse, ranked, axis=1) > 0
    counts = np.bincount(ranked[pushes], minlength=len(features))
    first = np.bincount(ranked[:, 0][pushes[:, 0]], minlength=len(features))
    table = pd.DataFrame({"reason_rate": counts / n, "first_reason_rate": first / n},
                         index=pd.Index(features, name="feature"))
    table = table.sort_values("reason_rate", ascending=False, kind="stable")
    table.attrs["unfavourable"] = n
    return table


# --- monotonicity: partial dependence and ICE ---------------------------------------------------


def ice_curves(model: Any, sample: pd.DataFrame, feature: str, grid: np.ndarray) -> np.ndarray:
    """Individual conditional expectation curves: the model's PD for every row of ``sample`` with
    ``feature`` set to each grid value (one ``predict_proba`` call on ``rows x grid`` rows).

    Returns an array of shape ``(rows, len(grid))``; its column mean is the partial dependence
    (Friedman 2001; Goldstein et al. 2015).
    """
    from validation.inputs.artifacts import predict_scores

    repeated = sample.loc[sample.index.repeat(len(grid))].reset_index(drop=True)
    repeated[feature] = np.tile(np.asarray(grid), len(sample))
    return predict_scores(model, repeated).reshape(len(sample), len(grid))


def ice_grid(values: pd.Series, points: int = 20) -> np.ndarray:
    """Grid for ICE curves: distinct quantiles (5% to 95%) of the feature's values (not the
    extremes: they are single applicants' values)."""
    present = values.dropna().to_numpy(dtype=float)
    return np.unique(np.quantile(present, np.linspace(0.05, 0.95, points))) if len(present) else np.array([])


FLAT_TOLERANCE = 1e-9
"""A curve whose range (max - min) is at most this many PD points is flat: the model's output does
not move with the feature (beyond floating-point noise), so nothing can reverse."""

_DIRECTIONS = ("increasing", "decreasing")


def _checked_curves(curves: np.ndarray, direction: str) -> np.ndarray:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be 'increasing' or 'decreasing', got {direction!r}")
    array = np.asarray(curves, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"curves must be a 2-D array (one curve per row, one grid point per column), got shape "
                         f"{array.shape}")
    return array


def largest_reversal(curves: np.ndarray, direction: str) -> np.ndarray:
    """The largest move of each curve against the declared direction, in the curve's units.

    For ``increasing``: ``max over i < j of (c_i - c_j)``, at least 0 (the deepest fall from an
    earlier high); for ``decreasing``: ``max over i < j of (c_j - c_i)``, at least 0 (the highest
    rise above an earlier low). Computed as ``max_j (running max_(i <= j) c_i - c_j)`` (resp.
    ``max_j (c_j - running min_(i <= j) c_i)``), one pass over the grid.

    Parameters
    ----------
    curves
        One curve per row (an ICE curve, or the partial dependence as one row), one grid point
        per column, the grid increasing.
    direction
        ``increasing`` or ``decreasing``.

    >>> largest_reversal(np.array([[0.1, 0.5, 0.3, 0.45, 0.2, 0.9]]), "increasing").tolist()  # 0.5 down to 0.2
    [0.3]
    """
    c = _checked_curves(curves, direction)
    if c.shape[1] == 0:
        return np.zeros(c.shape[0])
    if direction == "increasing":
        against = np.maximum.accumulate(c, axis=1) - c
    else:
        against = c - np.minimum.accumulate(c, axis=1)
    return np.asarray(against.max(axis=1), dtype=float)


def relative_reversal(curves: np.ndarray, direction: str) -> np.ndarray:
    """:func:`largest_reversal` of each curve as a share of that curve's range (``max - min``).

    In ``[0, 1]``: 0 for a curve that never goes against the declared direction and for a flat
    curve (range at most :data:`FLAT_TOLERANCE`); 1 for a curve that goes entirely the other way.

    >>> relative_reversal(np.array([[0.2, 0.6, 0.5, 1.0], [0.9, 0.5, 0.1, 0.1], [0.3, 0.3, 0.3, 0.3]]),
    ...                   "increasing").round(3).tolist()
    [0.125, 1.0, 0.0]
    """
    c = _checked_curves(curves, direction)
    reversal = largest_reversal(c, direction)
    spread = np.ptp(c, axis=1) if c.shape[1] else np.zeros(c.shape[0])
    flat = spread <= FLAT_TOLERANCE
    return np.where(flat, 0.0, reversal / np.where(flat, 1.0, spread))


def monotonicity_reversal(curves: np.ndarray, direction: str) -> float:
    """Largest reversal of the partial dependence against the declared direction, as a share of its range.

    The partial dependence is the mean of the ICE curves (Friedman 2001); its largest reversal
    (:func:`largest_reversal`) divided by its range ``max - min`` (:func:`relative_reversal`): 0
    when it never goes the other way or is flat, 1 when it goes entirely the other way. Judged
    by the policy (``monotonicity_reversal``): a small dip of an unconstrained gradient boosting
    model is a small share of the feature's whole effect, not a broken declaration.

    Returns
    -------
    float
        ``nan`` without curves or with fewer than two grid points.

    >>> pd_curves = np.array([[0.1, 0.3, 0.28, 0.5], [0.2, 0.4, 0.36, 0.6]])  # mean: 0.15, 0.35, 0.32, 0.55
    >>> round(monotonicity_reversal(pd_curves, "increasing"), 6)   # a dip of 0.03 in a range of 0.4
    0.075
    """
    c = _checked_curves(curves, direction)
    if c.shape[0] == 0 or c.shape[1] < 2:
        return math.nan
    return float(relative_reversal(c.mean(axis=0, keepdims=True), direction)[0])


def violating_curves(curves: np.ndarray, direction: str, *, bound: float | None) -> np.ndarray:
    """Which ICE curves reverse against the declared direction by at least ``bound`` of their own range.

    Parameters
    ----------
    bound
        A share of each curve's range: the check passes the policy's amber bound of
        ``monotonicity_reversal`` (its red when the spec sets no amber). ``None`` (the spec judges
        ``monotonicity_reversal`` on neither bound) counts every curve with any reversal larger
        than :data:`FLAT_TOLERANCE` PD points.
    """
    c = _checked_curves(curves, direction)
    if bound is None:
        return np.asarray(largest_reversal(c, direction) > FLAT_TOLERANCE, dtype=bool)
    # a relative reversal within float error of the bound reaches it (as the policy's comparisons)
    return np.asarray(relative_reversal(c, direction) >= bound * (1 - 1e-9), dtype=bool)


def monotonicity_violation_share(curves: np.ndarray, direction: str, *, bound: float | None) -> float:
    """Share of ICE curves whose largest reversal is at least ``bound`` of their own range (reported).

    :func:`violating_curves` over the curves; ``nan`` without curves or with fewer than two grid
    points.

    >>> monotonicity_violation_share(np.array([[0.1, 0.2, 0.3], [0.1, 0.3, 0.2]]), "increasing", bound=0.1)
    0.5
    """
    c = _checked_curves(curves, direction)
    if c.shape[0] == 0 or c.shape[1] < 2:
        return math.nan
    return float(violating_curves(c, direction, bound=bound).mean())


@dataclass(frozen=True)
class Monotonicity:
    """A declared monotonicity against the ICE curves of one feature.

    Attributes
    ----------
    feature, direction
        The feature and its declared direction.
    start, end
        The partial dependence (mean ICE curve) at the first and last grid points.
    spread
        Range ``max - min`` of the partial dependence.
    reversal
        Its :func:`largest_reversal`, in PD points.
    relative
        ``monotonicity_reversal``: ``reversal / spread`` (0 for a flat curve).
    share
        ``monotonicity_violation_share``: share of the curves reversing by at least ``bound`` of
        their own range.
    bound
        The share of a curve's range that counts as a violation (``None``: any reversal).
    curves
        Number of ICE curves.
    median_spread, median_reversal
        Median over the ICE curves of their range and of their largest reversal, in PD points.
    """

    feature: str
    direction: str
    start: float
    end: float
    spread: float
    reversal: float
    relative: float
    share: float
    bound: float | None
    curves: int
    median_spread: float
    median_reversal: float

    def describe(self) -> str:
        """One line, e.g. ``average PD rises from 0.26 to 0.56; largest reversal 0.01 (3.3% of its range)``."""
        if not math.isfinite(self.relative):
            return "no curve to judge (fewer than two grid points)"
        if self.spread <= FLAT_TOLERANCE:
            return f"average PD flat at {self.start:.3g}: nothing to reverse"
        verb = "rises" if self.end > self.start else "falls" if self.end < self.start else "returns"
        moves = f"average PD {verb} from {self.start:.3g} to {self.end:.3g} (range {self.spread:.3g})"
        if self.relative == 0:
            return f"{moves}; it never goes against the declared direction"
        return f"{moves}; largest reversal {self.reversal:.3g} ({self.relative:.1%} of its range)"


def monotonicity(curves: np.ndarray, feature: str, direction: str, *, bound: float | None) -> Monotonicity:
    """Everything the explainability check says about one declared monotonicity (:class:`Monotonicity`)."""
    c = _checked_curves(curves, direction)
    if c.shape[0] == 0 or c.shape[1] < 2:
        nan = math.nan
        return Monotonicity(feature, direction, nan, nan, nan, nan, nan, nan, bound, c.shape[0], nan, nan)
    average = c.mean(axis=0, keepdims=True)
    return Monotonicity(feature, direction, start=float(average[0, 0]), end=float(average[0, -1]),
                        spread=float(np.ptp(average)), reversal=float(largest_reversal(average, direction)[0]),
                        relative=monotonicity_reversal(c, direction),
                        share=monotonicity_violation_share(c, direction, bound=bound), bound=bound,
                        curves=c.shape[0], median_spread=float(np.median(np.ptp(c, axis=1))),
                        median_reversal=float(np.median(largest_reversal(c, direction))))


def reason_findings(table: pd.DataFrame) -> list[dict[str, object]]:
    """``reason_code_rate`` per feature (reported): share of unfavourable decisions it explains."""
    from validation.judging.findings import finding

    n = table.attrs.get("unfavourable", 0)
    return [finding("reason_code_rate", f"feature:{feature}", row["reason_rate"],
                    note=f"main reason in {row['first_reason_rate']:.1%} of {n} unfavourable decisions")
            for feature, row in table.iterrows()]


def monotonicity_findings(results: list[Monotonicity]) -> list[dict[str, object]]:
    """Per declared feature: ``monotonicity_reversal`` (judged) with a note saying what the
    partial dependence does, and ``monotonicity_violation_share`` (reported)."""
    from validation.judging.findings import finding

    items: list[dict[str, object]] = []
    for result in results:
        subject = f"feature:{result.feature}"
        items.append(finding("monotonicity_reversal", subject, result.relative,
                             note=f"declared {result.direction}; {result.describe()}"))
        size = "any amount" if result.bound is None else f"at least {result.bound:.0%} of their own range"
        items.append(finding("monotonicity_violation_share", subject, result.share,
                             note=f"share of {result.curves} ICE curves reversing by {size}; median curve: range "
                                  f"{result.median_spread:.3g}, largest reversal {result.median_reversal:.3g}"))
    return items
