"""Regulatory mapping: what the pack evidences under each framework, gathered from the checks
themselves (each check's ``basis`` and ``metric_basis``) and from the pack as a whole (its
materiality, its record-keeping, the validator's review).

Frameworks, in the order the pack lists them (the constants of :mod:`validation.checks.base`):

- US: SR 26-2 / OCC Bulletin 2026-13 (Federal Reserve, OCC and FDIC, 17 April 2026), the
  principles-based model risk guidance under which a model's materiality (exposure and purpose)
  sets how deep validation goes and how often monitoring runs. It superseded SR 11-7 (2011), which
  the mapping names only as superseded.
- ECB: the instructions for reporting the validation results of internal models (IRB Pillar I
  models for credit risk, 2019), whose PD part is section 2.5, for PD models.
- ECB: the guide to internal models (revised July 2025), whose section on machine learning
  techniques expects explainable outputs and performance that justifies complexity.
- EU AI Act (Regulation (EU) 2024/1689): credit scoring of natural persons is high-risk (Annex III,
  point 5(b)); a validation evidences Art. 9 (risk management), 10 (data and data governance), 11
  and Annex IV (technical documentation), 13 (transparency), 15 (accuracy, robustness), 17(1)(d)
  (the examination, test and validation procedures of the quality management system), 18
  (documentation keeping) and, for monitoring in use, 72 (post-market monitoring). Art. 12
  (automatic logging by the system) and 14 (human oversight in operation) are the deployed
  system's, not a validation's.
- Basel: the Basel Committee's 1996 supervisory framework for backtesting (MAR99 of the
  consolidated framework), for VaR models.
- US fair lending (ECOA / Regulation B), and the published tests the statistics come from.

A VaR pack lists no PD row and no credit-scoring row; a PD pack lists no VaR row.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from validation.checks.base import (BASEL_MARKET, ECB_GUIDE, ECB_IRB, EU_AI_ACT, METHODOLOGY, US_FAIR_LENDING, US_MRM,
                                    Basis, bases)

FRAMEWORKS = (US_MRM, ECB_IRB, ECB_GUIDE, EU_AI_ACT, BASEL_MARKET, US_FAIR_LENDING, METHODOLOGY)
"""The order of the frameworks in the mapping; a third-party check's own framework comes after."""

SUPERSEDED = {"framework": US_MRM, "item": "superseded: SR 11-7 (2011)",
              "basis": "rescinded on 17 April 2026 by SR 26-2 / OCC Bulletin 2026-13 (and the FDIC): no basis of "
                       "this pack"}
"""The one row that names SR 11-7."""

_CREDIT_SCORING = ("classification",)

PACK_BASES: tuple[tuple[str, Basis], ...] = (
    ("pack: risk class", Basis(EU_AI_ACT, "Annex III, point 5(b): a system that evaluates the creditworthiness of "
                                          "natural persons or establishes their credit score is high-risk (a "
                                          "classification model scoring applicants)", _CREDIT_SCORING)),
    ("pack: validation", Basis(EU_AI_ACT, "Art. 9 (risk management system): testing of the high-risk system against "
                                          "its known and foreseeable risks, of which this validation is a part",
                               _CREDIT_SCORING)),
    ("pack: evidence", Basis(EU_AI_ACT, "Art. 11 and Annex IV (technical documentation), Art. 18 (documentation "
                                        "keeping): the pack documents the tests, metrics, data and results of the "
                                        "validation in a hashed (optionally signed) record, and the registry keeps "
                                        "its history", _CREDIT_SCORING)),
    ("pack: review", Basis(EU_AI_ACT, "Art. 17(1)(d) (quality management system): the examination, test and "
                                      "validation procedures carried out on the system, here the validator's review "
                                      "with a rating, a conclusion and an assessment of each finding (`validation "
                                      "review`)", _CREDIT_SCORING)),
    ("pack: review", Basis(US_MRM, "effective challenge: an independent validator's rating and conclusion, and the "
                                   "issues raised, tracked to remediation (`validation review`, `validation "
                                   "findings`)")),
)
"""Rows about the pack as a whole, not one check."""

VAR_MARKER = "basel_zone"
"""Every VaR backtest reports its Basel zone: a pack reporting it is a VaR model's, when the caller
does not give the model type."""


def materiality_row(materiality: str | None, required: Sequence[str] | None = None) -> dict[str, str]:
    """The row saying what the model's materiality sets (SR 26-2: depth and frequency); ``required``
    the checks it requires of this model (the card's ``governance.required_checks``: those that
    apply to its type), else every check the materiality names."""
    from validation.inputs.spec import FREQUENCY_MONTHS, REQUIRED_CHECKS

    if materiality is None:
        text = ("materiality not set: the guidance scales validation with each model's materiality (exposure and "
                "purpose); set model.materiality (docs/spec.md, Materiality)")
    else:
        checks = ", ".join(required) if required is not None else f"{', '.join(REQUIRED_CHECKS[materiality])} (where they apply)"
        text = (f"materiality {materiality}: checks required {checks or 'none'}, the {materiality}-materiality "
                f"policy, and a run every {FREQUENCY_MONTHS[materiality]} months")
    return {"framework": US_MRM, "item": "model: materiality", "basis": text}


def mapping(checks: Iterable[str], metrics: set[str], *, model_type: str | None = None,
            materiality: str | None = None, required: Sequence[str] | None = None) -> list[dict[str, str]]:
    """The pack's regulatory mapping: rows ``{"framework", "item", "basis"}`` grouped by framework
    (in the order of :data:`FRAMEWORKS`), each group with the pack's rows, then each check's
    basis, then each reported metric's own.

    Parameters
    ----------
    checks
        The pack's checks, by name (unknown names are skipped).
    metrics
        The metrics the pack reports: a metric's basis is listed only when it is reported.
    model_type
        ``classification`` or ``var``: rows of the other type are left out. ``None``: ``var`` when
        the pack reports :data:`VAR_MARKER`, else ``classification``.
    materiality
        The model's ``model.materiality``, for the row saying what it sets.
    required
        The checks that materiality requires of this model (the card's), for the same row.

    Examples
    --------
    >>> rows = mapping(["backtesting"], {"kupiec_pvalue", "basel_zone"}, model_type="var")
    >>> any(row["framework"].startswith("EU AI Act") for row in rows)
    False
    """
    from validation.checks import REGISTRY

    kind = model_type or ("var" if VAR_MARKER in metrics else "classification")
    units = [REGISTRY[name] for name in checks if name in REGISTRY]
    rows = [materiality_row(materiality, required), SUPERSEDED]
    rows += [{"framework": b.framework, "item": item, "basis": b.text}
             for item, b in PACK_BASES if b.applies_to(kind)]
    for check in units:
        rows += [{"framework": b.framework, "item": f"check: {check.name}", "basis": b.text}
                 for b in bases(check.basis) if b.applies_to(kind)]
    for check in units:
        for metric, value in check.metric_basis.items():
            if metric in metrics:
                rows += [{"framework": b.framework, "item": f"metric: {metric}", "basis": b.text}
                         for b in bases(value) if b.applies_to(kind)]
    order = {framework: index for index, framework in enumerate(FRAMEWORKS)}
    return sorted(rows, key=lambda row: order.get(row["framework"], len(order)))  # stable within a framework
