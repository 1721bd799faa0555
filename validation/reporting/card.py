"""The model card (Mitchell et al. 2019, "Model Cards for Model Reporting") from the spec and the
results: model details, intended use, factors, metrics, evaluation and training data, quantitative
analyses, ethical considerations, caveats. Headline metrics and analyses come from the checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from validation.execution.planning import PackPlan
    from validation.judging.results import CheckResult


def headline_values(results: list["CheckResult"]) -> dict[str, Any]:
    """Each check's headline metrics, by label, where the results hold them."""
    from validation.checks import REGISTRY

    values: dict[str, Any] = {}
    for result in results:
        if result.name not in REGISTRY:
            continue
        for headline in REGISTRY[result.name].headlines:
            value = headline.value(result.findings)
            if value is not None:
                values[headline.label] = value
    return values


def model_card(plan: "PackPlan", results: list["CheckResult"]) -> dict[str, Any]:
    """The card of one pack (``card.json``)."""
    from validation.checks import REGISTRY
    from validation.inputs.spec import source_name

    spec, model = plan.spec, plan.spec.model
    analyses = []
    for result in results:
        if result.name not in REGISTRY:
            continue
        check = REGISTRY[result.name]
        rows = check.card_analyses(result.findings)
        if rows:
            analyses.append({"check": result.name, "title": check.card_title or result.name, "rows": rows})
    decision = spec.decision
    return {
        "model_details": {"name": model.name, "version": model.version, "type": model.type,
                          "owner": model.owner, "tier": model.tier, "materiality": model.materiality,
                          "currency": model.currency, "purpose": model.purpose,
                          "artifact_sha256": model.artifact_sha256},
        "intended_use": model.intended_use or model.purpose, "out_of_scope_use": model.out_of_scope_use,
        "factors": {"protected": list(spec.data.protected), "segments": list(spec.data.segments),
                    "time": spec.data.time},
        "metrics": {"decision": (f"favourable when the score is {decision.favourable} {decision.threshold}"
                                 if decision else None), "headline": headline_values(results)},
        "evaluation_data": f"current sample: {source_name(spec.data.current)}, {plan.rows.get('current', 0):,} rows",
        "training_data": model.training_data or (
            f"reference (development) sample: {source_name(spec.data.reference)}, {plan.rows.get('reference', 0):,} rows"
            if spec.data.reference is not None else "no reference (development) sample: a VaR backtest needs none"),
        "quantitative_analyses": analyses,
        "ethical_considerations": model.ethical_considerations, "caveats": model.caveats or model.limitations,
        "limitations": model.limitations, "features": plan.features,
        "governance": {"ratings": list(spec.governance.ratings), "required_checks": spec.required_checks(),
                       "waivers": [{"check": name, "reason": reason} for name, reason in spec.waivers.items()]},
    }
