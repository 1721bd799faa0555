"""Materiality (``model.materiality``, or ``model.tier`` 1 to 3): the checks a spec must run, the
policy it is judged by, and when the model is next due (``docs/spec.md``, "Materiality")."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest

from validation.errors import SpecError
from validation.governance.registry import Registry
from validation.inputs.spec import FREQUENCY_MONTHS, REQUIRED_CHECKS, load_spec
from validation.judging.policy import DEFAULT_POLICY, MATERIALITY_POLICY, Policy
from validation.reporting.history import INVENTORY_COLUMNS, add_months, inventory, next_due, page_context

ALL = ["drift", "fairness", "backtesting"]  # the applicable checks of the fixture's scores-only spec


def _load(write_spec: Callable[..., Path], model: dict[str, Any], **document: Any) -> Any:
    return load_spec(write_spec({"model": model, **document})).versions[0]


# -- tier and materiality --------------------------------------------------------------------

@pytest.mark.parametrize(("tier", "materiality"), [(1, "high"), (2, "medium"), (3, "low")])
def test_tiers_one_to_three_are_high_medium_low(write_spec: Callable[..., Path], tier: int, materiality: str) -> None:
    spec = _load(write_spec, {"tier": tier}, checks=ALL)
    assert spec.model.materiality == materiality and spec.model.tier == tier


def test_a_tier_outside_one_to_three_says_nothing_about_materiality(write_spec: Callable[..., Path]) -> None:
    assert _load(write_spec, {"tier": 5}).model.materiality is None
    assert _load(write_spec, {"tier": 5, "materiality": "low"}).model.materiality == "low"


def test_a_tier_that_contradicts_the_materiality_is_refused(write_spec: Callable[..., Path]) -> None:
    with pytest.raises(SpecError) as caught:
        _load(write_spec, {"tier": 1, "materiality": "low"})
    assert caught.value.key == "model.tier"
    assert "tier 1 means materiality high, but model.materiality is low" in caught.value.problem


def test_an_unknown_materiality_is_refused_with_the_values(write_spec: Callable[..., Path]) -> None:
    with pytest.raises(SpecError) as caught:
        _load(write_spec, {"materiality": "critical"})
    assert caught.value.key == "model.materiality" and "'high', 'medium' or 'low'" in caught.value.problem


# -- required checks -------------------------------------------------------------------------

def test_a_required_check_left_out_is_refused_naming_it_and_the_fix(write_spec: Callable[..., Path]) -> None:
    with pytest.raises(SpecError) as caught:
        _load(write_spec, {"materiality": "medium"}, checks=["drift", "backtesting"])
    assert caught.value.key == "checks"
    assert "model.materiality medium requires the fairness check" in caught.value.problem
    assert 'waivers: {fairness: "<why it is not run>"}' in caught.value.problem


def test_a_waived_check_is_accepted_and_carried_with_its_reason(write_spec: Callable[..., Path]) -> None:
    spec = _load(write_spec, {"materiality": "medium"}, checks=["drift", "backtesting"],
                 waivers={"fairness": "protected attributes are not collected for this product"})
    assert spec.waivers == {"fairness": "protected attributes are not collected for this product"}
    assert spec.required_checks() == ["drift", "fairness", "backtesting"]


def test_a_check_that_does_not_apply_is_not_required(write_spec: Callable[..., Path]) -> None:
    """High requires explainability, which needs a model artifact: a scores-only spec runs without it."""
    spec = _load(write_spec, {"materiality": "high"}, checks=ALL)
    assert "explainability" in REQUIRED_CHECKS["high"] and "explainability" not in spec.required_checks()
    assert _load(write_spec, {"materiality": "low"}, checks=["fairness", "backtesting"]).required_checks() == \
        ["fairness", "backtesting"]


@pytest.mark.parametrize(("document", "key", "fragment"), [
    ({"model": {"materiality": "low"}, "checks": ALL, "waivers": {"drift": "x"}}, "waivers.drift",
     "the check is listed in checks"),
    ({"model": {"materiality": "low"}, "checks": ["fairness", "backtesting"], "waivers": {"drift": "x"}},
     "waivers.drift", "not required (materiality low requires fairness, backtesting here)"),
    ({"checks": ["fairness", "backtesting"], "waivers": {"drift": "x"}}, "waivers.drift",
     "no model.materiality: no check is required"),
    ({"model": {"materiality": "medium"}, "checks": ["drift", "backtesting"], "waivers": {"fairness": "  "}},
     "waivers.fairness", "an empty reason"),
    ({"waivers": {"stress": "x"}}, "waivers.stress", "unknown check; known checks: data_quality, drift"),
])
def test_a_waiver_must_waive_a_required_check_with_a_reason(write_spec: Callable[..., Path], document: dict[str, Any],
                                                              key: str, fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(document))
    assert caught.value.key == key and fragment in caught.value.problem, caught.value.problem


def test_the_card_shows_the_required_checks_and_the_waivers(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from validation.execution.pipeline import run_specs

    path = write_spec({"model": {"materiality": "medium", "currency": "EUR"}, "checks": ["drift", "backtesting"],
                       "waivers": {"fairness": "no protected attributes collected"}})
    (outcome,), _ = run_specs([path], out=tmp_path / "out", workers=1)
    card = json.loads((outcome.path / "card.json").read_text(encoding="utf-8"))
    assert card["model_details"]["materiality"] == "medium"
    assert card["governance"]["required_checks"] == ["drift", "fairness", "backtesting"]
    assert card["governance"]["waivers"] == [{"check": "fairness", "reason": "no protected attributes collected"}]


# -- the policy by materiality ---------------------------------------------------------------

def test_a_high_materiality_model_is_judged_by_the_stricter_policy(write_spec: Callable[..., Path]) -> None:
    high = Policy.for_spec(_load(write_spec, {"materiality": "high"}, checks=ALL))
    medium = Policy.for_spec(_load(write_spec, {"materiality": "medium"}, checks=ALL))
    assert (high.bounds("auc").amber, high.bounds("auc").red) == (0.75, 0.65)
    assert medium.bounds("auc") == Policy.for_spec(None).bounds("auc")
    # an AUC of 0.72 passes the default policy and is amber for a high-materiality model
    finding = {"metric": "auc", "subject": "score", "value": 0.72}
    assert (medium.judge(finding).status, high.judge(finding).status) == ("green", "amber")
    # a grade whose defaults are 15% above those expected: immaterial by default, material when high
    test = {"metric": "jeffreys_pvalue", "subject": "grade:3", "value": 1e-6, "effect": 1.15, "family": "grades"}
    assert (medium.judge(test).status, high.judge(test).status) == ("green", "red")


def test_the_spec_thresholds_still_override_the_materiality_policy(write_spec: Callable[..., Path]) -> None:
    spec = _load(write_spec, {"materiality": "high"}, checks=ALL, thresholds={"auc": {"amber": 0.71, "red": 0.61}})
    assert Policy.for_spec(spec).bounds("auc").amber == 0.71


def test_every_stricter_rule_is_stricter_and_says_why() -> None:
    for metric, rule in MATERIALITY_POLICY["high"].items():
        default = DEFAULT_POLICY[metric]
        assert rule.direction == default.direction and "high materiality" in rule.source + rule.immaterial_source
        if rule.direction == "lower_is_worse" and not rule.pvalue:
            assert rule.amber is not None and default.amber is not None and rule.amber > default.amber, metric
        if rule.immaterial is not None and rule.immaterial != default.immaterial:
            assert default.immaterial is not None
            low, high = rule.immaterial
            assert low >= default.immaterial[0] and high <= default.immaterial[1], metric  # narrower
            assert "high materiality" in rule.immaterial_source, metric
    gini, auc = MATERIALITY_POLICY["high"]["gini"], MATERIALITY_POLICY["high"]["auc"]
    assert (gini.amber, gini.red) == pytest.approx((2 * auc.amber - 1, 2 * auc.red - 1))  # Gini = 2 AUC - 1


def test_an_unknown_materiality_has_no_policy() -> None:
    with pytest.raises(ValueError, match="unknown materiality 'critical'"):
        Policy.for_materiality("critical")


# -- next due and the inventory --------------------------------------------------------------

def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2028, 1, 31), 1) == datetime.date(2028, 2, 29)  # leap year
    assert add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2026, 4, 17), 12) == datetime.date(2027, 4, 17)


@pytest.mark.parametrize(("materiality", "finished", "due"), [
    ("high", "2026-04-20T10:11:12+00:00", "2026-07-20"),
    ("medium", "2026-08-31T23:59:59+00:00", "2027-02-28"),
    ("low", "2026-04-20T23:30:00-02:00", "2027-04-21"),  # 01:30 UTC the next day
    ("high", "2026-04-20T10:11:12Z", "2026-07-20"),
])
def test_next_due_adds_the_materiality_frequency(materiality: str, finished: str, due: str) -> None:
    assert next_due({"model_details": {"materiality": materiality}}, finished) == \
        {"date": due, "materiality": materiality, "months": FREQUENCY_MONTHS[materiality]}


def test_no_materiality_no_due_date() -> None:
    assert next_due({"model_details": {"materiality": None}}, "2026-04-20T10:11:12+00:00") is None
    assert next_due({}, "2026-04-20T10:11:12+00:00") is None


def _record(registry: Registry, root: Path, model: str, version: str, finished: str, materiality: str | None,
            *, status: str = "green") -> None:
    pack = root / model / version / finished[:10]
    pack.mkdir(parents=True)
    (pack / "card.json").write_text(json.dumps({"model_details": {"materiality": materiality}}), encoding="utf-8")
    registry.record({"model": {"name": model, "version": version}, "status": status,
                     "run": {"id": f"{model}-{finished[:10]}", "started_at": finished, "finished_at": finished,
                             "spec_sha256": "0" * 64}, "checks": []}, pack)


def test_the_inventory_shows_each_models_latest_run_and_the_overdue_first(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry.sqlite")
    _record(registry, tmp_path, "card_pd", "1", "2025-10-01T09:00:00+00:00", "high")
    _record(registry, tmp_path, "card_pd", "2", "2026-03-01T09:00:00+00:00", "high", status="amber")
    _record(registry, tmp_path, "mortgage_pd", "1", "2026-01-15T09:00:00+00:00", "low")
    _record(registry, tmp_path, "desk_var", "4", "2026-02-01T09:00:00+00:00", "medium")
    _record(registry, tmp_path, "old_model", "1", "2020-01-01T09:00:00+00:00", None)
    table = inventory(registry, today=datetime.date(2026, 8, 15))
    assert list(table.columns) == INVENTORY_COLUMNS
    rows = {row["model"]: row for row in table.to_dict("records")}
    assert rows["card_pd"]["version"] == "2" and rows["card_pd"]["status"] == "amber"  # the latest run
    assert (rows["card_pd"]["next_due"], rows["card_pd"]["overdue"]) == ("2026-06-01", True)
    assert (rows["desk_var"]["next_due"], rows["desk_var"]["overdue"]) == ("2026-08-01", True)
    assert (rows["mortgage_pd"]["next_due"], rows["mortgage_pd"]["overdue"]) == ("2027-01-15", False)
    assert rows["old_model"]["materiality"] is None and rows["old_model"]["overdue"] is False  # never on a guess
    assert list(table["model"]) == ["card_pd", "desk_var", "mortgage_pd", "old_model"]
    assert table["overdue"].dtype == bool


def test_a_model_whose_pack_is_gone_shows_no_due_date(tmp_path: Path) -> None:
    import shutil

    registry = Registry(tmp_path / "registry.sqlite")
    _record(registry, tmp_path, "card_pd", "1", "2025-10-01T09:00:00+00:00", "high")
    shutil.rmtree(tmp_path / "card_pd")
    (row,) = inventory(registry, today=datetime.date(2026, 8, 15)).to_dict("records")
    assert row["next_due"] is None and not row["overdue"]


def test_an_empty_registry_has_an_empty_inventory(tmp_path: Path) -> None:
    table = inventory(Registry(tmp_path / "registry.sqlite"), today=datetime.date(2026, 8, 15))
    assert table.empty and list(table.columns) == INVENTORY_COLUMNS


# -- the diff page ---------------------------------------------------------------------------

def test_the_diff_page_collapses_unchanged_rows_and_links_back() -> None:
    from validation.reporting.history import compare_findings

    old = [{"check": "drift", "metric": "psi", "subject": s, "value": v, "status": "green"}
           for s, v in (("score", 0.05), ("income", 0.02), ("tenure", 0.01))]
    new = [dict(old[0], value=0.3, status="red"), old[1], old[2]]
    table = compare_findings(old, new)
    context = page_context("diff", table, back=("../index.html", "Back to the pack"))
    assert [r["subject"] for r in context["rows"]] == ["score"]
    assert [r["subject"] for r in context["hidden_rows"]] == ["income", "tenure"]
    assert context["hidden_label"] == "2 unchanged findings"
    assert (context["back_href"], context["back_label"]) == ("../index.html", "Back to the pack")
    history = page_context("history", pd.DataFrame({"version": ["1"], "status": ["green"]}))
    assert history["hidden_rows"] == [] and len(history["rows"]) == 1 and history["back_href"] is None


def test_the_diff_page_renders_the_unchanged_rows_collapsed_and_the_link_back() -> None:
    from validation.reporting.history import compare_findings, render_page

    old = [{"check": "drift", "metric": "psi", "subject": s, "value": v, "status": "green"}
           for s, v in (("score", 0.05), ("income", 0.02))]
    html = render_page("diff", compare_findings(old, [dict(old[0], value=0.3, status="red"), old[1]]),
                       back=("../index.html", "Back to the pack"))
    shown, collapsed = html.split("<details", 1)
    assert 'href="../index.html"' in shown and "score" in shown and "income" not in shown
    assert "1 unchanged finding" in collapsed and "income" in collapsed
