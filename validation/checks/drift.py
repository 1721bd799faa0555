"""The drift check: does the population the model scores today look like the one it was developed on?

For the score and every feature: PSI with its critical values under "no drift", KS and the
normalised Wasserstein distance (numeric columns), the chi-square test of homogeneity and the
Jensen-Shannon distance over the PSI bins; by period when the data have a time column. The
statistics are :mod:`validation.metrics.drift`; the thresholds are the policy's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from validation.checks.base import BuiltinCheck, CheckContext, CheckOutput, CheckParams, Headline

if TYPE_CHECKING:
    import pandas as pd

    from validation.judging.policy import Policy

    from validation.inputs.spec import ModelVersionSpec


class DriftParams(CheckParams):
    bins: int = Field(10, ge=2, le=1000, description="quantile bins for numeric columns")
    max_discrete: int = Field(10, ge=1, le=1000, description="numeric columns with at most this many values are binned by value")
    max_categories: int = Field(50, ge=2, le=1000, description="categorical columns with more values pool the rarest in (other)")
    psi_rule: Literal["fixed", "critical"] = Field(
        "fixed", description="'fixed': the policy's PSI bounds; 'critical': each PSI's own chi-square critical values")
    top: int = Field(6, ge=0, le=50, description="distribution charts for the most shifted features")


class DriftCheck(BuiltinCheck):
    name = "drift"
    description = "PSI, KS, chi-square and Jensen-Shannon drift of the score and each feature"
    template = "drift.ipynb"
    params = DriftParams
    headlines = (Headline("score_psi", "score PSI", "psi", "score"),)
    basis = "SR 11-7: ongoing monitoring (population stability, data drift)"
    metric_basis = {"psi": "SR 11-7 ongoing monitoring: population stability"}

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        if spec.model.type != "classification":
            return "drift of features applies to classification models"
        return None

    def profile_settings(self, spec: "ModelVersionSpec") -> dict[str, int]:
        """The binning a reference profile (``validation profile``) is built with: the spec's."""
        params = self.parse_params(spec.checks.get(self.name, {}))
        assert isinstance(params, DriftParams)
        return {"bins": params.bins, "max_discrete": params.max_discrete, "max_categories": params.max_categories}

    def run(self, context: CheckContext, params: DriftParams) -> CheckOutput:
        from validation.inputs.profile import load_profile
        from validation.metrics import drift

        s, spec, policy = context.samples, context.spec, context.policy
        score = str(s.score)
        profile = load_profile(spec.data.reference_profile) if spec.data.reference_profile else None
        columns = [score, *s.features]
        table, details = drift.drift_table(context.reference, context.current, columns, bins=params.bins,
                                           max_discrete=params.max_discrete, max_categories=params.max_categories,
                                           profile=profile)
        findings = drift.drift_findings(table, score, psi_rule=params.psi_rule)
        psi: dict[str, str] = {str(f["subject"]): policy.judge(f).status for f in findings if f["metric"] == "psi"}
        statuses = {str(c): psi[drift.subject_of(str(c), score)] for c in table.index}
        output = CheckOutput(self.name, headline=drift.headline(table, statuses, score), findings=findings,
                             tables={"drift": table})
        method = output.section("Method").text(f"PSI judged by {_psi_rule_text(policy, params.psi_rule)}.")
        if profile is not None:
            method.text(f"Reference taken from the profile `{profile.path}` (bins fixed when it was built: "
                        f"{profile.settings}).")
        bounds = policy.bounds("psi")
        lines = {} if params.psi_rule == "critical" else {"amber": bounds.amber, "red": bounds.red}
        _ranked(output, table, statuses, lines)
        _distributions(output, table, details, score, params.top)
        if spec.data.time is not None:
            _by_period(output, context, details, score, params.psi_rule, lines)
        else:
            output.section("By period").text("No time column in the spec (`data.time`): no view by period.")
        output.summary = {"reference_rows": len(context.reference), "current_rows": len(context.current),
                          "columns": len(columns), "bins": params.bins, "psi_rule": params.psi_rule,
                          "reference_profile": profile.path if profile is not None else None}
        return output



def _psi_rule_text(policy: Policy, psi_rule: str) -> str:
    """How PSI is judged, with the numbers and their source."""
    from validation.judging.policy import PSI_CRITICAL_LEVELS

    if psi_rule == "critical":
        amber, red = PSI_CRITICAL_LEVELS
        return (f"each PSI's own chi-square critical values under no drift: amber above the {amber:.1%} "
                f"quantile, red above the {red:.1%} quantile (Yurdakul 2018)")
    bounds = policy.bounds("psi")
    origin = "the spec's thresholds" if "psi" in policy.overrides else f"the policy's defaults ({policy.rule('psi').source})"
    levels = [f"{name} from {value:g}" for name, value in (("amber", bounds.amber), ("red", bounds.red))
              if value is not None]
    return f"fixed bounds: {', '.join(levels) or 'none (never flagged)'}, {origin}"


def _ranked(output: CheckOutput, table: "pd.DataFrame", statuses: dict[str, str],
            lines: dict[str, float | None]) -> None:
    from validation.reporting import plots

    ranked = table.assign(status=[statuses[c] for c in table.index])
    shown = ranked[["kind", "bins", "psi", "status", *[c for c in table.columns if c not in ("kind", "bins", "psi")]]]
    section = output.section("Columns ranked by PSI").table(shown.round(4))
    section.figure(plots.ranked_bars(table["psi"], "PSI by column", xlabel="PSI", **lines))


def _distributions(output: CheckOutput, table: "pd.DataFrame", details: dict[str, Any], score: str, top: int) -> None:
    from validation.reporting import plots

    output.section("Score distribution").figure(
        plots.bin_shares(details[score].bin_table(), f"score: PSI {table.loc[score, 'psi']:.3f}"))
    section = output.section("Distributions of the most shifted features").text(
        "Shares per bin in the reference and current samples (aggregates only).")
    for column in [c for c in table.index if c != score][:top]:
        section.figure(plots.bin_shares(details[column].bin_table(), f"{column}: PSI {table.loc[column, 'psi']:.3f}"))


def _by_period(output: CheckOutput, context: CheckContext, details: dict[str, Any], score: str, psi_rule: str,
               lines: dict[str, float | None]) -> None:
    from validation.metrics import drift
    from validation.reporting import plots

    s, time = context.samples, str(context.spec.data.time)
    by_period = drift.psi_by_period(details, context.current, time)
    output.tables["psi_by_period"] = by_period
    section = output.section("By period").text(
        f"PSI of each column per `{time}` of the current sample, against the whole reference.")
    section.table(by_period.round(4))
    section.figure(plots.heatmap(by_period, f"PSI by {time}", **lines))
    reference_rate = float(context.reference[s.target].mean()) if s.target else None
    output.findings += drift.period_findings(by_period, details, context.current, time=time, score=score,
                                             target=s.target, reference_default_rate=reference_rate,
                                             psi_rule=psi_rule)
    if s.target:
        rates = drift.default_rate_by_period(context.current, time, s.target)
        section.text(f"Default rate per {time} (reference: {reference_rate:.4f}; not shown for periods of fewer "
                     f"than {drift.MIN_CATEGORY_COUNT} rows, whose rate would disclose their outcomes).")
        section.table(rates.round(4))
