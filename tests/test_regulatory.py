"""The regulatory mapping (:mod:`validation.governance.regulatory`): rows grouped by framework,
current regulation only (SR 11-7 only as superseded), and no row of another model type."""

from __future__ import annotations

import pytest

from validation.checks.base import (BASEL_MARKET, ECB_GUIDE, ECB_IRB, EU_AI_ACT, US_FAIR_LENDING, US_MRM, Basis,
                                    bases)
from validation.governance.regulatory import FRAMEWORKS, mapping

PD_CHECKS = ["drift", "fairness", "explainability", "backtesting"]
PD_METRICS = {"psi", "disparate_impact_ratio", "auc", "gini", "auc_change_pvalue", "jeffreys_pvalue",
              "hosmer_lemeshow_pvalue", "herfindahl_change_pvalue", "duplicate_id_rows", "shap_importance"}
VAR_METRICS = {"exceptions", "kupiec_pvalue", "christoffersen_pvalue", "duration_independence_pvalue",
               "exception_scan_pvalue", "basel_zone", "plus_factor", "duplicate_id_rows"}


def _pd() -> list[dict[str, str]]:
    return mapping(PD_CHECKS, PD_METRICS, model_type="classification", materiality="high")


def _var() -> list[dict[str, str]]:
    return mapping(PD_CHECKS, VAR_METRICS, model_type="var", materiality="medium")


@pytest.mark.parametrize("rows", [_pd(), _var()], ids=["pd", "var"])
def test_rows_carry_framework_item_and_basis_grouped_by_framework(rows: list[dict[str, str]]) -> None:
    assert rows and all(set(row) == {"framework", "item", "basis"} and all(row.values()) for row in rows)
    seen = [row["framework"] for row in rows]
    groups = list(dict.fromkeys(seen))
    assert seen == sorted(seen, key=groups.index), "a framework's rows are together"
    assert groups == [f for f in FRAMEWORKS if f in groups], "in the order of FRAMEWORKS"
    assert len({(r["framework"], r["item"], r["basis"]) for r in rows}) == len(rows), "no row twice"


@pytest.mark.parametrize("rows", [_pd(), _var()], ids=["pd", "var"])
def test_sr_11_7_appears_only_as_superseded(rows: list[dict[str, str]]) -> None:
    naming = [row for row in rows if "11-7" in row["item"] + row["basis"]]
    assert len(naming) == 1
    (row,) = naming
    assert row["framework"] == US_MRM and row["item"].startswith("superseded")
    assert "17 April 2026" in row["basis"] and "SR 26-2" in row["basis"]


def test_a_var_model_lists_no_pd_and_no_credit_scoring_row() -> None:
    rows = _var()
    frameworks = {row["framework"] for row in rows}
    assert ECB_IRB not in frameworks and EU_AI_ACT not in frameworks and US_FAIR_LENDING not in frameworks
    assert ECB_GUIDE not in frameworks  # the challenger and explainability rows are the PD checks'
    assert not [row for row in rows if row["item"] in ("check: drift", "check: fairness", "check: explainability")]
    text = " ".join(row["basis"] for row in rows)
    assert "PD" not in text and "Annex III" not in text and "grade" not in text
    basel = [row for row in rows if row["framework"] == BASEL_MARKET]
    assert {row["item"] for row in basel} == {"check: backtesting", "metric: basel_zone", "metric: plus_factor"}
    assert any("MAR99" in row["basis"] for row in basel)


def test_a_pd_model_lists_no_var_row() -> None:
    rows = _pd()
    assert BASEL_MARKET not in {row["framework"] for row in rows}
    assert not [row for row in rows if "VaR" in row["basis"]]


def test_a_pd_model_maps_the_eu_ai_act_articles_a_validation_evidences() -> None:
    ai_act = [row for row in _pd() if row["framework"] == EU_AI_ACT]
    text = " ".join(row["basis"] for row in ai_act)
    assert "Annex III, point 5(b)" in text and "creditworthiness of natural persons" in text
    for article in ("Art. 9 (risk management", "Art. 10(3) (data and data governance", "Art. 10(2)(f)-(g)",
                    "Art. 11 and Annex IV (technical documentation", "Art. 13(1) (transparency",
                    "Art. 15(1) (accuracy", "Art. 17(1)(d) (quality management system", "Art. 18 (documentation",
                    "Art. 72 (post-market monitoring"):
        assert article in text, article
    # Art. 12 (the system's own automatic logging) and Art. 14 (human oversight in operation) belong to
    # the deployed system, not to its validation: a validator's review found them mis-cited
    assert "Art. 12" not in text and "Art. 14" not in text


def test_a_var_models_materiality_row_names_only_the_checks_it_requires() -> None:
    [row] = [r for r in mapping(["backtesting"], {"basel_zone"}, model_type="var", materiality="high",
                                required=["backtesting"]) if r["item"] == "model: materiality"]
    assert "checks required backtesting," in row["basis"] and "fairness" not in row["basis"]


def test_a_pd_model_maps_the_ecb_instructions_and_the_2025_guide() -> None:
    rows = _pd()
    irb = {row["item"]: row["basis"] for row in rows if row["framework"] == ECB_IRB}
    assert irb["metric: jeffreys_pvalue"].startswith("2.5.3.1") and irb["metric: auc_change_pvalue"].startswith("2.5.4.1")
    assert irb["check: backtesting"].startswith("section 2.5 (PD models)")
    guide = {row["item"]: row["basis"] for row in rows if row["framework"] == ECB_GUIDE}
    assert "explainable" in guide["check: explainability"]
    assert "justifies its complexity" in guide["check: backtesting"] and "challenger" in guide["check: backtesting"]


def test_a_metric_basis_is_listed_only_when_the_pack_reports_the_metric() -> None:
    rows = mapping(["backtesting"], {"auc"}, model_type="classification")
    metrics = {row["item"] for row in rows if row["item"].startswith("metric: ")}
    assert metrics == {"metric: auc"}


def test_the_model_type_is_inferred_from_the_basel_zone_when_not_given() -> None:
    assert mapping(PD_CHECKS, VAR_METRICS) == mapping(PD_CHECKS, VAR_METRICS, model_type="var")
    assert mapping(PD_CHECKS, PD_METRICS) == mapping(PD_CHECKS, PD_METRICS, model_type="classification")


def test_the_materiality_row_says_what_it_sets() -> None:
    (high,) = [row for row in _pd() if row["item"] == "model: materiality"]
    assert high["framework"] == US_MRM
    assert high["basis"] == ("materiality high: checks required drift, fairness, explainability, backtesting (where "
                             "they apply), the high-materiality policy, and a run every 3 months")
    (unset,) = [row for row in mapping(["drift"], set()) if row["item"] == "model: materiality"]
    assert unset["basis"].startswith("materiality not set") and "model.materiality" in unset["basis"]


def test_a_third_party_text_basis_is_listed_under_other_after_the_frameworks() -> None:
    assert bases("SR 11-7: ongoing monitoring") == (Basis("other", "SR 11-7: ongoing monitoring"),)
    assert bases("") == ()
    both = (Basis(US_MRM, "a"), Basis(BASEL_MARKET, "b", ("var",)))
    assert bases(both) == both and bases(both[0]) == (both[0],)
    assert not both[1].applies_to("classification") and both[1].applies_to("var") and both[0].applies_to("var")


def test_no_check_cites_sr_11_7_as_its_basis() -> None:
    from validation.checks import REGISTRY
    from validation.checks.base import BuiltinCheck

    for check in REGISTRY:
        if isinstance(check, BuiltinCheck):
            texts = [b.text for b in bases(check.basis)]
            texts += [b.text for value in check.metric_basis.values() for b in bases(value)]
            assert texts and not [t for t in texts if "11-7" in t], check.name
            assert all(b.framework in FRAMEWORKS for b in bases(check.basis)), check.name
