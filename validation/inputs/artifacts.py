"""Model artifacts: hashing, safe loading and scoring.

Artifacts are loaded only after their sha256 matches the spec's ``model.artifact_sha256``, then
by their format (:mod:`validation.inputs.loaders`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import ArtifactError
from validation.inputs.model_frames import MODEL_INPUT, lightgbm_booster, model_frame


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (a local path or an fsspec URL), read in 1 MiB chunks."""
    from validation.inputs.storage import sha256

    return sha256(path)


def load_artifact(path: str | Path, expected_sha256: str, *, allow_pickle: bool = False) -> Any:
    """Load a model artifact after checking its hash (:func:`validation.inputs.loaders.load_verified`
    loads it by its format).

    Parameters
    ----------
    allow_pickle
        The spec's ``model.allow_pickle``: formats that are pickles (they can run code when loaded)
        load only when it is true.

    Raises
    ------
    ArtifactError
        Missing file, hash mismatch, a type outside the trusted libraries, or a file that does
        not load.
    """
    from validation.inputs.storage import local_copy, problem

    unusable = problem(path)
    if unusable is not None:
        raise ArtifactError(path, unusable)
    with local_copy(path) as local:  # an fsspec URL is copied once, then hashed and loaded locally
        actual = sha256_file(local)
        if actual != expected_sha256.lower():
            raise ArtifactError(path, f"sha256 is {actual} but the spec says {expected_sha256}; "
                                "the file changed since it was registered: check it, then update "
                                "model.artifact_sha256")
        from validation.inputs.loaders import load_verified

        return load_verified(str(local), actual, allow_pickle)


def split_pipeline(model: Any) -> tuple[Any | None, Any]:
    """A scikit-learn ``Pipeline`` as (its steps but the last, as one pipeline; its final estimator);
    any other model as ``(None, model)``."""
    steps = getattr(model, "steps", None)
    if steps and len(steps) > 1:
        from sklearn.pipeline import Pipeline

        return Pipeline(steps[:-1]), steps[-1][1]
    return None, model


def _scored(method: Any, rows: Any, source: str, role: str, **options: Any) -> np.ndarray:
    """``method(rows, **options)`` as a float array; a library's error becomes a :class:`DataError`
    naming what failed and what to check (no traceback)."""
    from validation.errors import DataError, InputError

    try:
        return np.asarray(method(rows, **options), dtype=float)
    except InputError:
        raise
    except Exception as exc:  # any library's failure on these rows, said plainly
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise DataError(source, None, f"the model could not score these rows ({type(exc).__name__}: {first}); check "
                        "data.features (names, order and types) against the model's inputs", role) from None


def predict_scores(model: Any, features: pd.DataFrame, *, source: str = MODEL_INPUT, role: str = "") -> np.ndarray:
    """Probability of the event (class 1) for each row.

    The rows are first prepared for the model (:func:`validation.inputs.model_frames.model_frame`:
    columns in the model's order, text cast to the categories a LightGBM or XGBoost model was
    fitted on).

    Parameters
    ----------
    source, role
        The file and spec key the rows come from, named in a :class:`DataError`.

    Raises
    ------
    ArtifactError
        The model has no ``predict_proba``.
    DataError
        The rows do not suit the model (the column and the fix), or the model fails on them.
    """
    if not hasattr(model, "predict_proba"):
        raise ArtifactError(getattr(model, "__class__", type(model)).__name__,
                            "the model has no predict_proba; a classification artifact must "
                            "predict the probability of the event")
    frame = model_frame(model, features, source=source, role=role)
    proba = _scored(model.predict_proba, frame, source, role)
    return proba[:, 1] if proba.ndim == 2 else proba


def native_margin(model: Any, features: Any, *, source: str = MODEL_INPUT, role: str = "") -> np.ndarray | None:
    """The raw margin (log-odds) of an XGBoost, LightGBM or CatBoost classifier, alone or ending a
    ``Pipeline``, as the library computes it; ``None`` for other models.

    XGBoost ``predict(output_margin=True)``, LightGBM ``Booster.predict(raw_score=True)``, CatBoost
    ``predict(prediction_type="RawFormulaVal")``: the margin the library's SHAP values add up to.
    """
    preprocess, estimator = split_pipeline(model)
    if not (hasattr(estimator, "get_booster") or lightgbm_booster(estimator) is not None
            or hasattr(estimator, "get_cat_feature_indices")):
        return None
    rows = features if preprocess is None else preprocess.transform(features)
    if preprocess is None:
        rows = model_frame(estimator, rows, source=source, role=role)
    if hasattr(estimator, "get_booster"):
        return _scored(estimator.predict, rows, source, role, output_margin=True)
    booster = lightgbm_booster(estimator)
    if booster is not None:
        return _scored(booster.predict, rows, source, role, raw_score=True)
    return _scored(estimator.predict, rows, source, role, prediction_type="RawFormulaVal")


def margin(model: Any, features: pd.DataFrame, *, source: str = MODEL_INPUT, role: str = "") -> np.ndarray:
    """The model's margin (log-odds for classifiers): ``decision_function`` when the model has
    one, else the library's own raw margin for XGBoost, LightGBM and CatBoost
    (:func:`native_margin`: their probabilities are ``sigmoid(margin)``, XGBoost's in float32),
    else ``log(p) - log(1 - p)`` of ``predict_proba`` with ``p`` clipped to [1e-15, 1 - 1e-15]."""
    frame = model_frame(model, features, source=source, role=role)
    if hasattr(model, "decision_function"):
        return _scored(model.decision_function, frame, source, role)
    native = native_margin(model, frame, source=source, role=role)
    if native is not None:
        return native
    p = np.clip(predict_scores(model, frame, source=source, role=role), 1e-15, 1 - 1e-15)
    return np.log(p) - np.log1p(-p)
