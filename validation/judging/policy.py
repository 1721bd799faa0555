"""Policy: default thresholds per metric, and the judgement of a value into a status.

Statuses, in order of severity: ``green < amber < red < error``. ``info`` (a metric with no
threshold, or a value that is reported but not judged) and ``not_applicable`` (a check that does
not apply) are outside that order and never affect a run's status (DESIGN.md, "results.json").

Comparison conventions
----------------------
- ``higher_is_worse``: ``value >= red`` is red, else ``value >= amber`` is amber (PSI 0.10 is amber).
- ``lower_is_worse``: ``value < red`` is red, else ``value < amber`` is amber. Strict, so the
  four-fifths rule flags a ratio *less than* 0.8 and a ratio of exactly 0.8 is not flagged.
- A value within ``1e-9`` (relative) of a bound counts as equal to it, so floating-point error
  (``0.7999999999999999`` for 4/5) never flips a status at the boundary.
- ``categorical``: the value is a name; ``basel_zone`` maps green/yellow/red to green/amber/red.

Default thresholds and where they come from are in :data:`DEFAULT_POLICY`; a spec overrides them
per metric under ``thresholds``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Mapping

Direction = Literal["higher_is_worse", "lower_is_worse", "categorical", "none"]

SEVERITY = {"green": 0, "amber": 1, "red": 2, "error": 3}
"""Order of the judged statuses; ``info`` and ``not_applicable`` are not in it."""

UNJUDGED = ("info", "not_applicable")

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
    """

    direction: Direction
    amber: float | None = None
    red: float | None = None
    source: str = ""


_P_VALUE = "ECB IRB validation instructions: traffic light at 95% / 99.9% confidence"

DEFAULT_POLICY: dict[str, Rule] = {
    # drift
    "psi": Rule("higher_is_worse", 0.10, 0.25, "industry convention (Siddiqi 2006): <0.10 stable, >=0.25 shifted"),
    "ks_stat": Rule("none", source="reported; judged through psi by default"),
    "ks_pvalue": Rule("none", source="reported; p-values shrink with sample size, so not judged by default"),
    "chi2_pvalue": Rule("none", source="reported; p-values shrink with sample size, so not judged by default"),
    "js_distance": Rule("none", source="reported"),
    "wasserstein_norm": Rule("none", source="reported; Evidently's default drift threshold is 0.1"),
    "default_rate": Rule("none", source="reported per period"),
    # fairness
    "approval_rate": Rule("none", source="reported per group"),
    "disparate_impact_ratio": Rule("lower_is_worse", 0.8, None, "four-fifths rule (EEOC Uniform Guidelines, 29 CFR 1607.4(D))"),
    "demographic_parity_difference": Rule("higher_is_worse", 0.10, 0.20, "common practice; set per policy"),
    "equal_opportunity_difference": Rule("higher_is_worse", 0.10, 0.20, "common practice; set per policy"),
    "equalized_odds_difference": Rule("higher_is_worse", 0.10, 0.20, "common practice; set per policy"),
    "disparity_ztest_pvalue": Rule("none", source="reported: two-proportion z-test vs the most-approved group"),
    "disparity_fisher_pvalue": Rule("none", source="reported: Fisher exact test vs the most-approved group"),
    # explainability
    "shap_importance": Rule("none", source="reported per feature"),
    "shap_additivity_error": Rule("higher_is_worse", 1e-4, 1e-2, "SHAP local accuracy: base + sum = margin"),
    "importance_rank_correlation": Rule("lower_is_worse", 0.7, 0.4, "common practice; set per policy"),
    "importance_top_k_overlap": Rule("none", source="reported: Jaccard overlap of the top-5 features"),
    "reason_code_rate": Rule("none", source="reported: share of unfavourable decisions a feature explains"),
    "monotonicity_violation_share": Rule("higher_is_worse", 0.01, 0.10,
                                         "share of ICE curves against the declared direction; set per policy"),
    # backtesting, classification
    "auc": Rule("lower_is_worse", 0.70, 0.60, "common practice for retail PD models"),
    "gini": Rule("lower_is_worse", 0.40, 0.20, "common practice for retail PD models (Gini = 2 AUC - 1)"),
    "ks": Rule("none", source="reported"),
    "brier": Rule("none", source="reported"),
    "hosmer_lemeshow_pvalue": Rule("lower_is_worse", 0.05, 0.001, _P_VALUE),
    "jeffreys_pvalue": Rule("lower_is_worse", 0.05, 0.001, _P_VALUE),
    "binomial_pvalue": Rule("lower_is_worse", 0.05, 0.001, _P_VALUE),
    "auc_change_pvalue": Rule("lower_is_worse", 0.05, 0.001, _P_VALUE),
    "spiegelhalter_pvalue": Rule("lower_is_worse", 0.05, 0.001, _P_VALUE),
    "observed_expected_ratio": Rule("none", source="reported: observed over expected defaults"),
    "herfindahl_index": Rule("none", source="reported: ECB concentration of the grade distribution"),
    "herfindahl_change_pvalue": Rule("lower_is_worse", 0.05, 0.001, _P_VALUE),
    "bad_rate_approved": Rule("none", source="reported: business impact at the decision threshold"),
    "expected_loss": Rule("none", source="reported: sum PD x LGD x EAD of the approved"),
    "expected_default_exposure": Rule("none", source="reported: sum PD x EAD of the approved"),
    # backtesting, VaR
    "exceptions": Rule("none", source="reported"),
    "kupiec_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Kupiec (1995) POF test at 95% / 99%"),
    "christoffersen_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Christoffersen (1998) independence test"),
    "conditional_coverage_pvalue": Rule("lower_is_worse", 0.05, 0.01, "Christoffersen (1998) conditional coverage"),
    "basel_zone": Rule("categorical", source="Basel Committee (1996) traffic-light zones"),
    "tuff_pvalue": Rule("none", source="reported: Kupiec (1995) time until first failure"),
    "plus_factor": Rule("none", source="reported: Basel (1996) plus factor to the capital multiplier"),
}

_ZONE_STATUS = {"green": "green", "yellow": "amber", "red": "red"}


@dataclass(frozen=True)
class Judgement:
    status: str
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


def judge(metric: str, value: Any, overrides: Mapping[str, Any] | None = None) -> Judgement:
    """Turn one metric value into a status.

    Parameters
    ----------
    metric
        A metric name from :data:`DEFAULT_POLICY`.
    value
        The metric's value (a number; a zone name for ``basel_zone``; ``None`` when undefined).
    overrides
        The spec's ``thresholds``: metric -> object with ``amber`` and ``red`` attributes.

    Returns
    -------
    Judgement
        The status and the bounds and direction used.

    Examples
    --------
    >>> judge("psi", 0.10).status
    'amber'
    >>> judge("disparate_impact_ratio", 0.8).status, judge("disparate_impact_ratio", 0.79).status
    ('green', 'amber')
    """
    rule = DEFAULT_POLICY.get(metric, Rule("none"))
    amber, red = rule.amber, rule.red
    override = (overrides or {}).get(metric)
    if override is not None:
        amber, red = override.amber, override.red
    direction = rule.direction
    if direction == "categorical":
        return Judgement(_ZONE_STATUS.get(str(value), "info"), None, None, direction)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Judgement("info", amber, red, direction)
    if direction == "none" or (amber is None and red is None):
        return Judgement("info", amber, red, direction)
    x = float(value)
    status = "red" if _flagged(x, red, direction) else "amber" if _flagged(x, amber, direction) else "green"
    return Judgement(status, amber, red, direction)


def worst(statuses: list[str]) -> str:
    """The most severe judged status, ignoring ``info`` and ``not_applicable``.

    Returns ``info`` when nothing was judged.

    >>> worst(["green", "info", "amber"])
    'amber'
    >>> worst(["info"])
    'info'
    """
    judged = [s for s in statuses if s in SEVERITY]
    return max(judged, key=SEVERITY.__getitem__) if judged else "info"


def exit_code(status: str) -> int:
    """CLI exit code for a run's overall status (DESIGN.md, "CLI contract")."""
    return {"error": 3, "red": 1}.get(status, 0)
