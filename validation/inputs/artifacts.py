"""Model artifacts: hashing, safe loading and scoring.

Artifacts are loaded only after their sha256 matches the spec's ``model.artifact_sha256``.
``.skops`` files (the recommended format) are loaded with ``skops.io``, trusting only types from
scikit-learn, numpy and scipy; any other type in the file is refused with its name.
``.joblib`` and ``.pkl`` files are pickles: they can run code when loaded, so they are loaded only
after the hash check, and we recommend skops in the error messages and docs.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import ArtifactError

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (a local path or an fsspec URL), read in 1 MiB chunks."""
    from validation.inputs.storage import sha256

    return sha256(path)


def load_artifact(path: str | Path, expected_sha256: str) -> Any:
    """Load a model artifact after checking its hash.

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
        return _load_verified(str(local), actual)


@functools.lru_cache(maxsize=8)
def _load_verified(path_text: str, sha256: str) -> Any:
    """Load an artifact whose hash was just checked; cached by content hash, so a batch of many
    versions sharing an artifact loads it once per process."""
    path = Path(path_text)
    suffix = path.suffix.lower()
    # (cached by content hash: a later call with the same content returns this object even when
    # it came from another path or URL)
    try:
        if suffix == ".skops":
            import skops.io as sio

            untrusted = sio.get_untrusted_types(file=path)
            refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
            if refused:
                raise ArtifactError(path, f"holds types outside scikit-learn, numpy and scipy: "
                                    f"{', '.join(refused)}; they are not loaded for safety")
            return sio.load(path, trusted=untrusted)
        if suffix in {".joblib", ".pkl", ".pickle"}:
            import joblib

            return joblib.load(path)
    except ArtifactError:
        raise
    except Exception as exc:  # any loader failure is the artifact's problem, said plainly
        raise ArtifactError(path, f"could not be loaded ({type(exc).__name__}: {exc})") from None
    raise ArtifactError(path, f"unknown artifact format '{suffix}'; use .skops (recommended) or .joblib")


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
