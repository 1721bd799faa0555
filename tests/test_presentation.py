"""Presentation: numbers formatted by kind, bands in their order, charts that draw no line through
unordered categories, and the summary page's sections (escaped) from a hand-made context.

Expected strings are written out by hand from the values (e.g. 0.4819 is 48.19%, shown to 3
significant digits as 48.2%)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from validation.reporting.formatting import (METRIC_KINDS, band_sort_key, column_kind, first_sentence, format_number,
                                             is_ordered_labels, metric_kind)


@pytest.mark.parametrize(("value", "kind", "currency", "expected"), [
    (7.352e-24, "p", None, "< 0.001"),
    (0.000999, "p", None, "< 0.001"),
    (0.001, "p", None, "0.001"),
    (0.0123456, "p", None, "0.0123"),
    (0.04999, "p", None, "0.05"),
    (0.2, "p", None, "0.2"),
    (1.0, "p", None, "> 0.999"),
    (0.9994, "p", None, "> 0.999"),
    (0.999, "p", None, "0.999"),
    (0.4819, "rate", None, "48.2%"),
    (0.10, "rate", None, "10%"),
    (0.0067, "rate", None, "0.67%"),
    (-0.365, "rate", None, "-36.5%"),
    (1.0, "rate", None, "100%"),
    (0.0, "rate", None, "0%"),
    (600.0, "count", None, "600"),
    (600, "count", None, "600"),
    (1234567.0, "count", None, "1,234,567"),
    (138123.4, "money", "EUR", "EUR 138,123"),
    (138123.4, "money", None, "138,123"),
    (12.5, "money", "USD", "USD 12.50"),
    (0.123456, "value", None, "0.1235"),
    (0.4819, "ratio", None, "0.4819"),
    (138100.0, "value", None, "138,100"),
    (12.3456, "value", None, "12.35"),
    (3, "value", None, "3"),
    (2.5e-7, "value", None, "2.5e-07"),
    (None, "p", None, "-"),
    (float("nan"), "rate", None, "-"),
    ("yellow", "value", None, "yellow"),
    (True, "value", None, "True"),
])
def test_format_number_by_kind(value: Any, kind: str, currency: str | None, expected: str) -> None:
    assert format_number(value, kind, currency) == expected


def test_format_number_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown number kind 'percent': use one of p, rate, points, count"):
        format_number(0.5, "percent")


def test_every_policy_metric_has_a_deliberate_kind() -> None:
    from validation.checks import REGISTRY
    from validation.judging.policy import DEFAULT_POLICY

    rules = {**DEFAULT_POLICY, **REGISTRY.rules()}  # the built-in checks' own rules too (data_quality, challenger)
    missing = sorted(set(rules) - set(METRIC_KINDS))
    assert missing == [], f"give these metrics a kind in formatting.METRIC_KINDS: {missing}"
    for metric, rule in rules.items():
        assert metric_kind(metric) == METRIC_KINDS[metric]
        if rule.pvalue:  # every test's p-value reads as one
            assert metric_kind(metric) == "p", metric
    assert sorted(set(METRIC_KINDS) - set(rules)) == []  # no stale entries


def test_metric_and_column_kinds_outside_the_table() -> None:
    assert metric_kind("plugin_score_pvalue") == "p"
    assert metric_kind("plugin_share") == "rate"
    assert metric_kind("something_new") == "value"
    assert column_kind("n", [600.0, 300.0]) == "count"
    assert column_kind("defaults", [12.0]) == "count"
    assert column_kind("approval_rate", [0.5]) == "rate"
    assert column_kind("approval_rate_nonevents", [0.5]) == "rate"
    # a difference of two rates is in percentage points (a validator read "-5.93%" as a relative change)
    assert column_kind("difference_low", [-0.15]) == "points" and column_kind("mean_pd", [0.1]) == "rate"
    assert column_kind("approval_rate_difference", [-0.06]) == "points" and format_number(-0.0593, "points") == "-5.93 pp"
    assert column_kind("disparate_impact_ratio", [0.9]) == "ratio" and column_kind("pdf_bins", [0.5]) == "value"
    assert column_kind("jeffreys_pvalue", [0.2]) == "p"
    assert column_kind("ead", [1000.5]) == "money"
    assert column_kind("psi", [0.1, 3.0]) == "value"
    assert column_kind("weight", [1.0, 2.0, np.nan]) == "count"
    assert column_kind("weight", [1.5, 2.0]) == "value"
    assert column_kind("label", ["a", "b"]) == "value"


@pytest.mark.parametrize(("labels", "expected"), [
    (["25-34", "35-49", "50+", "<25"], ["<25", "25-34", "35-49", "50+"]),
    (["65 or more", "18 to 24", "25 to 64"], ["18 to 24", "25 to 64", "65 or more"]),
    (["<=0", "1-5", "6-10", "11+"], ["<=0", "1-5", "6-10", "11+"]),
    (["10", "9", "100"], ["9", "10", "100"]),
    (["b", "50+", "a", "<25"], ["<25", "50+", "a", "b"]),
    (["1.5-2.5", "0.5-1.5", "<0.5"], ["<0.5", "0.5-1.5", "1.5-2.5"]),
])
def test_band_sort_key_orders_bands(labels: list[str], expected: list[str]) -> None:
    assert sorted(labels, key=band_sort_key) == expected


def test_ordered_labels_and_first_sentence() -> None:
    assert is_ordered_labels(["2025-01", "2025-02", "2025-03"])
    assert is_ordered_labels(["2025Q1", "2025Q2"])
    assert is_ordered_labels(["<25", "25-34", "50+"])
    assert is_ordered_labels([1, 2, 3])
    assert not is_ordered_labels(["own", "rent", "free"])
    assert not is_ordered_labels([])
    assert first_sentence("Score PSI 0.158 (amber). Age is green.") == "Score PSI 0.158 (amber)."
    assert first_sentence("one sentence, no stop") == "one sentence, no stop"
    assert first_sentence(None) == ""


def _line_artists(figure: Any) -> list[Any]:
    return [line for ax in figure.axes for line in ax.get_lines() if line.get_linestyle() not in ("None", "none", "")]


def test_trend_joins_periods_but_never_unordered_segments() -> None:
    from validation.reporting.plots import trend

    values = {"odr": [0.1, 0.2, 0.15], "pd": [0.12, 0.18, 0.16], "auc": [0.7, 0.72, 0.75]}
    by_period = trend(pd.DataFrame(values, index=["2025-01", "2025-02", "2025-03"]), "month")
    assert len(_line_artists(by_period)) == 3  # odr, pd, auc joined over time
    by_segment = trend(pd.DataFrame(values, index=["own", "rent", "free"]), "housing")
    assert _line_artists(by_segment) == []  # markers only
    assert sum(len(ax.get_lines()) for ax in by_segment.axes) == 3


def test_trend_and_group_charts_put_bands_in_order() -> None:
    from validation.reporting.plots import approval_rates, trend

    table = pd.DataFrame({"odr": [0.2, 0.3, 0.1, 0.4], "pd": [0.2, 0.3, 0.1, 0.4], "auc": [0.7] * 4},
                         index=["25-34", "35-49", "50+", "<25"])
    figure = trend(table, "age_band")
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["<25", "25-34", "35-49", "50+"]
    odr = figure.axes[0].get_lines()[0].get_ydata()
    assert list(odr) == [0.4, 0.2, 0.3, 0.1]  # the values moved with their labels
    assert len(_line_artists(figure)) == 3  # bands are ordered: a line may join them
    groups = pd.DataFrame({"approval_rate": [0.6, 0.7, 0.5, 0.4], "judged": [True, True, False, True]},
                          index=["25-34", "35-49", "50+", "<25"])
    bars = approval_rates(groups, "age_band", ratio_bound=0.8)
    assert [t.get_text() for t in bars.axes[0].get_xticklabels()] == ["<25", "25-34", "35-49", "50+"]
    assert [p.get_height() for p in bars.axes[0].patches] == [0.4, 0.6, 0.7, 0.5]


def test_pnl_against_var_shades_the_stress_window_only_when_given() -> None:
    from matplotlib.patches import Polygon, Rectangle

    from validation.reporting.plots import pnl_against_var

    days = np.array([f"2025-01-{d:02d}" for d in range(1, 21)])
    pnl = np.linspace(-2, 2, 20)
    var = np.full(20, 1.5)
    hits = pnl < -var
    plain = pnl_against_var(days, pnl, var, hits)
    shaded = pnl_against_var(days, pnl, var, hits, window=("2025-01-05", "2025-01-09"), window_label="stress window")
    def spans(figure: Any) -> list[Any]:
        return [p for p in figure.axes[0].patches if isinstance(p, (Polygon, Rectangle)) and p.get_alpha()]
    assert spans(plain) == []
    (span,) = spans(shaded)
    x = span.get_xy()[:, 0] if isinstance(span, Polygon) else [span.get_x(), span.get_x() + span.get_width()]
    assert min(x) == pytest.approx(4 - 0.5) and max(x) == pytest.approx(8 + 0.5)  # days 5 to 9, whole bars
    assert "stress window" in [t.get_text() for t in shaded.axes[0].get_legend().get_texts()]
    with pytest.raises(ValueError, match="window day '2024-12-31' is not among the days"):
        pnl_against_var(days, pnl, var, hits, window=("2024-12-31", "2025-01-09"))


def _context(**extra: Any) -> dict[str, Any]:
    finding = {"metric": "disparate_impact_ratio", "subject": "age_band:<script>alert(1)</script>", "value": 0.4819,
               "status": "red", "amber": 0.8, "red": None, "check": "fairness", "p_value": 1.81e-05,
               "p_adjusted": 3.62e-05, "family": "age_band", "null_hypothesis": "same approval", "effect": None,
               "note": None}
    info = {"metric": "approval_rate", "subject": "sex:female", "value": 0.5652, "status": "info", "amber": None,
            "red": None, "check": "fairness", "note": None}
    loss = {"metric": "expected_loss", "subject": "portfolio", "value": 138123.4, "status": "info", "amber": None,
            "red": None, "check": "backtesting", "note": None}
    issue = {"id": "fairness:age_band", "check": "fairness", "cause": "age_band", "status": "red",
             "sentence": "disparate_impact_ratio of age_band:<25 is 0.482 (below 0.8).",
             "findings": ["disparate_impact_ratio age_band:<25"]}
    item = {"id": "german_credit_pd-001", "model": "german_credit_pd", "version": "2", "run_id": "r1",
            "target": "fairness:age_band", "title": "Young applicants <b>approved</b> less", "severity": "high",
            "owner": "Credit risk", "due": "2027-03-31", "remediation": "Recalibrate", "status": "open",
            "raised_at": "2026-12-01", "updated_at": "2026-12-01"}
    context = {
        "results": {"model": {"name": "german_credit_pd", "version": "2"},
                    "run": {"id": "r1", "started_at": "2026-12-01T10:00:00", "finished_at": "2026-12-01T10:01:00"},
                    "status": "red",
                    "checks": [{"name": "fairness", "status": "red", "error": None, "reason": None,
                                "html": "html/fairness.html", "notebook": "notebooks/fairness.ipynb",
                                "summary": {"headline": "age_band: <25 approved at 0.48 times. More text."},
                                "findings": [finding, info], "issues": [issue]}]},
        "findings": [finding, info, loss], "counts": {"green": 0, "amber": 0, "red": 1, "info": 2, "error": 0,
                                                      "red_issues": 1, "amber_issues": 0},
        "manifest": {"inputs": {"current": {"path": "data/current.parquet", "sha256": "ab" * 32}},
                     "environment": {"user": "u", "host": "h", "python": "3.11", "platform": "linux",
                                     "git_commit": None, "packages": {"pandas": "3"}}},
        "card": {"model_details": {"name": "german_credit_pd", "version": "2", "type": "classification",
                                   "owner": "o", "tier": 1, "materiality": "high", "currency": "EUR",
                                   "artifact_sha256": None},
                 "intended_use": "PD", "out_of_scope_use": None,
                 "factors": {"protected": ["age_band"], "segments": [], "time": None},
                 "metrics": {"decision": None, "headline": {"worst disparate impact ratio": 0.4819}},
                 "evaluation_data": "e", "training_data": "t", "features": ["age"], "ethical_considerations": None,
                 "caveats": None, "quantitative_analyses": [
                     {"title": "decisions by group", "rows": [{"group": "age_band:<25", "approval_rate": 0.41, "n": 56.0}]}],
                 "governance": {"ratings": ["satisfactory", "satisfactory with findings", "unsatisfactory"]}},
        "issues": [issue], "warnings": [], "diff": None, "reviews": [], "signed": False,
        "sources": [{"metric": "disparate_impact_ratio", "amber": 0.8, "red": None, "source": "four-fifths rule",
                     "significance": 0.05, "effect": "", "immaterial": None, "immaterial_source": ""}],
        "regulatory": [{"framework": "EU AI Act", "item": "fairness", "basis": "Art. 10"}],
        "_item": item,
    }
    context.update(extra)
    return context


def _render(context: dict[str, Any]) -> str:
    from validation.reporting.render import render_index

    context = dict(context)
    context.pop("_item")
    return render_index(context)


def test_index_without_a_review_says_so_and_works_without_the_new_keys() -> None:
    page = _render(_context())
    assert "Not reviewed yet" in page and "validation review PACK_DIR" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/<wbr>script&gt;" in page
    for anchor in ("issues", "register", "assessments", "findings-section", "sources-section", "card", "regulatory",
                   "lineage", "reviews"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page
    assert "Next validation due" not in page


def test_index_formats_numbers_by_kind_and_collapses_info_findings() -> None:
    page = _render(_context())
    assert ">0.4819</td>" in page  # a ratio, 4 significant digits
    assert "p = &lt; 0.001, &lt; 0.001 adjusted" in page  # 1.81e-05 and 3.62e-05
    assert ">56.5%</td>" in page  # approval rate 0.5652
    assert ">EUR 138,123</td>" in page  # expected loss in the spec's currency
    assert ">56</td>" in page and "56.0" not in page  # a count in the card's table
    judged, collapsed = page.split('<details class="findings-info" id="info-findings">')
    assert "disparate_<wbr>impact_<wbr>ratio</code>" in judged.split('id="findings"')[1] and "approval_<wbr>rate</code>" not in judged
    assert "2 finding(s) reported without a threshold" in collapsed and "EUR 138,123" in collapsed
    assert re.search(r'<details class="findings-info" id="info-findings">', page)  # collapsed: no "open"
    assert "e-05" not in page and "e+05" not in page


def test_index_shows_the_conclusion_register_and_assessments() -> None:
    context = _context()
    item = context["_item"]
    page = _render(_context(
        conclusion={"reviewer": "A. <Validator>", "rating": "satisfactory with findings", "rating_rank": 1,
                    "ratings": ["satisfactory", "satisfactory with findings", "unsatisfactory"],
                    "conclusion": "Fit for use once <young applicants> are recalibrated.",
                    "reviewed_at": "2026-12-02", "valid": False, "review_id": "rv1"},
        assessments=[{"target": "fairness:age_band", "action": "raise", "rationale": "", "issue_id": item["id"]}],
        register=[item], carried=[dict(item, id="german_credit_pd-000", version="1", status="in_progress")],
        next_due={"date": "2027-12-02", "materiality": "high", "months": 12}))
    top = page.split("<main>")[0]
    assert 'class="badge s-amber" id="rating">satisfactory with findings<' in top  # middle rating: amber
    assert "A. &lt;Validator&gt;" in top and "&lt;young applicants&gt;" in top
    assert "the pack changed after this review" in top
    assert "Next validation due 2027-12-02" in top and "every 12 months" in top
    register = page.split('id="register"')[1].split('id="assessments"')[0]
    assert "german_credit_pd-001" in register and "german_credit_pd-000" in register and "in progress" in register
    assert "Young applicants &lt;b&gt;approved&lt;/b&gt; less" in register and "<b>" not in register
    issues = page.split('id="issues"')[1].split('id="register"')[0]
    assert "<strong>raise</strong>" in issues and "german_credit_pd-001" in issues


def test_index_rating_colours_best_and_worst() -> None:
    ratings = ["satisfactory", "satisfactory with findings", "unsatisfactory"]
    base = {"reviewer": "v", "ratings": ratings, "conclusion": "c", "reviewed_at": "d", "valid": True,
            "review_id": "r"}
    best = _render(_context(conclusion=dict(base, rating="satisfactory", rating_rank=0)))
    worst = _render(_context(conclusion=dict(base, rating="unsatisfactory", rating_rank=2)))
    assert 'class="badge s-green" id="rating"' in best and 'class="badge s-red" id="rating"' in worst


def test_index_has_a_print_stylesheet_and_loads_nothing_from_the_network() -> None:
    page = _render(_context())
    assert "@page { size: A4 landscape" in page and "@media print" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_status_tables_format_columns_by_kind_and_keep_bands_in_order() -> None:
    from validation.reporting.display import status_table

    table = pd.DataFrame({"n": [600.0, 56.0], "approval_rate": [0.4107, 0.7041], "jeffreys_pvalue": [7e-24, 0.0312],
                          "ead": [138123.4, 99.5], "status": ["red", "green"]},
                         index=pd.Index(["50+", "<25"], name="age_band"))
    page = status_table(table, currency="EUR")._repr_html_()
    assert "<td>600</td>" in page and "600.0" not in page
    assert "<td>41.1%</td>" in page and "<td>&lt; 0.001</td>" in page and "<td>0.0312</td>" in page
    assert "<td>EUR 138,123</td>" in page and "<td>EUR 99.50</td>" in page
    assert page.index("&lt;25") < page.index("50+")  # bands in their order
    assert 'class="vscroll"' in page


def test_findings_table_formats_each_value_by_its_metric() -> None:
    from validation.judging.policy import Policy
    from validation.reporting.display import findings_table

    table = findings_table([{"metric": "jeffreys_pvalue", "subject": "grade:1", "value": 7e-24, "effect": 2.0},
                            {"metric": "approval_rate", "subject": "sex:female", "value": 0.5652},
                            {"metric": "exceptions", "subject": "var", "value": 12.0}], Policy())
    assert table["value"].tolist() == ["< 0.001", "56.5%", "12"]
    assert table["amber"].tolist()[0] == "0.05"
