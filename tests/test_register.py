"""The review's conclusion and the findings register (issue 18): a rating, a conclusion and
assessments bound into the signed evidence; raised items with stable ids, updated and round-tripped
through CSV, chained in the registry's ledger, and carried into the next version's pack."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from validation.cli import main
from validation.errors import InputError
from validation.governance.integrity import verify_pack, write_manifest
from validation.governance.register import export_csv, neutralise_cell, restore_cell
from validation.governance.registry import Registry
from validation.governance.review import add_review

KEY = "k"
RATINGS = ["satisfactory", "satisfactory with findings", "unsatisfactory"]


def _spec(root: Path, version: str) -> Path:
    spec = {"model": {"name": "toy_pd", "version": version, "owner": "Tests", "purpose": "a test model"},
            "data": {"reference": "data/ref.parquet", "current": "data/cur.parquet", "target": "default",
                     "score": "pd", "features": ["income", "tenure", "region"]},
            "checks": ["drift"]}
    path = root / f"spec-v{version}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<root>/out holding one signed pack of toy_pd version 1 (the drift check on the synthetic
    portfolio, whose current sample is shifted) and its registry."""
    from conftest import synthetic_sample
    from validation.execution.pipeline import run_specs

    root = tmp_path_factory.mktemp("register")
    (root / "data").mkdir()
    synthetic_sample(400, seed=1).to_parquet(root / "data" / "ref.parquet")
    synthetic_sample(300, seed=2, shift=0.3).to_parquet(root / "data" / "cur.parquet")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VALIDATION_SIGNING_KEY", KEY)
        run_specs([_spec(root, "1")], out=root / "out", registry=Registry(root / "out" / "registry.sqlite"),
                  workers=1)
    return root


@pytest.fixture
def setup(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A copy of the source (pack, registry, data and spec) in tmp_path, the key set."""
    shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    monkeypatch.setenv("VALIDATION_SIGNING_KEY", KEY)
    (pack,) = [p for p in (tmp_path / "out" / "toy_pd" / "1").iterdir() if not p.name.startswith(".")]
    results = json.loads((pack / "results.json").read_text())
    issues = [i["id"] for c in results["checks"] for i in c["issues"]]
    keys = [f"{c['name']}:{f['metric']}:{f['subject']}" for c in results["checks"] for f in c["findings"]]
    return {"root": tmp_path, "pack": pack, "registry": Registry(tmp_path / "out" / "registry.sqlite"),
            "issues": issues, "keys": keys}


def raise_(target: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"target": target, "action": "raise", "title": title, "severity": "medium", "owner": "Model owner",
            "due": "2026-09-30", "remediation": "Recalibrate on the 2025 sample", **extra}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cli(*arguments: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in arguments])


def review_with_two_raised(setup: dict[str, Any]) -> dict[str, Any]:
    keys = setup["keys"]
    return add_review(setup["pack"], reviewer="Ada <MRM>", rating="satisfactory with findings",
                      conclusion="The model ranks well.\nIncome drift <b>needs</b> watching.",
                      assessments=[{"target": keys[0], "action": "accept"},
                                   {"target": keys[1], "action": "override", "rationale": "A known seasonal shift"},
                                   raise_(keys[2], "Income drift"), raise_(keys[3], "Tenure drift", severity="high")],
                      registry=setup["registry"])


def test_the_pack_has_issues_and_findings_to_assess(setup: dict[str, Any]) -> None:
    assert len(setup["keys"]) >= 4 and setup["issues"], "the shifted sample must give findings and an issue"


def test_a_review_round_trips_signed_with_its_rating_conclusion_and_assessments(setup: dict[str, Any]) -> None:
    pack, registry = setup["pack"], setup["registry"]
    recorded = review_with_two_raised(setup)
    document = json.loads((pack / "review.json").read_text())
    (stored,) = document["reviews"]
    assert stored == recorded
    assert stored["rating"] == "satisfactory with findings"
    assert stored["conclusion"] == "The model ranks well.\nIncome drift <b>needs</b> watching."
    assert [(a["action"], a["issue_id"]) for a in stored["assessments"]] == [
        ("accept", None), ("override", None), ("raise", "toy_pd-001"), ("raise", "toy_pd-002")]
    assert stored["assessments"][1]["rationale"] == "A known seasonal shift"
    assert [(i["id"], i["title"], i["severity"], i["status"], i["version"]) for i in stored["raised"]] == [
        ("toy_pd-001", "Income drift", "medium", "open", "1"), ("toy_pd-002", "Tenure drift", "high", "open", "1")]
    assert stored["signature"]["algorithm"] == "HMAC-SHA256"
    verified = verify_pack(pack, key=KEY.encode())
    assert verified.intact and verified.review_signatures == ["valid"], verified.lines()
    # the registry holds the review and the items, chained in the ledger
    assert [i["id"] for i in registry.register_items(model="toy_pd")] == ["toy_pd-001", "toy_pd-002"]
    (row,) = registry.reviews(stored["run_id"])
    assert row["decision"] == "satisfactory with findings"
    assert json.loads(row["findings"])["raised"] == ["toy_pd-001", "toy_pd-002"]
    assert registry.verify() == []
    index = (pack / "index.html").read_text()
    assert "Ada &lt;MRM&gt;" in index and "Income drift &lt;b&gt;needs&lt;/b&gt; watching" in index
    assert "toy_pd-001" in index and "toy_pd-002" in index


@pytest.mark.parametrize("field, value", [("conclusion", "The model is fine."), ("rating", "satisfactory"),
                                          ("raised", [])])
def test_an_edited_review_fails_verify_even_when_the_manifest_is_resealed(setup: dict[str, Any], field: str,
                                                                         value: Any) -> None:
    pack = setup["pack"]
    review_with_two_raised(setup)
    document = json.loads((pack / "review.json").read_text())
    document["reviews"][0][field] = value
    if field == "raised":  # keep the file well formed: the assessments no longer name raised items
        document["reviews"][0]["assessments"] = [
            {**a, "issue_id": None, "action": "accept"} for a in document["reviews"][0]["assessments"]]
    (pack / "review.json").write_text(json.dumps(document))
    assert verify_pack(pack, key=KEY.encode()).changed == ["review.json"]
    write_manifest(pack, json.loads((pack / "manifest.json").read_text()))  # a key holder's careless re-seal
    verified = verify_pack(pack, key=KEY.encode())
    assert not verified.intact and verified.review_signatures == ["invalid"], verified.lines()


def test_raised_ids_are_sequential_per_model_and_never_reused(setup: dict[str, Any]) -> None:
    registry, keys = setup["registry"], setup["keys"]
    review_with_two_raised(setup)
    third = add_review(setup["pack"], reviewer="Bob", rating="unsatisfactory", conclusion="Worse than thought.",
                       assessments=[raise_(keys[4 % len(keys)], "Region drift")], registry=registry)
    assert [i["id"] for i in third["raised"]] == ["toy_pd-003"]
    with sqlite3.connect(registry.path) as db:  # someone deletes the newest item by hand
        db.execute("DELETE FROM register WHERE id = 'toy_pd-003'")
    assert any("toy_pd-003: its row was deleted" in p for p in registry.verify())
    fourth = add_review(setup["pack"], reviewer="Cy", rating="unsatisfactory", conclusion="Again.",
                        assessments=[raise_(keys[0], "Income drift again")], registry=registry)
    assert [i["id"] for i in fourth["raised"]] == ["toy_pd-004"]  # 003 is not given again


BAD_ASSESSMENTS = {
    "an unknown target": ([{"target": "drift:no_such_metric:x", "action": "accept"}],
                          "'drift:no_such_metric:x' is neither an issue nor a finding of this pack; the pack's "
                          "results.json lists them"),
    "an override without a rationale": ([{"target": "KEY0", "action": "override"}], "assessments[1].rationale: empty"),
    "a raise missing its owner and due date": ([{"target": "KEY0", "action": "raise", "title": "t",
                                                 "severity": "low", "remediation": "r"}],
                                               "action 'raise' needs owner, due"),
    "a due date that is not one": ([raise_("KEY0", "t", due="30/09/2026")],
                                   "assessments[1].due: '30/09/2026' is not a date; give it as YYYY-MM-DD"),
    "an unknown action": ([{"target": "KEY0", "action": "waive"}], "assessments[1].action: 'waive' is not one of "
                                                                   "accept, override, raise"),
    "a target assessed twice": ([{"target": "KEY0", "action": "accept"}, {"target": "KEY0", "action": "accept"}],
                                "is assessed twice"),
}


@pytest.mark.parametrize("assessments, message", BAD_ASSESSMENTS.values(), ids=list(BAD_ASSESSMENTS))
def test_a_bad_assessment_is_refused_naming_it_and_nothing_is_written(setup: dict[str, Any],
                                                                      assessments: list[dict[str, Any]],
                                                                      message: str) -> None:
    given = [{k: (setup["keys"][0] if v == "KEY0" else v) for k, v in a.items()} for a in assessments]
    before, ledger = snapshot(setup["pack"]), setup["registry"].path.read_bytes()
    with pytest.raises(InputError, match=None) as raised:
        add_review(setup["pack"], reviewer="Ada", rating="satisfactory", conclusion="ok", assessments=given,
                   registry=setup["registry"])
    assert message in raised.value.message
    assert snapshot(setup["pack"]) == before and setup["registry"].register_items() == []
    assert setup["registry"].path.read_bytes() == ledger


def test_a_rating_must_be_one_of_the_packs_ratings(setup: dict[str, Any]) -> None:
    result = cli("review", setup["pack"], "--reviewer", "Ada", "--rating", "approve", "--conclusion", "ok")
    assert result.exit_code == 2, result.output
    assert "--rating: 'approve' is not one of " + ", ".join(RATINGS) in result.stderr


def test_the_review_cli_reads_an_assessments_file(setup: dict[str, Any]) -> None:
    keys = setup["keys"]
    file = setup["root"] / "assessments.yaml"
    file.write_text(yaml.safe_dump({"assessments": [
        {"target": keys[0], "action": "override", "rationale": "Seasonal"},
        {**raise_(keys[1], "Income drift"), "due": "2026-10-31"}]}))
    result = cli("review", setup["pack"], "--reviewer", "Ada", "--rating", "satisfactory with findings",
                 "--conclusion", "Fit for use,\nwith one issue.", "--assessments", file)
    assert result.exit_code == 0, result.output
    assert "raised toy_pd-001: Income drift (medium, Model owner, due 2026-10-31)" in result.stdout
    assert setup["registry"].register_items()[0]["due"] == "2026-10-31"
    as_csv = setup["root"] / "assessments.csv"
    as_csv.write_text(f"target,action,rationale\n{keys[2]},override,\n")
    refused = cli("review", setup["pack"], "--reviewer", "Ada", "--rating", "satisfactory", "--conclusion", "x",
                  "--assessments", as_csv)
    assert refused.exit_code == 2 and "assessments[1].rationale: empty" in refused.stderr, refused.output


def test_findings_update_records_who_when_and_the_old_value(setup: dict[str, Any]) -> None:
    registry = setup["registry"]
    review_with_two_raised(setup)
    out = ["--registry", registry.path]
    result = cli("findings", "update", "toy_pd-001", "--status", "in_progress", "--owner", "Risk team",
                 "--by", "Eve", "--note", "started", *out)
    assert result.exit_code == 0, result.output
    assert "toy_pd-001: in_progress, medium, owner Risk team" in result.stdout
    events = registry.register_events("toy_pd-001")
    assert [(e["revision"], e["field"], e["old"], e["new"], e["by"], e["note"]) for e in events[1:]] == [
        (2, "owner", "Model owner", "Risk team", "Eve", "started"), (2, "status", "open", "in_progress", "Eve", "started")]
    assert registry.verify() == []
    assert cli("findings", "update", "toy_pd-001", "--due", "31/12/2026", "--by", "Eve", *out).exit_code == 2
    missing = cli("findings", "update", "toy_pd-999", "--status", "closed", "--by", "Eve", *out)
    assert missing.exit_code == 2 and "'toy_pd-999': not in the registry" in missing.stderr
    listed = cli("findings", "list", "--status", "in_progress", *out)
    assert listed.exit_code == 0 and "toy_pd-001" in listed.stdout and "toy_pd-002" not in listed.stdout


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_restored() -> None:
    for text in ("=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "'=quoted", "plain", "", "\tTab"):
        cell = neutralise_cell(text)
        assert not cell.startswith(("=", "+", "-", "@", "\t")) and restore_cell(cell) == text
    exported = export_csv([{"id": "m-001", "remediation": "=cmd|' /C calc'!A0"}])
    assert "'=cmd|" in exported


def test_the_register_round_trips_through_csv(setup: dict[str, Any]) -> None:
    import csv

    registry, root = setup["registry"], setup["root"]
    review_with_two_raised(setup)
    registry.update_items({"toy_pd-002": {"remediation": "=HYPERLINK(\"http://evil\",\"click\")\nsecond line"}},
                          by="Mallory")
    out = ["--registry", registry.path]
    exported = root / "register.csv"
    assert cli("findings", "export", "--model", "toy_pd", "--csv", exported, *out).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.read_text(), newline="")))
    assert [r["id"] for r in rows] == ["toy_pd-001", "toy_pd-002"]
    assert rows[1]["remediation"] == "'=HYPERLINK(\"http://evil\",\"click\")\nsecond line"  # text in a spreadsheet
    # edit in a spreadsheet: close one, re-assign and re-date the other
    rows[0].update(status="closed")
    rows[1].update(owner="Risk team", due="2026-12-31")
    with exported.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = cli("findings", "import", "--csv", exported, "--by", "Eve", *out)
    assert imported.exit_code == 0, imported.output
    assert "2 item(s) updated" in imported.stdout
    items = {i["id"]: i for i in registry.register_items()}
    assert items["toy_pd-001"]["status"] == "closed"
    assert (items["toy_pd-002"]["owner"], items["toy_pd-002"]["due"]) == ("Risk team", "2026-12-31")
    assert items["toy_pd-002"]["remediation"] == "=HYPERLINK(\"http://evil\",\"click\")\nsecond line"  # restored
    assert registry.verify() == []
    again = cli("findings", "import", "--csv", exported, "--by", "Eve", *out)  # a stale export: refused
    assert again.exit_code == 2 and "row 2, column 'updated_at'" in again.stderr, again.output


@pytest.mark.parametrize("row, column, value, message", [
    (3, "due", "31/12/2026", "is not a date"),
    (3, "status", "done", "'done' is not one of open, in_progress"),
    (3, "id", "toy_pd-099", "'toy_pd-099' is not in the register"),
    (3, "title", "Renamed", "changed, but only status, owner, due, remediation, severity can be edited"),
])
def test_a_bad_csv_row_is_refused_naming_row_and_column_and_nothing_is_applied(
        setup: dict[str, Any], row: int, column: str, value: str, message: str) -> None:
    import csv

    registry, root = setup["registry"], setup["root"]
    review_with_two_raised(setup)
    exported = root / "register.csv"
    exported.write_text(export_csv(registry.register_items()))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(), newline="")))
    rows[0]["status"] = "closed"  # a good edit in row 2...
    rows[row - 2][column] = value  # ...and a bad one in row 3
    with exported.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = registry.register_items()
    result = cli("findings", "import", "--csv", exported, "--by", "Eve", "--registry", registry.path)
    assert result.exit_code == 2, result.output
    assert f"row {row}, column '{column}'" in result.stderr and message in result.stderr
    assert registry.register_items() == before  # row 2's good edit was not applied either


def test_the_next_versions_pack_carries_the_open_items_and_verify_covers_them(setup: dict[str, Any]) -> None:
    from validation.execution.pipeline import run_specs

    registry, root = setup["registry"], setup["root"]
    review_with_two_raised(setup)
    registry.update_items({"toy_pd-001": {"status": "closed"}}, by="Eve")
    registry.update_items({"toy_pd-002": {"status": "in_progress"}}, by="Eve")
    (outcome,), _ = run_specs([_spec(root, "2")], out=root / "out", registry=registry, workers=1)
    carried = json.loads((outcome.path / "register.json").read_text())
    assert (carried["model"], carried["version"]) == ("toy_pd", "2")
    assert [(i["id"], i["status"], i["version"]) for i in carried["items"]] == [("toy_pd-002", "in_progress", "1")]
    assert "toy_pd-002" in (outcome.path / "index.html").read_text()
    assert verify_pack(outcome.path, key=KEY.encode()).intact
    # the carried register is evidence: editing it breaks the manifest, re-sealing it breaks a review
    add_review(outcome.path, reviewer="Ada", rating="satisfactory", conclusion="ok", registry=registry)
    carried["items"][0]["status"] = "closed"
    (outcome.path / "register.json").write_text(json.dumps(carried))
    assert verify_pack(outcome.path, key=KEY.encode()).changed == ["register.json"]
    write_manifest(outcome.path, json.loads((outcome.path / "manifest.json").read_text()))
    resealed = verify_pack(outcome.path, key=KEY.encode())
    assert resealed.reviews[0][1] is False  # the review no longer matches the evidence
    (outcome.path / "register.json").write_text('{"items": [{"id": 3}]}')
    write_manifest(outcome.path, json.loads((outcome.path / "manifest.json").read_text()))
    assert any(p.startswith("register.json: item 3: 'id' is 3") for p in
               verify_pack(outcome.path, key=KEY.encode()).problems)
    # version 1 run again does not carry version 2's items, nor its own
    (again,), _ = run_specs([_spec(root, "1")], out=root / "out", registry=registry, workers=1)
    assert json.loads((again.path / "register.json").read_text())["items"] == []


def test_the_ledger_detects_an_edited_register_row_or_event(setup: dict[str, Any]) -> None:
    registry = setup["registry"]
    review_with_two_raised(setup)
    registry.update_items({"toy_pd-001": {"status": "remediated"}}, by="Eve")
    assert registry.verify() == []
    with sqlite3.connect(registry.path) as db:
        db.execute("UPDATE register SET status = 'closed' WHERE id = 'toy_pd-001'")
    assert any("toy_pd-001: its row differs from its recorded events in status" in p for p in registry.verify())
    with sqlite3.connect(registry.path) as db:  # rewrite the history to match: the ledger tells
        db.execute("UPDATE register_events SET new = 'closed' WHERE item_id = 'toy_pd-001' AND field = 'status'")
    problems = registry.verify()
    assert any("register toy_pd-001@2" in p and "rows changed" in p for p in problems), problems
    result = cli("verify", "--registry", registry.path)
    assert result.exit_code == 1 and "NOT INTACT" in result.stdout


UPDATER = """
import sys
from validation.governance.registry import Registry
registry, worker = Registry(sys.argv[1]), sys.argv[2]
for number in range(15):
    registry.update_items({"toy_pd-001": {"owner": f"{worker}-{number}"}}, by=worker)
"""


def test_concurrent_updates_from_two_processes_lose_no_event(setup: dict[str, Any]) -> None:
    registry = setup["registry"]
    review_with_two_raised(setup)
    workers = [subprocess.Popen([sys.executable, "-c", UPDATER, str(registry.path), name]) for name in ("A", "B")]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    events = registry.register_events("toy_pd-001")[1:]
    assert len(events) == 30 and sorted(e["revision"] for e in events) == list(range(2, 32))
    assert all(later["old"] == earlier["new"] for earlier, later in zip(events, events[1:]))  # each saw the last
    assert registry.verify() == []


# --- pack.pdf: added through the review's staged, verify-first publish; re-printed by a review


def fake_printer(calls: list[int]) -> Any:
    """A stand-in for Chromium: a 'PDF' naming the reviews the index it prints shows."""

    def print_pdf(folder: Path, out: Path, *, reviews: int) -> dict[str, Any]:
        calls.append(reviews)
        out.write_bytes(b"%PDF-1.4 fake, " + str(reviews).encode() + b" reviews\n")
        return {"file": out.name, "printed_at": "2026-05-01T00:00:00+00:00", "pages": 1, "reviews": reviews}

    return print_pdf


def test_pdf_is_added_to_the_signed_manifest_and_reprinted_by_a_review(setup: dict[str, Any],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import validation.reporting.pack as pack_module

    pack, calls = setup["pack"], []
    monkeypatch.setattr(pack_module, "print_pdf", fake_printer(calls))
    result = cli("pdf", pack)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(pack / "pack.pdf") and calls == [0]
    manifest = json.loads((pack / "manifest.json").read_text())
    assert "pack.pdf" in manifest["files"] and manifest["pdf"]["reviews"] == 0
    assert verify_pack(pack, key=KEY.encode()).intact
    review_with_two_raised(setup)
    assert calls == [0, 1] and (pack / "pack.pdf").read_bytes().endswith(b"1 reviews\n")
    verified = verify_pack(pack, key=KEY.encode())
    assert verified.intact and verified.notes == [], verified.lines()


def test_a_review_that_cannot_reprint_the_pdf_keeps_it_and_says_so(setup: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import validation.reporting.pack as pack_module

    pack = setup["pack"]
    monkeypatch.setattr(pack_module, "print_pdf", fake_printer([]))
    assert cli("pdf", pack).exit_code == 0
    printed = (pack / "pack.pdf").read_bytes()

    def missing(folder: Path, out: Path, *, reviews: int) -> dict[str, Any]:
        from validation.reporting.pdf import ChromiumNotFound

        raise ChromiumNotFound("none of chromium is on PATH")

    monkeypatch.setattr(pack_module, "print_pdf", missing)
    result = cli("review", pack, "--reviewer", "Ada", "--rating", "satisfactory", "--conclusion", "ok")
    assert result.exit_code == 0, result.output
    assert "warning: pack.pdf was kept as printed before this review" in result.stderr
    assert "apt-get install chromium" in result.stderr
    assert (pack / "pack.pdf").read_bytes() == printed
    verified = verify_pack(pack, key=KEY.encode())
    assert verified.intact, verified.lines()
    assert verified.notes == ["pack.pdf: printed at 2026-05-01T00:00:00+00:00, before the last 1 review(s), which "
                              "it does not show; `validation pdf PACK` re-prints it"]


def test_missing_chromium_is_bad_usage_naming_the_fix(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from validation.reporting.pdf import CHROMIUM_ENV

    monkeypatch.setenv(CHROMIUM_ENV, "no-such-browser-for-this-test")
    before = snapshot(setup["pack"])
    result = cli("pdf", setup["pack"])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output
    assert "'no-such-browser-for-this-test', which is not an executable" in result.stderr
    assert "apt-get install chromium" in result.stderr
    assert snapshot(setup["pack"]) == before
    out = setup["root"] / "fresh"
    ran = cli("run", _spec(setup["root"], "2"), "--pdf", "--out", out)
    assert ran.exit_code == 2 and "apt-get install chromium" in ran.stderr and not out.exists()
    inside = cli("pdf", setup["pack"], "--out", setup["pack"] / "copy.pdf")
    assert inside.exit_code == 2 and "inside the pack" in inside.stderr


def test_a_real_pdf_of_a_pack(setup: dict[str, Any]) -> None:
    pytest.importorskip("validation.reporting.pdf", reason="the PDF printer (helper C of issue 18) is not there yet")
    pypdf = pytest.importorskip("pypdf")
    pack = setup["pack"]
    result = cli("pdf", pack)
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pack / "pack.pdf").pages)
    assert "toy_pd" in text and "Fit for use with one issue" not in text
    assert verify_pack(pack, key=KEY.encode()).intact
    reviewed = cli("review", pack, "--reviewer", "Ada", "--rating", "satisfactory", "--conclusion",
                   "Fit for use with one issue")
    assert reviewed.exit_code == 0 and "warning" not in reviewed.stderr, reviewed.output
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pack / "pack.pdf").pages)
    assert "Fit for use with one issue" in " ".join(text.split())  # re-printed with the review
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["pdf"]["reviews"] == 1 and verify_pack(pack, key=KEY.encode()).intact
    ran = cli("run", _spec(setup["root"], "2"), "--pdf", "--out", setup["root"] / "out", "--quiet")
    assert ran.exit_code in (0, 1), ran.output
    fresh = Path(ran.stdout.strip().splitlines()[-1])
    manifest = json.loads((fresh / "manifest.json").read_text())
    assert "pack.pdf" in manifest["files"] and manifest["pdf"]["reviews"] == 0
    assert verify_pack(fresh, key=KEY.encode()).intact


def test_history_without_a_model_lists_every_model_and_when_it_is_due(setup: dict[str, Any]) -> None:
    page = setup["root"] / "inventory.html"
    result = cli("history", "--registry", setup["registry"].path, "--html", page)
    assert result.exit_code == 0, result.output
    assert "toy_pd" in result.stdout and "next_due" in result.stdout and "overdue" in result.stdout
    assert "toy_pd" in page.read_text()
    empty = cli("history", "--registry", setup["root"] / "none.sqlite")
    assert empty.exit_code == 2 and "no runs in the registry" in empty.stderr
