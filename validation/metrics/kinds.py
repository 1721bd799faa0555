"""A column's kind, as every check and input check reads it.

Its own module so that checking inputs (the runner, before any notebook runs) does not import the
statistics' libraries (scipy.stats alone takes about a second to import).
"""

from __future__ import annotations

import pandas as pd


def is_numeric(values: pd.Series) -> bool:
    """Numeric for drift purposes: a numeric dtype that is not boolean.

    >>> is_numeric(pd.Series([1, 2])), is_numeric(pd.Series([True])), is_numeric(pd.Series(["a"]))
    (True, False, False)
    """
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))


def kind_of(values: pd.Series) -> str:
    """The kind of a column, as the schema compares it: ``boolean``, ``integer``, ``float``,
    ``datetime`` or ``text`` (strings, categoricals and any other object).

    >>> kind_of(pd.Series([1, 2])), kind_of(pd.Series([1.5])), kind_of(pd.Series(["a"])), kind_of(pd.Series([True]))
    ('integer', 'float', 'text', 'boolean')
    """
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    if pd.api.types.is_float_dtype(values):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    return "text"
