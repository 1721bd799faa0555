"""Loading a model artifact whose hash was checked, by its format.

``.skops`` files (the recommended format) are loaded with ``skops.io``, trusting only types from
scikit-learn, numpy and scipy; any other type in the file is refused with its name.
``.joblib`` and ``.pkl`` files are pickles: they can run code when loaded, so they are loaded only
after the hash check, and we recommend skops in the error messages and docs.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from validation.errors import ArtifactError

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


@functools.lru_cache(maxsize=8)
def load_verified(path_text: str, sha256: str, allow_pickle: bool = False) -> Any:
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
