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
    with pytest.raises(AttributeError, match="it offers: drift, fairness"):
        validation.nonexistent  # noqa: B018


MODULES = sorted(m.name for m in pkgutil.walk_packages(validation.__path__, "validation.")
                 if m.name not in ("validation.__main__",))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_two_styled_tables_on_one_page_do_not_style_each_other() -> None:
    # Styler scopes its CSS by a table id; two tables with one id would shade each other's cells
    import pandas as pd

    from validation.notebook import styled

    findings = styled(pd.DataFrame({"metric": ["auc"], "subject": ["score"], "value": ["0.7"], "status": ["red"]}))
    grades = styled(pd.DataFrame({"n": [10], "defaults": [1], "pd": [0.1], "jeffreys_pvalue_light": ["green"]}))
    first, second = findings.to_html(), grades.to_html()
    scope = lambda html: html.split('id="T_', 1)[1].split('"', 1)[0]  # noqa: E731
    assert scope(first) != scope(second)
    assert f"#T_{scope(first)}_row0_col3" in first and f"#T_{scope(first)}" not in second
