"""The library API for modelers' notebooks, and the doctests of every module."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import validation


def test_public_api() -> None:
    from validation import backtest, drift, explain, fairness

    assert drift.psi.__module__ == "validation.metrics.drift"
    assert backtest.jeffreys_pvalue.__module__ == "validation.metrics.backtesting"
    assert callable(explain.explain) and callable(fairness.group_table)
    assert validation.validate.__module__ == "validation.api" and "validate" in validation.__all__
    assert validation.ValidationResult.__module__ == "validation.api"
    assert "validation.validate(" in str(validation.__doc__)
    with pytest.raises(AttributeError, match="it offers: validate, ValidationResult, drift, fairness"):
        validation.nonexistent  # noqa: B018


MODULES = sorted(m.name for m in pkgutil.walk_packages(validation.__path__, "validation.")
                 if m.name not in ("validation.__main__",))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_status_tables_are_escaped_shaded_and_small() -> None:
    import pandas as pd

    from validation.judging.policy import Policy
    from validation.reporting.display import findings_table, status_table

    rows = [{"metric": "psi", "subject": f"feature:x{i}", "value": 0.01 * i} for i in range(200)]
    rows.append({"metric": "approval_rate", "subject": "sex:<img src=x onerror=alert(1)>", "value": 0.5})
    table = findings_table(rows, Policy())
    page = status_table(table)._repr_html_()
    assert "<img" not in page and "sex:&lt;img src=x onerror=alert(1)&gt;" in page
    statuses = table["status"].tolist()
    assert page.count('class="v-red"') == statuses.count("red") > 0
    assert page.count('class="v-amber"') == statuses.count("amber") > 0
    assert page.count('class="v-green"') == statuses.count("green") > 0
    assert len(page) < 1.2 * len(table.to_html())  # pandas' Styler made it four times the plain table
    grades = status_table(pd.DataFrame({"n": [10], "jeffreys_pvalue_light": ["green"]}))._repr_html_()
    assert '<td class="v-green">green</td>' in grades and "<td>10</td>" in grades
