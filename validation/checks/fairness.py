"""The fairness check: do the model's decisions disadvantage a protected group, and is a gap real
or noise?

Per protected attribute (and intersection, when the spec asks) and group: approval and default
rates, rates among good payers and defaulters, the disparate impact ratio against the most-approved
group with a z-test and Fisher's exact test, calibration and AUC per group; per attribute the
parity differences with bootstrap intervals. The statistics are :mod:`validation.metrics.fairness`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field

from validation.checks.base import BuiltinCheck, CheckContext, CheckOutput, CheckParams, Headline

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from validation.inputs.samples import Samples
    from validation.inputs.spec import Decision, ModelVersionSpec
    from validation.judging.findings import Finding
    from validation.judging.policy import Policy

MAX_GROUPS_UNBANDED = 20
"""A numeric protected attribute with more distinct values than this needs band edges."""


def _increasing(edges: list[float]) -> list[float]:
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"expected increasing numbers, e.g. [25, 35, 50]; got {edges!r}")
    return edges


def _two_or_more(attributes: list[str]) -> list[str]:
    if len(attributes) < 2:
        raise ValueError(f"expected two or more protected attributes, got {attributes!r}")
    return attributes


BandEdges = Annotated[list[float], AfterValidator(_increasing)]
Intersection = Annotated[list[str], AfterValidator(_two_or_more)]


class FairnessParams(CheckParams):
    min_group_size: int = Field(30, ge=1, description="smaller groups are reported, not judged")
    bands: dict[str, BandEdges] = Field(
        default_factory=dict, description="band edges of numeric protected attributes, e.g. {'age': [25, 35, 50]}")
    intersections: list[Intersection] = Field(
        default_factory=list, description="attributes to cross, e.g. [['sex', 'age_band']]")
    bootstrap_draws: int = Field(1000, ge=0, description="draws for the intervals of the differences")
    seed: int = Field(0, description="seed of the bootstrap")


class FairnessCheck(BuiltinCheck):
    name = "fairness"
    description = ("approval rates, disparate impact (four-fifths rule) with significance, parity differences "
                   "with bootstrap intervals, calibration per protected group")
    template = "fairness.ipynb"
    params = FairnessParams
    headlines = (Headline("worst_disparate_impact_ratio", "worst disparate impact ratio", "disparate_impact_ratio",
                          None, "min"),)
    basis = ("SR 11-7: conceptual soundness and ongoing monitoring; fair lending (ECOA / Regulation B, "
             "four-fifths rule of 29 CFR 1607.4(D))")
    metric_basis = {"disparate_impact_ratio": "four-fifths rule (29 CFR 1607.4(D)); ECOA / Regulation B"}
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
        from validation.errors import SpecError
        from validation.metrics.drift import is_numeric

        current = samples.current
        for attribute in params.bands:
            if not is_numeric(current[attribute]):
                raise SpecError(spec.path, f"checks.fairness.bands.{attribute}", "the attribute is not numeric; bands "
                                "apply to numeric attributes such as age")
        for attribute in spec.data.protected:
            column = current[attribute]
            if attribute not in params.bands and is_numeric(column):
                distinct = int(column.nunique())
                if distinct > MAX_GROUPS_UNBANDED:
                    raise SpecError(spec.path, "checks.fairness.bands", f"protected attribute '{attribute}' is numeric "
                                    f"with {distinct} distinct values; give band edges, e.g. "
                                    f"checks: {{fairness: {{bands: {{{attribute}: [25, 35, 50]}}}}}}")

    def card_analyses(self, findings: list["Finding"]) -> list[dict[str, Any]]:
        """Per group: approval rate, disparate impact ratio and default rate."""
        by_key = {(f.metric, f.subject): f.value for f in findings}
        return [{"group": f.subject, "approval_rate": f.value,
                 "disparate_impact_ratio": by_key.get(("disparate_impact_ratio", f.subject)),
                 "default_rate": by_key.get(("default_rate", f.subject))}
                for f in findings if f.metric == "approval_rate"]

    def run(self, context: CheckContext, params: FairnessParams) -> CheckOutput:
        from validation.metrics import fairness

        s, decision = context.samples, _decision(context.spec)
        current = context.current
        approved = fairness.favourable_decision(current[str(s.score)], decision.threshold, decision.favourable)
        attributes = [*context.spec.data.protected, *[fairness.INTERSECTION.join(c) for c in params.intersections]]
        findings: list[dict[str, Any]] = []
        tables: dict[str, pd.DataFrame] = {}
        for attribute in attributes:
            tables[attribute], items = _attribute(context, approved, attribute, params)
            findings += items
        output = CheckOutput(self.name, headline=fairness.headline(tables, context.policy), findings=findings,
                             tables={f"groups:{attribute}": table for attribute, table in tables.items()})
        output.section("Decision").text(
            f"Favourable when the score is **{decision.favourable}** {decision.threshold} · "
            f"overall approval rate {approved.mean():.1%} on the current sample")
        _groups(output, tables, context.policy)
        output.summary = {"current_rows": len(current), "approval_rate": float(approved.mean()),
                          "min_group_size": params.min_group_size, "attributes": attributes,
                          "bootstrap_draws": params.bootstrap_draws, "seed": params.seed}
        return output


def _decision(spec: "ModelVersionSpec") -> "Decision":
    """The spec's decision rule; a :class:`~validation.errors.SpecError` when it has none."""
    from validation.errors import SpecError

    if spec.decision is None:
        raise SpecError(spec.path, "decision", "required by the fairness check: "
                        "{threshold: <score cut-off>, favourable: below|above}")
    return spec.decision


def _attribute(context: CheckContext, approved: "np.ndarray", attribute: str,
               params: FairnessParams) -> tuple["pd.DataFrame", list[dict[str, Any]]]:
    """The group table and the findings of one protected attribute (or intersection), with the
    bootstrap intervals of its differences over the groups large enough to judge."""
    from validation.metrics import fairness

    s, current = context.samples, context.current
    y = current[str(s.target)]
    groups = fairness.group_labels(current, attribute, bands=params.bands)
    table = fairness.group_table(y, approved, groups, score=current[str(s.score)],
                                 min_group_size=params.min_group_size)
    judged = [str(g) for g in table.index[table["judged"]]]
    intervals = fairness.bootstrap_differences(y, approved, groups, judged=judged, draws=params.bootstrap_draws,
                                               seed=params.seed)
    findings = fairness.fairness_findings(attribute, table, min_group_size=params.min_group_size,
                                          intervals=intervals)
    return table, findings


def _groups(output: CheckOutput, tables: dict[str, "pd.DataFrame"], policy: "Policy") -> None:
    """Per attribute: its group table and its approval rates against the policy's bound."""
    from validation.reporting import plots
    from validation.reporting.display import md

    section = output.section("Groups per protected attribute")
    bound = policy.bounds("disparate_impact_ratio").amber
    for attribute, table in tables.items():
        section.text(f"### {md(attribute)}").table(table.round(4))
        section.figure(plots.approval_rates(table, attribute, ratio_bound=bound))
