"""Pack integrity: manifest signatures, verification, and the content hash reviews are bound to.

- The manifest lists the sha256 of every pack file (all but itself). When
  ``VALIDATION_SIGNING_KEY`` is set, it is signed at write time: ``signature.value`` is
  ``HMAC-SHA256(key, canonical JSON of the manifest without its signature)``.
- :func:`verify_pack` recomputes every hash and reports changed, missing and added files, and
  checks the signature when the key is given; every review in ``review.json`` is checked against
  the pack's current content.
- :func:`content_sha256`: the hash a review is bound to: every file's hash except those a review
  itself rewrites (``index.html``, ``review.json``, ``manifest.json``), so changing any evidence
  (results, notebooks, reports, card) after a review invalidates it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validation.inputs.artifacts import sha256_file

SIGNING_KEY_ENV = "VALIDATION_SIGNING_KEY"
MANIFEST = "manifest.json"
REVIEW = "review.json"
REWRITTEN_BY_REVIEW = {"index.html", REVIEW, MANIFEST}


def signing_key() -> bytes | None:
    """The signing key from ``VALIDATION_SIGNING_KEY``, if set."""
    value = os.environ.get(SIGNING_KEY_ENV)
    return value.encode() if value else None


def _canonical(manifest: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(manifest: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The manifest with its HMAC-SHA256 signature."""
    value = hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()
    return {**manifest, "signature": {"algorithm": "HMAC-SHA256", "value": value}}


def file_hashes(pack: Path) -> dict[str, str]:
    """sha256 of every file in the pack but the manifest, by relative path."""
    hashes = {}
    for path in sorted(pack.rglob("*")):
        relative = str(path.relative_to(pack))
        if path.is_file() and relative not in (MANIFEST, f".{MANIFEST}.tmp"):
            hashes[relative] = sha256_file(path)
    return hashes


def content_sha256(files: dict[str, str]) -> str:
    """The hash a review is bound to (see the module docstring)."""
    kept = {k: v for k, v in files.items() if k not in REWRITTEN_BY_REVIEW}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def write_manifest(pack: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Hash every file, sign when a key is set, and write ``manifest.json`` (atomically)."""
    manifest = {**manifest, "files": file_hashes(pack)}
    manifest.pop("signature", None)
    key = signing_key()
    if key:
        manifest = sign(manifest, key)
    temporary = pack / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, pack / MANIFEST)
    return manifest


@dataclass
class Verification:
    """What :func:`verify_pack` found."""

    pack: Path
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature: str = "unsigned"
    """``valid``, ``invalid``, ``unsigned`` or ``not checked`` (signed, but no key given)."""
    reviews: list[tuple[str, bool]] = field(default_factory=list)
    """(reviewer and date, still matches the pack) for every review."""

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.added) and self.signature in ("valid", "unsigned", "not checked")

    def lines(self) -> list[str]:
        out = [f"changed: {p}" for p in self.changed] + [f"missing: {p}" for p in self.missing]
        out += [f"added: {p}" for p in self.added]
        out.append(f"signature: {self.signature}")
        out += [f"review {who}: {'matches the pack' if ok else 'NO LONGER MATCHES the pack'}" for who, ok in self.reviews]
        return out


def verify_pack(pack: str | Path, *, key: bytes | None = None) -> Verification:
    """Recompute every hash of a pack (and its signature when ``key`` is given).

    Raises
    ------
    InputError
        When the folder has no manifest (not a pack).
    """
    from validation.errors import InputError

    pack = Path(pack)
    manifest_path = pack / MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"{pack}: no {MANIFEST}; give the folder of a validation pack")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    expected: dict[str, str] = manifest.get("files", {})
    actual = file_hashes(pack)
    result = Verification(pack)
    result.changed = sorted(p for p in expected if p in actual and actual[p] != expected[p])
    result.missing = sorted(p for p in expected if p not in actual)
    result.added = sorted(p for p in actual if p not in expected)
    signature = manifest.get("signature")
    if signature:
        if key is None:
            result.signature = "not checked"
        else:
            good = sign(manifest, key)["signature"]["value"]
            result.signature = "valid" if hmac.compare_digest(good, signature.get("value", "")) else "invalid"
    review_path = pack / REVIEW
    if review_path.is_file():
        current = content_sha256(actual)
        for review in json.loads(review_path.read_text(encoding="utf-8")).get("reviews", []):
            result.reviews.append((f"{review['reviewer']} ({review['reviewed_at']})", review["pack_sha256"] == current))
    return result
