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

Default thresholds and where they come from are in :data:`DEFAULT_POLICY` and the named levels
below it (the policy table); a spec overrides the bounds per metric under ``thresholds``.
:meth:`Policy.for_spec` is the one place a threshold is read: findings, headlines, charts,
notebook tables and the HTML all ask it, so none can contradict another. No threshold number
appears outside this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, cast

from validation.judging.findings import Direction, Finding, Status

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
    red_if_significant
        A level: a finding beyond its amber bound whose test of the same effect (its ``p_value``)
        is below this level is red. Materiality and significance together: the bound says the
        effect is large enough to matter, the test that it is not noise.
    """

    direction: Direction
    amber: float | None = None
    red: float | None = None
    source: str = ""
    domain: tuple[float, float] = (-math.inf, math.inf)
    red_if_significant: float | None = None


_LEVELS = "levels 95% / 99.9% as the ECB's traffic light (project default)"
UNIT = (0.0, 1.0)
"""The domain of probabilities, rates, shares, differences of rates and AUCs."""
NON_NEGATIVE = (0.0, math.inf)
CORRELATION = (-1.0, 1.0)

DEFAULT_POLICY: dict[str, Rule] = {
    # drift
    "psi": Rule("higher_is_worse", 0.10, 0.25, "industry convention (Siddiqi 2006): <0.10 stable, >=0.25 shifted", domain=NON_NEGATIVE),
    "ks_stat": Rule("none", source="reported; judged through psi by default"),
    "ks_pvalue": Rule("none", source="reported; p-values shrink with sample size, so not judged by default"),
    "chi2_pvalue": Rule("none", source="reported; p-values shrink with sample size, so not judged by default"),
    "js_distance": Rule("none", source="reported"),
    "wasserstein_norm": Rule("none", source="reported; Evidently's default drift threshold is 0.1"),
    "default_rate": Rule("none", source="reported per period"),
    # fairness
    "approval_rate": Rule("none", source="reported per group"),
    "disparate_impact_ratio": Rule("lower_is_worse", 0.8, None,
                                   "four-fifths rule (EEOC Uniform Guidelines, 29 CFR 1607.4(D)); red when the "
                                   "breach is also significant at 5% (Fisher's exact test against the comparator "
                                   "group: 1607.4(D) weighs statistical and practical significance together)",
                                   domain=NON_NEGATIVE, red_if_significant=0.05),
    "demographic_parity_difference": Rule("higher_is_worse", 0.10, 0.20, "common practice; set per policy", domain=UNIT),
    "equal_opportunity_difference": Rule("higher_is_worse", 0.10, 0.20, "common practice; set per policy", domain=UNIT),
    "equalized_odds_difference": Rule("higher_is_worse", 0.10, 0.20, "common practice; set per policy", domain=UNIT),
    "disparity_ztest_pvalue": Rule("none", source="reported: two-proportion z-test vs the most-approved group"),
    "disparity_fisher_pvalue": Rule("none", source="reported: Fisher exact test vs the most-approved group"),
    "calibration_pvalue": Rule("lower_is_worse", 0.05, 0.001,
                               "ECB IRB validation instructions 2.5.3.1 (Jeffreys test), two-sided for a protected "
                               "group: over- and understated risk both harm; traffic light at 95% / 99.9%",
                               domain=UNIT),
    # explainability
    "shap_importance": Rule("none", source="reported per feature"),
    "shap_additivity_error": Rule("higher_is_worse", 1e-4, 1e-2, "SHAP local accuracy: base + sum = margin", domain=NON_NEGATIVE),
    "importance_rank_correlation": Rule("lower_is_worse", 0.7, 0.4, "common practice; set per policy", domain=CORRELATION),
    "importance_top_k_overlap": Rule("none", source="reported: Jaccard overlap of the top-5 features"),
    "reason_code_rate": Rule("none", source="reported: share of unfavourable decisions a feature explains"),
    "monotonicity_violation_share": Rule("higher_is_worse", 0.01, 0.10,
                                         "share of ICE curves against the declared direction; set per policy", domain=UNIT),
    # backtesting, classification
    "auc": Rule("lower_is_worse", 0.70, 0.60, "common practice for retail PD models", domain=UNIT),
    "gini": Rule("lower_is_worse", 0.40, 0.20, "common practice for retail PD models (Gini = 2 AUC - 1)", domain=CORRELATION),
    "ks": Rule("none", source="reported"),
    "brier": Rule("none", source="reported"),
    "hosmer_lemeshow_pvalue": Rule("lower_is_worse", 0.05, 0.001, "Hosmer and Lemeshow (2000), Applied Logistic Regression, 5.2.2: goodness of fit over score groups; " + _LEVELS, domain=UNIT),
    "jeffreys_pvalue": Rule("lower_is_worse", 0.05, 0.001, "ECB instructions for reporting the validation results of internal models (2019), 2.5.3.1: Jeffreys test per grade, traffic light at 95% / 99.9%", domain=UNIT),
    "binomial_pvalue": Rule("lower_is_worse", 0.05, 0.001, "BCBS Working Paper 14 (2005), Studies on the validation of internal rating systems: binomial test of the PD per grade (assumes independent defaults); " + _LEVELS, domain=UNIT),
    "auc_change_pvalue": Rule("lower_is_worse", 0.05, 0.001, "ECB instructions for reporting the validation results of internal models (2019): current AUC against the AUC at initial validation, traffic light at 95% / 99.9%", domain=UNIT),
    "spiegelhalter_pvalue": Rule("lower_is_worse", 0.05, 0.001, "Spiegelhalter (1986), Statistics in Medicine 5: z-test of the Brier score under calibration; " + _LEVELS, domain=UNIT),
    "observed_expected_ratio": Rule("none", source="reported: observed over expected defaults"),
    "herfindahl_index": Rule("none", source="reported: ECB concentration of the grade distribution"),
    "herfindahl_change_pvalue": Rule("lower_is_worse", 0.05, 0.001, "ECB instructions for reporting the validation results of internal models (2019): concentration of the grades (Herfindahl) against initial validation; " + _LEVELS, domain=UNIT),
    "bad_rate_approved": Rule("none", source="reported: business impact at the decision threshold"),
    "expected_loss": Rule("none", source="reported: sum PD x LGD x EAD of the approved"),
    "expected_default_exposure": Rule("none", source="reported: sum PD x EAD of the approved"),
    # backtesting, VaR
    "exceptions": Rule("none", source="reported"),
    "kupiec_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Kupiec (1995) POF test at 95% / 99%", domain=UNIT),
    "christoffersen_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Christoffersen (1998) independence test", domain=UNIT),
    "conditional_coverage_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Christoffersen (1998) conditional coverage", domain=UNIT),
    "basel_zone": Rule("categorical", source="Basel Committee (1996) traffic-light zones"),
    "tuff_pvalue": Rule("none", source="reported: Kupiec (1995) time until first failure"),
    "plus_factor": Rule("higher_is_worse", 0.40, None,
                        "Basel Committee (1996), table 2: any plus factor (from 0.40, at 5 exceptions in 250 days "
                        "at 99%) raises the capital multiplier; the red zone is judged by basel_zone", domain=UNIT),
}

BASEL_ZONE_PROBABILITIES = (0.95, 0.9999)
"""Cumulative binomial probability of the exception count at which the yellow and the red zone
begin: Basel Committee on Banking Supervision (1996), "Supervisory framework for the use of
backtesting", table 2 (250 days at 99%: green 0-4, yellow 5-9, red 10+)."""

PSI_CRITICAL_LEVELS = (0.95, 0.999)
"""Confidence levels of the PSI critical values that mark amber and red under ``psi_rule:
critical`` (Yurdakul 2018, "Statistical properties of population stability index")."""

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
    checks), overridden per metric by the spec's ``thresholds``.

    Examples
    --------
    >>> policy = Policy.for_spec(None)
    >>> policy.bounds("psi")
    Bounds(amber=0.1, red=0.25, direction='higher_is_worse')
    >>> policy.judge({"metric": "disparate_impact_ratio", "subject": "sex", "value": 0.79}).status
    'amber'
    """

    rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_POLICY))
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_spec(cls, spec: Any | None) -> "Policy":
        """The policy of a model version (``spec.thresholds`` overrides), or the defaults."""
        from validation.checks import REGISTRY

        rules = {**DEFAULT_POLICY, **REGISTRY.rules()}
        return cls(rules, dict(getattr(spec, "thresholds", None) or {}))

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

    def status(self, metric: str, value: Any) -> Status:
        """The status of one value of ``metric`` (for traffic lights beside a table's numbers)."""
        return _status(value, self.bounds(metric))

    def judge(self, raw: Mapping[str, Any]) -> Finding:
        """A raw finding with its status and the bounds applied.

        A finding's own ``thresholds`` take precedence over the spec and the defaults; a finding
        reported without judgement (``judged: False``) is ``info`` with no bounds, so none can be
        read as applied.
        """
        metric = str(raw["metric"])
        bounds = self.bounds(metric)
        own = raw.get("thresholds")
        if own is not None:
            bounds = Bounds(own.get("amber"), own.get("red"), bounds.direction)
        status = _status(raw.get("value"), bounds)
        level, p_value = self.rule(metric).red_if_significant, raw.get("p_value")
        if status == "amber" and level is not None and isinstance(p_value, (int, float)) and p_value < level:
            status = "red"  # material (beyond the bound) and significant (not noise)
        if not raw.get("judged", True):
            status, bounds = "info", Bounds(None, None, "none")
        return Finding(metric=metric, subject=str(raw["subject"]), value=raw.get("value"), status=status,
                       amber=bounds.amber, red=bounds.red, direction=bounds.direction, note=raw.get("note") or None,
                       p_value=p_value if isinstance(p_value, (int, float)) else None)

    def judge_all(self, raws: Iterable[Mapping[str, Any]]) -> list[Finding]:
        return [self.judge(raw) for raw in raws]


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
