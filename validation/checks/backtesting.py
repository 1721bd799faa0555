"""The backtesting check (outcomes analysis): does the model still rank and price risk correctly on
observed outcomes?

PD models: discrimination (AUC with DeLong, Gini, KS, Brier, the ECB AUC change test), calibration
per grade and portfolio (Jeffreys, binomial, Hosmer-Lemeshow, Spiegelhalter), concentration
(Herfindahl), by period and segment, business impact. VaR models: exceptions, Kupiec, TUFF,
Christoffersen, Basel zones. The statistics are :mod:`validation.metrics.backtesting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from validation.checks.base import BuiltinCheck, CheckContext, CheckOutput, CheckParams, Headline

if TYPE_CHECKING:
    import numpy as np


class BacktestingParams(CheckParams):
    """The backtesting check takes no parameters: grades come from the spec (``grades``)."""


class BacktestingCheck(BuiltinCheck):
    name = "backtesting"
    description = ("PD: AUC/Gini/KS with DeLong, AUC change, Jeffreys, binomial, Hosmer-Lemeshow, Spiegelhalter, "
                   "concentration, by period and segment; VaR: Kupiec, TUFF, Christoffersen, Basel zones")
    template = "backtesting.ipynb"
    params = BacktestingParams
    headlines = (Headline("auc", "AUC", "auc", "score"), Headline("gini", "Gini", "gini", "score"),
                 Headline("brier", "Brier", "brier", "score"),
                 Headline("var_exceptions", "VaR exceptions", "exceptions", "portfolio"),
                 Headline("basel_zone", "Basel zone", "basel_zone", "portfolio"),
                 Headline("kupiec_pvalue", "Kupiec p-value", "kupiec_pvalue", "portfolio"))
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

    def run(self, context: CheckContext, params: BacktestingParams) -> CheckOutput:
        """Backtest the model version on the current sample's outcomes.

        Returns
        -------
        CheckOutput
            PD models: tables ``discrimination``, ``grades``, ``period`` (with ``data.time``), one
            per segment named by its column, ``impact`` (with a ``decision``); VaR models: ``var``.
            The summary holds ``current_rows``, ``model_type`` and ``grade_source`` (``spec``,
            ``deciles``, or ``None`` for VaR).
        """
        output = CheckOutput(self.name)
        grade_source: str | None = None
        if context.spec.model.type == "var":
            output.headline = _var(output, context)
        else:
            output.headline = _pd(output, context)
            grade_source = "spec" if context.spec.grades else "deciles"
        output.summary = {"current_rows": len(context.current), "model_type": context.spec.model.type,
                          "grade_source": grade_source}
        return output


@dataclass(frozen=True)
class _Outcomes:
    """Observed outcomes and scores of the current sample and of the reference sample."""

    y: "np.ndarray"
    score: "np.ndarray"
    y_ref: "np.ndarray"
    score_ref: "np.ndarray"


def _pd(output: CheckOutput, context: CheckContext) -> str:
    """Backtest a PD model into ``output``: discrimination, calibration per grade, by period and
    segment, business impact. Returns the headline."""
    s = context.samples
    target, score = str(s.target), str(s.score)
    o = _Outcomes(context.current[target].to_numpy(), context.current[score].to_numpy(),
                  context.reference[target].to_numpy(), context.reference[score].to_numpy())
    now, before, auc_change = _discrimination(output, o)
    _calibration(output, context, o, now, auc_change)
    for column, prefix in [(context.spec.data.time, "period"), *[(c, c) for c in context.spec.data.segments]]:
        if column is not None:
            _by_slice(output, context, column, prefix)
    if context.spec.decision is not None:
        _impact(output, context)
    return (f"AUC {now['auc']:.3f} (reference {before['auc']:.3f}); {int(o.y.sum())} defaults observed, "
            f"{float(o.score.sum()):.1f} expected")


def _discrimination(output: CheckOutput, o: _Outcomes) -> tuple[dict[str, float], dict[str, float], float]:
    """AUC, Gini, KS and Brier of both samples, the ECB AUC change test, ROC and CAP curves.
    Returns the current and reference discrimination and the AUC change p-value."""
    import numpy as np
    import pandas as pd

    from validation.metrics import backtesting as bt
    from validation.reporting import plots

    now, before = bt.discrimination(o.y, o.score), bt.discrimination(o.y_ref, o.score_ref)
    auc_change = bt.auc_change_pvalue(before["auc"], now["auc"], now["auc_se"] ** 2)
    table = pd.DataFrame({"reference": before, "current": now})
    output.tables["discrimination"] = table
    section = output.section("Discrimination").table(table.round(4))
    if np.isnan(now["auc"]):
        section.text("**AUC undefined: the current sample has a single outcome class.**")
    else:
        section.text(f"AUC change test (ECB): reference {before['auc']:.3f}, current {now['auc']:.3f}, "
                     f"p = {auc_change:.4f}")
        section.figure(plots.roc_curve(o.y, o.score, reference=(o.y_ref, o.score_ref)))
        section.figure(plots.cap(*bt.cap_curve(o.y, o.score), default_rate=float(o.y.mean())))
    return now, before, auc_change


def _calibration(output: CheckOutput, context: CheckContext, o: _Outcomes, now: dict[str, float],
                 auc_change: float) -> None:
    """Per grade of the spec's master scale (else the reference score's deciles): Jeffreys and
    binomial tests with their traffic lights, Hosmer-Lemeshow; the discrimination, portfolio and
    concentration findings."""
    from validation.metrics import backtesting as bt
    from validation.reporting import plots
    from validation.reporting.display import status_table, traffic_lights

    bounds = context.spec.grades or bt.decile_grades(o.score_ref)
    grades = bt.grade_table(o.y, o.score, bounds)
    hl = bt.hosmer_lemeshow(grades)
    empty = sorted(set(range(1, len(bounds) + 1)) - set(grades.index))
    output.tables["grades"] = grades
    scale = ("the spec's master scale" if context.spec.grades
             else "deciles of the reference score (a fixed scale for both samples)")
    section = output.section("Calibration per grade").text(
        f"Grades: {scale}" + (f"; grades with no applicants (left out): {empty}" if empty else ""))
    section.table(status_table(traffic_lights(grades, ["jeffreys_pvalue", "binomial_pvalue"], context.policy)))
    section.text(f"Hosmer-Lemeshow: {hl.statistic:.2f} on {hl.dof} degrees of freedom, p = {hl.pvalue:.4f}")
    section.figure(plots.calibration(grades))
    output.findings += bt.classification_findings(now, grades, hl, portfolio_pd=float(o.score.mean()),
                                                  portfolio_n=len(o.y), portfolio_defaults=int(o.y.sum()),
                                                  auc_change=auc_change)
    output.findings += bt.calibration_findings(o.y, o.score, bt.assign_grades(o.score, bounds),
                                               bt.assign_grades(o.score_ref, bounds), len(bounds))


def _by_slice(output: CheckOutput, context: CheckContext, column: str, prefix: str) -> None:
    """AUC, observed/expected and the Jeffreys test per value of ``column`` (the period or a
    segment) of the current sample; findings ``<prefix>:<value>``."""
    from validation.metrics import backtesting as bt
    from validation.reporting import plots

    s = context.samples
    sliced = bt.slice_table(context.current, column, target=str(s.target), score=str(s.score))
    output.tables[prefix] = sliced
    output.section(f"By {column}").table(sliced.round(4)).figure(plots.trend(sliced, column))
    output.findings += bt.slice_findings(sliced, prefix)


def _impact(output: CheckOutput, context: CheckContext) -> None:
    """Approval rate, bad rate and expected loss (or default exposure) of the approved at the spec's
    decision threshold, in the reference and current samples."""
    import pandas as pd

    from validation.metrics import backtesting as bt

    s, data, decision = context.samples, context.spec.data, context.spec.decision
    assert decision is not None
    impact = {name: bt.business_impact(frame, score=str(s.score), target=str(s.target), threshold=decision.threshold,
                                       favourable=decision.favourable, exposure=data.exposure, lgd=data.lgd)
              for name, frame in (("reference", context.reference), ("current", context.current))}
    table = pd.DataFrame(impact)
    output.tables["impact"] = table
    output.section("Business impact at the decision threshold").table(table.round(4))
    output.findings += bt.impact_findings(impact["current"], impact["reference"])


def _var(output: CheckOutput, context: CheckContext) -> str:
    """Backtest a VaR model into ``output``: exceptions, Kupiec, TUFF, Christoffersen, Basel zones,
    P&L against VaR and the trailing exception count. Returns the headline."""
    import numpy as np
    import pandas as pd

    from validation.metrics import backtesting as bt
    from validation.reporting import plots

    data = context.spec.data
    level = data.var_level
    assert level is not None, "a 'var' spec has data.var_level (required when the spec is loaded)"
    pnl, var = context.current[data.pnl].to_numpy(), context.current[data.var].to_numpy()
    days = context.current[data.time].astype(str).to_numpy() if data.time else np.arange(1, len(pnl) + 1)
    hits = bt.var_exceptions(pnl, var)
    result = bt.var_backtest(pnl, var, level)
    table = pd.Series(result, name="value").to_frame()
    output.tables["var"] = table
    section = output.section("VaR backtest").text(
        f"{result['days']} days at {level:.1%}: **{result['exceptions']} exceptions** "
        f"({result['expected_exceptions']:.1f} expected); Basel zone **{result['basel_zone']}**"
        + (f"; last {bt.BASEL_DAYS} days: {result['last_250_exceptions']} exceptions, "
           f"zone **{result['last_250_zone']}**" if result["last_250_zone"] else "") + ".")
    section.table(table).figure(plots.pnl_against_var(days, pnl, var, hits))
    counts = bt.rolling_exceptions(hits)
    if len(counts) > 1:
        yellow, red = bt.basel_zone_starts(bt.BASEL_DAYS, level)
        section.figure(plots.rolling_exception_count(counts, days[bt.BASEL_DAYS - 1:], yellow=yellow, red=red))
    output.findings += bt.var_findings(result, level=level)
    return f"{result['exceptions']} exceptions in {result['days']} days; Basel zone {result['basel_zone']}"
