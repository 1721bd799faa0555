"""Pack integrity: manifest and review signatures, verification, and the content hash reviews are bound to.

- The manifest lists the sha256 of every pack file (all but itself). When
  ``VALIDATION_SIGNING_KEY`` is set, it is signed at write time: ``signature.value`` is
  ``HMAC-SHA256(key, canonical JSON of the manifest without its signature)``.
- Every review in ``review.json`` is signed on its own the same way (over its canonical JSON,
  which holds the content hash it is bound to, prefixed with :data:`REVIEW_DOMAIN`), so a review's
  signature is its own and not only the latest signer's manifest signature. A review's signature
  that does not match makes the pack not intact; an unsigned review (recorded before reviews were
  signed) is reported ``unsigned`` and accepted, since the signed manifest covers ``review.json``.
- :func:`verify_pack` recomputes every hash and reports changed, missing and added files, a
  malformed ``manifest.json`` or ``review.json``, and checks the signatures when the key is given:
  with a key, an unsigned manifest is ``missing`` (a signature may have been stripped) and the
  pack is not intact. Every review is checked against the pack's current content.
- :func:`content_sha256`: the hash a review is bound to: every file's hash except those a review
  itself rewrites (``index.html``, ``review.json``, ``manifest.json``, ``pack.pdf``), so changing
  any evidence (results, notebooks, reports, card, the carried register) after a review
  invalidates it.
- :func:`read_reviews` and :func:`read_register` check ``review.json`` (a review's rating,
  conclusion, assessments and the register items it raised) and ``register.json`` for shape:
  ``verify`` reports a malformed one as a problem.
- :func:`pack_lock`: an ``flock`` on the pack folder itself (no file is added to the pack: every
  file in it is hashed); reviews take it exclusively, verification shared.

The threat model (who holds the key, what verification proves and what it cannot) is
``docs/security.md``.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from validation.errors import InputError, ToolFailure
from validation.inputs.artifacts import sha256_file
from validation.reporting.files import atomic_write

SIGNING_KEY_ENV = "VALIDATION_SIGNING_KEY"
ALGORITHM = "HMAC-SHA256"
MANIFEST = "manifest.json"
REVIEW = "review.json"
REGISTER = "register.json"
"""The register items a pack carries: those of earlier versions not closed when it was run."""
PDF = "pack.pdf"
REWRITTEN_BY_REVIEW = {"index.html", REVIEW, MANIFEST, PDF}
"""The files a review (or ``validation pdf``) rewrites: presentation and sign-off, not evidence."""
REVIEW_DOMAIN = b"validation review\n"
"""Prefix of a review's signed bytes, so a review's signature is never a manifest's (and back)."""
DECISIONS = ("approve", "approve-with-findings", "reject")
"""The decisions of reviews recorded before ratings (still read and verified)."""
SEVERITIES = ("low", "medium", "high")
REVIEW_TEXT_FIELDS = ("review_id", "run_id", "reviewer", "reviewed_at", "pack_sha256")
ACCEPTED = ("valid", "unsigned", "not checked")
"""Signature states of an intact pack: ``missing`` (unsigned while a key is given), ``invalid``
and ``unreadable`` (a malformed manifest) are not."""


class PackFormatError(InputError):
    """A pack file that cannot be read as the pack format says (``manifest.json``, ``review.json``).

    ``verify`` reports it as a reason the pack is not intact (exit 1); ``review`` refuses the
    pack (exit 2).

    Parameters
    ----------
    path
        The file.
    problem
        What is wrong with it.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.path, self.problem))


def signing_key() -> bytes | None:
    """The signing key from ``VALIDATION_SIGNING_KEY``, if set."""
    value = os.environ.get(SIGNING_KEY_ENV)
    return value.encode() if value else None


def dump_json(data: Any, *, indent: int | None = 2) -> str:
    """Strict JSON (no NaN or Infinity) as every pack file is written, with a final newline."""
    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def _canonical(document: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _hmac(key: bytes, message: bytes) -> dict[str, str]:
    return {"algorithm": ALGORITHM, "value": hmac.new(key, message, hashlib.sha256).hexdigest()}


def sign(manifest: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The manifest with its HMAC-SHA256 signature."""
    return {**manifest, "signature": _hmac(key, _canonical(manifest))}


def sign_review(review: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The review with its own HMAC-SHA256 signature, over :data:`REVIEW_DOMAIN` and its
    canonical JSON (which holds ``pack_sha256``, the content it is bound to)."""
    return {**review, "signature": _hmac(key, REVIEW_DOMAIN + _canonical(review))}


def signature_status(document: dict[str, Any], key: bytes | None, *, review: bool = False) -> str:
    """``valid`` or ``invalid`` (checked with ``key``), ``missing`` (unsigned but a key is given:
    a signature may have been stripped), ``not checked`` (signed, no key) or ``unsigned``."""
    signature = document.get("signature")
    if signature is None:
        return "unsigned" if key is None else "missing"
    if key is None:
        return "not checked"
    good = (sign_review(document, key) if review else sign(document, key))["signature"]["value"]
    return "valid" if hmac.compare_digest(good, signature["value"]) else "invalid"


def file_hashes(pack: Path) -> dict[str, str]:
    """sha256 of every file in the pack but the manifest, by relative path (hidden files too: no
    name is exempt, so nothing can be slipped into a pack unlisted)."""
    hashes = {}
    for path in sorted(pack.rglob("*")):
        relative = str(path.relative_to(pack))
        if path.is_file() and relative != MANIFEST:
            hashes[relative] = sha256_file(path)
    return hashes


def odd_entries(pack: Path) -> list[str]:
    """Entries a pack never holds: symbolic links (a write through one would land outside the
    pack) and anything but regular files and folders (pipes, devices)."""
    found = []
    for path in sorted(pack.rglob("*")):
        relative = str(path.relative_to(pack))
        if path.is_symlink():
            found.append(f"symbolic link: {relative} (a pack holds regular files only)")
        elif not (path.is_file() or path.is_dir()):
            found.append(f"not a regular file: {relative}")
    return found


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
    atomic_write(pack / MANIFEST, dump_json(manifest))
    return manifest


def strict_json(path: Path) -> Any:
    """The file's JSON; :class:`PackFormatError` when it is not strict UTF-8 JSON."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:  # a signature is of the parsed object: a second 'files' must not hide behind it
            raise ValueError(f"the key {twice[0]!r} is given twice")
        return dict(pairs)

    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse, object_pairs_hook=unique)
    except UnicodeDecodeError as error:
        raise PackFormatError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    except ValueError as error:
        raise PackFormatError(path, f"not valid JSON ({error})") from error
    except RecursionError:
        raise PackFormatError(path, "not valid JSON (nested too deeply)") from None
    except OSError as error:
        raise PackFormatError(path, f"cannot be read ({error.strerror or error})") from None


def _check_signature_field(path: Path, document: dict[str, Any], where: str = "") -> None:
    signature = document.get("signature", {"algorithm": ALGORITHM, "value": ""})
    if (not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM
            or not isinstance(signature.get("value"), str)):
        raise PackFormatError(path, f"{where}'signature' is {json.dumps(signature)[:80]}, expected "
                                    f'{{"algorithm": "{ALGORITHM}", "value": "<hex>"}}')


def read_manifest(pack: Path) -> dict[str, Any]:
    """The pack's ``manifest.json``, checked for shape.

    Raises
    ------
    InputError
        The folder has no manifest (it is not a pack).
    PackFormatError
        The manifest is not JSON, not an object, its ``files`` is not a mapping of path to sha256
        string, or its ``signature`` is not ``{"algorithm": "HMAC-SHA256", "value": str}``.
    """
    path = pack / MANIFEST
    if not path.is_file():
        raise InputError(f"{pack}: no {MANIFEST}; give the folder of a validation pack")
    manifest = strict_json(path)
    if not isinstance(manifest, dict):
        raise PackFormatError(path, f"a JSON {type(manifest).__name__}, expected an object")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise PackFormatError(path, f"'files' is {json.dumps(files)[:80]}, expected a mapping of file path to sha256")
    for name, digest in files.items():
        if not isinstance(digest, str):
            raise PackFormatError(path, f"'files'[{name!r}] is {json.dumps(digest)[:80]}, expected a sha256 string")
    _check_signature_field(path, manifest)
    return manifest


def _check_review(path: Path, number: int, review: Any) -> None:
    where = f"review {number}: "
    if not isinstance(review, dict):
        raise PackFormatError(path, f"{where}a JSON {type(review).__name__}, expected an object")
    for name in REVIEW_TEXT_FIELDS:
        if not isinstance(review.get(name), str):
            raise PackFormatError(path, f"{where}'{name}' is {json.dumps(review.get(name))[:80]}, expected text")
    if "decision" in review and "rating" not in review:
        _check_legacy_review(path, where, review)
    else:
        _check_rated_review(path, where, review)
    _check_signature_field(path, review, where)


def _check_legacy_review(path: Path, where: str, review: dict[str, Any]) -> None:
    """A review recorded before ratings: a decision and a list of findings."""
    if review.get("decision") not in DECISIONS:
        raise PackFormatError(path, f"{where}'decision' is {json.dumps(review.get('decision'))[:80]}, expected one "
                                    f"of {', '.join(DECISIONS)}")
    findings = review.get("findings")
    if not isinstance(findings, list) or not all(
            isinstance(f, dict) and isinstance(f.get("text"), str) and f.get("severity") in SEVERITIES for f in findings):
        raise PackFormatError(path, f"{where}'findings' is {json.dumps(findings)[:80]}, expected a list of "
                                    f"{{\"text\": ..., \"severity\": {'|'.join(SEVERITIES)}}}")


def _check_rated_review(path: Path, where: str, review: dict[str, Any]) -> None:
    """A review with a rating, a conclusion, its assessments and the register items it raised."""
    from validation.governance.register import ACTIONS

    for name in ("rating", "conclusion"):
        if not isinstance(review.get(name), str):
            raise PackFormatError(path, f"{where}'{name}' is {json.dumps(review.get(name))[:80]}, expected text")
    assessments = review.get("assessments")
    if not isinstance(assessments, list) or not all(
            isinstance(a, dict) and isinstance(a.get("target"), str) and a.get("action") in ACTIONS
            and isinstance(a.get("rationale"), (str, type(None))) and isinstance(a.get("issue_id"), (str, type(None)))
            for a in assessments):
        raise PackFormatError(path, f"{where}'assessments' is {json.dumps(assessments)[:80]}, expected a list of "
                                    f'{{"target": text, "action": {"|".join(ACTIONS)}, "rationale": text or null, '
                                    '"issue_id": text or null}')
    raised = review.get("raised")
    if not isinstance(raised, list):
        raise PackFormatError(path, f"{where}'raised' is {json.dumps(raised)[:80]}, expected a list of register items")
    for item in raised:
        _check_item(path, f"{where}'raised': ", item)
    raised_ids = {item["id"] for item in raised}
    linked = {a["issue_id"] for a in assessments if a["action"] == "raise"}
    if linked != raised_ids or any(a["issue_id"] is not None for a in assessments if a["action"] != "raise"):
        raise PackFormatError(path, f"{where}the issue ids of its 'raise' assessments ({', '.join(map(str, linked))}) "
                                    f"are not the ids of the items it raised ({', '.join(sorted(raised_ids))})")


def _check_item(path: Path, where: str, item: Any) -> None:
    """A register item: every field of :data:`~validation.governance.register.ITEM_FIELDS` as
    text, a known status and severity."""
    from validation.governance.register import ITEM_FIELDS, SEVERITIES as ITEM_SEVERITIES, STATUSES

    if not isinstance(item, dict):
        raise PackFormatError(path, f"{where}a JSON {type(item).__name__}, expected a register item (an object)")
    for name in ITEM_FIELDS:
        if not isinstance(item.get(name), str):
            raise PackFormatError(path, f"{where}item {str(item.get('id'))[:40]}: '{name}' is "
                                        f"{json.dumps(item.get(name))[:80]}, expected text")
    if item["status"] not in STATUSES or item["severity"] not in ITEM_SEVERITIES:
        raise PackFormatError(path, f"{where}item {item['id'][:40]}: status {item['status']!r:.40} or severity "
                                    f"{item['severity']!r:.40} is not one the register knows")


def read_register(pack: Path) -> list[dict[str, Any]]:
    """The register items a pack carries (``register.json``; none when there is no such file).

    Raises
    ------
    PackFormatError
        The file is not JSON, not an object with a list ``items``, or an item is malformed.
    """
    path = pack / REGISTER
    if not path.is_file():
        return []
    document = strict_json(path)
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise PackFormatError(path, 'expected an object {"items": [...]}')
    for item in items:
        _check_item(path, "", item)
    return items


def read_reviews(pack: Path) -> list[dict[str, Any]]:
    """The reviews of the pack's ``review.json`` (none when there is no such file).

    Raises
    ------
    PackFormatError
        The file is not JSON, not an object with a list ``reviews``, or a review misses a field.
    """
    path = pack / REVIEW
    if not path.is_file():
        return []
    document = strict_json(path)
    reviews = document.get("reviews") if isinstance(document, dict) else None
    if not isinstance(reviews, list):
        raise PackFormatError(path, 'expected an object {"reviews": [...]}')
    for number, review in enumerate(reviews, start=1):
        _check_review(path, number, review)
    return reviews


@contextmanager
def pack_lock(pack: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an ``flock`` on the pack folder's own descriptor: exclusive for a review (a second
    review waits for the first), shared for a verification (never half a review's files). A
    shared lock that the file system cannot give is skipped; an exclusive one is a ToolFailure.

    Raises
    ------
    InputError
        ``pack`` is not a folder that can be opened.
    """
    try:
        descriptor = os.open(pack, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise InputError(f"{pack}: cannot open the pack folder ({error.strerror}); give the folder of a "
                         "validation pack") from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError as error:
            if not shared:
                raise ToolFailure("locking the pack for a review", pack, str(error)) from error
        yield
    finally:
        os.close(descriptor)  # releases the lock


@dataclass
class Verification:
    """What :func:`verify_pack` found."""

    pack: Path
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature: str = "unsigned"
    """``valid``, ``invalid``, ``missing`` (unsigned, but a key is given), ``unsigned``,
    ``not checked`` (signed, but no key given) or ``unreadable`` (a malformed manifest)."""
    reviews: list[tuple[str, bool]] = field(default_factory=list)
    """(reviewer and date, still matches the pack) for every review."""
    review_signatures: list[str] = field(default_factory=list)
    """Every review's own signature: ``valid``, ``invalid``, ``unsigned`` or ``not checked``."""
    problems: list[str] = field(default_factory=list)
    """A malformed ``manifest.json``, ``review.json`` or ``register.json``, one line each."""
    notes: list[str] = field(default_factory=list)
    """What is worth knowing and does not make the pack not intact (a PDF older than a review)."""

    @property
    def intact(self) -> bool:
        return (not (self.changed or self.missing or self.added or self.problems) and self.signature in ACCEPTED
                and all(state in ACCEPTED for state in self.review_signatures))

    def lines(self) -> list[str]:
        out = list(self.problems)
        out += [f"changed: {p}" for p in self.changed] + [f"missing: {p}" for p in self.missing]
        out += [f"added: {p}" for p in self.added]
        out.append(f"signature: {self.signature}" + (
            f" (the manifest is unsigned but {SIGNING_KEY_ENV} is set: its signature may have been stripped)"
            if self.signature == "missing" else ""))
        for (who, ok), state in zip(self.reviews, self.review_signatures):
            out.append(f"review {who}: {'matches the pack' if ok else 'NO LONGER MATCHES the pack'}; "
                       f"signature {state}")
        return out + self.notes


def verify_pack(pack: str | Path, *, key: bytes | None = None) -> Verification:
    """Recompute every hash of a pack, and its manifest's and reviews' signatures when ``key``
    is given (under a shared :func:`pack_lock`, so never in the middle of a review).

    Raises
    ------
    InputError
        When the folder has no manifest (not a pack).
    """
    pack = Path(pack)
    if not (pack / MANIFEST).is_file():
        raise InputError(f"{pack}: no {MANIFEST}; give the folder of a validation pack")
    with pack_lock(pack, shared=True):
        return verify_unlocked(pack, key=key)


def verify_unlocked(pack: Path, *, key: bytes | None) -> Verification:
    """:func:`verify_pack` for a caller that holds the pack's lock already."""
    result = Verification(pack)
    try:
        manifest = read_manifest(pack)
    except PackFormatError as error:
        result.problems.append(f"{MANIFEST}: {error.problem}; the pack cannot be verified")
        result.signature = "unreadable"
        return result
    expected: dict[str, str] = manifest["files"]
    result.problems += odd_entries(pack)
    actual = file_hashes(pack)
    result.changed = sorted(p for p in expected if p in actual and actual[p] != expected[p])
    result.missing = sorted(p for p in expected if p not in actual)
    result.added = sorted(p for p in actual if p not in expected)
    result.signature = signature_status(manifest, key)
    try:
        reviews = read_reviews(pack)
    except PackFormatError as error:
        result.problems.append(f"{REVIEW}: {error.problem}")
        reviews = []
    try:
        read_register(pack)
    except PackFormatError as error:
        result.problems.append(f"{REGISTER}: {error.problem}")
    result.notes += _pdf_notes(manifest, reviews)
    current = content_sha256(actual)
    for review in reviews:
        result.reviews.append((f"{review['reviewer']} ({review['reviewed_at']})", review["pack_sha256"] == current))
        state = signature_status(review, key, review=True)
        result.review_signatures.append("unsigned" if state == "missing" else state)  # the manifest's covers it
    return result


def _pdf_notes(manifest: dict[str, Any], reviews: list[dict[str, Any]]) -> list[str]:
    """A line when ``pack.pdf`` was printed before some of the pack's reviews (the manifest's
    ``pdf.reviews`` counts those it shows): it is the pack as it was, not as reviewed."""
    record = manifest.get("pdf")
    if not isinstance(record, dict) or not isinstance(record.get("reviews"), int):
        return []
    later = len(reviews) - record["reviews"]
    if later <= 0:
        return []
    return [f"{PDF}: printed at {record.get('printed_at')}, before the last {later} review(s), which it does not "
            "show; `validation pdf PACK` re-prints it"]
