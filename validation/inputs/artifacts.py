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


def predict_scores(model: Any, features: pd.DataFrame) -> np.ndarray:
    """Probability of the event (class 1) for each row."""
    if not hasattr(model, "predict_proba"):
        raise ArtifactError(getattr(model, "__class__", type(model)).__name__,
                            "the model has no predict_proba; a classification artifact must "
                            "predict the probability of the event")
    proba = np.asarray(model.predict_proba(features))
    return proba[:, 1] if proba.ndim == 2 else proba


def margin(model: Any, features: pd.DataFrame) -> np.ndarray:
    """The model's margin (log-odds for classifiers): ``decision_function`` when the model has
    one, else ``logit(predict_proba)`` with probabilities clipped to [1e-15, 1 - 1e-15]."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(features), dtype=float)
    p = np.clip(predict_scores(model, features), 1e-15, 1 - 1e-15)
    return np.log(p / (1 - p))
