"""Reviews (effective challenge): a validator's recorded conclusion on a pack.

``validation review PACK --reviewer NAME --decision approve|approve-with-findings|reject
[--finding TEXT --severity low|medium|high]...`` appends the review to ``review.json`` in the pack,
bound to the pack's content hash (:func:`validation.governance.integrity.content_sha256`: a later change to any
result, notebook or report no longer matches it) and signed on its own when
``VALIDATION_SIGNING_KEY`` is set, re-renders the index to show it, updates (and re-signs) the
manifest, and records it in the registry's ledger.

The order makes a review all or nothing (``docs/security.md``):

1. the arguments, then the registry (:meth:`~validation.governance.registry.Registry.check_writable`);
2. an exclusive lock on the pack folder: a second review waits for the first, then sees it;
3. the pack must verify: readable manifest and reviews, every file unchanged, and, when a key is
   set, a valid signature (an unsigned pack is refused: its signature may have been stripped). A
   signed pack without a key is refused too: a review never rewrites a signed manifest unsigned;
4. the new ``review.json``, ``index.html`` and ``manifest.json`` are prepared in a hidden folder
   next to the pack, then renamed into the pack inside the registry's transaction, just before
   its COMMIT (and put back if the COMMIT fails).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from validation.errors import InputError
from validation.governance.integrity import (
    DECISIONS, MANIFEST, REVIEW, REWRITTEN_BY_REVIEW, SEVERITIES, SIGNING_KEY_ENV, PackFormatError, content_sha256,
    dump_json, file_hashes, pack_lock, read_manifest, read_reviews, sign_review, signing_key, verify_unlocked,
    write_manifest,
)

if TYPE_CHECKING:
    from validation.governance.registry import Registry

__all__ = ["DECISIONS", "SEVERITIES", "add_review"]

PUBLISHED = (REVIEW, "index.html", MANIFEST)
"""The files a review replaces, in the order they are renamed into the pack (the manifest last)."""
SIGNED_WITHOUT_KEY = ("the pack is signed and a review re-signs its manifest: set " + SIGNING_KEY_ENV +
                      " to the signing key (a review never rewrites a signed manifest unsigned)")
UNSIGNED_WITH_KEY = (SIGNING_KEY_ENV + " is set but the pack is unsigned: its signature may have been "
                     "stripped; a review is only recorded on a pack whose signature is valid")
BAD_SIGNATURE = ("its signature does not match " + SIGNING_KEY_ENV + " (a different key, or the pack was "
                 "altered after it was signed)")


MAX_REVIEWER = 200
"""Characters of a reviewer's name (project default: a name, not a document)."""
MAX_FINDING = 2_000
"""Characters of a review finding's text (as a spec's free-text keys)."""


def _printable(text: str, option: str, limit: int) -> None:
    if len(text) > limit:
        raise InputError(f"{option}: {len(text)} characters; at most {limit}")
    if any(ord(c) < 32 and c not in "\t" for c in text):
        raise InputError(f"{option}: has a control character (a line break or a NUL byte); give one line of text")


def _check_arguments(reviewer: str, decision: str, findings: list[tuple[str, str]]) -> None:
    if decision not in DECISIONS:
        raise InputError(f"--decision {decision!r}: expected one of {', '.join(DECISIONS)}")
    if not reviewer.strip():
        raise InputError("--reviewer: give the validator's name")
    _printable(reviewer, "--reviewer", MAX_REVIEWER)
    for text, severity in findings:
        if severity not in SEVERITIES:
            raise InputError(f"--severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
        if not text.strip():
            raise InputError("--finding: give the finding's text")
        _printable(text, "--finding", MAX_FINDING)
    if decision == "approve-with-findings" and not findings:
        raise InputError("--decision approve-with-findings needs at least one --finding")


def _check_pack(pack: Path, key: bytes | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The pack's manifest and reviews, once it is known to be intact and signed as the key requires.

    Raises
    ------
    InputError
        A malformed manifest or review.json, a signed pack without a key, an unsigned pack or a
        bad signature with a key, or a pack that changed since it was written.
    """
    manifest = read_manifest(pack)
    reviews = read_reviews(pack)
    if "signature" in manifest and key is None:
        raise InputError(f"{pack}: {SIGNED_WITHOUT_KEY}")
    check = verify_unlocked(pack, key=key)
    if check.signature == "missing":
        raise InputError(f"{pack}: {UNSIGNED_WITH_KEY}")
    if check.signature == "invalid":
        raise InputError(f"{pack}: {BAD_SIGNATURE}; a review must be of the evidence as produced")
    if not check.intact:
        raise InputError(f"{pack}: the pack changed since it was written ({'; '.join(check.lines()[:5])}); "
                         "a review must be of the evidence as produced")
    _check_evidence(pack)
    return manifest, reviews


def _check_evidence(pack: Path) -> None:
    """The pack's ``results.json`` is a results document and ``card.json`` an object, which the
    re-rendered index reads (an unsigned pack can be consistent and still malformed)."""
    from pydantic import ValidationError

    from validation.governance.integrity import strict_json
    from validation.judging.results import Results

    try:
        Results.model_validate(strict_json(pack / "results.json"))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PackFormatError(pack / "results.json", f"not a results document ({where}: {first['msg']})") from None
    if not isinstance(strict_json(pack / "card.json"), dict):
        raise PackFormatError(pack / "card.json", "expected a JSON object (the model card)")


def _run_id(pack: Path) -> str:
    try:
        run_id = json.loads((pack / "results.json").read_text(encoding="utf-8"))["run"]["id"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PackFormatError(pack / "results.json", f"no run id ({type(error).__name__}: {error})") from error
    return str(run_id)


def _new_review(pack: Path, reviewer: str, decision: str, findings: list[tuple[str, str]],
                key: bytes | None) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    review = {
        "review_id": now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3),
        "run_id": _run_id(pack), "reviewer": reviewer.strip(), "decision": decision,
        "reviewed_at": now.isoformat(timespec="seconds"),
        "pack_sha256": content_sha256(file_hashes(pack)),
        "findings": [{"text": text.strip(), "severity": severity} for text, severity in findings],
    }
    return sign_review(review, key) if key else review


def _shadow(pack: Path, staging: Path, manifest: dict[str, Any], reviews: list[dict[str, Any]]) -> None:
    """Prepare the review's files in ``staging``: a link to every file of the pack but those a
    review rewrites, the new ``review.json``, and from them the new ``index.html`` and (signed)
    ``manifest.json``, hashed exactly as :func:`verify_pack` will hash the pack."""
    from validation.reporting.pack import render_pack_index

    for path in sorted(pack.rglob("*")):
        relative = path.relative_to(pack)
        if path.is_file() and str(relative) not in REWRITTEN_BY_REVIEW:
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            (staging / relative).symlink_to(path.resolve())
    (staging / REVIEW).write_text(dump_json({"reviews": reviews}), encoding="utf-8")
    (staging / MANIFEST).write_text(dump_json(manifest), encoding="utf-8")
    render_pack_index(staging)
    write_manifest(staging, manifest)


def _restore(pack: Path, staging: Path, originals: dict[str, bytes | None], names: list[str]) -> None:
    """Put back the pack's files ``names`` as they were before the review (atomically each)."""
    for name in names:
        original = originals[name]
        if original is None:
            (pack / name).unlink(missing_ok=True)
            continue
        temporary = staging / f".{name}.undo"
        temporary.write_bytes(original)
        os.replace(temporary, pack / name)


@contextmanager
def _staged(pack: Path, manifest: dict[str, Any], reviews: list[dict[str, Any]]) -> Iterator[Callable[[], Callable[[], None]]]:
    """Yield the review's publish step (see :meth:`Registry.record_review`): it renames the
    prepared files into the pack and returns the undo that puts the old ones back; a failed
    rename puts back those already renamed. The hidden staging folder is removed at the end."""
    staging = pack.parent / f".{pack.name}.review-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        _shadow(pack, staging, manifest, reviews)
        originals = {name: (pack / name).read_bytes() if (pack / name).is_file() else None for name in PUBLISHED}

        def publish() -> Callable[[], None]:
            done: list[str] = []
            try:
                for name in PUBLISHED:
                    os.replace(staging / name, pack / name)
                    done.append(name)
            except BaseException:
                _restore(pack, staging, originals, done)
                raise
            return lambda: _restore(pack, staging, originals, list(PUBLISHED))

        yield publish
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def add_review(pack: str | Path, *, reviewer: str, decision: str, findings: list[tuple[str, str]],
               registry: Registry | None = None) -> dict[str, Any]:
    """Record a review on an intact pack; returns the review.

    Raises
    ------
    InputError
        Unknown decision or severity, a reviewer name missing, a finding with no text, a registry
        that cannot be written (RegistryError), a malformed manifest or review.json, a signed pack
        without the key, an unsigned pack or a bad signature with the key, or a pack that changed
        since it was written (review evidence that is known to be altered, never).
    ToolFailure
        The registry stayed locked, or the pack could not be locked.
    """
    pack = Path(pack)
    _check_arguments(reviewer, decision, findings)
    if registry is not None:
        registry.check_writable()
    key = signing_key()
    if not (pack / MANIFEST).is_file():
        raise InputError(f"{pack}: no {MANIFEST}; give the folder of a validation pack")
    with pack_lock(pack):
        manifest, reviews = _check_pack(pack, key)
        review = _new_review(pack, reviewer, decision, findings, key)
        with _staged(pack, manifest, [*reviews, review]) as publish:
            if registry is not None:
                registry.record_review(review, publish=publish)
            else:
                publish()
    return review
