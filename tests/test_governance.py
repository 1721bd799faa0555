"""Governance: pack verification and signatures, the registry's hash chain, reviews, model card."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from validation.errors import InputError
from validation.governance.integrity import verify_pack
from validation.governance.registry import Registry
from validation.governance.review import add_review
from validation.execution.pipeline import run_specs as run

VALIDATION = [sys.executable, "-m", "validation"]


@pytest.fixture
def signed_pack(write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("VALIDATION_SIGNING_KEY", "s3cret")
    spec = write_spec({"checks": ["drift"], "model": {"intended_use": "Retail <loans> only",
                                                     "limitations": "Not for SME lending"}})
    registry = Registry(tmp_path / "out" / "registry.sqlite")
    (outcome,), _ = run([spec], out=tmp_path / "out", registry=registry, workers=1)
    return {"pack": outcome.path, "registry": registry}


def test_verify_passes_on_a_fresh_pack_and_fails_after_any_byte_changes(signed_pack: dict[str, Any]) -> None:
    pack = signed_pack["pack"]
    result = verify_pack(pack, key=b"s3cret")
    assert result.intact and result.signature == "valid"
    files = [p for p in pack.rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert len(files) >= 5
    for path in files:  # flip one byte of every file in turn
        original = path.read_bytes()
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        broken = verify_pack(pack, key=b"s3cret")
        assert not broken.intact and broken.changed == [str(path.relative_to(pack))]
        path.write_bytes(original)
    assert verify_pack(pack, key=b"s3cret").intact
    (pack / "extra.txt").write_text("planted")
    assert verify_pack(pack, key=b"s3cret").added == ["extra.txt"]
    (pack / "extra.txt").unlink()
    moved = pack / "results.json"
    moved.rename(pack / "results.bak")
    result = verify_pack(pack, key=b"s3cret")
    assert result.missing == ["results.json"] and result.added == ["results.bak"]


def test_signature_fails_with_a_wrong_key_and_after_editing_the_manifest(signed_pack: dict[str, Any]) -> None:
    pack = signed_pack["pack"]
    assert verify_pack(pack, key=b"wrong").signature == "invalid"
    assert verify_pack(pack, key=None).signature == "not checked"
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["inputs"]["spec"]["sha256"] = "0" * 64  # a forger rewrites lineage...
    (pack / "manifest.json").write_text(json.dumps(manifest))
    assert verify_pack(pack, key=b"s3cret").signature == "invalid"  # ...and the signature tells
    cli = subprocess.run([*VALIDATION, "verify", str(pack)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "VALIDATION_SIGNING_KEY": "s3cret"})
    assert cli.returncode == 1 and "signature: invalid" in cli.stdout


def test_verify_cli_on_an_intact_pack(signed_pack: dict[str, Any]) -> None:
    cli = subprocess.run([*VALIDATION, "verify", str(signed_pack["pack"]), "--registry",
                          str(signed_pack["registry"].path)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "VALIDATION_SIGNING_KEY": "s3cret"})
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "signature: valid" in cli.stdout and "ledger intact" in cli.stdout


def test_registry_detects_edited_and_deleted_rows(signed_pack: dict[str, Any], write_spec: Callable[..., Path],
                                                  tmp_path: Path) -> None:
    registry = signed_pack["registry"]
    run([write_spec({"checks": ["drift"]})], out=tmp_path / "out", registry=registry, workers=1, force=True)
    assert registry.verify() == []
    with sqlite3.connect(registry.path) as db:
        db.execute("UPDATE findings SET value = value + 1 WHERE rowid = (SELECT MIN(rowid) FROM findings)")
    assert any("rows changed" in p for p in registry.verify())
    with sqlite3.connect(registry.path) as db:
        db.execute("UPDATE findings SET value = value - 1 WHERE rowid = (SELECT MIN(rowid) FROM findings)")
    assert registry.verify() == []
    with sqlite3.connect(registry.path) as db:
        db.execute("DELETE FROM ledger WHERE seq = 1")
    problems = registry.verify()
    assert any("does not follow the previous entry" in p for p in problems)
    assert any("not in the ledger" in p for p in problems)


def test_review_is_recorded_shown_and_invalidated_by_a_later_change(signed_pack: dict[str, Any]) -> None:
    pack, registry = signed_pack["pack"], signed_pack["registry"]
    review = add_review(pack, reviewer="Ada <MRM>", rating="satisfactory with findings",
                        conclusion="Score PSI near amber", registry=registry)
    assert verify_pack(pack, key=b"s3cret").intact  # the manifest now covers review.json and the new index
    index = (pack / "index.html").read_text()
    assert "Ada &lt;MRM&gt;" in index and "satisfactory with findings" in index and "Score PSI near amber" in index
    assert registry.reviews(review["run_id"])[0]["reviewer"] == "Ada <MRM>"
    assert registry.verify() == []
    assert verify_pack(pack, key=b"s3cret").reviews == [(f"Ada <MRM> ({review['reviewed_at']})", True)]
    # someone edits a result after the review: the review no longer matches the pack
    results = json.loads((pack / "results.json").read_text())
    results["status"] = "green"
    (pack / "results.json").write_text(json.dumps(results))
    check = verify_pack(pack, key=b"s3cret")
    assert not check.intact and check.reviews[0][1] is False
    with pytest.raises(InputError, match="the pack changed since it was written"):
        add_review(pack, reviewer="Bob", rating="satisfactory", conclusion="fine")


def test_review_input_errors(signed_pack: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="--conclusion: empty"):
        add_review(signed_pack["pack"], reviewer="Ada", rating="satisfactory", conclusion="  ")
    with pytest.raises(InputError, match="--conclusion: has a control character"):
        add_review(signed_pack["pack"], reviewer="Ada", rating="satisfactory", conclusion="ok\x00")
    with pytest.raises(InputError, match="raising an issue needs a registry"):
        results = json.loads((signed_pack["pack"] / "results.json").read_text())
        finding = results["checks"][0]["findings"][0]
        add_review(signed_pack["pack"], reviewer="Ada", rating="satisfactory", conclusion="ok", assessments=[
            {"target": f"drift:{finding['metric']}:{finding['subject']}", "action": "raise", "title": "t",
             "severity": "low", "owner": "o", "due": "2026-01-31", "remediation": "r"}])
    cli = subprocess.run([*VALIDATION, "review", str(signed_pack["pack"]), "--reviewer", "Ada", "--rating",
                          "approve", "--conclusion", "ok"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2 and "--rating: 'approve' is not one of satisfactory" in cli.stderr


def test_model_card_with_and_without_optional_keys(signed_pack: dict[str, Any], write_spec: Callable[..., Path],
                                                   tmp_path: Path) -> None:
    index = (signed_pack["pack"] / "index.html").read_text()
    assert "Retail &lt;loans&gt; only" in index and "Not for SME lending" in index
    assert "Mitchell et al. (2019)" in index and "SR 26-2 / OCC Bulletin 2026-13" in index
    plain = write_spec({"checks": ["drift", "fairness"]}, name="plain.yaml")
    (outcome,), _ = run([plain], out=tmp_path / "plain-out", workers=1)
    index = (outcome.path / "index.html").read_text()
    assert "Intended use</dt><dd>a &lt;b&gt;test&lt;/b&gt; model" in index  # falls back to the purpose
    assert "Ethical considerations</dt><dd>not stated" in index
    card = json.loads((outcome.path / "card.json").read_text())
    assert {row["group"] for row in card["quantitative_analyses"][0]["rows"]} == {"sex:female", "sex:male"}
