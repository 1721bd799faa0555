"""Issue 17, "Honest verdicts", for the backtesting check: each test builds data that shows one
item of the issue's "What was found" and runs the check's ``run`` on a context built from
DataFrames, judging its findings as the pack does (:meth:`Policy.judge_all`).

References are independent of the code under test: the portfolios' true default probabilities are
known by construction; Holm's adjustment is statsmodels' ``multipletests``; the DeLong standard
error is computed by brute force from DeLong, DeLong & Clarke-Pearson (1988); the duration test is
:mod:`validation.metrics.durations` (tested against its own references in
``tests/metrics/test_durations.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from validation.checks.backtesting import (DUPLICATES_WARNING, TRAINING_REFERENCE_MEASURED, TRAINING_REFERENCE_NOTE,
                                           TRAINING_REFERENCE_WARNING,
                                           BacktestingCheck, BacktestingParams)
from validation.checks.base import CheckContext, CheckOutput, MarkdownText
from validation.inputs.samples import Samples
from validation.inputs.spec import DataSection, Decision, ModelSection, ModelVersionSpec, ReferenceMetrics
from validation.judging.findings import Finding
from validation.judging.policy import Policy
from validation.metrics import backtesting as bt

MASTER_SCALE = (0.0075, 0.01, 0.015, 0.025, 0.04, 0.06, 0.09, 0.14, 0.21, 1.0)
"""Upper PD bounds of a ten-grade master scale spanning 0.5% to 30%."""
BIASED_GRADE = 9
"""The grade (PDs 14% to 21%, about 17,000 rows and 2,900 expected defaults of 200,000) whose PDs
understate risk by 30% in item (b): enough defaults that its observed / expected is 1.30 +- 0.02."""


def _portfolio(n: int, seed: int, *, bias: float = 1.0, grade_bias: float | None = None) -> pd.DataFrame:
    """A scored portfolio whose true default probability is ``PD x bias`` (``PD x grade_bias`` in
    :data:`BIASED_GRADE` when given): logit-normal PDs clipped to [0.5%, 30%], twelve months and
    three regions at random. The truth is known by construction."""
    rng = np.random.default_rng(seed)
    pd_score = np.clip(1 / (1 + np.exp(-rng.normal(-2.9, 1.1, n))), 0.005, 0.30)
    truth = pd_score * bias
    if grade_bias is not None:
        truth = np.where(bt.assign_grades(pd_score, MASTER_SCALE) == BIASED_GRADE, pd_score * grade_bias, truth)
    return pd.DataFrame({"pd": pd_score, "default": (rng.random(n) < truth).astype(int),
                         "month": np.array([f"2025-{m:02d}" for m in range(1, 13)])[rng.integers(0, 12, n)],
                         "region": rng.choice(["north", "south", "east"], n)})


def _context(reference: pd.DataFrame, current: pd.DataFrame, *, duplicates: dict[str, int] | None = None,
             reference_metrics: ReferenceMetrics | None = None, model_type: str = "classification",
             **data: Any) -> CheckContext:
    """A check context on DataFrames, as :func:`validation.checks.open_context` builds it from files."""
    columns = ({"target": "default", "score": "pd"} if model_type == "classification" else {})
    spec = ModelVersionSpec(
        path=Path("spec.yaml"), sha256="0" * 64, model=ModelSection(name="toy_pd", version="1", type=model_type),
        data=DataSection(reference="ref.parquet", current="cur.parquet", **columns, **data),
        decision=Decision(threshold=0.1) if model_type == "classification" else None,
        grades=MASTER_SCALE if model_type == "classification" else None, checks={"backtesting": {}}, thresholds={},
        reference_metrics=reference_metrics)
    samples = Samples(reference, current, [], columns.get("score"), columns.get("target"),
                      duplicates=dict(duplicates or {}))
    return CheckContext(spec, None, samples, Policy.for_spec(spec))  # type: ignore[arg-type]


def _run(context: CheckContext, **params: Any) -> tuple[CheckOutput, list[Finding]]:
    output = BacktestingCheck().run(context, BacktestingParams(**params))
    return output, context.policy.judge_all(output.findings)


def _texts(output: CheckOutput, title: str | None = None) -> list[str]:
    """The Markdown of the output's sections (of the one titled ``title`` when given)."""
    return [item.text for s in output.sections if title in (None, s.title) for item in s.items
            if isinstance(item, MarkdownText)]


def _flagged(judged: list[Finding]) -> dict[tuple[str, str], str]:
    return {(f.metric, f.subject): f.status for f in judged if f.status in ("amber", "red")}


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return _portfolio(50_000, seed=1)


def test_a_well_calibrated_200k_portfolio_with_a_2_percent_bias_is_green(reference: pd.DataFrame) -> None:
    """Issue 17, item 1 (significance without materiality; "done when": a 200k-row, well-calibrated
    portfolio with a 2% relative PD bias is green). Reference: the truth by construction, default
    probability = PD x 1.02 for every applicant. At 200,000 rows such a bias is significant (the
    portfolio's Jeffreys p is below 5%), yet nothing in the whole output is amber or red: every
    test's effect (observed / expected about 1.02) is immaterial."""
    output, judged = _run(_context(reference, _portfolio(200_000, seed=2, bias=1.02), time="month",
                                   segments=["region"]))
    assert _flagged(judged) == {}
    found = {(f.metric, f.subject): f for f in judged}
    portfolio = found[("jeffreys_pvalue", "portfolio")]
    assert portfolio.value < 0.05 and portfolio.status == "green"  # significant, not material
    assert "significant but not material" in str(portfolio.note)
    assert portfolio.effect == pytest.approx(1.02, abs=0.01)
    # every test carries its effect; grades, periods and regions are families, the portfolio none
    for f in judged:
        if f.metric in ("jeffreys_pvalue", "binomial_pvalue", "hosmer_lemeshow_pvalue", "spiegelhalter_pvalue",
                        "auc_change_pvalue", "herfindahl_change_pvalue"):
            assert f.effect is not None, (f.metric, f.subject)
    families = {f.subject.split(":")[0]: f.family for f in judged if f.metric == "jeffreys_pvalue"}
    assert families == {"portfolio": None, "grade": "grade", "period": "period", "region": "segment region"}
    assert output.summary["warnings"] == []


def test_a_30_percent_bias_in_one_grade_is_red_for_that_grade_only(reference: pd.DataFrame) -> None:
    """Issue 17, "done when": the same portfolio with a 30% bias in one grade is red for that grade
    only. Reference: the truth by construction, default probability = PD x 1.30 in grade 9 and
    PD x 1.02 elsewhere.

    What else may be flagged, and is not: the portfolio's observed / expected (about 1.07), the
    share of defaults Hosmer-Lemeshow finds misplaced (about 0.07), the Brier excess (about 0.06)
    and each month's and region's observed / expected (about 1.07) are all significant at 200,000
    rows but inside their materiality bounds, so green. The grade's binomial test (same hypothesis)
    is reported, not judged. So exactly one finding is amber or red: grade 9's Jeffreys test."""
    current = _portfolio(200_000, seed=2, bias=1.02, grade_bias=1.30)
    output, judged = _run(_context(reference, current, time="month", segments=["region"]))
    assert _flagged(judged) == {("jeffreys_pvalue", f"grade:{BIASED_GRADE}"): "red"}
    found = {(f.metric, f.subject): f for f in judged}
    grade = found[("jeffreys_pvalue", f"grade:{BIASED_GRADE}")]
    in_grade = bt.assign_grades(current["pd"].to_numpy(), MASTER_SCALE) == BIASED_GRADE
    observed, expected = current.loc[in_grade, "default"].sum(), current.loc[in_grade, "pd"].sum()
    assert grade.effect == pytest.approx(observed / expected) and grade.effect > 1.25
    assert grade.p_adjusted is not None and grade.p_adjusted < 0.001 and grade.family == "grade"
    assert found[("binomial_pvalue", f"grade:{BIASED_GRADE}")].status == "info"
    # significant elsewhere, but not material: green with the reason in the note
    for key in [("jeffreys_pvalue", "portfolio"), ("hosmer_lemeshow_pvalue", "portfolio")]:
        assert found[key].status == "green" and "significant but not material" in str(found[key].note), key
    # the grade table shows the light the finding has
    table = output.tables["grades"]
    assert table.loc[BIASED_GRADE, "observed_expected_ratio"] == pytest.approx(grade.effect)


def _noise_slices(rng: np.random.Generator, slices: int, rows: int) -> pd.DataFrame:
    """A :func:`bt.slice_table` of ``slices`` calibrated slices of ``rows`` rows each (pure noise:
    outcomes drawn from the PDs themselves)."""
    p = np.clip(1 / (1 + np.exp(-rng.normal(-2.9, 1.1, (slices, rows)))), 0.005, 0.30)
    d = (rng.random((slices, rows)) < p).sum(axis=1)
    mean_pd = p.mean(axis=1)
    return pd.DataFrame({"n": rows, "defaults": d, "pd": mean_pd, "odr": d / rows, "auc": math.nan,
                         "observed_expected_ratio": d / p.sum(axis=1),
                         "jeffreys_pvalue": [bt.jeffreys_pvalue(float(m), rows, int(k)) for m, k in zip(mean_pd, d)]},
                        index=pd.Index([f"p{i:03d}" for i in range(slices)], name="period"))


def test_multiplicity_noise_over_many_periods_is_not_amber_by_chance(reference: pd.DataFrame) -> None:
    """Issue 17, item 2 (multiplicity). Reference: statsmodels' ``multipletests(method="holm")``;
    the data are pure noise (outcomes drawn from the PDs themselves).

    Over 300 families of 20 calibrated periods of 200 rows, judging each raw p-value (as before)
    flags at least one period amber in about two families of three (1 - 0.95^20 = 0.64), though
    nothing is wrong; judged on Holm-adjusted p-values, about 5% of the families (the family-wise
    error rate Holm controls; 4% here). At 200
    rows a chance excess is also material (observed / expected near 1.5), so materiality alone
    cannot save these: only the adjustment does."""
    policy = Policy()
    rng = np.random.default_rng(17)
    raw_any = adjusted_any = 0
    families = 300
    for _ in range(families):
        findings = bt.slice_findings(_noise_slices(rng, 20, 200), "period", min_rows=30)
        tests = [f for f in findings if f["metric"] == "jeffreys_pvalue"]
        raw_any += any(policy.judge(f).status in ("amber", "red") for f in tests)
        adjusted_any += any(f.status in ("amber", "red") for f in policy.judge_all(tests))
    assert raw_any / families > 0.5  # 0.62 here
    assert adjusted_any / families <= 0.08  # 0.04 here
    # one noisy run of the check with 60 months of 200 rows: raw p-values give amber months,
    # adjusted ones none; p_adjusted is Holm's (statsmodels) and the raw p-value is kept beside it
    current = _portfolio(12_000, seed=5)
    current["month"] = [f"m{i:02d}" for i in np.arange(12_000) % 60]
    output, judged = _run(_context(reference, current, time="month"))
    periods = [f for f in judged if f.metric == "jeffreys_pvalue" and f.subject.startswith("period:")]
    raw = [policy.judge(f) for f in output.findings if f["metric"] == "jeffreys_pvalue"
           and str(f["subject"]).startswith("period:")]
    assert len(periods) == 60 and {f.status for f in periods} == {"green"}
    assert sum(f.status == "amber" for f in raw) >= 1
    holm = multipletests([float(f.value) for f in periods], method="holm")[1]  # type: ignore[arg-type]
    assert [f.p_adjusted for f in periods] == pytest.approx(list(holm), rel=1e-12)


def test_small_slices_are_reported_not_judged(reference: pd.DataFrame) -> None:
    """Issue 17, sample-size-aware bounds: a period smaller than ``min_slice_rows`` (default 30) is
    reported, not judged, and the section says so. Reference: the counts by construction (one
    period of 20 rows in which every applicant defaults, which a judged test would flag red)."""
    current = _portfolio(3_000, seed=6)
    current["month"] = np.where(np.arange(3_000) < 20, "tiny", "big")
    current.loc[current["month"] == "tiny", "default"] = 1
    output, judged = _run(_context(reference, current, time="month"))
    tiny = {f.metric: f for f in judged if f.subject == "period:tiny"}
    assert tiny["jeffreys_pvalue"].status == "info" and tiny["jeffreys_pvalue"].value < 1e-6
    assert "fewer than 30 rows (min_slice_rows): reported, not judged" in str(tiny["jeffreys_pvalue"].note)
    text = " ".join(_texts(output, "By month"))
    assert "fewer than 30 rows (min_slice_rows) are reported, not judged (1 of them here)" in text
    # with a minimum of 20 the period is judged, and red
    _, judged = _run(_context(reference, current, time="month"), min_slice_rows=20)
    assert {f.metric: f for f in judged if f.subject == "period:tiny"}["jeffreys_pvalue"].status == "red"
    assert output.summary["min_slice_rows"] == 30


def _delong_se(y: np.ndarray, s: np.ndarray) -> float:
    """DeLong, DeLong & Clarke-Pearson (1988): the standard error of the AUC from its structural
    components, by brute force over every (event, non-event) pair."""
    x, z = s[y == 1], s[y == 0]
    psi = (x[:, None] > z[None, :]).astype(float) + 0.5 * (x[:, None] == z[None, :])
    return math.sqrt(psi.mean(axis=1).var(ddof=1) / len(x) + psi.mean(axis=0).var(ddof=1) / len(z))


def test_a_training_reference_is_not_judged_and_reference_metrics_are_used() -> None:
    """Issue 17, item 7 (the reference is not what the test assumes). Reference: a one-sided normal
    p-value computed by hand, ``1 - Phi((0.748 - AUC_now) / SE)``, with the DeLong standard error
    by brute force (:func:`_delong_se`) and the AUC from scipy's Mann-Whitney U.

    The reference sample here is a training sample the model fits in-sample (AUC near 0.96), the
    current sample an honest one (AUC near 0.75): against the in-sample AUC the change test would
    be red. Declared ``training`` with no ``reference_metrics``, the test is reported, not judged,
    and the summary warns first; with ``reference_metrics.auc = 0.748`` the test uses it."""
    rng = np.random.default_rng(7)
    current = _portfolio(3_000, seed=8)
    training = current.copy()
    training["pd"] = np.clip(0.05 + 0.6 * training["default"] + rng.normal(0, 0.12, 3_000), 0.001, 0.999)
    _, naive = _run(_context(training, current))
    assert {f.metric: f for f in naive if f.subject == "score"}["auc_change_pvalue"].status == "red"

    output, judged = _run(_context(training, current, reference_kind="training"))
    change = {f.metric: f for f in judged if f.subject == "score"}["auc_change_pvalue"]
    assert change.status == "info" and TRAINING_REFERENCE_NOTE in str(change.note)
    assert change.effect is not None and change.effect > 0.15  # the in-sample optimism, shown
    assert output.summary["warnings"] == [TRAINING_REFERENCE_WARNING]

    development = ReferenceMetrics(source="5-fold CV at development", auc=0.748, bad_rate_approved=0.045)
    output, judged = _run(_context(training, current, reference_kind="training", reference_metrics=development))
    change = {f.metric: f for f in judged if f.subject == "score"}["auc_change_pvalue"]
    y, s = current["default"].to_numpy(), current["pd"].to_numpy()
    u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    auc_now = u / ((y == 1).sum() * (y == 0).sum())
    expected = stats.norm.sf((0.748 - auc_now) / _delong_se(y, s))
    assert change.value == pytest.approx(expected, rel=1e-9)
    assert change.effect == pytest.approx(0.748 - auc_now, rel=1e-9)
    assert change.status != "info" and "development (5-fold CV at development)" in str(change.note)
    # the training reference is still said first: what else is computed on it is in-sample
    assert output.summary["warnings"] == [TRAINING_REFERENCE_MEASURED.format(auc=0.748, source="5-fold CV at development")]
    assert "development (5-fold CV at development)" in output.tables["discrimination"].columns
    # business impact: the bad rate among the approved is compared with development's, not training's
    impact = {f["metric"]: f for f in output.findings if f["subject"] == "portfolio" and f["metric"] in
              ("bad_rate_approved", "approval_rate")}
    assert impact["bad_rate_approved"]["note"] == "development (5-fold CV at development) 0.045"
    assert str(impact["approval_rate"]["note"]).startswith("reference ")
    assert output.tables["impact"].loc["bad_rate_approved", "development (5-fold CV at development)"] == 0.045


def test_duplicate_ids_are_a_data_quality_finding(reference: pd.DataFrame) -> None:
    """Issue 17, item 7 (duplicate ``data.ids``). Reference: the counts the loader reports
    (``Samples.duplicates``, given here as 500 rows drawn for 271 applicants would: 229 removed).
    The check says how many rows were removed per sample, amber from one row, that the tests ran
    on one row per id, and warns first."""
    current = _portfolio(3_000, seed=9)
    output, judged = _run(_context(reference, current, ids=["customer_id"],
                                   duplicates={"reference": 0, "current": 229}))
    rows = {f.subject: f for f in judged if f.metric == "duplicate_id_rows"}
    assert rows["sample:current"].value == 229 and rows["sample:current"].status == "amber"
    assert rows["sample:reference"].value == 0 and rows["sample:reference"].status == "green"
    assert "one row per id (the latest)" in str(rows["sample:current"].note)
    warning = DUPLICATES_WARNING.format(counts="0 from the reference sample, 229 from the current sample")
    assert output.summary["warnings"] == [warning]
    for title in ("Discrimination", "Calibration per grade"):
        assert warning in _texts(output, title)
    # no data.ids: nothing to report
    _, judged = _run(_context(reference, current))
    assert not [f for f in judged if f.metric == "duplicate_id_rows"]


def test_var_exceptions_in_a_stress_window_are_seen_by_the_duration_test() -> None:
    """Issue 17, item 8 (VaR independence green although exceptions fall in one stress window).
    Reference: :func:`validation.metrics.durations.duration_independence_test` (Christoffersen and
    Pelletier 2004) on the same hits, and the transition counts by hand for ``pi1 / pi0``.

    Six exceptions every other day in a stress window and six elsewhere, none on consecutive
    days: Christoffersen's test is green (``pi1 = 0``), the duration test amber (Weibull shape
    0.62, clustered)."""
    from validation.metrics.durations import duration_independence_test

    hits = np.zeros(500, dtype=int)
    hits[[47, 114, 130, 181, 300, 302, 304, 306, 308, 310, 418, 424]] = 1
    frame = pd.DataFrame({"pnl": np.where(hits == 1, -2.0, 0.5), "var": np.ones(500)})
    context = _context(frame, frame, model_type="var", pnl="pnl", var="var", var_level=0.99)
    output, judged = _run(context)
    found = {f.metric: f for f in judged}
    reference = duration_independence_test(hits)
    duration = found["duration_independence_pvalue"]
    assert duration.value == pytest.approx(reference.pvalue) and duration.effect == pytest.approx(reference.shape)
    assert duration.status == "amber" and duration.cause == "exception clustering"
    christoffersen = found["christoffersen_pvalue"]
    assert christoffersen.status == "green" and christoffersen.effect == 0.0  # no exception follows one
    assert found["kupiec_pvalue"].effect == pytest.approx(12 / 5.0)  # observed / expected exceptions
    assert found["conditional_coverage_pvalue"].status == "info"  # reported: joins the judged tests
    text = " ".join(_texts(output))
    assert "duration test (Christoffersen and Pelletier 2004)" in text and "shape is 0.621" in text


def test_a_training_reference_is_named_as_such_wherever_it_is_compared_with() -> None:
    """Review of issue 17: the business impact note read "reference 0.0449", the training sample's
    in-sample bad rate among the approved, beside a current 0.19. A training reference is now
    named as in-sample in the discrimination and impact tables and in the notes."""
    from validation.checks.backtesting import reference_label
    from validation.metrics import backtesting as bt

    note = {f["metric"]: f["note"] for f in bt.impact_findings(
        {"approval_rate": 0.5, "bad_rate_approved": 0.19, "applicants": 100, "approved": 50},
        {"approval_rate": 0.6, "bad_rate_approved": 0.045, "applicants": 100, "approved": 60},
        reference_label="reference (training sample: in-sample)")}
    assert note["bad_rate_approved"] == "reference (training sample: in-sample) 0.045"
    training = ModelVersionSpec.model_construct(data=DataSection.model_construct(reference_kind="training"))
    assert reference_label(training) == "reference (training sample: in-sample)"
    assert reference_label(ModelVersionSpec.model_construct(data=DataSection.model_construct(reference_kind=None))) \
        == "reference"


def test_a_segment_named_grade_is_a_family_of_its_own() -> None:
    """Review of issue 17: a segment column named ``grade`` shared the family of the master
    scale's grades, so seven tests were adjusted as one family of four and three."""
    from validation.metrics import backtesting as bt

    table = pd.DataFrame({"n": [200, 200], "defaults": [30, 60], "pd": [0.1, 0.1], "odr": [0.15, 0.3], "auc": [0.7, 0.7],
                          "observed_expected_ratio": [1.5, 3.0], "jeffreys_pvalue": [0.01, 1e-9]},
                         index=pd.Index(["A", "B"], name="grade"))
    found = [f for f in bt.slice_findings(table, "grade", min_rows=30, family="segment grade")
             if f["metric"] == "jeffreys_pvalue"]
    assert {f["family"] for f in found} == {"segment grade"}
