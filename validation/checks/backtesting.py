"""The backtesting check (outcomes analysis): does the model still rank and price risk correctly on
observed outcomes?

PD models: discrimination (AUC with DeLong, Gini, KS, Brier, the ECB AUC change test), calibration
per grade and portfolio (Jeffreys, binomial, Hosmer-Lemeshow, Spiegelhalter), concentration
(Herfindahl), by period and segment, business impact. VaR models: exceptions, Kupiec, TUFF,
Christoffersen, Basel zones. The statistics are :mod:`validation.metrics.backtesting`.
"""

from __future__ import annotations

from validation.checks.base import BuiltinCheck, CheckParams, Headline


class BacktestingParams(CheckParams):
    """The backtesting check takes no parameters: grades come from the spec (``grades``)."""


class BacktestingCheck(BuiltinCheck):
    name = "backtesting"
    description = ("PD: AUC/Gini/KS with DeLong, AUC change, Jeffreys, binomial, Hosmer-Lemeshow, Spiegelhalter, "
                   "concentration, by period and segment; VaR: Kupiec, TUFF, Christoffersen, Basel zones")
    template = "backtesting.ipynb"
    params = BacktestingParams
    headlines = (Headline("auc", "AUC", "auc", "score"), Headline("gini", "Gini", "gini", "score"),
                 Headline("brier", "Brier", "brier", "score"))
    basis = "SR 11-7: outcomes analysis (backtesting)"
    metric_basis = {
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
    }
