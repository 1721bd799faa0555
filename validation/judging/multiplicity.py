"""Multiplicity: p-values adjusted within a family of tests (the grades of a master scale, the
periods of a sample, the groups of a protected attribute), so that a family of twenty tests is not
red by chance one time in twenty.

A check names the family of each test it reports (the finding's ``family``); the policy adjusts
the p-values of one metric within one family by the spec's ``multiplicity`` method and judges on
the adjusted value (``docs/results.md``, "Multiplicity").
"""

from __future__ import annotations

from typing import Callable, Literal, Sequence

import numpy as np

Method = Literal["holm", "bh", "none"]
METHODS: tuple[Method, ...] = ("holm", "bh", "none")
DEFAULT_METHOD: Method = "holm"
"""Holm by default (project default): it controls the family-wise error rate, the chance that any
test of the family is flagged by chance, which is what a red finding claims; Benjamini-Hochberg,
which controls the share of false discoveries, is the choice of a monitoring policy that prefers
more amber to fewer misses."""


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values.

    .. math:: \\tilde p_{(i)} = \\max_{j \\le i} \\min\\{1, (m - j + 1)\\, p_{(j)}\\}

    for the p-values sorted increasingly, :math:`m` of them. Rejecting where
    :math:`\\tilde p < \\alpha` controls the family-wise error rate at :math:`\\alpha` under any
    dependence between the tests.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    return _stepwise(p_values, lambda p, m: np.maximum.accumulate((m - np.arange(m)) * p))


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (q-values).

    .. math:: \\tilde p_{(i)} = \\min_{j \\ge i} \\min\\{1, \\tfrac{m}{j}\\, p_{(j)}\\}

    Rejecting where :math:`\\tilde p < \\alpha` controls the false discovery rate at
    :math:`\\alpha` for independent or positively dependent tests.

    References
    ----------
    Benjamini, Y., and Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. *JRSS B*, 57(1), 289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    return _stepwise(p_values, lambda p, m: np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1])


def _stepwise(p_values: Sequence[float], step: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """Apply a step procedure to the p-values sorted increasingly, cap at 1, restore their order."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, step(p[order], m))
    return adjusted


def adjust(p_values: Sequence[float], method: Method) -> np.ndarray:
    """The p-values of one family adjusted by ``method`` (``none``: unchanged)."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    return np.asarray(p_values, dtype=float)
