"""Explainability: SHAP values in the model's margin units, global importance, stability.

Which explainer (:func:`choose_explainer`; the :class:`Explanation` records it and why):

- a linear model: shap's ``LinearExplainer`` (exact for independent features);
- a scikit-learn tree model (decision tree, random forest, extra trees, gradient boosting,
  HistGradientBoosting on numeric features): shap's ``TreeExplainer`` (exact TreeSHAP);
- XGBoost, LightGBM and CatBoost: the library's own exact TreeSHAP (``pred_contribs``,
  ``pred_contrib``, ``ShapValues``), which follows their native categorical splits;
- anything else with ``predict_proba``, and the cases above where no exact path exists (a
  HistGradientBoosting model with native categorical features, where ``TreeExplainer`` is not
  exact; ``CalibratedClassifierCV``, whose averaged calibrated probabilities are no sum of its base
  model's contributions; a pipeline whose columns cannot each be traced to one input feature): a
  black box, explained on the raw input columns by shap's seeded ``PermutationExplainer``
  (:data:`PERMUTATIONS`, :data:`PERMUTATION_BACKGROUND`).

For a scikit-learn ``Pipeline`` ending in a linear or tree model, the final estimator is explained
on the preprocessed columns and the SHAP values of the columns derived from one input feature
(one-hot columns, say) are summed back to that feature; SHAP values are additive, so the sum is
that feature's contribution.

- ``shap_importance`` of a feature: ``mean_i |phi_i(feature)|`` over the explained sample
  (Lundberg & Lee 2017), in margin units (log-odds for classifiers; probability for a random
  forest, which averages probabilities).
- additivity: ``max_i |base + sum_f phi_i(f) - margin_i|``, the margin computed independently
  by the model (``decision_function``, the library's raw margin, or ``logit(predict_proba)``),
  to be within :attr:`Explanation.additivity_bound`.
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

from validation.inputs.artifacts import margin, native_margin, predict_scores, split_pipeline
from validation.inputs.model_frames import lightgbm_booster, model_frame

ADDITIVITY_BOUND = 1e-6
"""Additivity error expected of an exact explainer computing in 64-bit floats (margin units)."""
FLOAT32_RELATIVE_BOUND = 1e-5
"""XGBoost computes its SHAP values and margins in 32-bit floats (unit roundoff 6e-8, accumulated
over the trees): their additivity is bounded by this share of a row's ``|base| + sum |phi|``
(measured: below 2e-6 for 500 trees of depth 8)."""
PERMUTATIONS = 2
"""Antithetic permutations per explained row for a black box: each costs ``2 M + 1`` evaluations
of the model on the background (``M`` input features), so ``max_evals = PERMUTATIONS (2 M + 1)``.
One forward and backward pass is exact for models whose interactions involve at most two features
(shap's PermutationExplainer); the sum of a row's values is exact whatever the count."""
PERMUTATION_BACKGROUND = 100
"""Background rows of a black box explanation at most (a seeded draw): its base value is the
mean margin over them."""


@dataclass(frozen=True)
class Explanation:
    """SHAP values of a sample, per input feature.

    Attributes
    ----------
    values
        One row per explained applicant, one column per input feature (never glued or shown
        per row in a pack: aggregate it).
    base_value
        The explainer's expected margin (taken from the explainer's output).
    margin
        The model's own margin per row, for the additivity check.
    explainer
        Which explainer was used (:func:`choose_explainer`).
    units
        What the values measure (``log-odds`` for classifiers, ``probability`` for a model that
        averages probabilities).
    note
        Why this explainer, and what its values are (a fallback says so).
    additivity_bound
        The additivity error to expect from the arithmetic: :data:`ADDITIVITY_BOUND`, or the
        float32 bound of XGBoost (:data:`FLOAT32_RELATIVE_BOUND`).
    """

    values: pd.DataFrame
    base_value: float
    margin: np.ndarray
    explainer: str
    units: str
    note: str = ""
    additivity_bound: float = ADDITIVITY_BOUND

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


@dataclass(frozen=True)
class ExplainerChoice:
    """How a model is explained.

    Attributes
    ----------
    explainer
        ``LinearExplainer``, ``TreeExplainer``, ``XGBoost pred_contribs``, ``LightGBM pred_contrib``,
        ``CatBoost ShapValues`` or ``PermutationExplainer``.
    note
        Why, in one sentence (a fallback names what has no exact path).
    model_agnostic
        A black box explained by permutation on the raw input columns (costly: see
        :data:`PERMUTATIONS`).
    """

    explainer: str
    note: str
    model_agnostic: bool


def _source_feature(name: str, features: list[str]) -> str:
    """The input feature an output column of a transformer comes from (longest prefix match)."""
    bare = name.split("__", 1)[1] if "__" in name else name
    matches = [f for f in features if bare == f or bare.startswith(f + "_")]
    if not matches:
        raise ValueError(f"cannot tell which input feature the column {name!r} comes from")
    return max(matches, key=len)


_TREE_MODELS = ("DecisionTree", "RandomForest", "ExtraTrees", "GradientBoosting")
_NATIVE = {"xgboost": "XGBoost pred_contribs", "lightgbm": "LightGBM pred_contrib", "catboost": "CatBoost ShapValues"}
_NATIVE_NOTES = {
    "xgboost": "XGBoost's own TreeSHAP (pred_contribs): exact, following its native categorical splits; xgboost "
               "computes in 32-bit floats, so the values add up to its margin within float32 rounding",
    "lightgbm": "LightGBM's own TreeSHAP (pred_contrib): exact, following its native categorical splits",
    "catboost": "CatBoost's own SHAP values (ShapValues): exact, with its categorical features",
}


def _library(estimator: Any) -> str | None:
    """``xgboost``, ``lightgbm`` or ``catboost`` for a model of that library (by its public
    interface: ``get_booster()``, ``booster_``, ``get_cat_feature_indices()``), else ``None``."""
    if hasattr(estimator, "get_booster"):
        return "xgboost"
    if lightgbm_booster(estimator) is not None:
        return "lightgbm"
    if hasattr(estimator, "get_cat_feature_indices") and hasattr(estimator, "get_feature_importance"):
        return "catboost"
    return None


def _kind(estimator: Any) -> str:
    name = type(estimator).__name__
    if any(tree in name for tree in _TREE_MODELS):
        return "tree"
    if hasattr(estimator, "coef_") and hasattr(estimator, "intercept_"):
        return "linear"
    return "other"


def _black_box_reason(model: Any, estimator: Any) -> str:
    """Why a model without an exact explainer is explained as a black box."""
    name = type(estimator).__name__
    if hasattr(model, "calibrated_classifiers_") or hasattr(estimator, "calibrated_classifiers_"):
        return ("CalibratedClassifierCV averages calibrated probabilities of its base models, so their "
                "contributions do not carry over exactly: explained as a black box on the raw input columns")
    return f"{name} is neither linear nor a tree model: explained as a black box on the raw input columns"


@dataclass(frozen=True)
class _Route:
    choice: ExplainerChoice
    kind: str  # linear, tree, xgboost, lightgbm, catboost, permutation
    preprocess: Any | None
    estimator: Any


def _black_box(model: Any, reason: str) -> _Route:
    return _Route(ExplainerChoice("PermutationExplainer", reason, True), "permutation", None, model)


def _traceable(preprocess: Any, features: list[str]) -> str | None:
    """``None`` when every column of a pipeline's preprocessing comes from one input feature, else
    why not."""
    try:
        for column in preprocess.get_feature_names_out():
            _source_feature(str(column), features)
    except (AttributeError, ValueError, TypeError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def _route(model: Any, features: list[str]) -> _Route:
    """The explainer of ``model`` on ``features`` and the part of the model it explains."""
    preprocess, estimator = split_pipeline(model)
    library = _library(estimator)
    kind = library or _kind(estimator)
    if kind == "other":
        return _black_box(model, _black_box_reason(model, estimator))
    categorical = getattr(estimator, "is_categorical_", None)  # HistGradientBoosting's native categories
    if kind == "tree" and categorical is not None and bool(np.any(categorical)):
        return _black_box(model, f"{type(estimator).__name__} with native categorical features: shap's "
                                 "TreeExplainer is not exact here; explained as a black box on the raw input columns")
    if preprocess is not None:
        problem = _traceable(preprocess, features)
        if problem is not None:
            return _black_box(model, f"the pipeline's columns cannot each be traced to one input feature ({problem}): "
                                     "explained as a black box on the raw input columns")
    if library is not None:
        return _Route(ExplainerChoice(_NATIVE[library], _NATIVE_NOTES[library], False), library, preprocess,
                      estimator)
    if kind == "linear":
        note = "shap's LinearExplainer: exact for a linear model with independent features"
        return _Route(ExplainerChoice("LinearExplainer", note, False), kind, preprocess, estimator)
    note = "shap's TreeExplainer: exact TreeSHAP"
    if not hasattr(estimator, "decision_function"):
        note += f"; {type(estimator).__name__} averages probabilities, so its values are in probability"
    return _Route(ExplainerChoice("TreeExplainer", note, False), kind, preprocess, estimator)


def choose_explainer(model: Any, features: list[str]) -> ExplainerChoice:
    """How :func:`explain` explains ``model`` on these input features, and why.

    >>> from sklearn.neural_network import MLPClassifier
    >>> choose_explainer(MLPClassifier(), ["a", "b"]).explainer
    'PermutationExplainer'
    """
    return _route(model, list(features)).choice


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


def _shap_values(route: _Route, x: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, float]:
    """SHAP values of ``x`` per column from shap's TreeExplainer or LinearExplainer, and the
    explainer's base value."""
    shap = _import_shap()
    if route.kind == "tree":
        explainer = shap.TreeExplainer(route.estimator)
        raw = explainer.shap_values(x, check_additivity=False)
    else:
        # every background row counts (shap would otherwise subsample 100 of them)
        explainer = shap.LinearExplainer(route.estimator,
                                         shap.maskers.Independent(background, max_samples=len(background)))
        raw = explainer.shap_values(x)
    values = np.asarray(raw[1] if isinstance(raw, list) else raw, dtype=float)
    if values.ndim == 3:  # (rows, columns, classes): keep the event class
        values = values[:, :, -1]
    return values, float(np.ravel(explainer.expected_value)[-1])


def _native_contributions(route: _Route, rows: Any) -> np.ndarray:
    """The library's own SHAP values of ``rows``, one column per input column plus the base value
    last (XGBoost ``pred_contribs``, LightGBM ``pred_contrib``, CatBoost ``ShapValues``)."""
    estimator = route.estimator
    if route.kind == "xgboost":
        import xgboost

        try:
            last = int(estimator.best_iteration) + 1  # as predict uses it after early stopping
        except AttributeError:
            last = 0
        contributions = estimator.get_booster().predict(xgboost.DMatrix(rows, enable_categorical=True),
                                                         pred_contribs=True, iteration_range=(0, last))
    elif route.kind == "lightgbm":
        booster = lightgbm_booster(estimator)
        assert booster is not None  # routed to lightgbm by it
        contributions = booster.predict(rows, pred_contrib=True)
    else:
        import catboost

        pool = catboost.Pool(rows, cat_features=list(estimator.get_cat_feature_indices()))
        contributions = estimator.get_feature_importance(pool, type="ShapValues")
    result = _dense(contributions)
    return result[:, -1, :] if result.ndim == 3 else result  # (rows, classes, columns + 1): the event class


def _native_values(route: _Route, sample: pd.DataFrame) -> tuple[np.ndarray, float, list[str], np.ndarray, float]:
    """Values per column, base value, column names, the library's margin and the additivity bound
    of an XGBoost, LightGBM or CatBoost model."""
    if route.preprocess is None:
        rows: Any = model_frame(route.estimator, sample)
        columns = [str(c) for c in rows.columns]
    else:
        rows = route.preprocess.transform(sample)
        columns = [str(c) for c in route.preprocess.get_feature_names_out()]
    contributions = _native_contributions(route, rows)
    values, base = contributions[:, :-1], contributions[:, -1]
    own_margin = native_margin(route.estimator, rows)
    assert own_margin is not None  # a native library's model
    bound = ADDITIVITY_BOUND
    if route.kind == "xgboost":
        scale = float(np.max(np.abs(base) + np.abs(values).sum(axis=1))) if len(values) else 0.0
        bound = max(ADDITIVITY_BOUND, FLOAT32_RELATIVE_BOUND * scale)
    return values, float(np.mean(base)) if len(base) else math.nan, columns, own_margin, bound


class _Codec:
    """Raw input columns as numbers for shap's masker, and back.

    A numeric or boolean column is kept as floats (missing as NaN); any other column (text,
    categories) becomes the code of its value among the distinct values of the rows given, a
    missing value the code -1. :meth:`decode` rebuilds a frame of the original columns and dtypes,
    so the model receives exactly the kind of frame it was given.
    """

    def __init__(self, rows: pd.DataFrame) -> None:
        self.columns = list(rows.columns)
        self.dtypes = {c: rows[c].dtype for c in self.columns}
        self.lookups: dict[str, tuple[pd.Index, np.ndarray]] = {}
        for column in self.columns:
            if _numeric(rows[column]):
                continue
            values = rows[column].astype(object)
            missing = values[values.isna()]
            known = pd.Index(values.dropna().unique(), dtype=object)
            lookup = np.empty(len(known) + 1, dtype=object)  # the last entry: the column's missing value
            lookup[:-1] = known.to_numpy(dtype=object)
            lookup[-1] = missing.iloc[0] if len(missing) else None
            self.lookups[column] = (known, lookup)

    def encode(self, rows: pd.DataFrame) -> np.ndarray:
        encoded = np.empty((len(rows), len(self.columns)), dtype=float)
        for j, column in enumerate(self.columns):
            if column in self.lookups:
                encoded[:, j] = self.lookups[column][0].get_indexer(rows[column].astype(object))
            else:
                encoded[:, j] = rows[column].to_numpy(dtype=float, na_value=np.nan)
        return encoded

    def decode(self, encoded: np.ndarray) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for j, column in enumerate(self.columns):
            dtype = self.dtypes[column]
            if column in self.lookups:
                data[column] = pd.Series(self.lookups[column][1][encoded[:, j].astype(int)], dtype=dtype)
            elif dtype == np.float64:
                data[column] = pd.Series(encoded[:, j])
            else:
                data[column] = pd.Series(encoded[:, j]).astype(dtype)
        return pd.DataFrame(data, columns=self.columns)


def _numeric(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype))


def _permutation_values(model: Any, sample: pd.DataFrame, background: pd.DataFrame,
                        seed: int) -> tuple[np.ndarray, float, str]:
    """SHAP values of a black box on the raw input columns: shap's seeded ``PermutationExplainer``
    with an independent masker on at most :data:`PERMUTATION_BACKGROUND` background rows; the base
    value is the explainer's output (the mean margin over the background). Returns the values,
    the base value and a sentence on the settings."""
    shap = _import_shap()
    if len(background) > PERMUTATION_BACKGROUND:
        background = background.sample(n=PERMUTATION_BACKGROUND, random_state=seed)
    codec = _Codec(pd.concat([sample, background], ignore_index=True))
    x, masked = codec.encode(sample), codec.encode(background)

    def margin_of(rows: np.ndarray) -> np.ndarray:
        return margin(model, codec.decode(rows))

    max_evals = PERMUTATIONS * (2 * len(codec.columns) + 1)
    state = np.random.get_state()  # shap seeds numpy's global generator: the caller's is restored
    try:
        explainer = shap.PermutationExplainer(margin_of, shap.maskers.Independent(masked, max_samples=len(masked)),
                                              seed=seed)
        # one row per call: shap 0.51's Explainer.__call__ passes its list of collected main effects as the
        # main_effects flag, so from a call's second row on it spends a model evaluation on main effects unused
        rows = [explainer(x[i:i + 1], max_evals=max_evals, batch_size=max_evals, silent=True) for i in range(len(x))]
    finally:
        np.random.set_state(state)
    values = np.vstack([row.values for row in rows]) if rows else np.zeros((0, len(codec.columns)))
    base = np.concatenate([np.ravel(row.base_values) for row in rows]) if rows else np.array([])
    settings = (f"shap's PermutationExplainer, seed {seed}, {PERMUTATIONS} antithetic permutations per row "
                f"(max_evals {max_evals}) on a background of {len(masked)} rows; the values are estimates (exact "
                "for interactions of at most two features), their sum is exact")
    return np.asarray(values, dtype=float), float(base.mean()) if len(base) else math.nan, settings


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

    The explainer is chosen by :func:`choose_explainer`; the explanation records it, why, and the
    additivity error to expect.

    Parameters
    ----------
    model
        A fitted classifier, a scikit-learn ``Pipeline`` ending in one, or any object with
        ``predict_proba`` taking a DataFrame of the input features.
    sample
        The rows to explain (input features only).
    background
        Rows for the explainer's baseline; default a seeded draw of ``background_size`` rows
        from ``sample`` (a black box uses at most :data:`PERMUTATION_BACKGROUND` of them).
    seed
        Seed for the background draw and the permutation explainer.
    background_size
        Rows drawn from ``sample`` when no ``background`` is given.
    """
    features = list(sample.columns)
    if background is None:
        background = sample.sample(n=min(background_size, len(sample)), random_state=seed)
    route = _route(model, features)
    choice, bound = route.choice, ADDITIVITY_BOUND
    units = "log-odds" if hasattr(model, "predict_proba") else "model output"
    if route.kind == "permutation":
        values, base_value, settings = _permutation_values(model, sample, background, seed)
        columns, note, own_margin = features, f"{choice.note}; {settings}", margin(model, sample)
    elif route.kind in _NATIVE:
        values, base_value, columns, own_margin, bound = _native_values(route, sample)
        note = choice.note
    else:
        x, bg, columns = _explained_columns(route.preprocess, _ordered(route, sample), _ordered(route, background))
        values, base_value = _shap_values(route, x, bg)
        note = choice.note
        if route.kind == "tree" and not hasattr(route.estimator, "decision_function"):
            units, own_margin = "probability", predict_scores(model, sample)
        else:
            own_margin = margin(model, sample)
    return Explanation(_per_feature(values, columns, features), base_value, own_margin, choice.explainer, units,
                       note, bound)


def _ordered(route: _Route, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of a bare model in the column order it was fitted on."""
    return model_frame(route.estimator, rows) if route.preprocess is None else rows


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
