"""Reviews (effective challenge): a validator's recorded conclusion on a pack.

``validation review PACK --reviewer NAME --decision approve|approve-with-findings|reject
[--finding TEXT --severity low|medium|high]...`` appends the review to ``review.json`` in the pack,
bound to the pack's content hash (:func:`validation.governance.integrity.content_sha256`: a later change to any
result, notebook or report no longer matches it), re-renders the index to show it, updates (and
re-signs) the manifest, and records it in the registry's ledger.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from validation.errors import InputError
from validation.governance.integrity import REVIEW, content_sha256, file_hashes, signing_key, verify_pack, write_manifest

DECISIONS = ("approve", "approve-with-findings", "reject")
SEVERITIES = ("low", "medium", "high")


def add_review(pack: str | Path, *, reviewer: str, decision: str, findings: list[tuple[str, str]],
               registry: Any = None) -> dict[str, Any]:
    """Record a review on an intact pack; returns the review.

    Raises
    ------
    InputError
        Unknown decision or severity, a reviewer name missing, a finding with no text, or a pack
        that changed since it was written (review evidence that is known to be altered, never).
    """
    pack = Path(pack)
    if decision not in DECISIONS:
        raise InputError(f"--decision {decision!r}: expected one of {', '.join(DECISIONS)}")
    if not reviewer.strip():
        raise InputError("--reviewer: give the validator's name")
    for text, severity in findings:
        if severity not in SEVERITIES:
            raise InputError(f"--severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
        if not text.strip():
            raise InputError("--finding: give the finding's text")
    if decision == "approve-with-findings" and not findings:
        raise InputError("--decision approve-with-findings needs at least one --finding")
    check = verify_pack(pack, key=signing_key())
    if not check.intact:
        raise InputError(f"{pack}: the pack changed since it was written ({'; '.join(check.lines()[:5])}); "
                         "a review must be of the evidence as produced")
    results = json.loads((pack / "results.json").read_text(encoding="utf-8"))
    review = {
        "review_id": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3),
        "run_id": results["run"]["id"], "reviewer": reviewer.strip(), "decision": decision,
        "reviewed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pack_sha256": content_sha256(file_hashes(pack)),
        "findings": [{"text": text.strip(), "severity": severity} for text, severity in findings],
    }
    existing: dict[str, list[dict[str, Any]]] = {"reviews": []}
    if (pack / REVIEW).is_file():
        existing = json.loads((pack / REVIEW).read_text(encoding="utf-8"))
    existing["reviews"].append(review)
    temporary = pack / f".{REVIEW}.tmp"
    temporary.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, pack / REVIEW)
    from validation.reporting.pack import render_pack_index

    render_pack_index(pack)
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    write_manifest(pack, manifest)
    if registry is not None:
        registry.record_review(review)
    return review
