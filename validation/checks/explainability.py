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

from validation.checks.base import BuiltinCheck, CheckParams

if TYPE_CHECKING:
    from validation.governance.registry import Registry
    from validation.inputs.samples import Samples
    from validation.inputs.spec import ModelVersionSpec, Spec


class ExplainabilityParams(CheckParams):
    sample_size: int = Field(2000, ge=10, description="applicants explained (a seeded sample of the current data)")
    seed: int = Field(0, description="seed of the sample and of the explainer's background")
    monotone: dict[str, Literal["increasing", "decreasing"]] = Field(
        default_factory=dict, description="declared monotonicity of the PD in numeric features, e.g. {'duration': 'increasing'}")
    reasons: int = Field(4, ge=1, description="reasons per unfavourable decision (Reg B: more than four is unlikely to help)")


class ExplainabilityCheck(BuiltinCheck):
    name = "explainability"
    description = ("SHAP importances in log-odds, additivity, reason codes, monotonicity (ICE), stability against "
                   "the previous version")
    template = "explainability.ipynb"
    params = ExplainabilityParams
    runner_parameters = ("previous_importances",)
    basis = ("SR 11-7: evaluation of conceptual soundness; Regulation B adverse-action reasons (12 CFR 1002.9)")

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        if spec.model.type != "classification":
            return "explainability applies to classification models"
        if not spec.model.artifact:
            return "no model artifact (model.artifact): scores come from elsewhere and cannot be explained"
        return None

    def check_inputs(self, spec: "ModelVersionSpec", samples: "Samples", params: Any) -> None:
        from validation.errors import SpecError
        from validation.metrics.drift import is_numeric

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
