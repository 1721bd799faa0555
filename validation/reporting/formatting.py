"""Numbers and labels for people: each value formatted by what it is, and ordered bands sorted by
their order.

Kinds (:data:`KINDS`):

- ``p``: a p-value, ``< 0.001`` below one in a thousand, else 3 significant digits (``0.0123``);
- ``rate``: a rate or share, as a percentage to 3 significant digits (``48.2%``);
- ``points``: a difference of two rates, in percentage points (``-5.93 pp``);
- ``count``: an integer with thousands separators (``600``, not ``600.0000``; ``12,345``);
- ``money``: an amount with the model's currency (``EUR 138,123``), whole units from 1,000;
- ``ratio`` and ``value``: 4 significant digits in plain notation (``0.4819``, ``138,123``),
  scientific only below 0.0001.

:func:`metric_kind` gives the kind of a policy metric (every metric of
:data:`validation.judging.policy.DEFAULT_POLICY` has one here, deliberately), and
:func:`column_kind` the kind of a table column, from its name and its values.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Literal

Kind = Literal["p", "rate", "points", "count", "money", "ratio", "value"]
KINDS: tuple[str, ...] = ("p", "rate", "points", "count", "money", "ratio", "value")

P_FLOOR = 0.001
"""p-values below this read ``< 0.001``: smaller ones differ only in how sure the test is."""
TINY_PERCENT = 0.001
"""Rates under this many percent keep 2 significant digits (``0.00042%``), not ``0.000%``."""
SCIENTIFIC_BELOW = 1e-4
"""Values nearer zero than this keep 4 significant digits in scientific notation."""

METRIC_KINDS: dict[str, Kind] = {
    # drift
    "psi": "value", "ks_stat": "ratio", "ks_pvalue": "p", "chi2_pvalue": "p", "js_distance": "value",
    "wasserstein_norm": "value", "default_rate": "rate",
    # fairness: rates and differences of rates in percent (points), their ratio as a ratio
    "approval_rate": "rate", "disparate_impact_ratio": "ratio", "demographic_parity_difference": "points",
    "equal_opportunity_difference": "points", "equalized_odds_difference": "points",
    "disparity_ztest_pvalue": "p", "disparity_fisher_pvalue": "p", "calibration_pvalue": "p",
    # data_quality: shares in percent, their change in points; a schema change and a constant feature are codes
    "schema_change": "value", "constant_feature": "value", "missing_share": "rate", "missing_share_change": "points", "out_of_range_share": "rate",
    "unseen_category_share": "rate", "duplicate_row_share": "rate", "immature_outcome_share": "rate",
    "distinct_share": "rate",
    # challenger: AUC and Brier differences are no percentages; rate changes in points
    "paired_auc_difference": "value", "paired_brier_difference": "value", "observed_expected_difference": "value",
    "approval_rate_change": "points", "bad_rate_approved_change": "points", "benchmark_auc_gain": "value",
    "paired_auc_pvalue": "p", "paired_brier_pvalue": "p", "benchmark_gain_pvalue": "p",
    # explainability
    "shap_importance": "value", "shap_additivity_error": "value", "importance_rank_correlation": "ratio",
    "importance_top_k_overlap": "ratio", "reason_code_rate": "rate", "monotonicity_reversal": "rate",
    "monotonicity_violation_share": "rate",
    # backtesting, classification
    "auc": "ratio", "gini": "ratio", "ks": "ratio", "brier": "value", "hosmer_lemeshow_pvalue": "p",
    "jeffreys_pvalue": "p", "binomial_pvalue": "p", "auc_change_pvalue": "p", "spiegelhalter_pvalue": "p",
    "observed_expected_ratio": "ratio", "herfindahl_index": "ratio", "herfindahl_change_pvalue": "p",
    "bad_rate_approved": "rate", "expected_loss": "money", "expected_default_exposure": "money",
    "duplicate_id_rows": "count",
    # backtesting, VaR
    "exceptions": "count", "kupiec_pvalue": "p", "christoffersen_pvalue": "p", "conditional_coverage_pvalue": "p",
    "duration_independence_pvalue": "p", "exception_scan_pvalue": "p", "basel_zone": "value",
    "tuff_pvalue": "p", "plus_factor": "value",
}
"""The kind of every metric of the default policy, chosen one by one (a test holds this table to
the policy)."""

_COUNT_NAMES = re.compile(r"^(n|count|rows|defaults|approved|applicants|exceptions|days|observations|"
                          r"expected_exceptions_whole|n_[a-z_]+|[a-z_]+_(n|count|rows|defaults|days))$")
_RATE_NAMES = re.compile(r"(^|_)(odr|pd|rate|share|tpr|fpr|difference)(_|$)")
_MONEY_NAMES = re.compile(r"(^|_)(ead|exposure|loss|amount|pnl|var|balance|limit)(_|$)")


def metric_kind(metric: str) -> Kind:
    """The kind of a metric's values: the table's choice for the policy's metrics, else ``p`` for
    a rule's p-value (``Rule.pvalue``) or a ``*_pvalue`` name, else by the name's ending.

    >>> metric_kind("jeffreys_pvalue"), metric_kind("approval_rate"), metric_kind("expected_loss")
    ('p', 'rate', 'money')
    >>> metric_kind("my_plugin_pvalue"), metric_kind("exceptions"), metric_kind("auc")
    ('p', 'count', 'ratio')
    """
    known = METRIC_KINDS.get(metric)
    if known is not None:
        return known
    from validation.judging.policy import DEFAULT_POLICY

    rule = DEFAULT_POLICY.get(metric)
    if (rule is not None and rule.pvalue) or metric.endswith(("_pvalue", "_p_value")):
        return "p"
    return _named_kind(metric) or "value"


def _named_kind(name: str) -> Kind | None:
    lowered = name.lower()
    if lowered.endswith(("pvalue", "p_value", "p_adjusted")) or lowered in ("p", "p_adj"):
        return "p"
    if _COUNT_NAMES.search(lowered):
        return "count"
    if _MONEY_NAMES.search(lowered):
        return "money"
    if _RATE_NAMES.search(lowered):
        # a difference of two rates is in percentage points, not percent
        return "points" if "difference" in lowered or lowered.endswith(("_diff", "_gap")) else "rate"
    if lowered.endswith("_ratio"):
        return "ratio"
    return None


def column_kind(name: Any, values: Iterable[Any] = ()) -> Kind:
    """The kind of a table column: a policy metric's kind, else by its name (``*_pvalue`` p-values,
    ``n``/``defaults``/``*_count`` counts, ``*_rate``/``*_share``/``pd``/``odr`` rates, exposures and
    losses money), else ``count`` when every number in it is a whole number, else ``value``.

    >>> column_kind("jeffreys_pvalue"), column_kind("n", [600.0]), column_kind("odr"), column_kind("ead")
    ('p', 'count', 'rate', 'money')
    >>> column_kind("anything", [600.0, 12.0]), column_kind("anything", [0.5, 12.0])
    ('count', 'value')
    """
    text = str(name)
    if text in METRIC_KINDS:
        return METRIC_KINDS[text]
    named = _named_kind(text)
    if named is not None:
        return named
    numbers = [v for v in values if _is_number(v) and math.isfinite(float(v))]
    if numbers and all(float(v) == int(float(v)) for v in numbers):
        return "count"
    return "value"


def _is_number(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits in plain notation, trailing zeros dropped,
    thousands separated."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_number(value: Any, kind: str = "value", currency: str | None = None) -> str:
    """``value`` for people, formatted by its kind (see the module docstring); ``-`` when undefined.

    Text (a zone, a name) is returned as it is; an unknown kind is refused.

    >>> format_number(7.352e-24, "p"), format_number(0.012345, "p"), format_number(0.5, "p")
    ('< 0.001', '0.0123', '0.5')
    >>> format_number(0.4819, "rate"), format_number(600.0, "count"), format_number(1234567, "count")
    ('48.2%', '600', '1,234,567')
    >>> format_number(-0.0593, "points")   # a difference of two rates: percentage points
    '-5.93 pp'
    >>> format_number(138123.4, "money", "EUR"), format_number(138123.4, "money"), format_number(12.5, "money", "EUR")
    ('EUR 138,123', '138,123', 'EUR 12.50')
    >>> format_number(0.123456, "value"), format_number(138123.4, "value"), format_number(None), format_number("yellow")
    ('0.1235', '138,123', '-', 'yellow')
    """
    if kind not in KINDS:
        raise ValueError(f"unknown number kind {kind!r}: use one of {', '.join(KINDS)}")
    if value is None:
        return "-"
    if not _is_number(value):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "-"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if kind == "p":
        if number > 1 - P_FLOOR:  # 1 would read as certainty; the data are merely consistent with H0
            return f"> {1 - P_FLOOR:g}"
        return f"< {P_FLOOR:g}" if 0 <= number < P_FLOOR else _significant(number, 3)
    if kind == "rate":
        percent = 100 * number
        return ("0%" if percent == 0 else f"{percent:.2g}%" if abs(percent) < TINY_PERCENT
                else _significant(percent, 3) + "%")
    if kind == "points":
        return _significant(100 * number, 3) + " pp"
    if kind == "count" and number == int(number):
        return f"{int(number):,}"
    if kind == "money":
        amount = f"{number:,.0f}" if abs(number) >= 1000 else f"{number:,.2f}"
        return f"{currency} {amount}" if currency else amount
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if 0 < abs(number) < SCIENTIFIC_BELOW:
        return f"{number:.4g}"
    return _significant(number, 4)


def band_sort_key(label: Any) -> tuple[int, float, float, str]:
    """A sort key that puts numeric bands in their order: ``<25`` first, then ``25-34``, ``35-49``,
    and ``50+`` last; labels that are not bands come after the bands, alphabetically (one
    implementation with the fairness check's groups: :func:`validation.metrics.fairness.band_key`).

    A band is ``<a`` (or ``<=a``, ``under a``), ``a-b`` (or ``a to b``, ``[a, b)``), ``a+`` (or
    ``a or more``, ``>=a``), or a number.

    >>> sorted(["50+", "25-34", "<25", "35-49"], key=band_sort_key)
    ['<25', '25-34', '35-49', '50+']
    >>> sorted(["b", "10", "2", "a"], key=band_sort_key)
    ['2', '10', 'a', 'b']
    """
    from validation.metrics.fairness import band_key

    return band_key(str(label))


def in_band_order(table: Any) -> Any:
    """A pandas ``table`` (or Series) with its rows in band order when every index label is a
    numeric band or a number (``<25, 25-34, 35-49, 50+``), else unchanged.

    >>> import pandas as pd
    >>> list(in_band_order(pd.Series([1, 2, 3], index=["50+", "<25", "25-49"])).index)
    ['<25', '25-49', '50+']
    """
    keys = [band_sort_key(label) for label in table.index]
    if not keys or any(key[0] for key in keys):
        return table
    return table.iloc[sorted(range(len(keys)), key=keys.__getitem__)]


def is_ordered_labels(labels: Iterable[Any]) -> bool:
    """Whether labels have an order a line may follow: every one a number, a date or period
    (``2025-01``, ``2025Q3``), a grade (``1``, ``A``..``G`` alone) or a numeric band.

    >>> is_ordered_labels(["2025-01", "2025-02"]), is_ordered_labels(["<25", "25-34", "50+"])
    (True, True)
    >>> is_ordered_labels(["retail", "sme"]), is_ordered_labels(["A", "B", "C"])
    (False, True)
    """
    texts = [str(label).strip() for label in labels]
    if not texts:
        return False
    return all(_PERIOD.match(t) or band_sort_key(t)[0] == 0 or _GRADE.match(t) for t in texts)


_PERIOD = re.compile(r"^\d{4}([-/]\d{1,2}([-/]\d{1,2})?|[-\s]?[QqHh][1-4]|[-\s]?W\d{1,2})?(\s.*)?$")
_GRADE = re.compile(r"^([A-Ga-g][+-]?|AAA|AA|BBB|BB|CCC|CC)$")


def breakable(text: Any) -> str:
    """``text`` escaped for HTML, with a line-break opportunity (``<wbr>``) after each ``_``,
    ``*``, ``:`` and ``/``: a name such as ``disparate_impact_ratio`` that must wrap (on paper)
    wraps between its words, never inside one. Where it is ``white-space: nowrap`` (on screen) it
    stays on one line.

    >>> breakable("age_band:<25")
    'age_<wbr>band:<wbr>&lt;25'
    """
    import html

    return re.sub(r"([_*:/])", r"\1<wbr>", html.escape(str(text)))


def first_sentence(text: Any) -> str:
    """The first sentence of ``text`` (up to a full stop, question or exclamation mark followed by
    a space), for a one-line summary; numbers such as ``0.117`` are kept whole.

    >>> first_sentence("PSI 0.117 for age (green). age_band: <25 approved less often.")
    'PSI 0.117 for age (green).'
    """
    value = "" if text is None else str(text).strip()
    match = re.search(r"[.!?](?=\s)", value)
    return value[:match.end()] if match else value
