"""The fairness check: do the model's decisions disadvantage a protected group, and is a gap real
or noise?

Per protected attribute (and intersection, when the spec asks) and group: approval and default
rates, rates among good payers and defaulters, the disparate impact ratio against the most-approved
group with a z-test, Fisher's exact test and the Newcombe interval of the difference, calibration
and AUC per group; per attribute the parity, equal opportunity and equalized odds gaps in the
direction of harm, each with the Newcombe interval of its own gap. Findings of one disadvantaged
group share a cause, and an intersection's groups share the cause of a component group flagged on
its own attribute, so the pack shows one age gap as one issue. The statistics are
:mod:`validation.metrics.fairness`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Callable

from pydantic import AfterValidator, Field

from validation.checks.base import (EU_AI_ACT, US_FAIR_LENDING, Basis, BuiltinCheck, CheckContext, CheckOutput,
                                    CheckParams, Headline)

if TYPE_CHECKING:
    from typing import Mapping

    import numpy as np
    import pandas as pd

    from validation.inputs.samples import Samples
    from validation.inputs.spec import Decision, ModelVersionSpec
    from validation.judging.findings import Finding
    from validation.judging.policy import Policy

MAX_GROUPS_UNBANDED = 20
"""A numeric protected attribute with more distinct values than this needs band edges."""
MAX_PROTECTED_VALUES = 250
"""A protected attribute (not banded) with more distinct values than this is refused: it looks like
an identifier or free text, its groups nearly all too small to judge. 250 (project default) is
above the number of countries (ISO 3166: 249), the most detailed protected attribute we know of."""

# Bounds of the parameters (project defaults): a spec must not be able to hang the tool, and a
# value beyond these is a typo rather than a choice.
MAX_MIN_GROUP_SIZE = 100_000
"""Largest ``min_group_size``: asking more applicants than this of every group leaves every
protected group of a retail portfolio unjudged."""
MAX_BAND_EDGES = 50
"""Largest number of band edges per attribute: more bands than this are groups too small to judge."""
MAX_INTERSECTIONS = 10
"""Largest number of intersections: each one is an attribute of its own, with its table and tests."""
MAX_INTERSECTION_ATTRIBUTES = 3
"""Largest number of attributes crossed in one intersection: beyond three, nearly every group is
too small to judge (or pooled so no decision is disclosed)."""


def _increasing(edges: list[float]) -> list[float]:
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"expected increasing numbers, e.g. [25, 35, 50]; got {edges!r}")
    return edges


def _two_or_more(attributes: list[str]) -> list[str]:
    if not 2 <= len(set(attributes)) == len(attributes) <= MAX_INTERSECTION_ATTRIBUTES:
        raise ValueError(f"expected two or more distinct protected attributes (at most "
                         f"{MAX_INTERSECTION_ATTRIBUTES}), got {attributes!r}")
    return attributes


BandEdges = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]],
                      Field(max_length=MAX_BAND_EDGES), AfterValidator(_increasing)]
Intersection = Annotated[list[str], AfterValidator(_two_or_more)]


class FairnessParams(CheckParams):
    min_group_size: int = Field(30, ge=1, le=MAX_MIN_GROUP_SIZE,
                                description="smaller groups are reported, not judged")
    bands: dict[str, BandEdges] = Field(
        default_factory=dict, description="band edges of numeric protected attributes, e.g. {'age': [25, 35, 50]}")
    intersections: list[Intersection] = Field(
        default_factory=list, max_length=MAX_INTERSECTIONS,
        description="attributes to cross, e.g. [['sex', 'age_band']]")


class FairnessCheck(BuiltinCheck):
    name = "fairness"
    reads_batches = True  # data.batch_rows: validation.metrics.outcome_cells
    relative_cost = 0.5  # measured at 1M rows (bench/run.py, full pack): see Check.relative_cost
    description = ("approval rates, disparate impact (four-fifths rule) with significance, parity gaps in the "
                   "direction of harm with Newcombe intervals, calibration per protected group")
    template = "fairness.ipynb"
    params = FairnessParams
    headlines = (Headline("worst_disparate_impact_ratio", "worst disparate impact ratio", "disparate_impact_ratio",
                          None, "min"),)
    basis = (Basis(US_FAIR_LENDING, "no discrimination on a prohibited basis: decisions, error rates and calibration "
                                    "compared across protected groups", ("classification",)),
             Basis(EU_AI_ACT, "Art. 10(2)(f)-(g) (data governance): examination of possible biases that could lead to "
                              "discrimination, and measures to detect them", ("classification",)))
    metric_basis = {"disparate_impact_ratio": Basis(US_FAIR_LENDING, "four-fifths rule (29 CFR 1607.4(D)) as the screen "
                                                                    "for adverse impact")}
    card_title = "decisions by group"

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        if spec.model.type != "classification":
            return "fairness of credit decisions applies to classification models"
        if not spec.data.protected:
            return "no protected attributes in the spec (data.protected)"
        return None

    def check_spec(self, spec: "ModelVersionSpec", params: Any) -> None:
        from validation.errors import SpecError

        if self.not_applicable(spec):
            return
        _decision(spec)
        protected = list(spec.data.protected)
        for attribute in params.bands:
            if attribute not in protected:
                raise SpecError(spec.path, f"checks.fairness.bands.{attribute}", "not a protected attribute; "
                                f"data.protected lists: {', '.join(protected)}")
        for index, combo in enumerate(params.intersections):
            if any(a not in protected for a in combo):
                raise SpecError(spec.path, f"checks.fairness.intersections[{index}]", "expected two or more protected "
                                f"attributes (data.protected: {', '.join(protected)}); got {combo!r}")

    def check_inputs(self, spec: "ModelVersionSpec", samples: "Samples", params: Any) -> None:
        """Refuse protected attributes the check cannot group by: ``bands`` on a non-numeric
        attribute, a numeric attribute of more than :data:`MAX_GROUPS_UNBANDED` values without
        bands (:class:`~validation.errors.SpecError`), and a column with no value at all or of more
        than :data:`MAX_PROTECTED_VALUES` distinct values, an identifier rather than a group
        (:class:`~validation.errors.DataError`)."""
        from validation.errors import SpecError
        from validation.metrics.kinds import is_numeric

        current = samples.current
        for attribute in params.bands:
            if not is_numeric(current[attribute]):
                raise SpecError(spec.path, f"checks.fairness.bands.{attribute}", "the attribute is not numeric; bands "
                                "apply to numeric attributes such as age")
        if spec.data.batch_rows is not None:  # no rows here: run() checks the groups it counts
            return
        for attribute in spec.data.protected:  # every row's values, also when the runner read them in batches
            totals = samples.column_totals(attribute)
            _check_groups(spec, params, attribute, totals.distinct, totals.rows, numeric=totals.numeric,
                          at_least=totals.at_least)

    def card_analyses(self, findings: list["Finding"]) -> list[dict[str, Any]]:
        """Per group: approval rate, disparate impact ratio and default rate, each attribute's
        groups in their natural order (age bands ``<25`` first)."""
        from validation.metrics.fairness import group_sort_key

        by_key = {(f.metric, f.subject): f.value for f in findings}
        rates = [f for f in findings if f.metric == "approval_rate"]
        attributes = list(dict.fromkeys(f.subject.split(":", 1)[0] for f in rates))  # in the spec's order
        rates.sort(key=lambda f: (attributes.index(f.subject.split(":", 1)[0]),
                                  group_sort_key(f.subject.split(":", 1)[-1])))
        return [{"group": f.subject, "approval_rate": f.value,
                 "disparate_impact_ratio": by_key.get(("disparate_impact_ratio", f.subject)),
                 "default_rate": by_key.get(("default_rate", f.subject))}
                for f in rates]

    def run(self, context: CheckContext, params: FairnessParams) -> CheckOutput:
        from validation.metrics import fairness

        decision = _decision(context.spec)
        single = list(context.spec.data.protected)
        crossed = [fairness.INTERSECTION.join(c) for c in params.intersections]
        attributes = [*single, *crossed]
        decisions = (_Decisions.in_batches(context, params, attributes) if context.spec.data.batch_rows is not None
                     else _Decisions.in_memory(context, params))
        findings: list[dict[str, Any]] = []
        tables: dict[str, pd.DataFrame] = {}
        for attribute in single:
            tables[attribute], items = _attribute(context, decisions.table(attribute), attribute, params)
            findings += items
        # an intersection's group shares the cause of a component group flagged on its own
        # attribute, judged as the pack will judge it (p-values adjusted within their families)
        flagged = fairness.flagged_causes(context.policy.judge_all(findings))
        for attribute in crossed:
            tables[attribute], items = _attribute(context, decisions.table(attribute), attribute, params,
                                                  flagged=flagged)
            findings += items
        for item in findings:  # one issue per attribute: its harmed groups are the members
            if item.get("cause"):
                item["cause"] = fairness.attribute_cause(str(item["cause"]))
        problems = {a: p for a, t in tables.items()
                    if (p := fairness.comparison_problem(t, min_group_size=params.min_group_size))}
        rule_problem = decisions.rule_problem
        headline = rule_problem + "." if rule_problem else fairness.headline(
            tables, context.policy, min_group_size=params.min_group_size)
        tables = {attribute: fairness.in_group_order(table) for attribute, table in tables.items()}
        output = CheckOutput(self.name, headline=headline, findings=findings,
                             tables={f"groups:{attribute}": table for attribute, table in tables.items()})
        if rule_problem or len(problems) == len(attributes):
            output.not_applicable = rule_problem or "; ".join(f"{a}: {p}" for a, p in problems.items())
        output.section("Decision").text(
            f"Favourable when the score is **{decision.favourable}** {decision.threshold} · "
            f"overall approval rate {decisions.approval_rate:.1%} on the current sample")
        if decisions.note:
            output.section("Method").text(decisions.note)
        _not_compared(output, problems, rule_problem)
        _groups(output, tables, context.policy)
        output.summary = {"current_rows": decisions.rows, "approval_rate": decisions.approval_rate,
                          "min_group_size": params.min_group_size, "attributes": attributes,
                          "missing_values": decisions.missing_values, "not_compared": problems,
                          "batch_rows": context.spec.data.batch_rows, "auc_within": decisions.auc_within,
                          "intervals": f"{fairness.CONFIDENCE:.0%} Newcombe hybrid score (Newcombe 1998, method 10)"}
        return output


@dataclass(frozen=True)
class _Decisions:
    """The decisions on the current sample, and each attribute's group table: from the rows in
    memory, or from outcome cells counted batch by batch (``data.batch_rows``)."""

    rows: int
    approval_rate: float
    rule_problem: str | None
    missing_values: dict[str, int]
    table: Callable[[str], "pd.DataFrame"]
    note: str = ""
    auc_within: float | None = None
    """With fine bins of the score: how far each group's AUC can be from its rows' (``None``: exact)."""

    @classmethod
    def in_memory(cls, context: CheckContext, params: FairnessParams) -> "_Decisions":
        from validation.metrics import fairness

        s, decision, current = context.samples, _decision(context.spec), context.current
        approved = fairness.favourable_decision(current[str(s.score)], decision.threshold, decision.favourable)

        def table(attribute: str) -> "pd.DataFrame":
            groups = fairness.group_labels(current, attribute, bands=params.bands)
            return fairness.group_table(current[str(s.target)], approved, groups, score=current[str(s.score)],
                                        min_group_size=params.min_group_size)

        return cls(len(current), float(approved.mean()),
                   fairness.decision_problem(approved, decision.threshold, decision.favourable),
                   {a: int(current[a].isna().sum()) for a in context.spec.data.protected}, table)

    @classmethod
    def in_batches(cls, context: CheckContext, params: FairnessParams, attributes: list[str]) -> "_Decisions":
        """Two passes over the current sample: the score's scan (its points: values, or fine bins
        cut at the threshold too), then the cells of every attribute and intersection. Groups of
        fewer than 5 applicants are pooled once counted over the whole sample, as in memory."""
        import numpy as np

        from validation.metrics import fairness
        from validation.metrics import outcome_cells as oc
        from validation.metrics.kinds import is_numeric
        from validation.metrics.streamed_outcomes import outcome_cells, score_scan

        s, spec, decision = context.samples, context.spec, _decision(context.spec)
        score, target = str(s.score), str(s.target)
        sample = context.sample("data.current")
        points = oc.ScorePoints.of(score_scan(sample, score), [oc.decision_cut(decision.threshold)])
        keys = {a: functools.partial(fairness.raw_group_labels, attribute=a, bands=params.bands) for a in attributes}
        numeric = {a: is_numeric(s.current[a]) for a in spec.data.protected}
        # an attribute past its limit is refused as soon as a batch shows it (its missing group aside)
        limits = {a: 1 + (MAX_GROUPS_UNBANDED if numeric[a] and a not in params.bands else MAX_PROTECTED_VALUES)
                  for a in spec.data.protected}
        try:
            cells = outcome_cells(sample, score=score, target=target, points=points,
                                  columns=list(spec.data.protected), keys={"": None, **keys}, max_keys=limits)
        except oc.TooManyKeys as exc:
            _check_groups(spec, params, exc.slicer, exc.count - 1, None, numeric=numeric.get(exc.slicer, False))
            raise
        rows, _ = oc.counts(cells.dense())
        for attribute in spec.data.protected:
            counted = cells.keys(attribute)
            named = [k for k in counted if k != fairness.MISSING_GROUP]
            _check_groups(spec, params, attribute, len(named), rows, numeric=numeric[attribute])
        missing = {a: cells.keys(a).get(fairness.MISSING_GROUP, 0) for a in spec.data.protected}
        for attribute in attributes:
            tiny = fairness.small_groups(cells.keys(attribute))
            if tiny:
                cells.relabel(attribute, {g: fairness.SMALL_GROUPS for g in tiny})
        favourable = fairness.favourable_decision(points.members(), decision.threshold, decision.favourable)
        whole = cells.dense()
        approved = float(np.dot(favourable, whole["events"] + whole["nonevents"]))
        tables, bounds = {}, []
        for attribute in attributes:
            tables[attribute], bound = fairness.table_from_outcome_cells(
                cells, attribute, favourable, min_group_size=params.min_group_size)
            bounds += [bound] if bound is not None else []
        within = max(bounds) if bounds else None
        note = (f"The current sample read in batches of {spec.data.batch_rows:,} rows (`data.batch_rows`): every "
                "count, rate, ratio, test and mean PD is exactly that of the whole sample")
        note += (", and so is each group's AUC (the score has few enough distinct values to count each)."
                 if within is None else
                 f"; each group's AUC comes from {len(points):,} fine bins of the score (a tie within a bin counts one "
                 f"half), within {oc.bound_text(within)} of its rows' AUC.")
        rule_problem = (fairness.NOBODY_APPROVED if approved == 0 else fairness.EVERYBODY_APPROVED if approved == rows
                        else None)
        if rule_problem:
            rule_problem = rule_problem.format(favourable=decision.favourable, threshold=decision.threshold)
        return cls(rows, approved / rows, rule_problem, missing, tables.__getitem__, note, within)


def _check_groups(spec: "ModelVersionSpec", params: FairnessParams, attribute: str, distinct: int, rows: int | None,
                  *, numeric: bool, at_least: bool = False) -> None:
    """Refuse a protected attribute the check cannot group by: no value at all, numeric with more
    than :data:`MAX_GROUPS_UNBANDED` values and no bands (:class:`~validation.errors.SpecError`),
    or more than :data:`MAX_PROTECTED_VALUES` distinct values (:func:`_not_an_identifier`).
    ``rows``: the sample's, or ``None`` when a sample read in batches was refused before its end;
    ``at_least``: ``distinct`` is a lower bound (values counted up to a limit)."""
    from validation.errors import DataError, SpecError

    if distinct == 0 and rows is not None:
        raise DataError(str(spec.data.current), attribute, f"protected attribute with no value in its {rows} "
                        "rows: nothing to group by; fill the column or remove it from data.protected", "data.current")
    if attribute in params.bands:
        return
    if numeric and distinct > MAX_GROUPS_UNBANDED:
        raise SpecError(spec.path, "checks.fairness.bands", f"protected attribute '{attribute}' is numeric "
                        f"with {'' if rows is not None and not at_least else 'at least '}{distinct} distinct values; "
                        f"give band edges, e.g. checks: {{fairness: {{bands: {{{attribute}: [25, 35, 50]}}}}}}")
    _not_an_identifier(spec, attribute, distinct, rows, at_least=at_least)


def _not_an_identifier(spec: "ModelVersionSpec", attribute: str, distinct: int, rows: int | None, *,
                       at_least: bool = False) -> None:
    """A :class:`~validation.errors.DataError` when a protected attribute has more distinct values
    than :data:`MAX_PROTECTED_VALUES`: an identifier or free text, not groups to compare."""
    from validation.errors import DataError

    if distinct > MAX_PROTECTED_VALUES:
        counted = (f"at least {distinct} distinct values (counted in batches)" if rows is None
                   else f"{'at least ' * at_least}{distinct} distinct values in {rows} rows")
        raise DataError(str(spec.data.current), attribute, f"protected attribute with {counted} (more than "
                        f"{MAX_PROTECTED_VALUES}): it looks like an identifier or free text, "
                        "not groups to compare; use a coarser attribute (a region, not an address), or bands of a "
                        "numeric one (checks.fairness.bands)", "data.current")


def _decision(spec: "ModelVersionSpec") -> "Decision":
    """The spec's decision rule; a :class:`~validation.errors.SpecError` when it has none."""
    from validation.errors import SpecError

    if spec.decision is None:
        raise SpecError(spec.path, "decision", "required by the fairness check: "
                        "{threshold: <score cut-off>, favourable: below|above}")
    return spec.decision


def _attribute(context: CheckContext, table: "pd.DataFrame", attribute: str, params: FairnessParams, *,
               flagged: "Mapping[str, str] | None" = None) -> tuple["pd.DataFrame", list[dict[str, Any]]]:
    """The group table and the findings of one protected attribute (or intersection); ``flagged``
    (the causes flagged on the single attributes) lets an intersection's groups share them."""
    from validation.metrics import fairness

    findings = fairness.fairness_findings(attribute, table, min_group_size=params.min_group_size, flagged=flagged,
                                          multiplicity=context.policy.multiplicity)
    return table, findings


def _not_compared(output: CheckOutput, problems: dict[str, str], rule_problem: str | None) -> None:
    """A section naming the attributes whose groups could not be compared, and why (their
    findings are reported, not judged)."""
    from validation.reporting.display import md

    if not problems and not rule_problem:
        return
    section = output.section("Not compared")
    if rule_problem:
        section.text(md(rule_problem[0].upper() + rule_problem[1:]) + ".")
    lines = [f"- **{md(attribute)}**: {md(problem)}" for attribute, problem in problems.items()]
    section.text("These attributes compared nothing; their findings are reported, not judged:\n\n"
                 + "\n".join(lines))


def _groups(output: CheckOutput, tables: dict[str, "pd.DataFrame"], policy: "Policy") -> None:
    """Per attribute: its group table and its approval rates against the policy's bound."""
    from validation.reporting import plots
    from validation.reporting.display import md

    section = output.section("Groups per protected attribute")
    bound = policy.bounds("disparate_impact_ratio").amber
    for attribute, table in tables.items():
        section.text(f"### {md(attribute)}").table(table.round(4))
        section.figure(plots.approval_rates(table, attribute, ratio_bound=bound))
