"""Regulatory mapping: what each check and metric serves, gathered from the checks themselves
(each check's ``basis`` and ``metric_basis``).

SR 11-7 (Federal Reserve / OCC, "Supervisory Guidance on Model Risk Management", 2011), section V,
names three core elements of validation: evaluation of conceptual soundness, ongoing monitoring,
and outcomes analysis. The backtests follow the ECB's instructions for reporting the validation
results of internal models (IRB Pillar I models for credit risk, 2019), whose PD part is section 2.5.
"""

from __future__ import annotations


def mapping(checks: list[str], metrics: set[str]) -> list[dict[str, str]]:
    """Rows for the pack: each check with its basis, then each metric the pack reports that has a
    specific one (a PD pack lists no VaR test)."""
    from validation.checks import REGISTRY

    units = [REGISTRY[name] for name in checks if name in REGISTRY]
    rows = [{"item": f"check: {check.name}", "basis": check.basis} for check in units if check.basis]
    rows += [{"item": f"metric: {metric}", "basis": basis} for check in units
             for metric, basis in check.metric_basis.items() if metric in metrics]
    return rows
