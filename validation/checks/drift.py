"""The drift check: does the population the model scores today look like the one it was developed on?

For the score and every feature: PSI with its critical values under "no drift", KS and the
normalised Wasserstein distance (numeric columns), the chi-square test of homogeneity and the
Jensen-Shannon distance over the PSI bins; by period when the data have a time column. The
statistics are :mod:`validation.metrics.drift`; the thresholds are the policy's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from validation.checks.base import (EU_AI_ACT, US_MRM, Basis, BuiltinCheck, CheckContext, CheckOutput, CheckParams,
                                    Headline)

if TYPE_CHECKING:
    import pandas as pd

    from validation.judging.policy import Policy

    from validation.inputs.spec import ModelVersionSpec


MIN_SLICE_ROWS = 100
"""Default of ``min_slice_rows`` (project default): a period with fewer rows has its PSI reported,
not judged. The PSI's critical values rest on a chi-square approximation that needs enough rows per
bin, and a bin left empty by chance (its share floored at 1e-4) alone makes a PSI near 0.7, red in
any slice of more than about 40 rows. With no drift a slice of ``n`` rows leaves one of 10 equal
bins empty with a chance of at most ``10 x 0.9^n`` (union bound): below the red level's 1 in 1,000
from 88 rows, so 100 (2.7 in 10,000), or 10 expected rows per bin. At 100 rows the default rule
flags about 7% of slices with no drift (amber; 0.4% red), against 42% under the fixed bounds
(``tests/metrics/test_drift.py``). At more bins a slice needs proportionally more rows."""

MAX_MIN_SLICE_ROWS = 100_000
"""Largest ``min_slice_rows`` (a bound like the other checks' minimums): more leaves every period of
a retail portfolio unjudged, which is a typo rather than a choice."""


class DriftParams(CheckParams):
    bins: int = Field(10, ge=2, le=1000, description="quantile bins for numeric columns")
    max_discrete: int = Field(10, ge=1, le=1000, description="numeric columns with at most this many values are binned by value")
    max_categories: int = Field(50, ge=2, le=1000, description="categorical columns with more values pool the rarest in (other)")
    psi_rule: Literal["both", "fixed", "critical"] = Field(
        "both", description="'both': flagged when the PSI reaches the policy's bound (material) and its own chi-square "
        "critical value (significant); 'fixed': the policy's bounds alone; 'critical': the critical values alone")
    min_slice_rows: int = Field(
        MIN_SLICE_ROWS, ge=1, le=MAX_MIN_SLICE_ROWS,
        description="a period with fewer rows has its PSI reported, not judged (at 10 bins, 100 rows leave a bin "
        "empty by chance 3 times in 10,000, and an empty bin alone makes a 100-row slice's PSI red)")
    top: int = Field(6, ge=0, le=50, description="distribution charts for the most shifted features")


class DriftCheck(BuiltinCheck):
    name = "drift"
    reads_batches = True  # data.batch_rows: validation.metrics.streamed_drift
    description = "PSI, KS, chi-square and Jensen-Shannon drift of the score and each feature"
    template = "drift.ipynb"
    params = DriftParams
    headlines = (Headline("score_psi", "score PSI", "psi", "score"),)
    basis = (Basis(US_MRM, "ongoing monitoring: the population the model scores against the one it was developed "
                           "on, at the frequency its materiality sets", ("classification",)),
             Basis(EU_AI_ACT, "Art. 10(3) (data and data governance): the reference data are still representative "
                              "of the population the model is used on", ("classification",)),
             Basis(EU_AI_ACT, "Art. 72 (post-market monitoring): the model's inputs and score watched in use",
                   ("classification",)),
             Basis(EU_AI_ACT, "Art. 15(1) (accuracy, robustness): the model performs consistently over its lifecycle; "
                              "a shifted population is the first sign it may not", ("classification",)))
    metric_basis = {"psi": Basis(US_MRM, "ongoing monitoring: population stability of the score and each feature")}

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        if spec.model.type != "classification":
            return "drift of features applies to classification models"
        if spec.data.reference is None:
            return "drift compares the current sample with a reference sample, and the spec gives none (data.reference)"
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
        summarised_on = period_counts = None
        if spec.data.batch_rows is not None:
            from validation.execution.cluster import ClusterSample
            from validation.metrics.streamed_drift import streamed_drift

            reference = context.sample("data.reference")
            streamed = streamed_drift(reference, context.sample("data.current"), columns, bins=params.bins,
                                      max_discrete=params.max_discrete, max_categories=params.max_categories,
                                      time=spec.data.time, target=s.target)
            table, details, period_counts = streamed.table, streamed.details, streamed.periods
            summarised_on = ("on a Dask cluster, a task per parquet row group" if isinstance(reference, ClusterSample)
                             else "in this process")
        else:
            table, details = drift.drift_table(context.reference, context.current, columns, bins=params.bins,
                                               max_discrete=params.max_discrete, max_categories=params.max_categories,
                                               profile=profile)
        findings = drift.drift_findings(table, score, psi_rule=params.psi_rule, bounds=policy.bounds("psi"),
                                        multiplicity=policy.multiplicity)
        output = CheckOutput(self.name, findings=findings, tables={"drift": table})
        method = output.section("Method").text(_psi_rule_text(policy, params, details, score))
        if profile is not None:
            method.text(f"Reference taken from the profile `{profile.path}` (bins fixed when it was built: "
                        f"{profile.settings}).")
        if spec.data.batch_rows is not None:
            from validation.metrics.summaries import DISTINCT_CAP, GRID_BINS

            method.text(f"Both samples read in batches of {spec.data.batch_rows:,} rows (`data.batch_rows`), in memory "
                        "bounded by the batch: every bin and its counts, so every PSI, chi-square and Jensen-Shannon "
                        f"figure, are exactly those of the whole samples; so are KS and Wasserstein for a column of at "
                        f"most {DISTINCT_CAP:,} distinct values in each sample. A column of more has them from "
                        f"{GRID_BINS:,} fine bins, within the bounds its note gives (validation.metrics.summaries). "
                        f"Summarised {summarised_on}.")
        judged = {f.subject: f for f in policy.judge_all(findings) if f.metric == "psi"}
        statuses: dict[str, str] = {str(c): judged[drift.subject_of(str(c), score)].status for c in table.index}
        _ranked(output, table, statuses, _common_lines(judged.values()))
        _distributions(output, table, details, score, params.top)
        if spec.data.time is not None:
            _by_period(output, context, details, score, params, period_counts)
        else:
            output.section("By period").text("No time column in the spec (`data.time`): no view by period.")
        # the headline counts every judged finding (features, score, periods): it agrees with the status
        output.headline = drift.headline(table, policy.judge_all(output.findings), score)
        output.summary = {"reference_rows": int(details[score].reference_counts.sum()),
                          "current_rows": int(details[score].current_counts.sum()),
                          "batch_rows": spec.data.batch_rows, "summarised_on": summarised_on,
                          "columns": len(columns), "bins": params.bins, "psi_rule": params.psi_rule,
                          "min_slice_rows": params.min_slice_rows,
                          "reference_profile": profile.path if profile is not None else None}
        return output


def _psi_rule_text(policy: Policy, params: DriftParams, details: dict[str, Any], score: str) -> str:
    """How PSI is judged, with the numbers (the policy's bounds, the score's critical values on the
    whole sample and in the smallest judged period) and their sources."""
    from validation.judging.policy import PSI_CRITICAL_LEVELS
    from validation.metrics import drift

    q95, q999 = (drift.level_text(q) for q in PSI_CRITICAL_LEVELS)
    bounds = policy.bounds("psi")
    origin = ("the spec's `thresholds.psi`" if "psi" in policy.overrides
              else f"the policy's defaults, {policy.rule('psi').source.split(';')[0]}")
    critical = ("`chi2.ppf(q, B - 1) (1/N + 1/M)` for `B` bins, `N` reference and `M` current rows (Yurdakul "
                "2018): what sampling alone gives at that size, so a PSI beyond it is significant")
    if params.psi_rule == "fixed":
        fixed = ", ".join(f"{name} from {value:g}" for name, value in (("amber", bounds.amber), ("red", bounds.red))
                          if value is not None) or "none (never flagged)"
        return f"PSI judged by fixed bounds (`psi_rule: fixed`): {fixed}, {origin}."
    if params.psi_rule == "critical":
        text = (f"PSI judged by its own critical values alone (`psi_rule: critical`): amber from the {q95} one, "
                f"red from the {q999} one, the critical value being {critical}.")
    else:
        text = (f"PSI judged as a shift both material and significant (`psi_rule: both`): amber when it reaches "
                f"the policy's amber bound ({_or_never(bounds.amber)}) and its own {q95} critical value, red when "
                f"it reaches the red bound ({_or_never(bounds.red)}) and its {q999} critical value. The bounds are "
                f"{origin}: the size of shift that matters. The critical value is {critical}. In a small sample the "
                f"critical value is the higher bound (the policy's alone would flag noise), in a large one the "
                f"policy's (a significant but negligible shift is not flagged); each finding's note says which "
                f"applied.")
    detail = details[score]
    n_bins, n_ref, n_cur = detail.binning.n_bins, int(detail.reference_counts.sum()), int(detail.current_counts.sum())
    levels = drift.family_levels(len(details), policy.multiplicity)
    c95, c999 = (drift.psi_critical_value(n_bins, n_ref, n_cur, q) for q in levels)
    adjusted = (f", at levels adjusted over the {len(details)} columns (Bonferroni, `multiplicity: "
                f"{policy.multiplicity}`)" if levels != PSI_CRITICAL_LEVELS else "")
    text += (f" For the score ({n_bins} bins, {n_ref:,} reference and {n_cur:,} current rows) the critical values "
             f"are {c95:.4f} ({drift.level_text(levels[0])}) and {c999:.4f} ({drift.level_text(levels[1])}){adjusted}.")
    return text


def _or_never(value: float | None) -> str:
    return "never" if value is None else f"{value:g}"


def _common_lines(judged: Any) -> dict[str, float | None]:
    """The amber and red lines of a chart: the bounds of its judged findings when they all share
    them, else none (a line that is not every bar's bound would misstate some)."""
    pairs = {(f.amber, f.red) for f in judged if f.status != "info"}
    if len(pairs) != 1:
        return {}
    amber, red = pairs.pop()
    return {"amber": amber, "red": red}


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


def _by_period(output: CheckOutput, context: CheckContext, details: dict[str, Any], score: str,
               params: DriftParams, period_counts: Any = None) -> None:
    """The PSI of each column per period, judged for the score; ``period_counts``: the current
    sample's counts per period when it was read in batches (:func:`validation.metrics.streamed_drift.streamed_drift`)."""
    import numpy as np

    from validation.judging.policy import PSI_CRITICAL_LEVELS
    from validation.metrics import drift
    from validation.reporting import plots

    s, time, policy = context.samples, str(context.spec.data.time), context.policy
    if context.spec.data.batch_rows is not None:
        from validation.metrics.streamed_drift import streamed_by_period, streamed_mean

        counted = period_counts if period_counts is not None else context.sample("data.current")
        by_period, period_rows = streamed_by_period(details, counted, time, s.target)
        reference_rate = streamed_mean(context.sample("data.reference"), s.target) if s.target else None
    else:
        by_period = drift.psi_by_period(details, context.current, time)
        period_rows = drift.default_rate_by_period(context.current, time, s.target)
        reference_rate = float(context.reference[s.target].mean()) if s.target else None
    output.tables["psi_by_period"] = by_period
    found = drift.period_findings(by_period, details, None, time=time, score=score, target=s.target,
                                  reference_default_rate=reference_rate, min_slice_rows=params.min_slice_rows,
                                  psi_rule=params.psi_rule, bounds=policy.bounds("psi"),
                                  multiplicity=policy.multiplicity, period_rows=period_rows)
    output.findings += found
    detail = details[score]
    n_bins, n_ref = detail.binning.n_bins, int(detail.reference_counts.sum())
    text = (f"PSI of each column per `{time}` of the current sample, against the whole reference. The score's PSI "
            f"per period is judged by the same rule (`psi_rule: {params.psi_rule}`) against the period's own "
            f"critical values, which grow as the period shrinks")
    if params.psi_rule != "fixed":
        judged = int((period_rows["rows"] >= params.min_slice_rows).sum())
        levels = drift.family_levels(judged, context.policy.multiplicity)
        c95, c999 = (drift.psi_critical_value(n_bins, n_ref, params.min_slice_rows, q) for q in levels)
        text += (f": {c95:.4f} ({drift.level_text(levels[0])}) and {c999:.4f} ({drift.level_text(levels[1])}) for a "
                 f"period of {params.min_slice_rows:,} rows"
                 + (f", at levels adjusted over the {judged} judged periods (Bonferroni)" if levels != PSI_CRITICAL_LEVELS
                    else ""))
    text += (f". A period of fewer than {params.min_slice_rows:,} rows (`min_slice_rows`) has its PSI reported, not "
             f"judged: in so small a slice sampling noise alone moves the PSI far")
    if n_bins >= 2:
        # one of B equal bins left empty, its share floored: what an unlucky small slice shows, and how
        # often (at most B (1 - 1/B)^n under no drift, by the union bound)
        empty = drift.psi(np.full(n_bins, 1 / n_bins), np.r_[0.0, np.full(n_bins - 1, 1 / (n_bins - 1))])
        chance = min(1.0, n_bins * (1 - 1 / n_bins) ** params.min_slice_rows)
        text += (f" (one of {n_bins} equal bins left empty, its share floored at {drift.SHARE_FLOOR:g}, alone makes "
                 f"a PSI of {empty:.2f}; with no drift, a slice of {params.min_slice_rows:,} rows leaves a bin "
                 f"empty with a chance of at most {chance:.2g})")
    section = output.section("By period").text(text + ".")
    section.table(by_period.round(4))
    psi_findings = [f for f in policy.judge_all(found) if f.metric == "psi"]
    section.figure(plots.heatmap(by_period, f"PSI by {time}", **_common_lines(psi_findings)))
    if s.target:
        rates = period_rows
        section.text(f"Default rate per {time} (reference: {reference_rate:.4f}; not shown for periods of fewer "
                     f"than {drift.MIN_CATEGORY_COUNT} rows, whose rate would disclose their outcomes).")
        section.table(rates.round(4))
