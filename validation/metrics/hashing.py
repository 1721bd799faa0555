"""Hashes of rows that do not depend on how a file was cut into batches.

Its own module, light to import: the runner hashes identifiers (:mod:`validation.inputs.identifiers`)
before any notebook runs, without the statistics' libraries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validation.metrics.kinds import kind_of


def row_hashes(frame: pd.DataFrame, key: str | None = None) -> np.ndarray:
    """A 64-bit hash of each row's values (``pandas.util.hash_pandas_object``; ``key``: its
    16-character hash key, for a second hash independent of the first), each number in one form
    whether its batch was read as integers or, with a missing value, as floats
    (:func:`canonical_numbers`)."""
    frame = frame.apply(lambda c: canonical_numbers(c) if kind_of(c) in ("integer", "float") else c)
    keyed = {"hash_key": key} if key is not None else {}
    return pd.util.hash_pandas_object(frame, index=False, **keyed).to_numpy()


def canonical_numbers(values: pd.Series) -> np.ndarray:
    """Numbers as 64-bit integers: a whole number as itself (so 3 and 3.0 are one value, and two
    integers above 2**53 stay two), any other float as its bits (missing values included).

    >>> canonical_numbers(pd.Series([3, 2**60 + 1])).tolist() == canonical_numbers(pd.Series([3.0, 2**60 + 1])).tolist()
    False
    >>> canonical_numbers(pd.Series([3])).tolist() == canonical_numbers(pd.Series([3.0])).tolist()
    True
    """
    if pd.api.types.is_integer_dtype(values):
        return values.to_numpy(dtype=np.int64)
    x = values.to_numpy(dtype=float, na_value=np.nan)
    whole = np.isfinite(x) & (x == np.floor(x)) & (np.abs(x) < 2.0**63)
    forms = x.view(np.int64).copy()
    forms[whole] = x[whole].astype(np.int64)
    return forms
