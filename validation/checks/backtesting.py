"""The backtesting check (outcomes analysis): does the model still rank and price risk correctly on
observed outcomes?

PD models: discrimination (AUC with DeLong, Gini, KS, Brier, the ECB AUC change test), calibration
per grade and portfolio (Jeffreys, binomial, Hosmer-Lemeshow, Spiegelhalter), concentration
(Herfindahl), by period and segment, business impact. VaR models: exceptions, Kupiec, TUFF,
Christoffersen, the Christoffersen-Pelletier duration test, Basel zones. The statistics are
:mod:`validation.metrics.backtesting`.

Honest references: the AUC change test and the business impact compare with the spec's
``reference_metrics`` (the development figures, measured out of sample) when it gives them; a
reference sample that is the training sample (``data.reference_kind: training``) is warned about,
and the AUC change test against its in-sample AUC is reported, not judged. Rows that repeat an
identifier (``data.ids``) were removed when the samples were read; the check reports how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field

from validation.checks.base import (BASEL_MARKET, ECB_GUIDE, ECB_IRB, EU_AI_ACT, METHODOLOGY, US_MRM, Basis, BuiltinCheck,
                                    CheckContext, CheckOutput, CheckParams, Headline)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from validation.checks.base import Section
    from validation.inputs.spec import ModelVersionSpec
    from validation.metrics.backtesting import AucChange
    from validation.metrics.scan import DensestWindow

MIN_SLICE_ROWS = 30
"""Default of ``min_slice_rows`` (project default): a period or segment with fewer rows is
reported, not judged. Below 30 rows one default moves a slice's observed default rate by more than
3 points, as much as the PD of a typical retail grade, so its observed / expected defaults tell one
applicant's outcome rather than the slice's calibration; 30 is also the fairness check's minimum
group size (``min_group_size``), the usual rule of thumb for a normal approximation. Pooling for
privacy (slices under :data:`validation.metrics.backtesting.MIN_DISCLOSED_SLICE` rows) comes first
and is independent of it."""

MAX_MIN_SLICE_ROWS = 100_000
"""Largest ``min_slice_rows`` (a bound like the other checks' minimums): more leaves every period of
a retail portfolio unjudged, which is a typo rather than a choice."""

TRAINING_REFERENCE_WARNING = (
    "The reference sample is the model's training sample (data.reference_kind: training): its in-sample AUC is "
    "optimistic, so the AUC change test against it is reported, not judged; give the AUC measured out of sample "
    "at development as reference_metrics.auc.")
"""The summary's warning when the AUC change test has only a training sample to compare with."""

TRAINING_REFERENCE_MEASURED = (
    "The reference sample is the model's training sample (data.reference_kind: training): figures computed on it "
    "are in-sample and optimistic; the AUC change test compares with the AUC measured at development instead "
    "(reference_metrics.auc {auc:.3f}, {source}).")
"""The summary's warning for a training reference when the development AUC is given."""

TRAINING_REFERENCE_NOTE = ("not judged: the reference is the training sample (data.reference_kind: training), whose "
                           "in-sample AUC is optimistic; give reference_metrics.auc")
"""The AUC change finding's note in that case."""

DUPLICATES_WARNING = ("Rows whose data.ids repeat another row's were removed ({counts}): every test assumes "
                      "independent rows, so the tests ran on one row per id (the latest).")
"""The summary's warning when rows repeating an identifier were removed (``{counts}`` per sample)."""

_METHODS = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "no adjustment"}
_PD = ("classification",)
_VAR = ("var",)


SCAN_WINDOW_DAYS = 60
"""Days of the window the VaR scan test counts exceptions in (project default): 60 business days,
the window over which the Basel capital rule averages VaR (Basel Committee 1996, amendment to the
capital accord to incorporate market risks: the charge takes the average VaR of the preceding sixty business days), about a quarter: a stress period of that
length that holds many exceptions is what a VaR that does not adapt looks like."""

MAX_SCAN_WINDOW_DAYS = 1_000
"""Largest ``scan_window_days``: four years of business days, beyond any backtest window."""


class BacktestingParams(CheckParams):
    """The backtesting check's parameters: the grades come from the spec (``grades``)."""

    min_slice_rows: int = Field(MIN_SLICE_ROWS, ge=1, le=MAX_MIN_SLICE_ROWS,
                                description="periods and segments with fewer rows are reported, not judged "
                                            "(below 30 rows one default moves a slice's default rate by over 3 points)")
    scan_window_days: int = Field(SCAN_WINDOW_DAYS, ge=2, le=MAX_SCAN_WINDOW_DAYS,
                                  description="VaR: days of the window the scan test counts exceptions in (60: the "
                                              "Basel capital rule's VaR averaging window)")


class BacktestingCheck(BuiltinCheck):
    name = "backtesting"
    reads_batches = True  # data.batch_rows (PD models): validation.metrics.streamed_backtesting
    relative_cost = 0.55  # measured at 1M rows (bench/run.py, full pack): see Check.relative_cost
    description = ("PD: AUC/Gini/KS with DeLong, AUC change, Jeffreys, binomial, Hosmer-Lemeshow, Spiegelhalter, "
                   "concentration, by period and segment; VaR: Kupiec, TUFF, Christoffersen, duration test, "
                   "Basel zones")
    template = "backtesting.ipynb"
    params = BacktestingParams
    headlines = (Headline("auc", "AUC", "auc", "score"), Headline("gini", "Gini", "gini", "score"),
                 Headline("brier", "Brier", "brier", "score"),
                 Headline("var_exceptions", "VaR exceptions", "exceptions", "portfolio"),
                 Headline("basel_zone", "Basel zone", "basel_zone", "portfolio"),
                 Headline("kupiec_pvalue", "Kupiec p-value", "kupiec_pvalue", "portfolio"))
    basis = (Basis(US_MRM, "outcomes analysis: the model's estimates against the outcomes observed since"),
             Basis(ECB_IRB, "section 2.5 (PD models): predictive ability (calibration per grade and portfolio), "
                            "discriminatory power and its change since initial validation, concentration of the "
                            "grades", _PD),
             Basis(ECB_GUIDE, "machine learning techniques: the performance of a complex model justifies its "
                              "complexity; its discrimination here against the previous version's or a simpler "
                              "challenger's (the pack's diff page, `validation compare`)", _PD),
             Basis(EU_AI_ACT, "Art. 15(1) (accuracy): the model's accuracy holds on observed outcomes", _PD),
             Basis(BASEL_MARKET, "backtesting of the VaR against daily P&L: exceptions over 250 days at 99% and the "
                                 "traffic-light zones that set the plus factor to the capital multiplier", _VAR))
    metric_basis = {
        "auc": Basis(ECB_IRB, "2.5.4: discriminatory power (AUC with DeLong variance)"),
        "gini": Basis(ECB_IRB, "2.5.4: discriminatory power (Gini = 2 AUC - 1)"),
        "auc_change_pvalue": Basis(ECB_IRB, "2.5.4.1: current AUC against the AUC at initial validation"),
        "jeffreys_pvalue": Basis(ECB_IRB, "2.5.3.1: Jeffreys test per grade and portfolio"),
        "binomial_pvalue": Basis(METHODOLOGY, "predictive ability per grade: one-sided binomial test (BCBS Working "
                                              "Paper 14, 2005)"),
        "hosmer_lemeshow_pvalue": Basis(METHODOLOGY, "predictive ability over grades (Hosmer and Lemeshow 2000)"),
        "spiegelhalter_pvalue": Basis(METHODOLOGY, "calibration of the PDs as a whole (Spiegelhalter 1986)"),
        "herfindahl_change_pvalue": Basis(ECB_IRB, "2.5.5.3: concentration in rating grades (Herfindahl index) "
                                                   "against initial validation"),
        "herfindahl_index": Basis(ECB_IRB, "2.5.5.3: concentration in rating grades"),
        "basel_zone": Basis(BASEL_MARKET, "traffic-light zones of the exception count (Basel Committee 1996, "
                                          "table 2; MAR99)"),
        "plus_factor": Basis(BASEL_MARKET, "plus factor to the capital multiplier (Basel Committee 1996, table 2)"),
        "kupiec_pvalue": Basis(METHODOLOGY, "VaR coverage: proportion of failures (Kupiec 1995)"),
        "christoffersen_pvalue": Basis(METHODOLOGY, "VaR: independence of exceptions (Christoffersen 1998)"),
        "conditional_coverage_pvalue": Basis(METHODOLOGY, "VaR: conditional coverage (Christoffersen 1998)"),
        "duration_independence_pvalue": Basis(METHODOLOGY, "VaR: duration-based independence (Christoffersen and "
                                                           "Pelletier 2004)"),
        "exception_scan_pvalue": Basis(METHODOLOGY, "VaR: exceptions bunched in a window of days (scan statistic, "
                                                    "Naus 1965)"),
        "duplicate_id_rows": (Basis(US_MRM, "data quality: each applicant once"),
                              Basis(EU_AI_ACT, "Art. 10(3) (data and data governance): data sets free of errors "
                                               "to the best extent possible", _PD)),
    }

    def run(self, context: CheckContext, params: BacktestingParams) -> CheckOutput:
        """Backtest the model version on the current sample's outcomes.

        Returns
        -------
        CheckOutput
            PD models: tables ``discrimination``, ``grades``, ``period`` (with ``data.time``), one
            per segment named by its column, ``impact`` (with a ``decision``); VaR models: ``var``.
            The summary holds ``current_rows``, ``model_type``, ``grade_source`` (``spec``,
            ``deciles``, or ``None`` for VaR), ``min_slice_rows``, ``warnings`` (sentences a
            reader must see first: a training reference, rows removed as duplicate ids),
            ``batch_rows`` and ``approximate`` (read in batches with more distinct scores than are
            counted one by one: how far ``auc`` and ``ks``, ``reference_auc`` and
            ``reference_ks``, and ``slice_auc`` (any period's or segment's AUC) can be from the rows').
        """
        output = CheckOutput(self.name)
        warnings: list[str] = []
        output.summary = {"current_rows": len(context.current), "model_type": context.spec.model.type,
                          "grade_source": None, "min_slice_rows": params.min_slice_rows, "warnings": warnings,
                          "batch_rows": context.spec.data.batch_rows, "approximate": {}}
        duplicates = _duplicates(output, context, warnings)
        if context.spec.model.type == "var":
            output.headline = _var(output, context, duplicates, params.scan_window_days)
        else:
            output.headline = _pd(output, context, params, warnings, duplicates)
            output.summary["grade_source"] = "spec" if context.spec.grades else "deciles"
        return output


class _Scored:
    """The PD backtest's figures of both samples, from the rows in memory (:class:`_InMemory`) or
    from outcome cells counted batch by batch (:class:`_InBatches`, ``data.batch_rows``)."""

    rows: int
    defaults: int
    expected: float
    bounds: tuple[float, ...]
    approximate: dict[str, float]
    """The bounds of the figures that are approximate (empty: every figure exact)."""

    def discrimination(self) -> tuple[dict[str, float], dict[str, float]]:
        """The current and the reference sample's AUC, Gini, KS and Brier."""
        raise NotImplementedError

    def roc(self) -> dict[str, tuple["np.ndarray", "np.ndarray", "np.ndarray | None"]]:
        """Per sample: outcomes, scores and weights of its ROC curve."""
        raise NotImplementedError

    def cap(self) -> tuple["np.ndarray", "np.ndarray"]:
        raise NotImplementedError

    def grade_table(self) -> "pd.DataFrame":
        raise NotImplementedError

    def portfolio_findings(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def slice_table(self, column: str, prefix: str) -> tuple["pd.DataFrame", float | None]:
        """The figures per value of a period or segment column, and how far a value's AUC can be
        from its rows' (``None``: exact)."""
        raise NotImplementedError

    def impact(self, role: str) -> dict[str, float]:
        raise NotImplementedError


class _InMemory(_Scored):
    def __init__(self, context: CheckContext) -> None:
        from validation.metrics import backtesting as bt

        s = context.samples
        self.context, self.target, self.score = context, str(s.target), str(s.score)
        self.y, self.s = context.current[self.target].to_numpy(), context.current[self.score].to_numpy()
        self.y_ref, self.s_ref = context.reference[self.target].to_numpy(), context.reference[self.score].to_numpy()
        self.rows, self.defaults, self.expected = len(self.y), int(self.y.sum()), float(self.s.sum())
        self.bounds = context.spec.grades or bt.decile_grades(self.s_ref)
        self.approximate = {}

    def discrimination(self) -> tuple[dict[str, float], dict[str, float]]:
        from validation.metrics import backtesting as bt

        return bt.discrimination(self.y, self.s), bt.discrimination(self.y_ref, self.s_ref)

    def roc(self) -> dict[str, tuple["np.ndarray", "np.ndarray", "np.ndarray | None"]]:
        return {"reference": (self.y_ref, self.s_ref, None), "current": (self.y, self.s, None)}

    def cap(self) -> tuple["np.ndarray", "np.ndarray"]:
        from validation.metrics import backtesting as bt

        return bt.cap_curve(self.y, self.s)

    def grade_table(self) -> "pd.DataFrame":
        from validation.metrics import backtesting as bt

        return bt.grade_table(self.y, self.s, self.bounds)

    def portfolio_findings(self) -> list[dict[str, Any]]:
        from validation.metrics import backtesting as bt

        return bt.calibration_findings(self.y, self.s, bt.assign_grades(self.s, self.bounds),
                                       bt.assign_grades(self.s_ref, self.bounds), len(self.bounds))

    def slice_table(self, column: str, prefix: str) -> tuple["pd.DataFrame", float | None]:
        from validation.metrics import backtesting as bt

        current = self.context.current
        return bt.slice_table(_missing_as_value(current, column) if prefix != "period" else current, column,
                              target=self.target, score=self.score), None

    def impact(self, role: str) -> dict[str, float]:
        from validation.metrics import backtesting as bt

        data, decision = self.context.spec.data, self.context.spec.decision
        assert decision is not None
        frame = self.context.reference if role == "reference" else self.context.current
        return bt.business_impact(frame, score=self.score, target=self.target, threshold=decision.threshold,
                                  favourable=decision.favourable, exposure=data.exposure, lgd=data.lgd)


class _InBatches(_Scored):
    def __init__(self, context: CheckContext) -> None:
        import functools

        from validation.metrics import outcome_cells as oc
        from validation.metrics import streamed_backtesting as sb
        from validation.metrics.fairness import raw_group_labels

        spec, s = context.spec, context.samples
        data, decision = spec.data, spec.decision
        slicers: dict[str, Any] = {}
        if data.time is not None:
            time = str(data.time)
            slicers["period"] = lambda frame: frame[time].astype(str)
        for column in data.segments:
            slicers[f"segment:{column}"] = functools.partial(raw_group_labels, attribute=column)
        exposure, lgd = data.exposure, data.lgd
        loss = None
        if exposure:
            def loss(f: "pd.DataFrame") -> "np.ndarray":  # each row's LGD x EAD (EAD alone without an LGD)
                amount = f[exposure].to_numpy(dtype=float)
                return amount * f[lgd].to_numpy(dtype=float) if lgd else amount
        columns = [c for c in (data.time, *data.segments) if c]
        self.context = context
        try:
            self.outcomes = sb.read_outcomes(context.sample("data.reference"), context.sample("data.current"),
                                             score=str(s.score), target=str(s.target),
                                             grades=tuple(spec.grades) if spec.grades else None,
                                             threshold=decision.threshold if decision else None, slicers=slicers,
                                             columns=columns, loss=loss,
                                             loss_columns=[c for c in (exposure, lgd) if c])
        except oc.TooManyKeys as exc:
            from validation.errors import DataError

            column = str(data.time) if exc.slicer == "period" else exc.slicer.removeprefix("segment:")
            raise DataError(str(data.current), column, f"more than {exc.limit:,} distinct values: a period or segment "
                            "is a slice of the portfolio (a month, a product, a region), not an identifier; use a "
                            "coarser column", "data.current") from None
        self.loss_key = ("expected_loss" if lgd else "expected_default_exposure") if exposure else None
        dense = self.outcomes.current.dense()
        self.rows, self.defaults = oc.counts(dense)
        self.expected = float(dense["score"].sum())
        self.bounds = self.outcomes.bounds
        self._discrimination = sb.discrimination(self.outcomes.current)
        self._reference = sb.discrimination(self.outcomes.reference)
        self.approximate = {**self._discrimination[1],
                            **{f"reference_{metric}": bound for metric, bound in self._reference[1].items()}}

    def discrimination(self) -> tuple[dict[str, float], dict[str, float]]:
        return self._discrimination[0], self._reference[0]

    def roc(self) -> dict[str, tuple["np.ndarray", "np.ndarray", "np.ndarray | None"]]:
        from validation.metrics import outcome_cells as oc

        return {role: oc.roc_points(cells.dense()) for role, cells in (("reference", self.outcomes.reference),
                                                                       ("current", self.outcomes.current))}

    def cap(self) -> tuple["np.ndarray", "np.ndarray"]:
        from validation.metrics import outcome_cells as oc

        return oc.cap_points(self.outcomes.current.dense())

    def grade_table(self) -> "pd.DataFrame":
        from validation.metrics import streamed_backtesting as sb

        return sb.grade_table(self.outcomes.current, self.bounds)

    def portfolio_findings(self) -> list[dict[str, Any]]:
        from validation.metrics import streamed_backtesting as sb

        return sb.portfolio_findings(self.outcomes.current, self.outcomes.reference, self.bounds)

    def slice_table(self, column: str, prefix: str) -> tuple["pd.DataFrame", float | None]:
        from validation.metrics import streamed_backtesting as sb

        table, bound = sb.slice_table(self.outcomes.current, "period" if prefix == "period" else f"segment:{column}",
                                      column)
        if bound is not None:
            self.approximate["slice_auc"] = max(bound, self.approximate.get("slice_auc", 0.0))
        return table, bound

    def impact(self, role: str) -> dict[str, float]:
        from validation.metrics import streamed_backtesting as sb

        decision = self.context.spec.decision
        assert decision is not None
        cells = self.outcomes.reference if role == "reference" else self.outcomes.current
        return sb.business_impact(cells, threshold=decision.threshold, favourable=decision.favourable,
                                  loss_key=self.loss_key)


def _duplicates(output: CheckOutput, context: CheckContext, warnings: list[str]) -> str:
    """``duplicate_id_rows`` per sample when the spec gives ``data.ids`` (the rows the loader
    removed because their ids repeat another row's), and a warning when any was removed. Returns
    the sentence the sections show, or ``""``."""
    from validation.judging.findings import finding

    if not context.spec.data.ids:
        return ""
    removed: dict[str, int] = dict(getattr(context.samples, "duplicates", None) or {})
    for role in ("reference", "current"):
        if role not in removed:
            continue
        count = int(removed[role])
        note = (f"{count} rows removed whose data.ids repeat another row's: the tests ran on one row per id "
                "(the latest)" if count else "each id appears once: the tests ran on one row per id")
        output.findings.append(finding("duplicate_id_rows", f"sample:{role}", count, note=note,
                                       cause="duplicate data.ids"))
    if not any(removed.values()):
        return ""
    sentence = DUPLICATES_WARNING.format(counts=", ".join(f"{removed[r]} from the {r} sample" for r in removed))
    warnings.append(sentence)
    return sentence


def _pd(output: CheckOutput, context: CheckContext, params: BacktestingParams, warnings: list[str],
        duplicates: str) -> str:
    """Backtest a PD model into ``output``: discrimination, calibration per grade, by period and
    segment, business impact. Returns the headline."""
    scored: _Scored = _InBatches(context) if context.spec.data.batch_rows is not None else _InMemory(context)
    now, change = _discrimination(output, context, scored, warnings, duplicates)
    _calibration(output, context, scored, now, change, duplicates)
    for column, prefix in [(context.spec.data.time, "period"), *[(c, c) for c in context.spec.data.segments]]:
        if column is not None:
            _by_slice(output, context, scored, column, prefix, params.min_slice_rows)
    if context.spec.decision is not None:
        _impact(output, context, scored)
    output.summary["current_rows"] = scored.rows
    output.summary["approximate"] = scored.approximate
    return (f"AUC {now['auc']:.3f} (reference {change.reference_auc:.3f}); "
            f"{scored.defaults} defaults observed, {scored.expected:.1f} expected")


def _auc_reference(context: CheckContext, now: dict[str, float], before: dict[str, float],
                   warnings: list[str]) -> "AucChange":
    """The AUC change test against the honest reference: the spec's ``reference_metrics.auc``
    when given, else the reference sample's AUC, not judged when that sample is the training one."""
    from validation.metrics import backtesting as bt

    development = context.spec.reference_metrics
    if development is not None and development.auc is not None:
        if context.spec.data.reference_kind == "training":
            warnings.append(TRAINING_REFERENCE_MEASURED.format(auc=development.auc, source=development.source))
        return bt.auc_change(development.auc, now, source=f"development ({development.source})")
    if context.spec.data.reference_kind == "training":
        warnings.append(TRAINING_REFERENCE_WARNING)
        return bt.auc_change(before["auc"], now, source="the training sample", judged=False,
                             caveat=TRAINING_REFERENCE_NOTE)
    return bt.auc_change(before["auc"], now, source="the reference sample")


def _discrimination(output: CheckOutput, context: CheckContext, scored: _Scored, warnings: list[str],
                    duplicates: str) -> tuple[dict[str, float], "AucChange"]:
    """AUC, Gini, KS and Brier of both samples (and the development AUC when the spec gives it),
    the ECB AUC change test, ROC and CAP curves. Returns the current discrimination and the test."""
    import math

    import numpy as np
    import pandas as pd

    from validation.metrics import backtesting as bt
    from validation.reporting import plots

    now, before = scored.discrimination()
    change = _auc_reference(context, now, before, warnings)
    columns: dict[str, dict[str, float]] = {reference_label(context.spec): before}
    development = context.spec.reference_metrics
    if development is not None and development.auc is not None:
        columns[f"development ({development.source})"] = {"auc": development.auc, "gini": 2 * development.auc - 1}
    table = pd.DataFrame({**columns, "current": now})
    output.tables["discrimination"] = table
    section = output.section("Discrimination").table(table.round(4))
    if duplicates:
        section.text(duplicates)
    if np.isnan(now["auc"]):
        section.text("**AUC undefined: the current sample has a single outcome class.**")
    else:
        drop = f", drop {change.drop:+.3f}" if math.isfinite(change.drop) else ""
        section.text(f"AUC change test (ECB 2.5.4.1): reference {change.reference_auc:.3f} ({change.source}), "
                     f"current {now['auc']:.3f}{drop}, p = {change.pvalue:.4f}"
                     + (f". **{change.caveat[0].upper()}{change.caveat[1:]}.**" if change.caveat else ""))
        if scored.approximate:
            section.text(_approximate_text(context, scored))
        curves = scored.roc()
        section.figure(plots.roc_curve(*curves["current"][:2], weights=curves["current"][2],
                                       reference=curves["reference"]))
        section.figure(plots.cap(*scored.cap(), default_rate=scored.defaults / scored.rows))
    return now, change


def _judged_lights(table: "pd.DataFrame", findings: list[dict[str, Any]], metrics: tuple[str, ...],
                   context: CheckContext, prefix: str) -> "pd.DataFrame":
    """``table`` (indexed by subject value) with, after each of ``metrics``, the p-value adjusted
    for multiplicity and the status of its finding, exactly as the pack judges them (so a table
    can never show a light the findings contradict)."""
    judged = context.policy.judge_all(findings)
    shown = table.copy()
    for metric in metrics:
        by_subject = {f.subject: f for f in judged if f.metric == metric}
        position = shown.columns.get_loc(metric) + 1
        keys = [f"{prefix}:{value}" for value in shown.index]
        shown.insert(position, f"{metric}_light", [by_subject[k].status if k in by_subject else "info" for k in keys])
        adjusted = [by_subject[k].p_adjusted if k in by_subject else None for k in keys]
        if any(a is not None for a in adjusted):
            shown.insert(position, f"{metric}_adjusted", [float("nan") if a is None else a for a in adjusted])
    return shown


def _approximate_text(context: CheckContext, scored: _Scored) -> str:
    """What reading in batches made approximate, and by how much (the pack shows the bounds)."""
    from validation.metrics.outcome_cells import bound_text
    from validation.metrics.summaries import DISTINCT_CAP, GRID_BINS

    bounds = scored.approximate
    which = [role for role in ("current", "reference") if (f"{role}_auc" if role == "reference" else "auc") in bounds]
    figures = []
    if "auc" in bounds:
        figures.append(f"the current AUC is within {bound_text(bounds['auc'])} of the rows' (Gini within twice that) "
                       f"and its KS up to {bound_text(bounds['ks'])} above the figure shown")
    if "reference_auc" in bounds:
        figures.append(f"the reference AUC within {bound_text(bounds['reference_auc'])} (and so the AUC change test's "
                       "reference, when it is the reference sample's) and its KS up to "
                       f"{bound_text(bounds['reference_ks'])} above")
    plural = len(which) > 1
    return (f"Both samples read in batches of {context.spec.data.batch_rows:,} rows (`data.batch_rows`); the "
            f"{' and the '.join(which)} sample{'s' if plural else ''} ha{'ve' if plural else 's'} more than "
            f"{DISTINCT_CAP:,} distinct scores, counted in about {GRID_BINS:,} fine bins (every grade bound and the "
            "decision threshold among their edges). Every count, default rate, mean PD, test per grade, period and "
            "segment, Brier score and Spiegelhalter test is exact; a tie within a bin counts one half, so "
            f"{'; '.join(figures)}. The AUC's DeLong standard error, its interval and the AUC change test are computed "
            "from the same bins (validation.metrics.outcome_cells).")


def _tests_text(context: CheckContext, family: str) -> str:
    """How the Jeffreys tests of a family are judged: adjusted for multiplicity, and material."""
    method = _METHODS.get(context.policy.multiplicity, context.policy.multiplicity)
    immaterial = context.policy.immaterial("jeffreys_pvalue")
    materiality = (f"; a test is amber or red only when observed / expected defaults are also outside "
                   f"{immaterial[0]:g} to {immaterial[1]:g} (the policy's materiality bounds): a significant but "
                   "small misstatement is green" if immaterial is not None else "")
    return f"Jeffreys p-values are adjusted over the {family} ({method}) and judged on the adjusted value{materiality}."


def _calibration(output: CheckOutput, context: CheckContext, scored: _Scored, now: dict[str, float],
                 change: "AucChange", duplicates: str) -> None:
    """Per grade of the spec's master scale (else the reference score's deciles): Jeffreys and
    binomial tests with the status of their findings, Hosmer-Lemeshow; the discrimination,
    portfolio and concentration findings."""
    import math

    from validation.metrics import backtesting as bt
    from validation.reporting import plots
    from validation.reporting.display import status_table

    bounds = scored.bounds
    grades = scored.grade_table()
    hl = bt.hosmer_lemeshow(grades)
    empty = sorted(set(range(1, len(bounds) + 1)) - set(grades.index))
    output.tables["grades"] = grades
    scale = ("the spec's master scale" if context.spec.grades
             else "deciles of the reference score (a fixed scale for both samples)")
    findings = bt.classification_findings(now, grades, hl, portfolio_pd=scored.expected / scored.rows,
                                          portfolio_n=scored.rows, portfolio_defaults=scored.defaults,
                                          auc_change=change)
    section = output.section("Calibration per grade").text(
        f"Grades: {scale}" + (f"; grades with no applicants (left out): {empty}" if empty else ""))
    if duplicates:
        section.text(duplicates)
    section.text(_tests_text(context, "grades"))
    grade_findings = [f for f in findings if str(f["subject"]).startswith("grade:")]
    section.table(status_table(_judged_lights(grades, grade_findings, ("jeffreys_pvalue", "binomial_pvalue"),
                                              context, "grade")))
    section.text(f"Hosmer-Lemeshow: {hl.statistic:.2f} on {hl.dof} degrees of freedom, p = {hl.pvalue:.4f}"
                 + (f"; {hl.misplaced_share:.1%} of the expected defaults misplaced over the grades"
                    if math.isfinite(hl.misplaced_share) else ""))
    section.figure(plots.calibration(grades))
    output.findings += findings
    output.findings += scored.portfolio_findings()


def _by_slice(output: CheckOutput, context: CheckContext, scored: _Scored, column: str, prefix: str,
              min_rows: int) -> None:
    """AUC, observed/expected and the Jeffreys test per value of ``column`` (the period or a
    segment) of the current sample; findings ``<prefix>:<value>``, the Jeffreys tests one family."""
    from validation.metrics import backtesting as bt
    from validation.reporting import plots
    from validation.reporting.display import status_table

    sliced, auc_within = scored.slice_table(column, prefix)
    if prefix != "period":  # a segment's values in their natural order (age bands <25 first), pools last
        from validation.metrics.fairness import group_sort_key

        sliced = sliced.loc[sorted(sliced.index, key=lambda v: (str(v).startswith("("), group_sort_key(v)))]
    output.tables[prefix] = sliced
    family = "period" if column == context.spec.data.time and prefix == "period" else f"segment {column}"
    findings = bt.slice_findings(sliced, prefix, min_rows=min_rows, family=family)
    small = int(((sliced["n"] < min_rows) & sliced["defaults"].notna()).sum())
    section = output.section(f"By {column}")
    section.text(f"Values of {column} with fewer than {min_rows} rows (min_slice_rows) are reported, not judged"
                 + (f" ({small} of them here)" if small else "")
                 + f"; values with fewer than {bt.MIN_DISCLOSED_SLICE} rows are pooled, and a pool that small shows "
                 "no outcomes. " + _tests_text(context, f"values of {column}"))
    if auc_within is not None:
        from validation.metrics.outcome_cells import bound_text

        section.text(f"Read in batches, the scores counted in fine bins: each value's AUC is within "
                     f"{bound_text(auc_within)} of its rows' (a tie within a bin counts one half); every other figure "
                     "here is exact.")
    section.table(status_table(_judged_lights(sliced.round(4), findings, ("jeffreys_pvalue",), context, prefix)))
    section.figure(plots.trend(sliced, column))
    output.findings += findings


def _missing_as_value(frame: "pd.DataFrame", column: str) -> "pd.DataFrame":
    """The sample with a segment's missing values as the value ``(missing)``: rows with no segment
    are a slice of their own (pooled with the other small slices when fewer than
    :data:`~validation.metrics.backtesting.MIN_DISCLOSED_SLICE`), never dropped. Values are named
    as groups are (:func:`validation.metrics.fairness.raw_group_labels`: a whole number without
    decimals), alike whether read whole or in batches.

    >>> import pandas as pd
    >>> _missing_as_value(pd.DataFrame({"housing": ["own", None]}), "housing")["housing"].tolist()
    ['own', '(missing)']
    """
    from validation.metrics.fairness import raw_group_labels

    return frame.assign(**{column: raw_group_labels(frame, column)})


def reference_label(spec: "ModelVersionSpec") -> str:
    """How tables and notes name the reference sample: with what it is, when the spec says
    (``data.reference_kind``), so that a training sample's in-sample figures never read as a
    benchmark."""
    kind = spec.data.reference_kind
    return {"training": "reference (training sample: in-sample)", "holdout": "reference (holdout)",
            "out_of_time": "reference (out of time)"}.get(kind or "", "reference")


def _impact(output: CheckOutput, context: CheckContext, scored: _Scored) -> None:
    """Approval rate, bad rate and expected loss (or default exposure) of the approved at the spec's
    decision threshold, in the reference and current samples, and the development figures of
    ``reference_metrics`` when given (compared with instead of the reference sample's)."""
    import pandas as pd

    from validation.metrics import backtesting as bt

    impact = {role: scored.impact(role) for role in ("reference", "current")}
    development: dict[str, float] = {}
    label = "development"
    given = context.spec.reference_metrics
    if given is not None:
        label = f"development ({given.source})"
        development = {metric: float(value) for metric in ("approval_rate", "bad_rate_approved", "default_rate")
                       if (value := getattr(given, metric)) is not None}
    columns: dict[str, dict[str, float]] = {reference_label(context.spec): impact["reference"]}
    if development:
        columns[label] = development
    table = pd.DataFrame({**columns, "current": impact["current"]})
    output.tables["impact"] = table
    section = output.section("Business impact at the decision threshold").table(table.round(4))
    if development:
        section.text(f"{', '.join(development)}: the current figures are compared with {label}, not with the "
                     "reference sample's.")
    output.findings += bt.impact_findings(impact["current"], impact["reference"], development=development,
                                          development_label=label, reference_label=reference_label(context.spec))


def _var(output: CheckOutput, context: CheckContext, duplicates: str, scan_window: int) -> str:
    """Backtest a VaR model into ``output``: exceptions, Kupiec, TUFF, Christoffersen, the duration
    test, Basel zones, P&L against VaR and the trailing exception count. Returns the headline."""
    import math

    import numpy as np
    import pandas as pd

    from validation.metrics import backtesting as bt
    from validation.metrics import scan
    from validation.reporting import plots
    from validation.reporting.display import md

    data = context.spec.data
    level = data.var_level
    assert level is not None, "a 'var' spec has data.var_level (required when the spec is loaded)"
    pnl, var = context.current[data.pnl].to_numpy(), context.current[data.var].to_numpy()
    days = context.current[data.time].astype(str).to_numpy() if data.time else np.arange(1, len(pnl) + 1)
    hits = bt.var_exceptions(pnl, var)
    result = bt.var_backtest(pnl, var, level, scan_window=scan_window)
    table = pd.Series(result, name="value").to_frame()
    output.tables["var"] = table
    section = output.section("VaR backtest").text(
        f"{result['days']} days at {level:.1%}: **{result['exceptions']} exceptions** "
        f"({result['expected_exceptions']:.1f} expected); Basel zone **{result['basel_zone']}**"
        + (f"; last {bt.BASEL_DAYS} days: {result['last_250_exceptions']} exceptions, "
           f"zone **{result['last_250_zone']}**" if result["last_250_zone"] else "") + ".")
    if duplicates:
        section.text(duplicates)
    shape = result["duration_shape"]
    section.text(
        "Christoffersen's test sees exceptions on consecutive days only; the duration test (Christoffersen and "
        "Pelletier 2004) sees exceptions bunched in a stress window: it fits a Weibull to the days between "
        "exceptions, whose shape is 1 when an exception is as likely whatever the time since the last one, and "
        "below 1 when exceptions cluster. "
        + (f"Here the shape is {shape:.3f} over {result['durations']} durations, "
           f"p = {result['duration_independence_pvalue']:.4f}." if math.isfinite(shape)
           else f"With {result['exceptions']} exception{'s' * (result['exceptions'] != 1)} it cannot be fitted "
                "(it needs at least three).")
        + f" With few exceptions (here {result['exceptions']}) it has little power; the scan test (Naus 1965) counts "
          "them where they bunch: "
        + (f"at most {result['scan_most']} exceptions fell in {result['scan_window']} consecutive days, "
           f"{result['scan_expected']:.2f} expected there, and that many or more in some window happens by chance "
           f"with p = {result['exception_scan_pvalue']:.4f} (the same number of exceptions on random days, "
           f"Monte Carlo)." if math.isfinite(result["exception_scan_pvalue"])
           else "it needs at least two exceptions and a window shorter than the sample."))
    stress = scan.densest_window(hits, scan_window)
    window, label = None, ""
    if stress is not None:
        window = (days[stress.start], days[stress.end])
        label = (f"densest {stress.window}-day window: {stress.exceptions} exceptions "
                 f"({result['scan_expected']:.2f} expected), shaded from its first to its last")
    section.table(table).figure(plots.pnl_against_var(days, pnl, var, hits, window=window, window_label=label))
    exceptions = exception_table(days, pnl, var, hits, stress)
    output.tables["exceptions"] = exceptions
    output.section("Exceptions").text(
        "Every day the loss exceeded the VaR (desk P&L, not customer data), with the loss beyond the VaR"
        + (f"; `in_densest_window` marks the exceptions of the stress window the scan test found, the most "
           f"exceptions within {stress.window} consecutive observation days: {stress.exceptions} of them, from "
           f"{md(str(window[0]))} to {md(str(window[1]))}, the stretch the chart shades (a stress period may be "
           f"longer)." if stress is not None and window is not None
           else "; with fewer than two exceptions in any window there is no stress window.")).table(exceptions)
    counts = bt.rolling_exceptions(hits)
    if len(counts) > 1:
        yellow, red = bt.basel_zone_starts(bt.BASEL_DAYS, level)
        section.figure(plots.rolling_exception_count(counts, days[bt.BASEL_DAYS - 1:], yellow=yellow, red=red))
    output.findings += bt.var_findings(result, level=level)
    return f"{result['exceptions']} exceptions in {result['days']} days; Basel zone {result['basel_zone']}"


def exception_table(days: "np.ndarray", pnl: "np.ndarray", var: "np.ndarray", hits: "np.ndarray",
                    stress: "DensestWindow | None") -> "pd.DataFrame":
    """The exception days only: ``day``, ``pnl``, ``var``, ``loss_beyond_var`` (``-pnl - var``, the
    loss in excess of the VaR) and ``in_densest_window`` (within the densest window of the scan
    test, :func:`validation.metrics.scan.densest_window`).

    >>> import numpy as np
    >>> exception_table(np.array(["d1", "d2", "d3"]), np.array([-3.0, 1.0, -5.0]), np.array([2.0, 2.0, 4.0]),
    ...                 np.array([1, 0, 1]), None).to_dict("list")["loss_beyond_var"]
    [1.0, 1.0]
    """
    import numpy as np
    import pandas as pd

    marked = np.flatnonzero(hits)
    inside = [stress is not None and stress.start <= i <= stress.end for i in marked]
    return pd.DataFrame({"day": np.asarray(days)[marked], "pnl": np.asarray(pnl, dtype=float)[marked],
                         "var": np.asarray(var, dtype=float)[marked],
                         "loss_beyond_var": -np.asarray(pnl, dtype=float)[marked] - np.asarray(var, dtype=float)[marked],
                         "in_densest_window": inside}).set_index("day")
