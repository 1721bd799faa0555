"""validation: model validation packs for banks.

A modeler validates a fitted model on DataFrames, with the checks and numbers of
``validation run`` (:func:`validation.api.validate`)::

    import validation
    result = validation.validate(model=model, reference=development, current=recent, target="default")
    result.status, result.findings, result.issues

The statistics are plain functions, usable in any notebook::

    from validation import drift, fairness, explain, backtest
    table, details = drift.drift_table(reference, current, ["age", "income"])

``drift``, ``fairness``, ``explain`` and ``backtest`` are :mod:`validation.metrics.drift`,
:mod:`validation.metrics.fairness`, :mod:`validation.metrics.explain` and
:mod:`validation.metrics.backtesting`, imported on first use (so the command line starts fast).
``run_check(name, spec, version)`` runs a check on a model version exactly as its template does
(``output.show()``, ``output.tables``, ``output.findings``); ``open_context(spec, version)`` loads
the version's checked samples.
``validate`` and ``ValidationResult`` are :mod:`validation.api`'s.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["validate", "ValidationResult", "drift", "fairness", "explain", "backtest", "run_check", "open_context",
           "load_spec", "load_samples"]

_LAZY = {
    "drift": "validation.metrics.drift",
    "fairness": "validation.metrics.fairness",
    "explain": "validation.metrics.explain",
    "backtest": "validation.metrics.backtesting",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name in ("run_check", "open_context"):
        from validation import checks

        return getattr(checks, name)
    if name in ("validate", "ValidationResult"):
        from validation import api

        return getattr(api, name)
    if name == "load_spec":
        from validation.inputs.spec import load_spec

        return load_spec
    if name == "load_samples":
        from validation.inputs.samples import load_samples

        return load_samples
    raise AttributeError(f"module 'validation' has no attribute {name!r}; it offers: {', '.join(__all__)}")
