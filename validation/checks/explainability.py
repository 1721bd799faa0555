"""The explainability check: what drives the model's scores, does it behave as designed, and did it
change since the previous version?

SHAP values in the model's margin units on a seeded sample, the additivity check, global
importance, aggregated reasons for unfavourable decisions, declared monotonicity checked with ICE
curves, and the stability of importances against the previous version. The statistics are
:mod:`validation.metrics.explain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping

from pydantic import Field

from validation.checks.base import (ECB_GUIDE, EU_AI_ACT, US_FAIR_LENDING, US_MRM, Basis, BuiltinCheck, CheckContext,
                                    CheckOutput, CheckParams, Section)

if TYPE_CHECKING:
    import pandas as pd

    from validation.governance.registry import Registry
    from validation.inputs.samples import Samples
    from validation.inputs.spec import ModelVersionSpec, Spec
    from validation.metrics.explain import Explanation, Monotonicity

DEPENDENCE_FEATURES = 3
"""Top features whose dependence is charted (and named in the headline)."""
ICE_ROWS = 200
"""Rows of the explained sample whose ICE curves check a declared monotonicity."""
PERMUTATION_ROWS = 200
"""Applicants explained at most when the model is a black box explained by permutation (each costs
``PERMUTATIONS (2 M + 1)`` model evaluations on the background: :mod:`validation.metrics.explain`):
the first rows of the seeded sample."""


class ExplainabilityParams(CheckParams):
    sample_size: int = Field(2000, ge=10, le=100_000, description="applicants explained (a seeded sample of the current data)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the sample and of the explainer's background")
    monotone: dict[str, Literal["increasing", "decreasing"]] = Field(
        default_factory=dict, max_length=1000, description="declared monotonicity of the PD in numeric features, e.g. {'duration': 'increasing'}")
    reasons: int = Field(4, ge=1, le=20, description="reasons per unfavourable decision (Reg B: more than four is unlikely to help)")


class ExplainabilityCheck(BuiltinCheck):
    name = "explainability"
    relative_cost = 0.8  # its explained sample is bounded, so about this at any size (bench/run.py): see Check.relative_cost
    description = ("SHAP importances in log-odds, additivity, reason codes, monotonicity (ICE), stability against "
                   "the previous version")
    template = "explainability.ipynb"
    params = ExplainabilityParams
    runner_parameters = ("previous_importances",)
    basis = (Basis(US_MRM, "conceptual soundness: the drivers of the score, their directions and their stability "
                           "against the previous version", ("classification",)),
             Basis(ECB_GUIDE, "machine learning techniques: the model's outputs are explainable (importances, reasons "
                              "per decision, declared monotonicity)", ("classification",)),
             Basis(EU_AI_ACT, "Art. 13(1) (transparency): the output can be interpreted by those who use it", ("classification",)),
             Basis(US_FAIR_LENDING, "Regulation B adverse-action notices: the principal reasons for a decline "
                                    "(12 CFR 1002.9)", ("classification",)))

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        if spec.model.type != "classification":
            return "explainability applies to classification models"
        if not spec.model.artifact:
            return "no model artifact (model.artifact): scores come from elsewhere and cannot be explained"
        return None

    def check_inputs(self, spec: "ModelVersionSpec", samples: "Samples", params: Any) -> None:
        from validation.errors import SpecError
        from validation.metrics.kinds import is_numeric

        key = "checks.explainability.monotone"
        for feature in params.monotone:
            if feature not in samples.features:
                raise SpecError(spec.path, f"{key}.{feature}", f"not a feature of the model; features: "
                                f"{', '.join(samples.features)}")
            if not is_numeric(samples.current[feature]):
                raise SpecError(spec.path, f"{key}.{feature}", "monotonicity applies to numeric features")

    def registry_inputs(self, spec: "ModelVersionSpec", registry: "Registry") -> dict[str, Any]:
        """When the spec names no previous version (one spec per version), the importances of the
        registry's latest run of a version first seen before this one. The first version of a
        ``versions:`` list has none."""
        if spec.previous_version is not None or spec.first_listed:
            return {}
        earlier = registry.earlier_version_findings(spec.name, spec.version, self.name, "shap_importance")
        if earlier is None:
            return {}
        values = {subject.removeprefix("feature:"): value for subject, value in earlier["values"].items()}
        return {"previous_importances": {"version": earlier["version"], "run": earlier["run"], "values": values}}

    def fingerprint(self, spec: "ModelVersionSpec", spec_file: "Spec", parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters with the previous importances by value (not the run they were read from:
        the same values from a newer run leave the result unchanged), and the previous version's
        artifact when the spec names one."""
        values = dict(parameters)
        prior = values.get("previous_importances")
        if isinstance(prior, dict):
            values["previous_importances"] = {k: v for k, v in prior.items() if k != "run"}
        if spec.previous_version is not None:
            values["previous_artifact"] = spec_file.version(spec.previous_version).model.artifact_sha256
        return values

    def run(self, context: CheckContext, params: ExplainabilityParams) -> CheckOutput:
        """Explain a seeded sample of the current data; tables ``importance``, ``reasons`` (with a
        decision rule), ``monotonicity`` (with declared directions) and ``stability`` (with a
        previous version, from the spec or the runner input ``previous_importances``)."""
        from validation.metrics import explain

        s = context.samples
        rows = context.current.sample(n=min(params.sample_size, len(context.current)), random_state=params.seed)
        sampled = len(rows)
        if explain.choose_explainer(s.model, s.features).model_agnostic:
            rows = rows.head(PERMUTATION_ROWS)
        sample = rows[s.features]
        explanation = explain.explain(s.model, sample, seed=params.seed)
        importance = explanation.importance()
        top = ", ".join(importance.index[:DEPENDENCE_FEATURES])
        output = CheckOutput(self.name, headline=f"{len(sample):,} applicants explained ({explanation.explainer}, "
                                                 f"{explanation.units}); top features: {top}",
                             tables={"importance": importance.to_frame()})
        output.section("Sample and explainer").text(_explainer_text(explanation, len(sample), sampled))
        _global_importance(output, explanation, importance)
        _dependence(output, sample, explanation, importance)
        reason_table = _reasons(output, context, rows, explanation, params.reasons)
        monotone = _monotonicity(output, context, sample, params.monotone)
        stability = output.section("Stability against the previous version")
        previous_version, previous_importance = _previous_importance(stability, context, sample, params.seed)
        rank_correlation: float | None = None
        overlap: float | None = None
        if previous_version is not None and previous_importance is not None:
            rank_correlation, overlap = _stability(output, stability, importance, previous_importance,
                                                   context.spec.version, previous_version, explanation.units)
        output.findings = explain.explain_findings(explanation, rank_correlation=rank_correlation, overlap=overlap,
                                                   previous_version=previous_version)
        if reason_table is not None:
            output.findings += explain.reason_findings(reason_table)
        output.findings += explain.monotonicity_findings(monotone)
        output.summary = {"explained_rows": len(sample), "explainer": explanation.explainer,
                          "explainer_note": explanation.note, "additivity_bound": explanation.additivity_bound,
                          "units": explanation.units, "seed": params.seed, "previous_version": previous_version}
        return output


def _explainer_text(explanation: "Explanation", explained: int, sampled: int) -> str:
    """Which explainer, why (a fallback says so), the additivity error against its bound, and the
    rows explained (a black box explains the first :data:`PERMUTATION_ROWS` of the sample)."""
    from validation.metrics.explain import PERMUTATION_BACKGROUND, PERMUTATIONS
    from validation.reporting.display import md

    error = explanation.additivity_error()
    text = (f"Explained **{explained:,}** applicants (a seeded sample of the current data) with "
            f"`{explanation.explainer}`; values in **{explanation.units}**; additivity error {error:.2e} (expected "
            f"below {explanation.additivity_bound:.0e}).\n\nWhy this explainer: {md(explanation.note)}.")
    if explained < sampled:
        features = explanation.values.shape[1]
        text += (f"\n\nA black box costs {PERMUTATIONS} x (2 x {features} + 1) model evaluations on "
                 f"{PERMUTATION_BACKGROUND} background rows per applicant: the first {explained:,} applicants of the "
                 f"sample of {sampled:,} are explained.")
    return text


def _global_importance(output: CheckOutput, explanation: "Explanation", importance: "pd.Series") -> None:
    """Mean |SHAP| per feature: the table, ranked bars and the distribution of the values."""
    from validation.reporting import plots

    section = output.section("Global importance").table(importance.to_frame().round(4))
    section.figure(plots.ranked_bars(importance, "Mean |SHAP| per feature", xlabel=explanation.units))
    section.figure(plots.shap_distribution(explanation.values, list(importance.index), explanation.units))


def _dependence(output: CheckOutput, sample: "pd.DataFrame", explanation: "Explanation",
                importance: "pd.Series") -> None:
    """Mean SHAP value per decile of each of the top features."""
    from validation.reporting import plots

    section = output.section("Dependence of the top features").text(
        "Mean SHAP value per decile of the feature (aggregates, not applicants).")
    for feature in importance.index[:DEPENDENCE_FEATURES]:
        section.figure(plots.binned_dependence(sample[feature], explanation.values[feature], explanation.units))


def _reasons(output: CheckOutput, context: CheckContext, rows: "pd.DataFrame", explanation: "Explanation",
             k: int) -> "pd.DataFrame | None":
    """Aggregated reason codes of the sample's unfavourable decisions (table ``reasons``), or
    ``None`` when the spec has no decision rule."""
    from validation.metrics import explain
    from validation.metrics.fairness import favourable_decision

    section = output.section("Reasons for unfavourable decisions")
    decision = context.spec.decision
    if decision is None:
        section.text("No decision rule in the spec (`decision`): no reason codes.")
        return None
    unfavourable = favourable_decision(rows[context.samples.score], decision.threshold, decision.favourable) == 0
    adverse_sign = 1 if decision.favourable == "below" else -1
    table = explain.reason_codes(explanation, unfavourable, k=k, adverse_sign=adverse_sign)
    output.tables["reasons"] = table
    section.text(f"{table.attrs['unfavourable']:,} unfavourable decisions in the sample; share in which each feature "
                 f"is among the top {k} reasons, and the main one.")
    section.table(table.round(4))
    return table


def _monotonicity(output: CheckOutput, context: CheckContext, sample: "pd.DataFrame",
                  monotone: Mapping[str, str]) -> "list[Monotonicity]":
    """ICE curves of each feature with a declared direction, on the first :data:`ICE_ROWS` rows
    of the sample, judged by the size of the partial dependence's largest reversal against the
    declared direction (table ``monotonicity``)."""
    import pandas as pd

    from validation.metrics import explain
    from validation.reporting import plots
    from validation.reporting.display import md

    section = output.section("Monotonicity")
    if not monotone:
        section.text("No monotonicity declared in the spec (`checks.explainability.monotone`).")
        return []
    bounds = context.policy.bounds("monotonicity_reversal")
    level, bound = ("amber", bounds.amber) if bounds.amber is not None else ("red", bounds.red)
    ice_sample = sample.head(ICE_ROWS)
    counted = ("any reversal" if bound is None else
               f"a reversal of at least {bound:.0%} of the curve's own range (the {level} bound of the reversal)")
    section.text(f"ICE curves of {len(ice_sample):,} applicants of the sample over a grid of each declared feature's "
                 "5th to 95th percentiles, and their mean, the partial dependence. Judged: the largest reversal of "
                 "the partial dependence against the declared direction, as a share of its range "
                 "(`monotonicity_reversal`; 0 when it never goes the other way, 1 when it goes entirely the other "
                 "way). A small dip of a model without monotone constraints is a small share of the feature's whole "
                 f"effect. Reported: the share of curves with {counted}. Shown: the partial dependence and the "
                 "spread of the curves (aggregates).")
    results: list[Monotonicity] = []
    for feature, direction in monotone.items():
        grid = explain.ice_grid(sample[feature])
        curves = explain.ice_curves(context.samples.model, ice_sample, feature, grid)
        result = explain.monotonicity(curves, feature, direction, bound=bound)
        results.append(result)
        section.text(f"**{md(feature)}** (declared {direction}): {result.describe()}.")
        section.figure(plots.ice(grid, curves, feature, direction,
                                 explain.violating_curves(curves, direction, bound=bound), bound=bound))
    output.tables["monotonicity"] = pd.DataFrame(
        [(r.feature, r.direction, r.start, r.end, r.reversal, r.relative, r.share, r.median_spread, r.median_reversal)
         for r in results],
        columns=["feature", "direction", "pd_start", "pd_end", "largest_reversal", "reversal_share_of_range",
                 "violation_share", "median_curve_range", "median_curve_reversal"]).set_index("feature")
    section.table(output.tables["monotonicity"].round(4))
    return results


def _previous_importance(section: Section, context: CheckContext, sample: "pd.DataFrame",
                         seed: int) -> tuple[str | None, "pd.Series | None"]:
    """The previous version and its importances, said in ``section``: the version the spec names
    before this one, explained on the same sample; else the registry's (the runner input
    ``previous_importances``: its version, run and importance per feature); else ``(None, None)``."""
    import pandas as pd

    from validation.metrics import explain
    from validation.reporting.display import md

    previous = context.previous()
    if previous is not None:
        model = _load_model(previous)
        if explain.choose_explainer(model, list(sample.columns)).model_agnostic and len(sample) > PERMUTATION_ROWS:
            sample = sample.head(PERMUTATION_ROWS)
            section.text(f"Version {md(previous.version)} from the spec, a black box explained by permutation on the "
                         f"first {PERMUTATION_ROWS} applicants of the same sample.")
        else:
            section.text(f"Version {md(previous.version)} from the spec, explained on the same sample.")
        return previous.version, explain.explain(model, sample, seed=seed).importance()
    stored = context.runner_inputs.get("previous_importances")
    if stored:
        section.text(f"Version {md(stored['version'])} from the registry (run {md(stored['run'])}): its importances "
                     "were computed on that run's own sample.")
        return stored["version"], pd.Series(stored["values"], dtype=float)
    section.text("No previous version (in the spec or the registry): nothing to compare with.")
    return None, None


def _load_model(spec: "ModelVersionSpec") -> Any:
    """The model of another version of the spec, from its artifact (hash checked)."""
    from validation.errors import SpecError
    from validation.inputs.artifacts import load_artifact

    artifact, sha256 = spec.model.artifact, spec.model.artifact_sha256
    if artifact is None or sha256 is None:
        raise SpecError(spec.path, "model.artifact", f"version {spec.version} has no model artifact: its "
                        "importances cannot be compared with this version's")
    return load_artifact(artifact, sha256, allow_pickle=spec.model.allow_pickle)


def _stability(output: CheckOutput, section: Section, importance: "pd.Series", previous_importance: "pd.Series",
               version: str, previous_version: str, units: str) -> tuple[float, float]:
    """Rank correlation and top-5 overlap of the importances of two versions, side by side
    (table ``stability``)."""
    from validation.metrics import explain
    from validation.reporting import plots

    rank_correlation = explain.importance_rank_correlation(importance, previous_importance)
    overlap = explain.top_k_overlap(importance, previous_importance)
    previous_column = f"version {previous_version}"
    side_by_side = importance.to_frame(f"version {version}").join(previous_importance.rename(previous_column),
                                                                   how="outer")
    output.tables["stability"] = side_by_side
    section.table(side_by_side.round(4))
    section.figure(plots.ranked_bars(side_by_side[previous_column].fillna(0),
                                     f"Mean |SHAP| per feature, {previous_column}", xlabel=units))
    section.text(f"Spearman rank correlation: **{rank_correlation:.3f}**; top-5 overlap (Jaccard): **{overlap:.2f}**")
    return rank_correlation, overlap
