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
