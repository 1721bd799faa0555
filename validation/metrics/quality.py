"""Data quality statistics: schema, missing shares and their change, range excursions, unseen
categories, duplicates, constant and identifier-like features, outcome maturity and the sample's
description.

Every function returns aggregates (counts, shares, small tables); none returns a row of data.
Conventions:

- **Missing** is a missing value (``NaN``, ``None``, ``NaT``) or one of the column's sentinel
  codes (``data.missing_values``, e.g. ``not_known`` or ``-999``): :func:`missing_mask`.
- **Shares** are of every row of the sample (missing rows included), so that shares of one sample
  add up.
- **Privacy**: a category is named only when it has at least
  :data:`validation.metrics.drift.MIN_CATEGORY_COUNT` rows in one of the samples (the drift check's
  rule); the others are pooled in one row (:func:`category_table`).

Sources: the two-proportion z-test (Agresti 2013, *Categorical Data Analysis*, 3rd ed., 3.1.3;
the same as Pearson's chi-square test of a 2x2 table without continuity correction); the
chance of a value outside a sample's range under exchangeability (Wilks 1962, *Mathematical
Statistics*, 11.2: the coverage of ``(X_(1), X_(n))`` is Beta(n - 1, 2)); identifier-like and
constant columns as in the data-quality profiles of Evidently and Deepchecks.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from validation.metrics.drift import MIN_CATEGORY_COUNT, is_numeric
from validation.metrics.kinds import kind_of

MissingCodes = Sequence[Any]
"""The codes that mean missing in one column (``data.missing_values.<column>``): text or numbers."""

POOLED_CATEGORIES = f"(categories under {MIN_CATEGORY_COUNT} rows in both samples)"
FEW_ROWS = f"< {MIN_CATEGORY_COUNT}"
"""How a category table shows a named category's count under the minimum in one sample."""
"""Label of the row :func:`category_table` pools the rare categories in."""

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})(?:-(?P<day>\d{2}))?|Q(?P<quarter>[1-4])|"
                     r"W(?P<week>\d{2})))?$")


# --- kinds and missing values ------------------------------------------------------------------


def _numeric_codes(codes: MissingCodes) -> list[float]:
    numbers = []
    for code in codes:
        try:
            numbers.append(float(code))
        except (TypeError, ValueError):
            continue
    return numbers


def _text_codes(codes: MissingCodes) -> list[str]:
    """Codes as text: ``-999.0`` reads ``-999``, as a CSV writes it."""
    return [code if isinstance(code, str) else (str(int(code)) if float(code).is_integer() else str(code))
            for code in codes]


def missing_mask(values: pd.Series, codes: MissingCodes = ()) -> np.ndarray:
    """Rows that are missing: a missing value, or one of ``codes`` (the column's sentinel codes).

    A numeric column matches the codes that are numbers (``-999``, ``"-999"``); a text column
    matches the codes as text (``not_known``; a number ``999`` as ``"999"``).

    >>> missing_mask(pd.Series(["a", "not_known", None]), ["not_known"]).tolist()
    [False, True, True]
    >>> missing_mask(pd.Series([1.0, -999.0, float("nan")]), [-999]).tolist()
    [False, True, True]
    """
    mask = values.isna().to_numpy(dtype=bool)
    if len(codes) == 0:
        return mask
    if is_numeric(values):
        numbers = _numeric_codes(codes)
        if numbers:
            mask = mask | np.isin(values.to_numpy(dtype=float, na_value=np.nan), numbers)
        return mask
    return mask | values.isin(_text_codes(codes)).to_numpy(dtype=bool)


# --- one column of one sample ------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnProfile:
    """What the checks need from one column of one sample, computed in one pass.

    Attributes
    ----------
    kind
        :func:`kind_of`.
    rows, missing
        Rows of the sample, and those missing (sentinel codes included).
    minimum, maximum
        Of the present values of a numeric column (``None`` otherwise, or when none is present).
    counts
        Rows per value of a text column, present values only (empty for other kinds).
    distinct
        Distinct present values of a text column when ``counts`` holds only the most frequent (a
        column of more categories than a sample read in batches counts; estimated); ``None``:
        ``len(counts)``.
    """

    kind: str
    rows: int
    missing: int
    minimum: float | None = None
    maximum: float | None = None
    counts: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    distinct: int | None = None

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else float("nan")

    @property
    def constant(self) -> bool:
        """At most one distinct present value (an empty column is constant too)."""
        if self.kind == "text":
            return len(self.counts) <= 1
        return self.minimum is None or self.minimum == self.maximum

    @property
    def categories(self) -> int:
        """Distinct present values of a text column (``distinct`` when given, else counted)."""
        return len(self.counts) if self.distinct is None else self.distinct

    @property
    def distinct_share(self) -> float:
        """Distinct present values over present rows (text columns; ``nan`` otherwise)."""
        if self.kind != "text" or self.present == 0:
            return float("nan")
        return self.categories / self.present


def profile_column(values: pd.Series, codes: MissingCodes = ()) -> ColumnProfile:
    """The :class:`ColumnProfile` of one column, sentinel ``codes`` counted as missing.

    >>> p = profile_column(pd.Series([3.0, -999.0, 7.0, None]), [-999])
    >>> p.kind, p.rows, p.missing, p.minimum, p.maximum
    ('float', 4, 2, 3.0, 7.0)
    >>> profile_column(pd.Series(["a", "b", "a", "x"]), ["x"]).counts.to_dict()
    {'a': 2, 'b': 1}
    """
    kind = kind_of(values)
    mask = missing_mask(values, codes)
    missing = int(mask.sum())
    if kind in ("integer", "float", "boolean"):
        present = values.to_numpy(dtype=float, na_value=np.nan)[~mask]
        if present.size == 0:
            return ColumnProfile(kind, len(values), missing)
        return ColumnProfile(kind, len(values), missing, float(present.min()), float(present.max()))
    if kind == "datetime":
        return ColumnProfile(kind, len(values), missing)
    present = values[~mask] if missing else values
    counts = present.astype(str).value_counts(sort=False)
    return ColumnProfile(kind, len(values), missing, counts=counts.astype("int64"))


def profile_frame(frame: pd.DataFrame, columns: Sequence[str],
                  missing_values: Mapping[str, MissingCodes] | None = None) -> dict[str, ColumnProfile]:
    """:func:`profile_column` of each of ``columns`` present in ``frame``."""
    codes = missing_values or {}
    return {c: profile_column(frame[c], codes.get(c, ())) for c in columns if c in frame.columns}


# --- schema ------------------------------------------------------------------------------------

SCHEMA_SAME, SCHEMA_CHANGED, SCHEMA_BROKEN = 0, 1, 2
"""Codes of :func:`schema_change`: same kind; a new column, or a number stored another way
(integer against float); a column missing from the current sample, or of another kind."""

_NUMBERS = {"integer", "float"}


def schema_change(reference_kind: str | None, current_kind: str | None) -> tuple[int, str]:
    """The schema code of a column (:data:`SCHEMA_SAME`, :data:`SCHEMA_CHANGED`,
    :data:`SCHEMA_BROKEN`) and what changed, from its kind in each sample (``None``: absent).

    >>> schema_change("integer", "float")
    (1, 'integer in the reference, float in the current sample')
    >>> schema_change("float", None)
    (2, 'in the reference, missing from the current sample')
    >>> schema_change("text", "float")[0], schema_change(None, "text")[0], schema_change("text", "text")[0]
    (2, 1, 0)
    """
    if reference_kind == current_kind:
        return SCHEMA_SAME, "same kind in both samples"
    if current_kind is None:
        return SCHEMA_BROKEN, "in the reference, missing from the current sample"
    if reference_kind is None:
        return SCHEMA_CHANGED, "new in the current sample (not in the reference)"
    text = f"{reference_kind} in the reference, {current_kind} in the current sample"
    if {reference_kind, current_kind} <= _NUMBERS:
        return SCHEMA_CHANGED, text
    return SCHEMA_BROKEN, text


def schema_table(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Every column of either sample: its kind in each (``None``: absent), the schema code and
    what changed; reference columns first, in their order.

    >>> table = schema_table(pd.DataFrame({"a": [1], "b": ["x"]}), pd.DataFrame({"a": [1.5], "c": [2]}))
    >>> table[["reference", "current", "code"]].to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'a': {'reference': 'integer', 'current': 'float', 'code': 1},
     'b': {'reference': 'text', 'current': None, 'code': 2},
     'c': {'reference': None, 'current': 'integer', 'code': 1}}
    """
    return schema_of({str(c): kind_of(reference[c]) for c in reference.columns},
                     {str(c): kind_of(current[c]) for c in current.columns})


def schema_of(reference: Mapping[str, str], current: Mapping[str, str]) -> pd.DataFrame:
    """:func:`schema_table` from each sample's column kinds (column -> :func:`kind_of`), in the
    samples' column order: what samples read in batches give."""
    columns = list(dict.fromkeys([*reference, *current]))
    kinds = {name: [given.get(c) for c in columns] for name, given in (("reference", reference), ("current", current))}
    changes = [schema_change(ref, cur) for ref, cur in zip(kinds["reference"], kinds["current"])]
    index = pd.Index(columns, name="column", dtype=object)
    return pd.DataFrame({"reference": pd.Series(kinds["reference"], index=index, dtype=object),
                         "current": pd.Series(kinds["current"], index=index, dtype=object),
                         "code": pd.Series([c for c, _ in changes], index=index, dtype="int64"),
                         "change": pd.Series([t for _, t in changes], index=index, dtype=object)})


# --- missing shares ----------------------------------------------------------------------------


def two_proportion_ztest(x1: Any, n1: Any, x2: Any, n2: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided z-test that two proportions are equal, with the pooled variance.

    ``z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with ``p1 = x1 / n1``, ``p2 = x2 / n2`` and
    the pooled ``p = (x1 + x2) / (n1 + n2)``; ``p-value = 2 (1 - Phi(|z|))``. ``z^2`` is Pearson's
    chi-square statistic of the 2x2 table without continuity correction (Agresti 2013,
    *Categorical Data Analysis*, 3.1.3), and the test is statsmodels' ``proportions_ztest`` (its
    default pooled variance). Vectorised over arrays; when both samples are all missing or all
    present (``p`` is 0 or 1) there is no evidence of a change: ``z = 0``, ``p-value = 1``.

    >>> z, p = two_proportion_ztest(10, 100, 25, 100)
    >>> round(float(z), 4), round(float(p), 5)
    (2.7915, 0.00525)
    """
    from scipy.stats import norm

    x1, n1, x2, n2 = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (x2 / n2 - x1 / n1) / np.sqrt(np.where(variance > 0, variance, 1.0)), 0.0)
    return z, 2 * norm.sf(np.abs(z))


def missing_table(reference: Mapping[str, ColumnProfile], current: Mapping[str, ColumnProfile]) -> pd.DataFrame:
    """Missing shares per column in each sample, their change and its two-proportion test
    (:func:`two_proportion_ztest`); columns of the current sample, in its order. Without a
    reference profile of a column its reference figures are missing.

    >>> ref = {"x": ColumnProfile("text", 100, 10)}
    >>> cur = {"x": ColumnProfile("text", 100, 25)}
    >>> missing_table(ref, cur).round(4).iloc[0].tolist()
    [100.0, 10.0, 0.1, 100.0, 25.0, 0.25, 0.15, 2.7915, 0.0052]
    """
    rows = []
    for column, now in current.items():
        before = reference.get(column)
        rows.append({"column": column, "reference_rows": before.rows if before else np.nan,
                     "reference_missing": before.missing if before else np.nan,
                     "reference_share": before.missing_share if before else np.nan,
                     "current_rows": now.rows, "current_missing": now.missing, "current_share": now.missing_share})
    table = pd.DataFrame(rows).set_index("column").astype(float)
    z, p = two_proportion_ztest(table["reference_missing"], table["reference_rows"], table["current_missing"],
                                table["current_rows"])
    table["change"] = table["current_share"] - table["reference_share"]
    table["z"], table["p_value"] = z, p
    known = table["reference_rows"].notna()
    table.loc[~known, ["z", "p_value"]] = np.nan
    return table


# --- ranges and categories ---------------------------------------------------------------------


def outside_range(values: pd.Series, low: float, high: float, codes: MissingCodes = ()) -> int:
    """Present values (not missing, not a sentinel code) below ``low`` or above ``high``.

    >>> outside_range(pd.Series([1.0, 5.0, 11.0, -999.0, None]), 0.0, 10.0, [-999])
    1
    """
    mask = missing_mask(values, codes)
    present = values.to_numpy(dtype=float, na_value=np.nan)[~mask]
    return int(((present < low) | (present > high)).sum())


def range_excursion_pvalue(outside: int, current_rows: int, reference_rows: int) -> float:
    """Chance of at least ``outside`` of ``current_rows`` values outside the range of
    ``reference_rows`` reference values when both samples come from one continuous distribution.

    Under exchangeability the share of the distribution outside the reference's range
    ``[X_(1), X_(n)]`` is Beta(2, n - 1) (Wilks 1962, 11.2: the coverage of the range of ``n``
    values is Beta(n - 1, 2)), so the count outside among ``m`` current values is beta-binomial
    ``BetaBinom(m, 2, n - 1)``; the p-value is its upper tail ``P(X >= outside)``. The expected
    share outside is ``2 / (n + 1)``: a reference of 150 rows leaves 1.3% of new rows outside by
    chance alone. Ties (discrete values) make values outside rarer, so the test is conservative.
    Undefined (``nan``) for fewer than two reference values.

    >>> round(range_excursion_pvalue(0, 100, 150), 3), round(range_excursion_pvalue(10, 100, 150), 6)
    (1.0, 0.000573)
    """
    from scipy.stats import betabinom

    if reference_rows < 2 or current_rows < 1:
        return float("nan")
    if outside <= 0:
        return 1.0
    return float(betabinom.sf(outside - 1, current_rows, 2, reference_rows - 1))


def unseen_rows(reference: ColumnProfile, current: ColumnProfile) -> pd.Series:
    """Rows of the current sample per category the reference never shows (present values only),
    most frequent first.

    >>> ref = profile_column(pd.Series(["a", "b"]))
    >>> unseen_rows(ref, profile_column(pd.Series(["a", "c", "c", "d"]))).to_dict()
    {'c': 2, 'd': 1}
    """
    unseen = current.counts[~current.counts.index.isin(reference.counts.index)]
    return unseen.sort_values(ascending=False, kind="stable")


def category_table(reference: ColumnProfile | None, current: ColumnProfile) -> pd.DataFrame:
    """Rows per category in each sample, categories under
    :data:`~validation.metrics.drift.MIN_CATEGORY_COUNT` rows in both samples pooled in one row
    (:data:`POOLED_CATEGORIES`): a category is named only when it is not rare in both. Sorted by
    current rows, the pooled row last; ``seen_in_reference`` says whether the reference has it.

    >>> ref = profile_column(pd.Series(["a"] * 6 + ["b"]))
    >>> category_table(ref, profile_column(pd.Series(["a"] * 5 + ["new"] * 5 + ["z"]))).to_dict("index")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'a': {'reference_rows': 6, 'current_rows': 5, 'seen_in_reference': True},
     'new': {'reference_rows': 0, 'current_rows': 5, 'seen_in_reference': False},
     '(categories under 5 rows in both samples)': {'reference_rows': 1, 'current_rows': 1, 'seen_in_reference': None}}
    """
    ref = reference.counts if reference is not None else pd.Series(dtype="int64")
    table = pd.DataFrame({"reference_rows": ref, "current_rows": current.counts}).fillna(0).astype("int64")
    rare = (table["reference_rows"] < MIN_CATEGORY_COUNT) & (table["current_rows"] < MIN_CATEGORY_COUNT)
    shown = table[~rare].sort_values("current_rows", ascending=False, kind="stable").astype(object)
    shown["seen_in_reference"] = [bool(v > 0) for v in shown["reference_rows"]]
    for column in ("reference_rows", "current_rows"):  # a named category's few rows in one sample: not counted
        shown[column] = [FEW_ROWS if 0 < v < MIN_CATEGORY_COUNT else v for v in shown[column]]
    if rare.any():
        pooled = table[rare].sum()
        row = pd.DataFrame({"reference_rows": [int(pooled["reference_rows"])],
                            "current_rows": [int(pooled["current_rows"])], "seen_in_reference": [None]},
                           index=[POOLED_CATEGORIES], dtype=object)
        shown = pd.concat([shown, row]) if len(shown) else row
    shown.index.name = "category"
    return shown


# --- duplicates --------------------------------------------------------------------------------


def duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows equal on every column to an earlier row of ``frame``.

    Rows are compared by a 64-bit hash of all their values (``pandas.util.hash_pandas_object``,
    index ignored): one pass, no copy of the data. Two different rows share a hash with a
    chance of about ``N^2 / 2^65`` (3e-8 at a million rows).

    >>> duplicate_rows(pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "x", "x", "y"]}))
    1
    """
    if frame.empty or frame.shape[1] == 0:
        return 0
    hashes = pd.util.hash_pandas_object(frame, index=False)
    return int(hashes.duplicated().sum())


# --- outcome maturity --------------------------------------------------------------------------


def period_end(label: Any) -> datetime.date | None:
    """The last day of a period label as :func:`validation.inputs.samples.period_labels` writes
    them (``2025-03-14``, ``2025-W11``, ``2025-03``, ``2025-Q1``, ``2025``), or of a date; ``None``
    when the label is none of these.

    >>> [str(period_end(x)) for x in ("2025-03-14", "2025-W11", "2025-02", "2025-Q3", "2024")]
    ['2025-03-14', '2025-03-16', '2025-02-28', '2025-09-30', '2024-12-31']
    >>> period_end("vintage A") is None
    True
    """
    if isinstance(label, (datetime.datetime, pd.Timestamp)):
        return label.date()
    if isinstance(label, datetime.date):
        return label
    match = _PERIOD.match(str(label).strip())
    if match is None:
        return None
    parts = match.groupdict()
    year = int(parts["year"])
    try:
        if parts["day"]:
            return datetime.date(year, int(parts["month"]), int(parts["day"]))
        if parts["month"]:
            month = int(parts["month"])
            return datetime.date(year, month, calendar.monthrange(year, month)[1])
        if parts["quarter"]:
            month = 3 * int(parts["quarter"])
            return datetime.date(year, month, calendar.monthrange(year, month)[1])
        if parts["week"]:
            return datetime.date.fromisocalendar(year, int(parts["week"]), 7)
    except ValueError:
        return None
    return datetime.date(year, 12, 31)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, the day clipped to the month's length.

    >>> str(add_months(datetime.date(2025, 1, 31), 1)), str(add_months(datetime.date(2025, 11, 30), 12))
    ('2025-02-28', '2026-11-30')
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def vintage_table(periods: pd.Series, target: pd.Series | None, *, window: int | None,
                  as_of: datetime.date | None = None) -> tuple[pd.DataFrame, datetime.date | None]:
    """Rows, defaults and default rate per period (vintage) of ``periods``, and whether each
    vintage's outcome window has closed.

    A row of period ``t`` is *mature* when ``end(t) + window months <= as_of``: its outcome window
    (``data.outcome_window``, months after the application) has closed by the date the outcomes
    were taken. ``end(t)`` is the period's last day (:func:`period_end`: a vintage matures when its
    last application does); ``as_of`` defaults to the end of the latest period in the data (the
    outcomes taken when the data were). The default rate of a vintage of fewer than
    :data:`~validation.metrics.drift.MIN_CATEGORY_COUNT` rows is not shown (nor its defaults: a
    few rows' rate is their outcomes).

    Returns
    -------
    tuple of (DataFrame, date or None)
        Indexed by period (sorted): ``rows``, ``defaults``, ``default_rate``, ``window_closes``
        and ``mature`` (both missing without a window or for a label that is no period); and the
        as-of date used (``None`` when no label is a period).

    Examples
    --------
    >>> periods = pd.Series(["2025-01"] * 5 + ["2025-06"] * 5)
    >>> table, as_of = vintage_table(periods, pd.Series([1, 0, 0, 0, 0] * 2), window=3)
    >>> str(as_of), table["mature"].tolist(), table["default_rate"].tolist()
    ('2025-06-30', [True, False], [0.2, 0.2])
    """
    labels = period_names(periods)
    frame = pd.DataFrame({"period": labels.to_numpy()})
    frame["y"] = target.to_numpy() if target is not None else np.nan
    grouped = frame.groupby("period", sort=True)["y"]
    return vintage_counts(grouped.size(), grouped.sum().astype(float) if target is not None else None, window=window,
                          as_of=as_of)


def period_names(periods: pd.Series) -> pd.Series:
    """The period labels as text, as :func:`vintage_table` groups them (a missing period is left
    out of the groups)."""
    return periods.astype(object).where(periods.notna(), None).astype(str)


def vintage_counts(rows: pd.Series, defaults: pd.Series | None, *, window: int | None,
                   as_of: datetime.date | None = None) -> tuple[pd.DataFrame, datetime.date | None]:
    """:func:`vintage_table` from the rows (and defaults) per period label: what samples read in
    batches count."""
    table = pd.DataFrame({"rows": rows.astype("int64")}).sort_index()
    if defaults is not None:
        table["defaults"] = defaults.reindex(table.index).astype(float)
        table["default_rate"] = table["defaults"] / table["rows"]
        small = table["rows"] < MIN_CATEGORY_COUNT
        table.loc[small, ["defaults", "default_rate"]] = np.nan
    ends = {label: period_end(label) for label in table.index}
    known = [end for end in ends.values() if end is not None]
    latest = max(known) if known else None
    as_of = as_of or latest
    closes = {label: (add_months(end, window) if end is not None and window is not None else None)
              for label, end in ends.items()}
    table["window_closes"] = [closes[label] for label in table.index]
    table["mature"] = [_closed(closes[label], as_of) for label in table.index]
    table.index.name = "period"
    return table, as_of


def _closed(closes: datetime.date | None, as_of: datetime.date | None) -> bool | None:
    """Whether a window closing on ``closes`` has closed by ``as_of`` (``None``: undated)."""
    return None if closes is None or as_of is None else bool(closes <= as_of)


def immature_share(vintages: pd.DataFrame) -> float:
    """Share of the rows in vintages whose outcome window has not closed (``nan`` when no
    vintage is dated).

    >>> immature_share(pd.DataFrame({"rows": [30, 10], "mature": [True, False]}))
    0.25
    """
    dated = vintages[vintages["mature"].notna()]
    if dated.empty:
        return float("nan")
    return float(dated.loc[~dated["mature"].astype(bool), "rows"].sum() / dated["rows"].sum())


# --- sample description ------------------------------------------------------------------------


def describe_sample(frame: pd.DataFrame, *, time: str | None, target: str | None) -> dict[str, Any]:
    """Rows, periods, date range and default rate of one sample (aggregates only).

    >>> describe_sample(pd.DataFrame({"m": ["2025-02", "2025-01"], "y": [1, 0]}), time="m", target="y")
    {'rows': 2, 'periods': 2, 'first_period': '2025-01', 'last_period': '2025-02', 'default_rate': 0.5}
    """
    labels = frame[time].dropna().astype(str).unique() if time is not None and time in frame.columns else []
    rate = float(frame[target].mean()) if target is not None and target in frame.columns and len(frame) else None
    return description(len(frame), labels, rate)


def description(rows: int, periods: Sequence[str], default_rate: float | None) -> dict[str, Any]:
    """:func:`describe_sample` from the rows, the distinct period labels present and the default rate."""
    out: dict[str, Any] = {"rows": rows, "periods": None, "first_period": None, "last_period": None,
                           "default_rate": default_rate}
    if len(periods):
        out.update(periods=int(len(periods)), first_period=str(min(periods)), last_period=str(max(periods)))
    return out
