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
    cast = {column: pd.Categorical(frame[column], categories=list(values))
            for column, values in categories.items() if column in frame.columns}
    return frame.assign(**cast) if cast else frame
