"""Validation packs: assembling a model version's folder from its executed tasks.

Layout (``docs/results.md``, "Pack layout")::

    <out>/<model>/<version>/<run_id>/
      index.html  results.json  card.json  manifest.json  notebooks/<check>.ipynb  html/<check>.html

The pack is written in a staging folder and moved into place when complete
(:mod:`validation.reporting.staging`). It holds aggregates only: the executed notebooks glue and
show aggregates, and no data file is ever copied into it (inputs are recorded by path and sha256).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from validation.judging.issues import group_issues
from validation.judging.policy import Policy, severity, worst
from validation.judging.results import SCHEMA_VERSION, CheckError, CheckResult, ModelInfo, Results, RunInfo
from validation.reporting.files import atomic_write, write_json

if TYPE_CHECKING:
    from validation.execution.planning import PackPlan
    from validation.execution.workers import TaskResult


def _error(result: "TaskResult") -> CheckError | None:
    if result.error is None:
        return None
    e = result.error
    return CheckError(kind=e.kind, reason=e.reason, cell_index=e.cell_index, ename=e.ename, evalue=e.evalue,
                      traceback=e.traceback)


def check_results(plan: "PackPlan", results: list["TaskResult"]) -> list[CheckResult]:
    """One :class:`CheckResult` per check of the plan, in the spec's order, findings judged under
    the version's policy."""
    policy = Policy.for_spec(plan.spec)
    by_check = {r.key[2]: r for r in results}
    records: list[CheckResult] = []
    for name in plan.checks:
        if name in plan.not_applicable:
            records.append(CheckResult(name=name, status="not_applicable", reason=plan.not_applicable[name]))
            continue
        result = by_check[name]
        findings = [] if result.error else policy.judge_all(result.findings)
        notebook = plan.staging / "notebooks" / f"{name}.ipynb"
        compared_nothing = None if result.error else result.summary.get("not_applicable")
        status = "error" if result.error else "not_applicable" if compared_nothing else worst(f.status for f in findings)
        records.append(CheckResult(
            name=name, status=status, reason=str(compared_nothing) if compared_nothing else None,
            error=_error(result), notebook=f"notebooks/{name}.ipynb" if notebook.exists() else None,
            html=f"html/{name}.html" if result.html_ok else None, duration_seconds=round(result.duration, 3),
            reused_from=result.reused_from, summary=result.summary, findings=findings,
            issues=group_issues(name, findings, {f.metric: policy.rule(f.metric).meaning for f in findings})))
    return records


CARRIED_SCOPE = ("items of the findings register raised on earlier versions of this model and not closed when "
                 "this pack was run, with their status then; the items a review raises on this pack are in "
                 "review.json")
"""What ``register.json`` holds, in the file itself: a validator read its empty list as "this pack
raised nothing"."""


def render_pack_index(pack: Path) -> None:
    """(Re)write ``index.html`` from the pack's own files: results, manifest, card, reviews, the
    register items it carries, diff."""
    from validation.governance.integrity import REVIEW, content_sha256, file_hashes, read_register
    from validation.governance.regulatory import mapping
    from validation.reporting.history import next_due
    from validation.reporting.render import render_index

    results_doc = json.loads((pack / "results.json").read_text(encoding="utf-8"))
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    card = json.loads((pack / "card.json").read_text(encoding="utf-8"))
    reviews = []
    if (pack / REVIEW).is_file():
        current = content_sha256(file_hashes(pack))
        for review in json.loads((pack / REVIEW).read_text(encoding="utf-8"))["reviews"]:
            reviews.append(_review_view(review, valid=review["pack_sha256"] == current))
    findings = [dict(f, check=r["name"]) for r in results_doc["checks"] for f in r["findings"]]
    findings.sort(key=lambda f: (-severity(f["status"]), f["check"]))
    counts = {s: sum(1 for f in findings if f["status"] == s) for s in ("green", "amber", "red", "info")}
    counts["error"] = sum(1 for r in results_doc["checks"] if r["status"] == "error")
    issues = [issue for r in results_doc["checks"] for issue in r.get("issues", [])]
    issues.sort(key=lambda i: -severity(i["status"]))
    counts.update({f"{s}_issues": sum(1 for i in issues if i["status"] == s) for s in ("amber", "red")})
    warnings = [f"{r['name']}: {w}" for r in results_doc["checks"] for w in r.get("summary", {}).get("warnings", [])]
    details = card["model_details"]
    sources = threshold_sources({f["metric"] for f in findings if f["status"] != "info"}, details.get("materiality"))
    rated = [review for review in reviews if review["rating"] is not None and review["conclusion"] is not None]
    # the sample description a check summarised (the data_quality check's): aggregates only
    sample = next((r["summary"]["sample_description"] for r in results_doc["checks"]
                   if isinstance((r.get("summary") or {}).get("sample_description"), list)), None)
    html = render_index({
        "results": results_doc, "findings": findings, "counts": counts, "manifest": manifest, "card": card,
        "issues": issues, "warnings": warnings, "sources": sources,
        "diff": card.get("diff"), "reviews": reviews, "signed": bool(manifest.get("signature")),
        "regulatory": mapping([c["name"] for c in results_doc["checks"]], {f["metric"] for f in findings},
                              model_type=details.get("type"), materiality=details.get("materiality"),
                              required=(card.get("governance") or {}).get("required_checks")),
        "conclusion": _conclusion(rated[-1], card) if rated else None,
        "assessments": rated[-1]["assessments"] if rated else [],
        "register": [item for review in reviews for item in review["raised"]],
        "carried": read_register(pack),
        "next_due": next_due(card, results_doc["run"]["finished_at"]),
        "sample": sample,
    })
    atomic_write(pack / "index.html", html)


def _review_view(review: dict[str, Any], *, valid: bool) -> dict[str, Any]:
    """A review of ``review.json`` for the index, with ``valid`` (the pack is unchanged since).

    A review recorded before ratings has a ``decision`` and ``findings`` (text and severity)
    instead of a rating, a conclusion and assessments; both kinds get every key, None or empty
    where they have no value (``decision`` and ``findings`` included, which the page showed before
    ratings)."""
    return {**review, "valid": valid, "rating": review.get("rating", review.get("decision")),
            "decision": review.get("decision", review.get("rating")), "conclusion": review.get("conclusion"),
            "assessments": list(review.get("assessments", [])), "raised": list(review.get("raised", [])),
            "findings": list(review.get("findings", []))}


def _conclusion(review: dict[str, Any], card: dict[str, Any]) -> dict[str, Any]:
    """The index's ``conclusion``: the latest rated review, with its rank among the pack's ratings
    (0 = best)."""
    from validation.inputs.spec import RATINGS

    ratings = list((card.get("governance") or {}).get("ratings") or RATINGS)
    rank = ratings.index(review["rating"]) if review["rating"] in ratings else None
    return {"reviewer": review["reviewer"], "rating": review["rating"], "rating_rank": rank, "ratings": ratings,
            "conclusion": review["conclusion"], "reviewed_at": review["reviewed_at"], "valid": review["valid"],
            "review_id": review["review_id"]}


def threshold_sources(metrics: set[str], materiality: str | None = None) -> list[dict[str, Any]]:
    """The rule of every judged metric of a pack at the model's materiality, with where its bounds
    and materiality bounds come from, for the index (the bounds applied, the spec's when it sets
    them, are in each finding)."""
    import math

    policy = Policy.for_materiality(materiality)
    rows = []
    for metric in sorted(metrics):
        rule = policy.rule(metric)
        immaterial = None
        if rule.immaterial is not None:
            low, high = rule.immaterial
            immaterial = (f"below {high:g}" if math.isinf(low) else f"above {low:g}" if math.isinf(high)
                          else f"{low:g} to {high:g}")
        rows.append({"metric": metric, "amber": rule.amber, "red": rule.red, "source": rule.source,
                     "significance": rule.significance, "effect": rule.effect, "immaterial": immaterial,
                     "immaterial_source": rule.immaterial_source})
    return rows


def _write_diff(plan: "PackPlan", records: list[CheckResult], previous: tuple[str, str, list[Any]]) -> dict[str, Any]:
    """``html/diff.html``: every finding against the previous version's latest run; returns the
    card's ``diff`` entry."""
    from validation.reporting.history import compare_findings, render_page

    old_version, old_run, old_findings = previous
    findings = [dict(f.model_dump(), check=r.name) for r in records for f in r.findings]
    table = compare_findings(old_findings, findings)
    (plan.staging / "html").mkdir(parents=True, exist_ok=True)
    (plan.staging / "html" / "diff.html").write_text(render_page(
        f"{plan.spec.name}: version {old_version} (run {old_run}) against version {plan.spec.version} (this run)",
        table, intro="Changed, new and removed findings first; the unchanged ones are collapsed below.",
        back=("../index.html", "Back to the pack")), encoding="utf-8")
    changed = table[(table["diff"] == "changed") & (table["old_status"] != table["new_status"])]
    return {"href": "html/diff.html", "version": old_version, "run": old_run, "changed": len(changed)}


def publish_pack(plan: "PackPlan") -> Callable[[], None]:
    """Move a complete staged pack into its final place; returns the undo (moving it back), for a
    registry whose commit then fails: a pack is in place with its registry row or not at all."""
    from validation.reporting.staging import owner_file

    os.replace(plan.staging, plan.final)

    def undo() -> None:
        os.replace(plan.final, plan.staging)

    owner_file(plan.staging).unlink(missing_ok=True)
    return undo


def finish_pack(plan: "PackPlan", results: list["TaskResult"], *,
                previous: tuple[str, str, list[Any]] | None = None,
                carried: list[dict[str, Any]] | None = None, pdf: bool = False) -> tuple[Path, dict[str, Any]]:
    """Write ``results.json``, ``card.json``, ``index.html`` and ``manifest.json`` (signed when
    ``VALIDATION_SIGNING_KEY`` is set) in the staging folder; :func:`publish_pack` then moves the
    pack into place (inside the registry's transaction).

    ``previous`` is ``(version, run_id, findings)`` of the previous version's latest run: the pack
    then holds ``html/diff.html``, the finding-by-finding comparison, linked from the index.
    ``carried`` (when the run has a registry) are the register items of earlier versions of the
    model not closed now: ``register.json``, hashed in the manifest like every file. ``pdf``
    prints ``pack.pdf`` before the manifest is written, so it is in the manifest from the start.

    Returns the final pack folder and the results document.
    """
    from validation.governance.integrity import PDF, REGISTER, signing_key, write_manifest
    from validation.reporting.card import model_card
    from validation.reporting.lineage import environment_record, now

    spec = plan.spec
    records = check_results(plan, results)
    document = Results(
        model=ModelInfo(name=spec.name, version=spec.version, type=spec.model.type),
        run=RunInfo(id=plan.run_id, started_at=plan.started_at, finished_at=now(), spec_sha256=spec.sha256),
        status=worst(r.status for r in records), checks=records).document()
    plan.staging.mkdir(parents=True, exist_ok=True)
    write_json(plan.staging / "results.json", document)
    card = model_card(plan, records)
    if previous is not None:
        card["diff"] = _write_diff(plan, records, previous)
    write_json(plan.staging / "card.json", card)
    if carried is not None:
        write_json(plan.staging / REGISTER, {"model": spec.name, "version": spec.version, "run_id": plan.run_id,
                                             "recorded_at": document["run"]["finished_at"], "scope": CARRIED_SCOPE,
                                             "items": carried})
    manifest: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "run_id": plan.run_id, "inputs": plan.inputs,
                                "environment": environment_record(), "signed": signing_key() is not None, "files": {}}
    write_json(plan.staging / "manifest.json", manifest)
    render_pack_index(plan.staging)
    if pdf:
        manifest["pdf"] = print_pdf(plan.staging, plan.staging / PDF, reviews=0)
    write_manifest(plan.staging, manifest)
    return plan.final, document


PDF_MISSING = ("printing a PDF needs validation.reporting.pdf, which this installation lacks: reinstall the "
               "validation package")


def check_pdf_printer() -> None:
    """Before a run with ``--pdf`` executes anything: the PDF module and a Chromium are there
    (:func:`validation.reporting.pdf.find_chromium`).

    Raises
    ------
    InputError
        (exit 2) With the fix: :data:`PDF_MISSING`, or ``ChromiumNotFound`` (install Chromium).
    """
    from validation.errors import InputError

    try:
        from validation.reporting.pdf import find_chromium  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise InputError(PDF_MISSING) from None
    find_chromium()


def print_pdf(folder: Path, out: Path, *, reviews: int) -> dict[str, Any]:
    """Print a pack's pages to ``out`` (:func:`validation.reporting.pdf.print_pack`); returns the
    manifest's ``pdf`` record: ``{"file", "printed_at", "pages", "reviews"}``, ``reviews`` being
    how many reviews the printed index shows (``verify`` notes a PDF older than a later review).

    Raises
    ------
    InputError
        (exit 2) The PDF module or Chromium is missing (:func:`check_pdf_printer`); the printer's
        own errors pass as they are (a page it cannot print: ``ToolFailure``, exit 4).
    """
    from validation.reporting.lineage import now

    check_pdf_printer()
    from validation.reporting.pdf import print_pack  # type: ignore[import-not-found, unused-ignore]

    report = print_pack(folder, out)
    return {"file": out.name, "printed_at": now(), "pages": int(getattr(report, "pages", 0) or 0), "reviews": reviews}
