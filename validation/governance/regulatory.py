"""Regulatory mapping: what each check and metric serves.

SR 11-7 (Federal Reserve / OCC, "Supervisory Guidance on Model Risk Management", 2011), section V,
names three core elements of validation: evaluation of conceptual soundness, ongoing monitoring,
and outcomes analysis. The backtests follow the ECB's instructions for reporting the validation
results of internal models (IRB Pillar I models for credit risk, 2019), whose PD part is section 2.5:
2.5.3.1 the Jeffreys test (predictive ability), 2.5.4.1 current against initial AUC (discriminatory
power), 2.5.5.3 concentration in rating grades (stability).
"""

from __future__ import annotations

CHECK_BASIS = {
    "drift": "SR 11-7: ongoing monitoring (population stability, data drift)",
    "fairness": "SR 11-7: conceptual soundness and ongoing monitoring; fair lending (ECOA / Regulation B, "
                "four-fifths rule of 29 CFR 1607.4(D))",
    "explainability": "SR 11-7: evaluation of conceptual soundness; Regulation B adverse-action reasons "
                      "(12 CFR 1002.9)",
    "backtesting": "SR 11-7: outcomes analysis (backtesting)",
}

METRIC_BASIS = {
    "auc": "ECB instructions 2.5.4: discriminatory power (AUC with DeLong variance)",
    "gini": "ECB instructions 2.5.4: discriminatory power (Gini = 2 AUC - 1)",
    "auc_change_pvalue": "ECB instructions 2.5.4.1: current vs initial AUC",
    "jeffreys_pvalue": "ECB instructions 2.5.3.1: Jeffreys test per grade and portfolio",
    "binomial_pvalue": "predictive ability per grade: one-sided binomial test (BCBS Working Paper 14, 2005)",
    "hosmer_lemeshow_pvalue": "predictive ability over grades (Hosmer-Lemeshow, out of sample)",
    "herfindahl_change_pvalue": "ECB instructions 2.5.5.3: concentration in rating grades (Herfindahl index)",
    "herfindahl_index": "ECB instructions 2.5.5.3: concentration in rating grades",
    "kupiec_pvalue": "Basel market risk backtesting: proportion of failures (Kupiec 1995)",
    "basel_zone": "Basel Committee (1996): traffic-light zones and plus factors",
    "plus_factor": "Basel Committee (1996): plus factor to the capital multiplier",
    "christoffersen_pvalue": "VaR backtesting: independence of exceptions (Christoffersen 1998)",
    "conditional_coverage_pvalue": "VaR backtesting: conditional coverage (Christoffersen 1998)",
    "disparate_impact_ratio": "four-fifths rule (29 CFR 1607.4(D)); ECOA / Regulation B",
    "psi": "SR 11-7 ongoing monitoring: population stability",
}


def mapping(checks: list[str]) -> list[dict[str, str]]:
    """Rows for the pack: each check with its basis, then the metrics with a specific one."""
    rows = [{"item": f"check: {name}", "basis": CHECK_BASIS[name]} for name in checks if name in CHECK_BASIS]
    rows += [{"item": f"metric: {metric}", "basis": basis} for metric, basis in METRIC_BASIS.items()]
    return rows
