"""Policy: default thresholds per metric, and the judgement of a value into a status.

Statuses, in order of severity: ``green < amber < red < error``. ``info`` (a metric with no
threshold, or a value that is reported but not judged) and ``not_applicable`` (a check that does
not apply) are outside that order and never affect a run's status (``docs/results.md``).

Comparison conventions
----------------------
- ``higher_is_worse``: ``value >= red`` is red, else ``value >= amber`` is amber (PSI 0.10 is amber).
- ``lower_is_worse``: ``value < red`` is red, else ``value < amber`` is amber. Strict, so the
  four-fifths rule flags a ratio *less than* 0.8 and a ratio of exactly 0.8 is not flagged.
- A value within ``1e-9`` (relative) of a bound counts as equal to it, so floating-point error
  (``0.7999999999999999`` for 4/5) never flips a status at the boundary.
- ``categorical``: the value is a name; ``basel_zone`` maps green/yellow/red to green/amber/red.

Tests: materiality and significance together
--------------------------------------------
A metric whose value is a p-value (``Rule.pvalue``) is judged on its p-value adjusted for
multiplicity within its family (:mod:`validation.judging.multiplicity`, the spec's
``multiplicity``), and is amber or red only when the effect it tests is also material: a finding
whose ``effect`` lies strictly inside the rule's ``immaterial`` interval is green, with a note
saying so. A large sample makes every effect significant; only a material one is a finding.

Default thresholds and where they come from are in :data:`DEFAULT_POLICY` and the named levels
below it (the policy table); a high-materiality model (``model.materiality: high``) is judged by
the stricter rules of :data:`MATERIALITY_POLICY`; a spec overrides the bounds per metric under
``thresholds``.
:meth:`Policy.for_spec` is the one place a threshold is read: findings, headlines, charts,
notebook tables and the HTML all ask it, so none can contradict another. No threshold number
appears outside this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, cast

from validation.judging.findings import Direction, Finding, Status
from validation.judging.multiplicity import DEFAULT_METHOD, Method, adjust

SEVERITY = {"green": 0, "amber": 1, "red": 2, "error": 3}
"""Order of the judged statuses; ``info`` and ``not_applicable`` are not in it."""

_REL_TOL = 1e-9


@dataclass(frozen=True)
class Rule:
    """How one metric is judged by default.

    Attributes
    ----------
    direction
        Which way is worse (see the module docstring).
    amber, red
        Default bounds; ``None`` means that level is never reached.
    source
        Why these defaults: a regulation, a paper, or common practice.
    domain
        The values the metric can take; a spec's bound outside it is refused (an AUC amber of 2.0
        could never be reached).
    significance
        A level: a finding beyond its bounds is flagged only when its test of the same effect (its
        ``p_value``, adjusted when it has a ``p_adjusted``) is below this level, else it is green
        and its note says the gap could be noise; with no red bound, a significant breach of the
        amber bound is red. Materiality and significance together: the bound says the effect is
        large enough to matter, the test that it is not noise (29 CFR 1607.4(D): "greater
        differences in selection rate may not constitute adverse impact where the differences are
        based on small numbers and are not statistically significant"). A finding with no p-value
        is judged by its bounds alone.
    """

    direction: Direction
    amber: float | None = None
    red: float | None = None
    source: str = ""
    domain: tuple[float, float] = (-math.inf, math.inf)
    significance: float | None = None
    pvalue: bool = False
    """The value is a p-value: it is adjusted within its family for multiplicity before judging."""
    null_hypothesis: str = ""
    """What the p-value tests, in one line (shown beside every finding of the metric)."""
    effect: str = ""
    """The effect size a test's finding carries beside its p-value (its ``effect``), and its unit."""
    immaterial: tuple[float, float] | None = None
    """Effects strictly between these bounds are not material: a significant test of such an
    effect is green. ``-inf`` or ``inf`` leave a side open."""
    immaterial_source: str = ""
    """Why these materiality bounds."""
    meaning: str = ""
    """What a breach means, in plain words, for the summary page's issue sentence; ``{subject}``
    stands for the finding's subject ("The distribution of {subject} has shifted")."""


_LEVELS = "levels 95% / 99.9% as the ECB's traffic light (project default)"
UNIT = (0.0, 1.0)
"""The domain of probabilities, rates, shares, differences of rates and AUCs."""
NON_NEGATIVE = (0.0, math.inf)
CORRELATION = (-1.0, 1.0)
_INF = math.inf

OBSERVED_EXPECTED_IMMATERIAL = (0.8, 1.25)
_OE_SOURCE = ("project default: observed defaults within a fifth of those expected (1 / 0.8 = 1.25 keeps the "
              "band symmetric on the log scale); smaller misstatements are left to the annual recalibration")
_OE_EFFECT = "observed / expected defaults"
_GAP_RED = ("flagged only when the gap is also significant at 5% (Fisher's exact test of the harmed group against "
            "its comparator, adjusted over the comparisons the largest gap was picked from), else green with a note; "
            "set per policy")
_GAP_NULL = "the harmed group is approved as often as the comparator group (among the same outcome)"
_SAME_PD = "the PD of the {0} is at least its default probability (the PD does not understate risk)"

DEFAULT_POLICY: dict[str, Rule] = {
    # drift
    "psi": Rule("higher_is_worse", 0.10, 0.25, "industry convention (Siddiqi 2006): <0.10 stable, >=0.25 shifted; "
                "by default a PSI is also judged against its own critical values under no drift, so that a "
                "small slice's noise is not drift (drift check, psi_rule)", domain=NON_NEGATIVE),
    "ks_stat": Rule("none", source="reported; judged through psi by default"),
    "ks_pvalue": Rule("none", source="reported; p-values shrink with sample size, so not judged by default",
                      pvalue=True, null_hypothesis="the column has the same distribution in both samples",
                      effect="KS statistic (largest gap between the two CDFs)"),
    "chi2_pvalue": Rule("none", source="reported; p-values shrink with sample size, so not judged by default",
                        pvalue=True, null_hypothesis="the column's bin shares are the same in both samples",
                        effect="PSI over the same bins"),
    "js_distance": Rule("none", source="reported"),
    "wasserstein_norm": Rule("none", source="reported; Evidently's default drift threshold is 0.1"),
    "default_rate": Rule("none", source="reported per period"),
    # fairness
    "approval_rate": Rule("none", source="reported per group"),
    "disparate_impact_ratio": Rule("lower_is_worse", 0.8, None,
                                   "four-fifths rule (EEOC Uniform Guidelines, 29 CFR 1607.4(D)); red when the "
                                   "breach is also significant at 5% (Fisher's exact test against the comparator "
                                   "group, adjusted over the attribute's groups), green with a note when it could be "
                                   "noise: 1607.4(D) weighs statistical and practical significance together",
                                   domain=NON_NEGATIVE, significance=0.05,
                                   null_hypothesis="the group is approved as often as the comparator group"),
    "demographic_parity_difference": Rule("higher_is_worse", 0.10, 0.20,
                                          "project default: a group approved 10 points (20 red) less often than "
                                          "the comparator group (the most approved); " + _GAP_RED, domain=UNIT,
                                          significance=0.05, null_hypothesis=_GAP_NULL),
    "equal_opportunity_difference": Rule("higher_is_worse", 0.10, 0.20,
                                         "project default: in the direction of harm, good payers of a group approved "
                                         "10 points (20 red) less often than those of the group whose good payers are "
                                         "approved most; " + _GAP_RED, domain=UNIT,
                                         significance=0.05, null_hypothesis=_GAP_NULL),
    "equalized_odds_difference": Rule("higher_is_worse", 0.10, 0.20,
                                      "project default: in the direction of harm, equal opportunity's gap or the "
                                      "shortfall of a group's defaulters against the most-approved group's, the "
                                      "larger; " + _GAP_RED, domain=UNIT,
                                      significance=0.05, null_hypothesis=_GAP_NULL),
    "disparity_ztest_pvalue": Rule("none", source="reported: two-proportion z-test vs the most-approved group",
                                   pvalue=True, null_hypothesis="the group is approved as often as the comparator group",
                                   effect="approval rate difference from the comparator group"),
    "disparity_fisher_pvalue": Rule("none", source="reported: Fisher exact test vs the most-approved group",
                                    pvalue=True, null_hypothesis="the group is approved as often as the comparator group",
                                    effect="approval rate difference from the comparator group"),
    "calibration_pvalue": Rule("lower_is_worse", 0.05, 0.001,
                               "ECB IRB validation instructions 2.5.3.1 (Jeffreys test), two-sided for a protected "
                               "group: over- and understated risk both harm; " + _LEVELS,
                               domain=UNIT, pvalue=True,
                               null_hypothesis="the group's mean PD equals its default probability (two-sided)",
                               effect=_OE_EFFECT, immaterial=OBSERVED_EXPECTED_IMMATERIAL, immaterial_source=_OE_SOURCE),
    # explainability
    "shap_importance": Rule("none", source="reported per feature"),
    "shap_additivity_error": Rule("higher_is_worse", 1e-4, 1e-2, "SHAP local accuracy: base + sum = margin", domain=NON_NEGATIVE),
    "importance_rank_correlation": Rule("lower_is_worse", 0.7, 0.4, "project default: Spearman correlation of the "
                                        "importances with the previous version's; set per policy", domain=CORRELATION),
    "importance_top_k_overlap": Rule("none", source="reported: Jaccard overlap of the top-5 features"),
    "reason_code_rate": Rule("none", source="reported: share of unfavourable decisions a feature explains"),
    "monotonicity_reversal": Rule("higher_is_worse", 0.10, 0.25,
                                  "project default: the largest reversal of the average ICE curve (partial "
                                  "dependence) against the declared direction, as a share of the curve's range; "
                                  "a tenth of the feature's whole effect shows in a score, a quarter contradicts "
                                  "the declared direction", domain=UNIT),
    "monotonicity_violation_share": Rule("none", source="reported: share of ICE curves whose largest reversal is at "
                                         "least the amber bound of monotonicity_reversal, as a share of their own range"),
    # backtesting, classification
    "auc": Rule("lower_is_worse", 0.70, 0.60, "project default, common practice for retail PD models", domain=UNIT),
    "gini": Rule("lower_is_worse", 0.40, 0.20, "project default, common practice for retail PD models (Gini = 2 AUC - 1)", domain=CORRELATION),
    "ks": Rule("none", source="reported"),
    "brier": Rule("none", source="reported"),
    "hosmer_lemeshow_pvalue": Rule("lower_is_worse", 0.05, 0.001, "Hosmer and Lemeshow (2000), Applied Logistic Regression, 5.2.2: goodness of fit over score groups; " + _LEVELS,
                                   domain=UNIT, pvalue=True,
                                   null_hypothesis="in every grade the mean PD equals the default probability",
                                   effect="share of defaults misplaced over the grades, sum |O - E| / sum E",
                                   immaterial=(-_INF, 0.2),
                                   immaterial_source="project default: a fifth of the expected defaults misplaced, the "
                                                     "bound of observed / expected per grade"),
    "jeffreys_pvalue": Rule("lower_is_worse", 0.05, 0.001, "ECB instructions for reporting the validation results of internal models (2019), 2.5.3.1: Jeffreys test per grade, traffic light at 95% / 99.9%",
                            domain=UNIT, pvalue=True, null_hypothesis=_SAME_PD.format("grade (or slice)"),
                            effect=_OE_EFFECT, immaterial=OBSERVED_EXPECTED_IMMATERIAL, immaterial_source=_OE_SOURCE),
    "binomial_pvalue": Rule("lower_is_worse", None, None, "BCBS Working Paper 14 (2005), Studies on the validation of internal rating systems: binomial test of the PD per grade (assumes independent defaults); reported: it tests the same hypothesis as jeffreys_pvalue, which is judged, so no grade counts twice (a spec may judge it with thresholds)",
                            domain=UNIT, pvalue=True, null_hypothesis=_SAME_PD.format("grade"),
                            effect=_OE_EFFECT, immaterial=OBSERVED_EXPECTED_IMMATERIAL, immaterial_source=_OE_SOURCE),
    "auc_change_pvalue": Rule("lower_is_worse", 0.05, 0.001, "ECB instructions for reporting the validation results of internal models (2019), 2.5.4.1: current AUC against the AUC at initial validation, traffic light at 95% / 99.9%",
                              domain=UNIT, pvalue=True,
                              null_hypothesis="the current AUC is at least the reference AUC",
                              effect="AUC drop (reference - current)", immaterial=(-_INF, 0.03),
                              immaterial_source="project default: a drop of 0.03 AUC (6 Gini points), below which "
                                                "rank ordering has not changed in a way a decision would see"),
    "spiegelhalter_pvalue": Rule("lower_is_worse", 0.05, 0.001, "Spiegelhalter (1986), Statistics in Medicine 5: z-test of the Brier score under calibration; " + _LEVELS,
                                 domain=UNIT, pvalue=True,
                                 null_hypothesis="the PDs are calibrated: the Brier score equals its expectation under them",
                                 effect="relative excess of the Brier score over its expectation under calibration",
                                 immaterial=(-0.10, 0.10),
                                 immaterial_source="project default: a Brier score within a tenth of what calibrated "
                                                   "PDs would give"),
    "observed_expected_ratio": Rule("none", source="reported: observed over expected defaults (the effect of the "
                                    "Jeffreys test)"),
    "herfindahl_index": Rule("none", source="reported: ECB concentration of the grade distribution"),
    "herfindahl_change_pvalue": Rule("lower_is_worse", 0.05, 0.001, "ECB instructions for reporting the validation results of internal models (2019), 2.5.5.3: concentration of the grades (Herfindahl) against initial validation; " + _LEVELS,
                                     domain=UNIT, pvalue=True,
                                     null_hypothesis="the grades are no more concentrated than in the reference sample",
                                     effect="increase of the Herfindahl index (the ECB's, on its 0-1 scale)",
                                     immaterial=(-_INF, 0.05),
                                     immaterial_source="project default: an increase of 0.05 on the index's 0-1 "
                                                       "scale (a difference: near 0, equally filled grades, a "
                                                       "ratio of indices would call noise a large change)"),
    "bad_rate_approved": Rule("none", source="reported: business impact at the decision threshold"),
    "expected_loss": Rule("none", source="reported: sum PD x LGD x EAD of the approved"),
    "expected_default_exposure": Rule("none", source="reported: sum PD x EAD of the approved"),
    "duplicate_id_rows": Rule("higher_is_worse", 1, None,
                              "project default: any row whose data.ids repeat an earlier row's; every test assumes "
                              "independent rows, so the tests ran on one row per id (the latest)", domain=NON_NEGATIVE),
    # backtesting, VaR
    "exceptions": Rule("none", source="reported"),
    "kupiec_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Kupiec (1995) POF test at 95% / 99%", domain=UNIT, pvalue=True,
                          null_hypothesis="the VaR's exception probability is one minus its level",
                          effect="observed / expected exceptions", immaterial=OBSERVED_EXPECTED_IMMATERIAL,
                          immaterial_source="project default: exceptions within a fifth of those expected, the bound "
                                            "of observed / expected defaults"),
    "christoffersen_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Christoffersen (1998) independence test", domain=UNIT,
                                  pvalue=True,
                                  null_hypothesis="an exception is as likely the day after an exception as after a day "
                                                  "without",
                                  effect="probability of an exception after an exception over that after none",
                                  immaterial=(-_INF, 2.0),
                                  immaterial_source="project default: an exception at least twice as likely the day "
                                                    "after an exception (clustering); fewer exceptions after "
                                                    "exceptions is no harm"),
    "conditional_coverage_pvalue": Rule("lower_is_worse", None, None,
                                        "Christoffersen (1998) conditional coverage; reported: it joins the Kupiec and "
                                        "independence tests, which are judged, so no exception counts twice (a spec "
                                        "may judge it with thresholds)", domain=UNIT, pvalue=True,
                                        null_hypothesis="exceptions are independent, with probability one minus the level",
                                        effect="observed / expected exceptions"),
    "duration_independence_pvalue": Rule("lower_is_worse", 0.05, 0.01,
                                         "Christoffersen and Pelletier (2004), Journal of Financial Econometrics 2(1): "
                                         "duration-based test of independence (Weibull against exponential durations); "
                                         "it sees exceptions clustered in a stress window, not only on consecutive "
                                         "days; levels as Christoffersen", domain=UNIT, pvalue=True,
                                         null_hypothesis="the days between exceptions have no memory (exponential "
                                                         "durations, Weibull shape 1)",
                                         effect="Weibull shape of the durations between exceptions (below 1: clustered)",
                                         immaterial=(0.8, _INF),
                                         immaterial_source="project default: a Weibull shape of 0.8 or less (the chance of "
                                                           "an exception halves as the time since the last one "
                                                           "grows 32-fold)"),
    "exception_scan_pvalue": Rule("lower_is_worse", 0.05, 0.01,
                                  "Naus (1965), JASA 60: scan statistic, the most exceptions in any window of the "
                                  "backtesting check's scan_window_days (60: the Basel VaR averaging window), "
                                  "conditional on their number, Monte Carlo p-value (20,000 seeded draws); levels as "
                                  "Christoffersen", domain=UNIT, pvalue=True,
                                  null_hypothesis="the exceptions fall on random days: no window holds more than "
                                                  "chance puts there, given their number",
                                  effect="most exceptions in a window over the number a window holds on average",
                                  immaterial=(-_INF, 2.0),
                                  immaterial_source="project default: a window holding at least twice its share of "
                                                    "the exceptions"),
    "basel_zone": Rule("categorical", source="Basel Committee (1996) traffic-light zones"),
    "tuff_pvalue": Rule("none", source="reported: Kupiec (1995) time until first failure", pvalue=True,
                        null_hypothesis="the first exception comes as late as the VaR's level expects",
                        effect="expected over observed day of the first exception (above 1: too early)"),
    "plus_factor": Rule("higher_is_worse", 0.40, None,
                        "Basel Committee (1996), table 2: any plus factor (from 0.40, at 5 exceptions in 250 days "
                        "at 99%) raises the capital multiplier; the red zone is judged by basel_zone", domain=UNIT),
}

MEANINGS: dict[str, str] = {
    "psi": "The distribution of {subject} has shifted from the reference sample",
    "disparate_impact_ratio": "Applicants in {subject} are approved markedly less often than the comparator group",
    "demographic_parity_difference": "Approval rates differ materially between the {subject} groups",
    "equal_opportunity_difference": "Good payers of one {subject} group are approved materially less often than "
                                    "those of another",
    "equalized_odds_difference": "The model's errors fall to the harm of one {subject} group",
    "calibration_pvalue": "The model misstates the risk of {subject}",
    "shap_additivity_error": "The explanations do not add up to the model's output",
    "importance_rank_correlation": "The features that drive the model changed from the previous version",
    "monotonicity_reversal": "The model's response to {subject} goes against its declared direction",
    "auc": "The model tells good from bad payers poorly ({subject})",
    "gini": "The model tells good from bad payers poorly ({subject})",
    "hosmer_lemeshow_pvalue": "The PDs do not match the observed default rates across the grades",
    "jeffreys_pvalue": "The PD understates the observed default rate of {subject}",
    "binomial_pvalue": "The PD understates the observed default rate of {subject}",
    "auc_change_pvalue": "The model's discriminatory power fell from development",
    "spiegelhalter_pvalue": "The PDs are miscalibrated overall",
    "herfindahl_change_pvalue": "Exposure is more concentrated across the grades than at development",
    "duplicate_id_rows": "The same applicants appear more than once in the {subject} sample",
    "kupiec_pvalue": "The VaR is exceeded more often than its confidence level allows",
    "christoffersen_pvalue": "VaR exceptions follow each other on consecutive days",
    "conditional_coverage_pvalue": "VaR exceptions are too many or bunched together",
    "duration_independence_pvalue": "VaR exceptions cluster in time",
    "exception_scan_pvalue": "VaR exceptions bunch in a stress window",
    "basel_zone": "The VaR backtest is outside the Basel green zone",
    "plus_factor": "The Basel backtest adds a plus factor to the capital multiplier",
}
"""The plain-words meaning of a breach of each judged default rule (:attr:`Rule.meaning`)."""

DEFAULT_POLICY = {metric: replace(rule, meaning=MEANINGS.get(metric, rule.meaning))
                  for metric, rule in DEFAULT_POLICY.items()}

HIGH_OBSERVED_EXPECTED_IMMATERIAL = (0.9, 1 / 0.9)
_HIGH = ("project default for high materiality (SR 26-2: the more material a model, the more rigorous its "
         "validation): ")
_HIGH_OE = (_HIGH + "observed defaults within a tenth of those expected (1 / 0.9 keeps the band symmetric on the log "
            "scale): a tenth of the capital or the provisions of a high-materiality portfolio is material")


def _stricter(metric: str, **changes: Any) -> Rule:
    """The default rule of ``metric`` with ``changes`` (bounds, materiality and their sources)."""
    return replace(DEFAULT_POLICY[metric], **changes)


MATERIALITY_POLICY: dict[str, dict[str, Rule]] = {
    "high": {
        "auc": _stricter("auc", amber=0.75, red=0.65, source=_HIGH + "5 AUC points above the retail PD practice "
                         "for amber and red (0.70 / 0.60): a high-materiality model is held to the discrimination "
                         "its exposure warrants"),
        "gini": _stricter("gini", amber=0.50, red=0.30, source=_HIGH + "the AUC bounds as Gini (Gini = 2 AUC - 1)"),
        "auc_change_pvalue": _stricter("auc_change_pvalue", immaterial=(-_INF, 0.02), immaterial_source=_HIGH
                                       + "a drop of 0.02 AUC (4 Gini points) is material"),
        "jeffreys_pvalue": _stricter("jeffreys_pvalue", immaterial=HIGH_OBSERVED_EXPECTED_IMMATERIAL,
                                     immaterial_source=_HIGH_OE),
        "calibration_pvalue": _stricter("calibration_pvalue", immaterial=HIGH_OBSERVED_EXPECTED_IMMATERIAL,
                                        immaterial_source=_HIGH_OE),
        "hosmer_lemeshow_pvalue": _stricter("hosmer_lemeshow_pvalue", immaterial=(-_INF, 0.1),
                                            immaterial_source=_HIGH + "a tenth of the expected defaults misplaced, "
                                            "the bound of observed / expected per grade"),
        "spiegelhalter_pvalue": _stricter("spiegelhalter_pvalue", immaterial=(-0.05, 0.05),
                                          immaterial_source=_HIGH + "a Brier score within 5% of what calibrated PDs "
                                          "would give, half the default band"),
        "kupiec_pvalue": _stricter("kupiec_pvalue", immaterial=HIGH_OBSERVED_EXPECTED_IMMATERIAL,
                                   immaterial_source=_HIGH + "exceptions within a tenth of those expected, the "
                                   "bound of observed / expected defaults"),
    },
    "medium": {},
    "low": {},
}
"""Rules that replace the defaults by the model's materiality (``model.materiality``): stricter
bounds of discrimination and narrower materiality bounds of the calibration tests for a
high-materiality model; medium and low keep the defaults. A spec's ``thresholds`` still override
them."""

BASEL_ZONE_PROBABILITIES = (0.95, 0.9999)
"""Cumulative binomial probability of the exception count at which the yellow and the red zone
begin: Basel Committee on Banking Supervision (1996), "Supervisory framework for the use of
backtesting", table 2 (250 days at 99%: green 0-4, yellow 5-9, red 10+)."""

PSI_CRITICAL_LEVELS = (0.95, 0.999)
"""Confidence levels of the PSI critical values that mark amber and red under ``psi_rule: both``
(each with the policy's bound) and ``psi_rule: critical`` (Yurdakul 2018, "Statistical properties
of population stability index")."""

NOTE_SIGNIFICANCE = 0.05
"""Level at which a note calls a reported (not judged) p-value significant: the conventional 5%."""

_ZONE_STATUS = {"green": "green", "yellow": "amber", "red": "red"}


@dataclass(frozen=True)
class Bounds:
    """The bounds a metric is judged against under a policy, and which way is worse."""

    amber: float | None
    red: float | None
    direction: Direction


def _flagged(value: float, bound: float | None, direction: Direction) -> bool:
    """Whether ``value`` reaches ``bound``: ``value >= bound`` when higher is worse, ``value < bound``
    (strict) when lower is worse; a value within float tolerance of the bound counts as equal."""
    if bound is None:
        return False
    if math.isclose(value, bound, rel_tol=_REL_TOL, abs_tol=1e-12):
        return direction == "higher_is_worse"
    return value > bound if direction == "higher_is_worse" else value < bound


def _status(value: Any, bounds: Bounds) -> Status:
    if bounds.direction == "categorical":
        return _ZONE_STATUS.get(str(value), "info")  # type: ignore[return-value]
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "info"
    if bounds.direction == "none" or (bounds.amber is None and bounds.red is None):
        return "info"
    x = float(value)
    return ("red" if _flagged(x, bounds.red, bounds.direction)
            else "amber" if _flagged(x, bounds.amber, bounds.direction) else "green")


@dataclass(frozen=True)
class Policy:
    """The thresholds in force for one model version: the default rules (and those of third-party
    checks), overridden per metric by the spec's ``thresholds``, and the spec's ``multiplicity``.

    Examples
    --------
    >>> policy = Policy.for_spec(None)
    >>> policy.bounds("psi")
    Bounds(amber=0.1, red=0.25, direction='higher_is_worse')
    >>> policy.judge({"metric": "disparate_impact_ratio", "subject": "sex", "value": 0.79}).status
    'amber'

    A significant test of an immaterial effect is green:

    >>> policy.judge({"metric": "jeffreys_pvalue", "subject": "grade:3", "value": 1e-9, "effect": 1.04}).status
    'green'
    """

    rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_POLICY))
    overrides: Mapping[str, Any] = field(default_factory=dict)
    multiplicity: Method = DEFAULT_METHOD
    materiality: str | None = None
    """The model's materiality whose rules (:data:`MATERIALITY_POLICY`) replace the defaults."""

    @classmethod
    def for_materiality(cls, materiality: str | None) -> "Policy":
        """The rules in force for a materiality (``None``: the defaults), with no spec overrides.

        >>> Policy.for_materiality("high").bounds("auc")
        Bounds(amber=0.75, red=0.65, direction='lower_is_worse')
        """
        from validation.checks import REGISTRY

        if materiality is not None and materiality not in MATERIALITY_POLICY:
            raise ValueError(f"unknown materiality {materiality!r}; expected one of {', '.join(MATERIALITY_POLICY)}")
        stricter = MATERIALITY_POLICY.get(materiality, {}) if materiality is not None else {}
        return cls({**DEFAULT_POLICY, **REGISTRY.rules(), **stricter}, materiality=materiality)

    @classmethod
    def for_spec(cls, spec: Any | None) -> "Policy":
        """The policy of a model version: the rules of its materiality (``spec.model.materiality``),
        overridden by ``spec.thresholds``; the defaults for ``None``."""
        materiality = getattr(getattr(spec, "model", None), "materiality", None)
        return replace(cls.for_materiality(materiality), overrides=dict(getattr(spec, "thresholds", None) or {}),
                       multiplicity=getattr(spec, "multiplicity", None) or DEFAULT_METHOD)

    def rule(self, metric: str) -> Rule:
        return self.rules.get(metric, Rule("none"))

    def bounds(self, metric: str) -> Bounds:
        """The amber and red bounds of ``metric`` (the spec's when it sets them)."""
        rule = self.rule(metric)
        override = self.overrides.get(metric)
        amber, red = (override.amber, override.red) if override is not None else (rule.amber, rule.red)
        if rule.direction == "categorical":
            amber = red = None
        return Bounds(amber, red, rule.direction)

    def immaterial(self, metric: str) -> tuple[float, float] | None:
        """The interval of effects of ``metric`` that are not material (the spec's when it sets one)."""
        override = getattr(self.overrides.get(metric), "immaterial", None)
        if override is not None:
            low, high = override
            return (-math.inf if low is None else low, math.inf if high is None else high)
        return self.rule(metric).immaterial

    def status(self, metric: str, value: Any) -> Status:
        """The status of one value of ``metric`` (for traffic lights beside a table's numbers)."""
        return _status(value, self.bounds(metric))

    def judge(self, raw: Mapping[str, Any], *, p_adjusted: float | None = None) -> Finding:
        """A raw finding with its status and the bounds applied.

        A finding's own ``thresholds`` take precedence over the spec and the defaults; a finding
        reported without judgement (``judged: False``) is ``info`` with no bounds, so none can be
        read as applied. ``p_adjusted`` is the finding's p-value adjusted within its family
        (:meth:`judge_all`): a test is judged on it, and a rule's ``significance`` too. A
        test whose ``effect`` is inside the rule's ``immaterial`` interval is green.
        """
        metric = str(raw["metric"])
        rule = self.rule(metric)
        bounds = self.bounds(metric)
        own = raw.get("thresholds")
        if own is not None:
            bounds = Bounds(own.get("amber"), own.get("red"), bounds.direction)
        value, p_value, effect = raw.get("value"), _number(raw.get("p_value")), _number(raw.get("effect"))
        judged_value = p_adjusted if rule.pvalue and p_adjusted is not None else value
        status = _status(judged_value, bounds)
        note = raw.get("note") or None
        p_judged = p_adjusted if p_adjusted is not None else p_value
        level = rule.significance
        if level is not None and p_judged is not None and status in ("amber", "red"):
            if p_judged >= level:
                note = _joined(note, f"beyond the {status} bound, but p = {p_judged:.3g} (at least {level:g}) "
                                     "could be noise: not flagged")
                status = "green"
            elif status == "amber" and bounds.red is None:
                status = "red"  # material (beyond the bound) and significant (not noise)
        immaterial = self.immaterial(metric)
        if status in ("amber", "red") and immaterial is not None and effect is not None \
                and _inside(effect, immaterial):
            status = "green"
            note = _joined(note, f"significant but not material: {rule.effect or 'effect'} {effect:.4g} is "
                                 f"inside {_interval(immaterial)}")
        if not raw.get("judged", True):
            status, bounds = "info", Bounds(None, None, "none")
        tested = rule.pvalue or p_value is not None
        return Finding(metric=metric, subject=str(raw["subject"]), value=value, status=status,
                       amber=bounds.amber, red=bounds.red, direction=bounds.direction, note=note,
                       p_value=p_value, effect=effect, p_adjusted=p_adjusted, family=raw.get("family") or None,
                       effect_measure=(rule.effect or None) if effect is not None else None,
                       null_hypothesis=(rule.null_hypothesis or None) if tested else None,
                       cause=raw.get("cause") or None)

    def adjusted_p_values(self, raws: list[Mapping[str, Any]]) -> list[float | None]:
        """Each finding's p-value adjusted for multiplicity within its family (``None`` for a
        finding with no family, no p-value, or not judged): one metric's tests of one family are
        adjusted together by the policy's method. A finding that carries its own ``p_adjusted``
        (a check that picked the largest of several gaps and adjusted for that choice) keeps it."""
        families: dict[tuple[str, str], list[int]] = {}
        tested: dict[int, float] = {}
        for index, raw in enumerate(raws):
            family, metric = raw.get("family"), str(raw.get("metric"))
            p = _number(raw.get("value") if self.rule(metric).pvalue else raw.get("p_value"))
            own = _number(raw.get("p_adjusted"))
            if own is not None and raw.get("judged", True):
                tested[index] = own  # adjusted by the check itself (the largest of several gaps picked)
                continue
            if family and p is not None and raw.get("judged", True):
                families.setdefault((metric, str(family)), []).append(index)
                tested[index] = p
        adjusted: list[float | None] = [None] * len(raws)
        for index, raw in enumerate(raws):
            if _number(raw.get("p_adjusted")) is not None and index in tested:
                adjusted[index] = tested[index]
        for members in families.values():
            for index, value in zip(members, adjust([tested[i] for i in members], self.multiplicity)):
                adjusted[index] = float(value)
        return adjusted

    def judge_all(self, raws: Iterable[Mapping[str, Any]]) -> list[Finding]:
        """Judge every finding of a check, p-values adjusted within their families."""
        items = list(raws)
        return [self.judge(raw, p_adjusted=p) for raw, p in zip(items, self.adjusted_p_values(items))]


def _number(value: Any) -> float | None:
    """A finite number, else ``None`` (a missing p-value or effect is not judged)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _inside(effect: float, bounds: tuple[float, float]) -> bool:
    """Whether an effect is strictly inside the immaterial interval; an effect within float
    tolerance of a bound counts as on it (material), as values do at the amber and red bounds.

    >>> _inside(1.2499999999999990, (0.8, 1.25)), _inside(1.2, (0.8, 1.25))
    (False, True)
    """
    low, high = bounds
    on_bound = any(math.isfinite(b) and math.isclose(effect, b, rel_tol=_REL_TOL, abs_tol=1e-12) for b in bounds)
    return low < effect < high and not on_bound


def _joined(note: str | None, extra: str) -> str:
    return f"{note}; {extra}" if note else extra


def _interval(bounds: tuple[float, float]) -> str:
    low, high = bounds
    if math.isinf(low):
        return f"below {high:g}"
    if math.isinf(high):
        return f"above {low:g}"
    return f"({low:g}, {high:g})"


def severity(status: str) -> int:
    """Rank of a status for sorting, most severe highest; ``info`` and ``not_applicable`` lowest."""
    return SEVERITY.get(status, -1)


def worst(statuses: Iterable[str]) -> Status:
    """The most severe judged status, ignoring ``info`` and ``not_applicable``.

    Returns ``info`` when nothing was judged.

    >>> worst(["green", "info", "amber"])
    'amber'
    >>> worst(["info"])
    'info'
    """
    judged = [s for s in statuses if s in SEVERITY]
    return cast(Status, max(judged, key=SEVERITY.__getitem__)) if judged else "info"


def exit_code(status: str) -> int:
    """CLI exit code for a run's overall status (``docs/cli.md``, "Exit codes")."""
    return {"error": 3, "red": 1}.get(status, 0)
