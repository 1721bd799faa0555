"""The challenger check: is the new version better than the one it replaces, and better than a
simple model?

On the same current applicants, the version's scores against up to three comparators: (a) the
previous version listed in the spec (``versions:``), scored from its own artifact (hash checked);
(b) a transparent benchmark, a logistic regression on the same features fitted on the reference
sample (:func:`validation.metrics.comparison.fit_benchmark`); (c) the spec's
``data.benchmark_score`` column, a benchmark's scores of the same rows (for scores-only specs, or
a champion's scores). Per comparison: the paired DeLong test of the AUC difference with its
interval, the paired test of the Brier difference, observed / expected defaults of each, approval
and bad rates at the decision threshold with McNemar's test, and the disparate impact ratios of
each side by side. The statistics are :mod:`validation.metrics.comparison`.

Judged in the direction "the new version is worse": a loss of AUC or accuracy is amber or red only
when it is both significant and material. Against a benchmark, a gain that is not both material
and significant is amber: the model's complexity needs a justification (ECB guide to internal
models, 2025, machine learning section), never red unless the model is also materially and
significantly worse. The registry is not read: a previous version is the one the spec lists
before this one (a pack's manifest records the artifact's sha256 but the registry does not, and a
run's artifact path may no longer hold the same file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from pydantic import Field

from validation.checks.base import (ECB_GUIDE, EU_AI_ACT, US_MRM, Basis, BuiltinCheck, CheckContext, CheckOutput,
                                    CheckParams, Headline)
from validation.judging.policy import Rule

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from validation.inputs.samples import Samples
    from validation.inputs.spec import ModelVersionSpec, Spec
    from validation.judging.findings import Finding
    from validation.metrics.comparison import Benchmark, Comparison

PREVIOUS, BENCHMARK, BENCHMARK_SCORE = "previous", "benchmark", "benchmark_score"
"""The subjects of the findings: the previous version, the logistic benchmark, ``data.benchmark_score``."""

BENCHMARK_MAX_ROWS = 50_000
"""Most reference rows the benchmark is fitted on (project default): a seeded simple random sample
above that, so the fit takes about the same time at any sample size. A logistic regression's
coefficients have a sampling error of order ``1 / sqrt(n)``: at 50,000 rows it is small beside
the AUC differences the check calls material, and the benchmark is a yardstick, not a model to
deploy."""

BENCHMARK_SEED = 0
"""Seed of the benchmark's sample of reference rows (project default)."""

MAX_BENCHMARK_ROWS = 10_000_000
"""Largest ``benchmark_max_rows``: a logistic fit on more rows takes minutes and gains nothing."""

_LEVELS_SOURCE = "levels 95% / 99.9% as the ECB's traffic light (project default)"
_WORSE_AUC = ("project default: a loss of 0.03 AUC (6 Gini points), the policy's materiality bound of the AUC change "
              "test (auc_change_pvalue): below it rank ordering has not changed in a way a decision would see")
_WORSE_BRIER = ("project default: a Brier score a tenth above the comparator's, the policy's materiality bound of the "
                "Spiegelhalter test (a Brier score within a tenth of its expectation)")
_COMPLEXITY = "no material and significant gain in AUC over the"
MIN_EVENTS_PER_PARAMETER = 10
"""Fewest outcomes of the rarer class per coefficient for the fitted benchmark's gain to be judged:
Peduzzi et al. (1996), "A simulation study of the number of events per variable in logistic
regression analysis", Journal of Clinical Epidemiology 49(12), found coefficients biased and
intervals wrong below 10. A benchmark fitted on fewer is no yardstick: its gain is reported only."""


class ChallengerParams(CheckParams):
    """The challenger check's parameters: the comparators come from the spec."""

    benchmark: bool = Field(True, description="fit the logistic benchmark on the reference sample and compare with it")
    benchmark_max_rows: int = Field(BENCHMARK_MAX_ROWS, ge=100, le=MAX_BENCHMARK_ROWS,
                                    description="the benchmark is fitted on a seeded sample of at most this many "
                                                "reference rows (bounds its fitting time on samples of millions)")
    seed: int = Field(BENCHMARK_SEED, ge=0, le=2**32 - 1, description="seed of the benchmark's sample of reference rows")
    bins: int = Field(10, ge=2, le=50, description="quantile bins of each score in the calibration chart")


@dataclass(frozen=True)
class Comparator:
    """One model the version is compared with: its subject, its label and its scores of the
    current rows."""

    subject: str
    label: str
    scores: "np.ndarray"
    detail: str
    unjudged_gain: str | None = None
    """Why the gain over this comparator is reported, not judged (a benchmark fitted on too few
    outcomes), or ``None``."""


class ChallengerCheck(BuiltinCheck):
    name = "challenger"
    relative_cost = 0.6  # measured at 1M rows (bench/run.py, full pack): see Check.relative_cost
    description = ("paired comparison with the previous version and a logistic benchmark on the same applicants: "
                   "DeLong AUC difference, Brier difference, calibration, approvals (McNemar), fairness")
    template = "challenger.ipynb"
    params = ChallengerParams
    headlines = (Headline("auc_gain_vs_previous", "AUC gain over the previous version", "paired_auc_difference",
                          PREVIOUS),
                 Headline("auc_gain_vs_benchmark", "AUC gain over the logistic benchmark", "paired_auc_difference",
                          BENCHMARK))
    basis = (Basis(ECB_GUIDE, "machine learning techniques: the performance of a complex model justifies its "
                              "complexity; its gain over a transparent benchmark on the same applicants, tested",
                   ("classification",)),
             Basis(US_MRM, "benchmarking and outcomes analysis: the model against the version it replaces and a "
                           "simpler alternative, on the same outcomes", ("classification",)),
             Basis(EU_AI_ACT, "Art. 15(1) (accuracy): a new version is at least as accurate as the one it replaces",
                   ("classification",)))
    metric_basis = {
        "paired_auc_pvalue": Basis(US_MRM, "outcomes analysis: discrimination against the previous version and the "
                                           "benchmark (paired DeLong test)"),
        "benchmark_auc_gain": Basis(ECB_GUIDE, "machine learning techniques: performance justifies complexity"),
        "benchmark_gain_pvalue": Basis(ECB_GUIDE, "machine learning techniques: performance justifies complexity"),
    }
    rules: ClassVar[Mapping[str, Rule]] = {
        "paired_auc_difference": Rule("none", source="reported: AUC of this version minus the comparator's on the same "
                                                     "applicants (paired DeLong, 95% interval in the table)"),
        "paired_auc_pvalue": Rule(
            "lower_is_worse", 0.05, 0.001,
            "DeLong, DeLong and Clarke-Pearson (1988), Biometrics 44(3): paired test of two correlated AUCs, one-sided "
            "in the direction 'this version ranks worse'; " + _LEVELS_SOURCE, domain=(0.0, 1.0), pvalue=True,
            null_hypothesis="this version's AUC is at least the comparator's on the same applicants",
            effect="AUC drop (comparator - this version)", immaterial=(-float("inf"), 0.03),
            immaterial_source=_WORSE_AUC,
            meaning="This version tells good from bad payers worse than the {subject} model on the same applicants"),
        "paired_brier_difference": Rule("none", source="reported: Brier score of this version minus the comparator's"),
        "paired_brier_pvalue": Rule(
            "lower_is_worse", 0.05, 0.001,
            "Diebold and Mariano (1995), JBES 13(3), with Harvey, Leybourne and Newbold (1997): paired test of the "
            "Brier difference (the paired t-test for independent rows), one-sided in the direction 'this version is "
            "less accurate'; " + _LEVELS_SOURCE, domain=(0.0, 1.0), pvalue=True,
            null_hypothesis="this version's Brier score is at most the comparator's on the same applicants",
            effect="relative increase of the Brier score over the comparator's", immaterial=(-float("inf"), 0.10),
            immaterial_source=_WORSE_BRIER,
            meaning="This version's PDs are less accurate than the {subject} model's on the same applicants"),
        "observed_expected_difference": Rule("none", source="reported: observed / expected defaults of this version "
                                                            "minus the comparator's (each judged by backtesting)"),
        "approval_rate_change": Rule("none", source="reported: approval rate at the decision threshold, this version "
                                                    "minus the comparator; p_value McNemar's exact test (1947)",
                                     null_hypothesis="both models approve as many of the same applicants"),
        "bad_rate_approved_change": Rule("none", source="reported: default rate among the approved, this version "
                                                        "minus the comparator"),
        "benchmark_auc_gain": Rule(
            "lower_is_worse", 0.03, None,
            "ECB guide to internal models (revised July 2025), machine learning section: performance must justify "
            "complexity; a gain is material from 0.03 AUC, the size of loss the policy calls material "
            "(auc_change_pvalue), so a gain the policy would call immaterial as a loss cannot justify complexity "
            "(project default); amber only: a justification is needed, not a defect", domain=(-1.0, 1.0),
            meaning="This version's gain in AUC over the {subject} model is not material: the change, and any added "
                    "complexity, needs a justification"),
        "benchmark_gain_pvalue": Rule(
            "higher_is_worse", 0.05, None,
            "ECB guide to internal models (revised July 2025), machine learning section: performance must justify "
            "complexity; paired DeLong test (1988) of a gain, one-sided, amber when not significant at 5% (project "
            "default): a justification is needed, not a defect", domain=(0.0, 1.0), pvalue=True,
            null_hypothesis="this version's AUC is at most the benchmark's (no gain)",
            meaning="This version's gain in AUC over the {subject} model is not significant: the change, and any "
                    "added complexity, needs a justification"),
    }

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        if spec.model.type != "classification":
            return ("compares the discrimination, calibration and decisions of PD models on the same applicants; a "
                    "VaR model has no applicants to rank, and its backtest against the P&L is the backtesting check's")
        return None

    def check_inputs(self, spec: "ModelVersionSpec", samples: "Samples", params: CheckParams) -> None:
        """A :class:`~validation.errors.DataError` when ``data.benchmark_score`` is absent from the
        current sample, not numeric, missing or outside [0, 1]."""
        column = spec.data.benchmark_score
        if column is not None:
            validate_benchmark_score(samples.current, column, str(spec.data.current))

    def check_batch(self, spec: "ModelVersionSpec", role: str, batch: "pd.DataFrame", params: CheckParams) -> None:
        """:meth:`check_inputs`' rule on each batch of the current sample the runner reads."""
        column = spec.data.benchmark_score
        if column is not None and role == "data.current":
            validate_benchmark_score(batch, column, str(spec.data.current))

    def fingerprint(self, spec: "ModelVersionSpec", spec_file: "Spec", parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters and the previous version's artifact and features, when the spec names one."""
        values = dict(parameters)
        if spec.previous_version is not None:
            previous = spec_file.version(spec.previous_version)
            values["previous_artifact"] = previous.model.artifact_sha256
            values["previous_features"] = previous.data.features
        return values

    def card_analyses(self, findings: list["Finding"]) -> list[dict[str, Any]]:
        """Per comparison: the AUC difference and its judged p-value."""
        by_key = {(f.metric, f.subject): f for f in findings}
        rows = []
        for f in findings:
            if f.metric == "paired_auc_difference":
                test = by_key.get(("paired_auc_pvalue", f.subject))
                rows.append({"comparison": f.subject, "auc_difference": f.value,
                             "p_value": test.value if test is not None else None,
                             "status": test.status if test is not None else "info"})
        return rows

    def run(self, context: CheckContext, params: ChallengerParams) -> CheckOutput:
        """Compare the version with each comparator on the current sample.

        Returns
        -------
        CheckOutput
            Table ``comparisons`` (one row per comparator, the paired differences), one
            ``fairness:<attribute>`` per protected attribute (with a decision), ``benchmark`` (the
            benchmark's coefficients, when fitted). Summary: ``current_rows``, ``comparators``
            (subject -> label), ``not_compared`` (subject -> why), ``benchmark_rows``.
        """
        import numpy as np

        from validation.metrics import comparison
        from validation.metrics.backtesting import delong_components

        s, spec = context.samples, context.spec
        output = CheckOutput(self.name)
        y = context.current[str(s.target)].to_numpy(dtype=np.int64)
        new = context.current[str(s.score)].to_numpy(dtype=float)
        label = f"version {spec.version}"
        not_compared: dict[str, str] = {}
        benchmark_rows: dict[str, int] = {}
        comparators = _comparators(context, params, not_compared, benchmark_rows, output)
        decision = spec.decision
        components = delong_components(y, new)  # this version's, once for every comparator
        results = {c.subject: comparison.compare(y, new, c.scores, threshold=decision.threshold if decision else None,
                                                 favourable=decision.favourable if decision else "below",
                                                 components_a=components)
                   for c in comparators}
        for c in comparators:
            output.findings += comparison_findings(c, results[c.subject])
        judged = {(f.metric, f.subject): f for f in context.policy.judge_all(output.findings)}
        output.headline = _headline(comparators, results, judged, not_compared)
        if not comparators:
            output.not_applicable = "nothing to compare with: " + "; ".join(not_compared.values())
        _method(output, context, comparators, not_compared)
        if comparators:
            _differences(output, comparators, results, judged, label)
            _charts(output, y, new, label, comparators, params.bins)
            _fairness(output, context, new, label, comparators)
        output.summary = {"current_rows": len(y), "comparators": {c.subject: c.label for c in comparators},
                          "not_compared": not_compared, "benchmark_rows": benchmark_rows or None}
        return output


def validate_benchmark_score(frame: "pd.DataFrame", column: str, path: str, role: str = "data.current") -> None:
    """Refuse a ``data.benchmark_score`` column that is absent, not numeric, has missing values or
    values outside [0, 1] (:class:`~validation.errors.DataError` naming the column).

    >>> import pandas as pd
    >>> validate_benchmark_score(pd.DataFrame({"pd_lr": [0.1, 0.9]}), "pd_lr", "current.parquet")
    >>> validate_benchmark_score(pd.DataFrame({"pd_lr": [0.1, 1.5]}), "pd_lr", "current.parquet")
    Traceback (most recent call last):
    ...
    validation.errors.DataError: column 'pd_lr': data.benchmark_score must be a probability in [0, 1]; 1 values are outside (e.g. 1.5): give the benchmark's PD, not a score or a percentage (data.current: current.parquet)
    """
    from validation.errors import DataError
    from validation.metrics.kinds import is_numeric

    if column not in frame.columns:
        raise DataError(path, column, "data.benchmark_score names a column the sample does not have; add the "
                        "benchmark's PD column or remove data.benchmark_score", role)
    values = frame[column]
    if not is_numeric(values):
        raise DataError(path, column, "data.benchmark_score must be numeric (the benchmark's PD in [0, 1])", role)
    missing = int(values.isna().sum())
    if missing:
        raise DataError(path, column, f"data.benchmark_score has {missing} missing values; every applicant needs the "
                        "benchmark's PD to compare on the same rows", role)
    outside = (values < 0) | (values > 1)
    if outside.any():
        raise DataError(path, column, f"data.benchmark_score must be a probability in [0, 1]; {int(outside.sum())} "
                        f"values are outside (e.g. {values[outside].iloc[0]:g}): give the benchmark's PD, not a score "
                        "or a percentage", role)


def _comparators(context: CheckContext, params: ChallengerParams, not_compared: dict[str, str],
                 benchmark_rows: dict[str, int], output: CheckOutput) -> list[Comparator]:
    """The comparators that can be scored on the current rows; why each other one cannot."""
    from validation.metrics.comparison import BENCHMARK_C

    found: list[Comparator] = []
    previous = _previous(context, not_compared)
    if previous is not None:
        found.append(previous)
    if params.benchmark:
        fitted = _benchmark(context, params, not_compared)
        if fitted is not None:
            benchmark, scores = fitted
            benchmark_rows.update({"fitted": benchmark.fitted_rows, "available": benchmark.available_rows})
            output.tables["benchmark"] = benchmark.coefficients().rename("coefficient").to_frame()
            sampled = (f"a seeded sample of {benchmark.fitted_rows:,} of its {benchmark.available_rows:,} rows"
                       if benchmark.fitted_rows < benchmark.available_rows else f"its {benchmark.available_rows:,} rows")
            epv = benchmark.events / benchmark.parameters
            weak = (f"the benchmark was fitted with {epv:.1f} outcomes of the rarer class per coefficient "
                    f"({benchmark.events:,} for {benchmark.parameters}), fewer than {MIN_EVENTS_PER_PARAMETER} "
                    "(Peduzzi et al. 1996): too few for a yardstick" if epv < MIN_EVENTS_PER_PARAMETER else None)
            found.append(Comparator(BENCHMARK, "logistic benchmark", scores,
                                    f"a logistic regression (L2 penalty, C = {BENCHMARK_C:g}) on the same "
                                    f"{len(context.samples.features)} features "
                                    f"({len(benchmark.numeric)} numeric, median-imputed and standardised; "
                                    f"{len(benchmark.categorical)} categorical, one-hot, missing values a category of "
                                    f"their own), fitted on the reference sample ({sampled}; {benchmark.events:,} "
                                    f"outcomes of the rarer class for {benchmark.parameters} coefficients)"
                                    + (f". Its gain is reported, not judged: {weak}" if weak else ""),
                                    unjudged_gain=weak))
    else:
        not_compared[BENCHMARK] = "the logistic benchmark is switched off (checks.challenger.benchmark: false)"
    column = context.spec.data.benchmark_score
    if column is not None:
        scores_column = context.current[column].to_numpy(dtype=float)
        found.append(Comparator(BENCHMARK_SCORE, f"benchmark_score ({column})", scores_column,
                                f"the spec's data.benchmark_score column `{column}`"))
    return found


def _previous(context: CheckContext, not_compared: dict[str, str]) -> Comparator | None:
    """The previous version of the spec, scored by its artifact on the current rows, or ``None``
    with the reason in ``not_compared``."""
    import numpy as np

    from validation.inputs.artifacts import load_artifact, predict_scores

    previous = context.previous()
    if previous is None:
        not_compared[PREVIOUS] = ("the spec lists no version before this one (versions:); the registry is not read, "
                                  "since it records no previous artifact to score the same applicants with")
        return None
    artifact, sha256 = previous.model.artifact, previous.model.artifact_sha256
    if artifact is None or sha256 is None:
        not_compared[PREVIOUS] = (f"version {previous.version} has no model artifact to score the same applicants "
                                  "with; give its scores of the current rows as data.benchmark_score to compare")
        return None
    features = list(previous.data.features) if previous.data.features is not None else list(context.samples.features)
    absent = [f for f in features if f not in context.current.columns]
    if absent:
        not_compared[PREVIOUS] = (f"version {previous.version}'s features {', '.join(absent)} are not read for this "
                                  "version (not among its data.features)")
        return None
    model = load_artifact(artifact, sha256, allow_pickle=previous.model.allow_pickle)
    scores = predict_scores(model, context.current[features], source=str(artifact), role="model.artifact")
    return Comparator(PREVIOUS, f"version {previous.version}", np.asarray(scores, dtype=float),
                      f"version {previous.version} of the spec, scored by its artifact (sha256 checked) on the same "
                      "current applicants")


def _benchmark(context: CheckContext, params: ChallengerParams,
               not_compared: dict[str, str]) -> "tuple[Benchmark, np.ndarray] | None":
    """The benchmark fitted on the reference sample and its scores of the current rows, or ``None``
    with the reason."""
    from validation.metrics.comparison import fit_benchmark

    s = context.samples
    if not s.has_reference or len(context.reference) == 0:
        not_compared[BENCHMARK] = "no reference sample to fit the benchmark on"
        return None
    fitted = fit_benchmark(context.reference, list(s.features), str(s.target), max_rows=params.benchmark_max_rows,
                           seed=params.seed)
    if fitted is None:
        not_compared[BENCHMARK] = "the reference sample holds a single outcome class: no benchmark can be fitted"
        return None
    return fitted, fitted.predict(context.current)


def comparison_findings(comparator: Comparator, result: "Comparison") -> list[dict[str, Any]]:
    """The raw findings of one comparison (subject: the comparator's), in the direction "this
    version is worse"; against a benchmark also whether the gain is material and significant."""
    from validation.judging.findings import finding

    subject, a, b = comparator.subject, result.auc, result.brier
    interval = f"95% CI {a.ci_low:+.4f} to {a.ci_high:+.4f}, two-sided p = {a.pvalue:.4g}"
    items = [
        finding("paired_auc_difference", subject, a.difference,
                note=f"{comparator.label}: AUC {a.auc_b:.4f}, this version {a.auc_a:.4f} ({interval})"),
        finding("paired_auc_pvalue", subject, a.pvalue_lower, effect=-a.difference,
                note=f"against {comparator.label}" + ("; the two scores rank every pair alike" if a.se == 0 else "")),
        finding("paired_brier_difference", subject, b.difference,
                note=f"{comparator.label}: Brier {b.brier_b:.4f}, this version {b.brier_a:.4f} (two-sided p = "
                     f"{b.pvalue:.4g})"),
        finding("paired_brier_pvalue", subject, b.pvalue_higher, effect=b.relative, note=f"against {comparator.label}"),
        finding("observed_expected_difference", subject, result.observed_expected_a - result.observed_expected_b,
                note=f"observed / expected defaults: this version {result.observed_expected_a:.3f}, "
                     f"{comparator.label} {result.observed_expected_b:.3f}"),
    ]
    d = result.decisions
    if d is not None:
        items.append(finding("approval_rate_change", subject, d.approval_difference, p_value=d.mcnemar_pvalue,
                             note=f"approved by this version alone {d.a_only}, by {comparator.label} alone "
                                  f"{d.b_only} (McNemar exact)"))
        items.append(finding("bad_rate_approved_change", subject, d.bad_rate_difference,
                             note=f"default rate of the approved: this version {d.bad_rate_a:.4f}, "
                                  f"{comparator.label} {d.bad_rate_b:.4f}"))
    cause = f"{_COMPLEXITY} {comparator.label}"
    judged = comparator.unjudged_gain is None
    why = "" if judged else f"; reported, not judged: {comparator.unjudged_gain}"
    items.append(finding("benchmark_auc_gain", subject, a.difference, cause=cause, judged=judged,
                         note=f"AUC gain over {comparator.label} ({interval}){why}"))
    items.append(finding("benchmark_gain_pvalue", subject, a.pvalue_higher, effect=a.difference, cause=cause,
                         judged=judged, note=f"one-sided test of a gain over {comparator.label}{why}"))
    return items


def _headline(comparators: list[Comparator], results: Mapping[str, "Comparison"],
              judged: Mapping[tuple[str, str], "Finding"], not_compared: Mapping[str, str]) -> str:
    """One sentence per comparison: the AUC difference with its p-value and what it means."""
    if not comparators:
        return "Nothing to compare with: " + "; ".join(not_compared.values()) + "."
    parts = []
    for c in comparators:
        a = results[c.subject].auc
        text = f"against {c.label}: ΔAUC {a.difference:+.3f} (95% CI {a.ci_low:+.3f} to {a.ci_high:+.3f}, p = {a.pvalue:.2g})"
        worse = judged.get(("paired_auc_pvalue", c.subject))
        if worse is not None and worse.status in ("amber", "red"):
            text += ", worse"
        else:
            gain = [judged.get((m, c.subject)) for m in ("benchmark_auc_gain", "benchmark_gain_pvalue")]
            if c.unjudged_gain is not None:
                text += ", a gain not judged (too few outcomes to fit the benchmark)"
            elif any(f is not None and f.status in ("amber", "red") for f in gain):
                text += ", no material and significant gain: the change needs a justification"
            else:
                text += ", a material and significant gain"
        parts.append(text)
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _method(output: CheckOutput, context: CheckContext, comparators: list[Comparator],
            not_compared: Mapping[str, str]) -> None:
    """What is compared with what, how it is judged, and what could not be compared."""
    from validation.reporting.display import md

    policy = context.policy
    section = output.section("Comparisons").text(
        f"Version {md(context.spec.version)} against each comparator on the same {len(context.current):,} current "
        "applicants and outcomes, so every test is paired.")
    if comparators:
        section.text("\n".join(f"- **{md(c.label)}**: {md(c.detail)}." for c in comparators))
    if not_compared:
        section.text("Not compared:\n\n" + "\n".join(f"- **{md(k)}**: {md(v)}." for k, v in not_compared.items()))
    auc, brier, gain = (policy.immaterial("paired_auc_pvalue"), policy.immaterial("paired_brier_pvalue"),
                        policy.bounds("benchmark_auc_gain"))
    section.text(
        "Judged in the direction \"this version is worse\": a lower AUC (one-sided paired DeLong test) or a higher "
        "Brier score (one-sided paired t-test, Diebold-Mariano) is amber or red only when it is significant at the "
        "policy's levels and material"
        + (f" (an AUC drop of at least {auc[1]:g}; a Brier score at least {brier[1]:.0%} above the comparator's)"
           if auc is not None and brier is not None else "")
        + ". Against each comparator, the version it replaces as much as a benchmark, a gain that is not both "
          "material"
        + (f" (at least {gain.amber:g} AUC)" if gain.amber is not None else "")
        + " and significant is amber: the change, and a more complex model's complexity, then needs a justification "
          "(ECB guide to internal models, 2025: a machine-learning model's performance justifies its complexity). "
          "Each comparison answers its own question: the p-values are not adjusted across comparators.")
    decision = context.spec.decision
    if decision is not None:
        section.text(f"Approvals: every model approves an applicant when its score is {decision.favourable} "
                     f"{decision.threshold:g} (the spec's decision). The same cut for models calibrated differently "
                     "mixes ranking with calibration: compare the observed / expected rows too.")


def _differences(output: CheckOutput, comparators: list[Comparator], results: Mapping[str, "Comparison"],
                 judged: Mapping[tuple[str, str], "Finding"], label: str) -> None:
    """The table of paired differences, one row per comparator, with the judged statuses."""
    import pandas as pd

    from validation.reporting.display import status_table
    from validation.reporting.formatting import format_number

    rows = {}
    for c in comparators:
        row: dict[str, Any] = {"comparator": c.label, **results[c.subject].row()}
        worse = judged.get(("paired_auc_pvalue", c.subject))
        row["auc_light"] = worse.status if worse is not None else "info"
        brier = judged.get(("paired_brier_pvalue", c.subject))
        row["brier_light"] = brier.status if brier is not None else "info"
        rows[c.subject] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "comparison"
    output.tables["comparisons"] = table
    section = output.section("Paired differences").text(
        f"Each difference is {label} minus the comparator (a negative AUC difference: {label} ranks worse; a positive "
        "Brier difference: it is less accurate). `auc_pvalue` and `brier_pvalue` are two-sided; the lights judge the "
        "one-sided tests of \"worse\" (findings `paired_auc_pvalue`, `paired_brier_pvalue`).")
    shown = table.set_index("comparator").T
    shown = shown.apply(lambda row: [format_number(v, _ROW_KINDS.get(str(row.name), "value")) for v in row],
                        axis=1, result_type="broadcast")
    shown.index.name = "metric"
    section.table(status_table(shown))


CHART_ROWS = 100_000
"""Most applicants a ROC chart is drawn from (a seeded sample above): the chart's 200 points do not
move visibly, and sorting millions of scores per curve would dominate the check's time."""

_ROW_KINDS = {"auc_pvalue": "p", "brier_pvalue": "p", "mcnemar_pvalue": "p", "approval_rate_new": "rate",
              "approval_rate_comparator": "rate", "approval_rate_difference": "points", "bad_rate_approved_new": "rate",
              "bad_rate_approved_comparator": "rate", "bad_rate_approved_difference": "points"}
"""How each row of the paired differences is written (the rest: plain numbers; AUC and Brier
differences are no percentages)."""


def _charts(output: CheckOutput, y: "np.ndarray", new: "np.ndarray", label: str, comparators: list[Comparator],
            bins: int) -> None:
    """Both ROC curves and both calibration curves (every comparator's), each set on one chart."""
    import numpy as np

    from validation.metrics.backtesting import MIN_DISCLOSED_SLICE
    from validation.metrics.comparison import calibration_curve
    from validation.reporting import plots

    scores = {label: new, **{c.label: c.scores for c in comparators}}
    section = output.section("ROC and calibration")
    if len(np.unique(y)) == 2:
        drawn = np.arange(len(y))
        if len(y) > CHART_ROWS:  # a curve of 200 points looks the same from a large sample; the AUCs are all rows'
            drawn = np.sort(np.random.default_rng(0).choice(len(y), size=CHART_ROWS, replace=False))
            section.text(f"ROC curves drawn from a seeded random sample of {CHART_ROWS:,} of the {len(y):,} "
                         "applicants; every AUC and test above uses them all.")
        section.figure(plots.roc_curves(y[drawn], {name: v[drawn] for name, v in scores.items()}))
    else:
        section.text("**The current sample has a single outcome class: no ROC curve.**")
    section.text(f"Calibration: observed default rate against mean PD in up to {bins} quantile bins of each score "
                 f"(bins of at least {MIN_DISCLOSED_SLICE} applicants).")
    section.figure(plots.calibration_curves(
        {name: calibration_curve(y, values, bins=bins, min_rows=MIN_DISCLOSED_SLICE) for name, values in scores.items()}))


def _fairness(output: CheckOutput, context: CheckContext, new: "np.ndarray", label: str,
              comparators: list[Comparator]) -> None:
    """Approval rate and disparate impact ratio per protected group of each model, side by side:
    groups as the fairness check forms them (its ``bands``, small groups pooled), ratios against
    the most-approved group of at least its ``min_group_size``."""
    from validation.checks.fairness import MAX_GROUPS_UNBANDED, FairnessCheck, FairnessParams
    from validation.metrics import fairness
    from validation.metrics.kinds import is_numeric
    from validation.reporting.display import md

    spec, decision = context.spec, context.spec.decision
    section = output.section("Fairness side by side")
    if decision is None or not spec.data.protected:
        section.text("No decision rule or no protected attribute in the spec: no comparison of approvals by group.")
        return
    params = FairnessCheck().parse_params(spec.checks.get("fairness", {}))
    assert isinstance(params, FairnessParams)
    models = {label: new, **{c.label: c.scores for c in comparators}}
    section.text(f"Approval rate and disparate impact ratio (against the most-approved group of at least "
                 f"{params.min_group_size} applicants, the fairness check's min_group_size) of each model; groups of "
                 f"fewer than {fairness.MIN_DISCLOSED_GROUP} applicants are pooled. Shown, not judged here: the "
                 "fairness check judges this version's groups (its page and the summary's issues); a ratio that "
                 "falls from the comparator's is the change a reviewer weighs against any gain above.")
    for attribute in spec.data.protected:
        column = context.current[attribute]
        if attribute not in params.bands and is_numeric(column) and column.nunique() > MAX_GROUPS_UNBANDED:
            section.text(f"{md(attribute)}: numeric with no bands (checks.fairness.bands): not grouped.")
            continue
        groups = fairness.group_labels(context.current, attribute, bands=params.bands)
        side = fairness.in_group_order(fairness.approvals_side_by_side(
            {name: fairness.favourable_decision(scores, decision.threshold, decision.favourable)
             for name, scores in models.items()}, groups, min_group_size=params.min_group_size))
        output.tables[f"fairness:{attribute}"] = side
        section.text(f"### {md(attribute)}").table(side.round(4))
