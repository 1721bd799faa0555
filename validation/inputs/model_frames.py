"""The rows a model is given: its input columns in the types it was fitted on.

Data read from CSV hold text where a model with native categorical support (LightGBM, XGBoost,
CatBoost, HistGradientBoosting) expects pandas categories; this module casts them, with exactly
the categories the model was fitted on, so that a category's code means the same at scoring as at
fitting.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd


def with_categories(frame: pd.DataFrame, categories: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """``frame`` with each column named in ``categories`` cast to a pandas ``Categorical`` holding
    exactly those categories, in that order.

    A value outside them (a category unseen at fitting) becomes missing, which each of these
    libraries routes as it routes missing values; the other columns are left as they are. The
    input frame is not changed.

    Examples
    --------
    >>> frame = pd.DataFrame({"housing": ["own", "rent", "free"], "age": [30, 41, 52]})
    >>> cast = with_categories(frame, {"housing": ["own", "rent"]})
    >>> cast["housing"].cat.categories.tolist(), cast["housing"].isna().tolist()
    (['own', 'rent'], [False, False, True])
    >>> cast["housing"].cat.codes.tolist()
    [0, 1, -1]
    """
    cast = {column: _categorical(frame[column], list(values))
            for column, values in categories.items() if column in frame.columns}
    return frame.assign(**cast) if cast else frame


def _categorical(column: pd.Series, categories: list[Any]) -> pd.Categorical:
    """``column`` as a ``Categorical`` of exactly ``categories``, a value outside them missing (made
    missing first: pandas deprecates building a Categorical from values outside its categories)."""
    values = column.astype(object)
    return pd.Categorical(values.where(values.isin(categories), None), categories=categories)


MODEL_INPUT = "the rows given to the model"
"""Where rows come from when a caller does not say (the ``source`` of a :class:`DataError`)."""


def library_model(model: Any) -> Any:
    """The fitted estimator that receives the input rows as they are.

    The model itself, or inside a ``CalibratedClassifierCV`` (its first calibrated pair's fitted
    ``estimator``, the attribute ``calibrated_classifiers_`` documents) or a ``FrozenEstimator``
    the estimator they wrap: a LightGBM model calibrated by scikit-learn still takes pandas
    categories. A ``Pipeline`` is returned as it is: its first step takes the rows.
    """
    calibrated = getattr(model, "calibrated_classifiers_", None)
    if calibrated:
        return library_model(calibrated[0].estimator)
    try:
        from sklearn.frozen import FrozenEstimator
    except ImportError:  # scikit-learn < 1.6
        return model
    return library_model(model.estimator) if isinstance(model, FrozenEstimator) else model


def lightgbm_booster(model: Any) -> Any | None:
    """A LightGBM ``Booster``: the model's ``booster_`` (``LGBMClassifier``, or an adapter of a
    ``.txt`` model file), the model itself when it is one, else ``None``."""
    booster = getattr(model, "booster_", None)
    if booster is None and type(model).__name__ == "Booster" and hasattr(model, "pandas_categorical"):
        booster = model
    return booster if booster is not None and hasattr(booster, "feature_name") else None


def input_names(model: Any) -> list[str] | None:
    """The input columns the model was fitted on, in their order, or ``None`` when it does not say.

    Read from each library's public description: scikit-learn's ``feature_names_in_``, XGBoost's
    ``Booster.feature_names``, LightGBM's ``Booster.feature_name()``, CatBoost's ``feature_names_``.
    """
    names = getattr(model, "feature_names_in_", None)
    lib = library_model(model)
    booster = lightgbm_booster(lib)
    if names is None and hasattr(lib, "get_booster"):
        names = lib.get_booster().feature_names
    elif names is None and booster is not None:
        names = booster.feature_name()
    elif names is None and hasattr(lib, "get_cat_feature_indices"):
        names = getattr(lib, "feature_names_", None)
    return [str(n) for n in names] if names is not None else None


def _lightgbm_categorical(booster: Any) -> dict[str, list[Any]]:
    """LightGBM: the pandas categories of each categorical column (``Booster.pandas_categorical``,
    in the order of the ``categorical_feature`` parameter)."""
    categories = getattr(booster, "pandas_categorical", None)
    params = getattr(booster, "params", None) or {}
    listed = params.get("categorical_feature", params.get("categorical_column"))
    if not categories or listed is None:
        return {}
    names = booster.feature_name()
    if isinstance(listed, str):
        text = listed.removeprefix("name:")
        listed = [int(i) if i.strip().isdigit() else i.strip() for i in text.split(",") if i.strip()]
    columns = [names[i] if isinstance(i, int) and 0 <= i < len(names) else str(i) for i in listed]
    return dict(zip(columns, categories)) if len(columns) == len(categories) else {}


def _xgboost_categorical(booster: Any) -> dict[str, list[Any] | None]:
    """XGBoost: the categories of each categorical feature (feature type ``c``), as xgboost >= 3.1
    stores them in the model; ``None`` for a categorical feature whose categories the model does
    not record (saved by an older xgboost)."""
    types = booster.feature_types or []
    names = booster.feature_names or []
    categorical = [name for name, kind in zip(names, types) if kind == "c"]
    if not categorical:
        return {}
    stored: dict[str, list[Any]] = {}
    if hasattr(booster, "get_categories"):
        exported = booster.get_categories(export_to_arrow=True).to_arrow() or []
        stored = {str(name): array.to_pylist() for name, array in exported if array is not None}
    return {name: stored.get(name) for name in categorical}


def fitted_categories(model: Any) -> dict[str, list[Any] | None]:
    """The categories each categorical input column of ``model`` was fitted on.

    From LightGBM (``pandas_categorical``) and XGBoost (the categories xgboost >= 3.1 stores; ``None``
    where the model does not record them). Empty for other models: scikit-learn's
    HistGradientBoosting and CatBoost take text columns as they are.
    """
    lib = library_model(model)
    if hasattr(lib, "get_booster"):
        return dict(_xgboost_categorical(lib.get_booster()))
    booster = lightgbm_booster(lib)
    return dict(_lightgbm_categorical(booster)) if booster is not None else {}


def _numeric_inputs(model: Any) -> set[str]:
    """Input columns a gradient boosting library takes as numbers (XGBoost feature types other
    than ``c``, LightGBM features outside ``categorical_feature``); empty for other models."""
    lib = library_model(model)
    if hasattr(lib, "get_booster"):
        booster = lib.get_booster()
        return {n for n, kind in zip(booster.feature_names or [], booster.feature_types or []) if kind != "c"}
    booster = lightgbm_booster(lib)
    if booster is None:
        return set()
    return set(booster.feature_name()) - set(_lightgbm_categorical(booster))


def _is_number(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype))


def model_frame(model: Any, frame: pd.DataFrame, *, source: str = MODEL_INPUT, role: str = "") -> pd.DataFrame:
    """``frame`` as the model takes it: its columns in the order the model was fitted on, and each
    categorical column of a LightGBM or XGBoost model cast to the categories it was fitted on
    (:func:`with_categories`: a category unseen at fitting becomes missing).

    Raises
    ------
    DataError
        Naming the column and the fix: a text column the model takes as a number; a categorical
        column of an XGBoost model that does not record its categories; a missing value in a
        CatBoost categorical feature (CatBoost takes none).
    """
    from validation.errors import DataError

    names = input_names(model)
    if names is not None and list(frame.columns) != names and set(names) <= set(frame.columns):
        frame = frame[names]
    categories = fitted_categories(model)
    for column in frame.columns:
        if (column in categories and categories[column] is None and not _is_number(frame[column])
                and not isinstance(frame[column].dtype, pd.CategoricalDtype)):
            raise DataError(source, str(column), "is text, but the XGBoost model does not record the categories it "
                            "was fitted on (saved by xgboost < 3.1), so text cannot be matched to its codes: re-save "
                            "the model with xgboost >= 3.1", role)
    numeric = _numeric_inputs(model)
    for column in frame.columns:
        if column in numeric and not _is_number(frame[column]):
            raise DataError(source, str(column), f"is not a number, but the model was fitted on it as one (dtype "
                            f"{frame[column].dtype}): give the column as the model was trained (check data.features "
                            "and the data's types against the model)", role)
    frame = with_categories(frame, {c: v for c, v in categories.items() if v is not None})
    _check_catboost_missing(model, frame, source, role)
    return frame


def _check_catboost_missing(model: Any, frame: pd.DataFrame, source: str, role: str) -> None:
    """CatBoost takes no missing value in a categorical feature: name the column and the fix."""
    from validation.errors import DataError

    lib = library_model(model)
    if not hasattr(lib, "get_cat_feature_indices"):
        return
    columns = list(frame.columns)
    for index in lib.get_cat_feature_indices():
        if index < len(columns) and frame[columns[index]].isna().any():
            column = columns[index]
            raise DataError(source, str(column), f"has {int(frame[column].isna().sum())} missing values, but CatBoost "
                            "takes none in a categorical feature (cat_features): fill them in the data with the "
                            "text the model was trained with for a missing category (e.g. 'NA')", role)
