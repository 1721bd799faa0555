"""Reviews (effective challenge) and later additions to a finished pack.

``validation review PACK --reviewer NAME --rating RATING --conclusion TEXT [--assessments FILE]``
appends the review to ``review.json`` in the pack: the validator's rating (one of the pack's
``card.json`` ``governance.ratings``), a written conclusion, and assessments of the pack's issues
and findings (accept, override with a rationale, or raise as a register item:
:mod:`validation.governance.register`). It is bound to the pack's content hash
(:func:`validation.governance.integrity.content_sha256`: a later change to any result, notebook,
report or carried register no longer matches it) and signed on its own when
``VALIDATION_SIGNING_KEY`` is set; the review re-renders the index to show it, re-prints
``pack.pdf`` when the pack has one, updates (and re-signs) the manifest, and records the review and
the items it raises in the registry (the items get their ids there, in the same transaction).

``validation pdf PACK`` adds ``pack.pdf`` to a pack through the same steps (:func:`add_pdf`).

The order makes a review (or a PDF) all or nothing (``docs/security.md``):

1. the arguments, then the registry (:meth:`~validation.governance.registry.Registry.check_writable`);
2. an exclusive lock on the pack folder: a second review waits for the first, then sees it;
3. the pack must verify: readable manifest and reviews, every file unchanged, and, when a key is
   set, a valid signature (an unsigned pack is refused: its signature may have been stripped). A
   signed pack without a key is refused too: a review never rewrites a signed manifest unsigned;
   then the assessments are checked against the pack's ``results.json``;
4. inside the registry's transaction, once the raised items have their ids, the new
   ``review.json``, ``index.html``, ``pack.pdf`` (when re-printed) and ``manifest.json`` are
   prepared in a hidden folder next to the pack (:class:`StagedUpdate`), then renamed into the pack
   just before the COMMIT (and put back if the COMMIT fails).

A pack's ``pack.pdf`` shows its index as printed. When a review cannot re-print it (Chromium
missing or failing), the review is still recorded, the old PDF is kept unchanged (it is a faithful
print of the pack before the review, and removing evidence would hide that it existed), and the
review's ``pdf`` says why; the manifest's ``pdf.reviews`` counts the reviews the PDF shows, so
``verify`` notes a PDF older than a review, and ``validation pdf PACK`` re-prints it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from validation.errors import InputError, ToolFailure
from validation.governance.integrity import (
    MANIFEST, PDF, REVIEW, SIGNING_KEY_ENV, PackFormatError, content_sha256, dump_json, file_hashes, pack_lock,
    read_manifest, read_reviews, sign_review, signing_key, strict_json, verify_unlocked, write_manifest,
)
from validation.governance.register import (
    MAX_CONCLUSION, MAX_NAME, check_assessments, check_choice, check_text,
)

if TYPE_CHECKING:
    from validation.governance.registry import Registry

__all__ = ["StagedUpdate", "add_pdf", "add_review"]

SIGNED_WITHOUT_KEY = ("the pack is signed and a review re-signs its manifest: set " + SIGNING_KEY_ENV +
                      " to the signing key (a review never rewrites a signed manifest unsigned)")
UNSIGNED_WITH_KEY = (SIGNING_KEY_ENV + " is set but the pack is unsigned: its signature may have been "
                     "stripped; a review is only recorded on a pack whose signature is valid")
BAD_SIGNATURE = ("its signature does not match " + SIGNING_KEY_ENV + " (a different key, or the pack was "
                 "altered after it was signed)")
RAISE_NEEDS_REGISTRY = ("raising an issue needs a registry (its id is the next of the model's register): give "
                        "a registry")


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


def _ratings(pack: Path) -> list[str]:
    """The ratings a validator may give this pack: ``card.json`` ``governance.ratings`` (the
    default ratings for a pack written before the card carried them)."""
    from validation.inputs.spec import RATINGS

    governance = strict_json(pack / "card.json").get("governance") or {}
    ratings = governance.get("ratings") if isinstance(governance, dict) else None
    if not isinstance(ratings, list) or not ratings or not all(isinstance(r, str) for r in ratings):
        return list(RATINGS)
    return ratings


def _results(pack: Path) -> dict[str, Any]:
    document: dict[str, Any] = strict_json(pack / "results.json")
    return document


def _new_review(pack: Path, reviewer: str, rating: str, conclusion: str,
                assessments: list[dict[str, Any]]) -> dict[str, Any]:
    """The review without the items it raises (their ids come from the registry) or a signature."""
    now = datetime.now(timezone.utc)
    return {
        "review_id": now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3),
        "run_id": _run_id(pack), "reviewer": reviewer, "rating": rating, "conclusion": conclusion,
        "reviewed_at": now.isoformat(timespec="seconds"),
        "pack_sha256": content_sha256(file_hashes(pack)),
        "assessments": [{"target": a["target"], "action": a["action"], "rationale": a["rationale"], "issue_id": None}
                        for a in assessments],
    }


def _items_to_raise(results: dict[str, Any], review: dict[str, Any],
                    assessments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The register items of the ``raise`` assessments, every field but ``id``."""
    return [{"model": results["model"]["name"], "version": results["model"]["version"], "run_id": review["run_id"],
             "review_id": review["review_id"], "target": a["target"], "title": a["title"],
             "severity": a["severity"], "owner": a["owner"], "due": a["due"], "remediation": a["remediation"],
             "status": "open", "raised_at": review["reviewed_at"], "updated_at": review["reviewed_at"]}
            for a in assessments if a["action"] == "raise"]


def _with_raised(review: dict[str, Any], items: list[dict[str, Any]], key: bytes | None) -> dict[str, Any]:
    """The review with the raised items (ids from the registry) linked from their assessments, signed."""
    ids = iter(item["id"] for item in items)
    assessments = [{**a, "issue_id": next(ids) if a["action"] == "raise" else None} for a in review["assessments"]]
    complete = {**review, "assessments": assessments, "raised": items}
    return sign_review(complete, key) if key else complete


class StagedUpdate:
    """New versions of some of a pack's files, prepared in a hidden folder beside it and renamed
    into it together (the manifest last): a review's, or ``validation pdf``'s.

    Use as a context manager (the folder is removed at the end): :meth:`prepare` the files, then
    :meth:`publish` (inside the registry's transaction for a review) returns the undo that puts
    the old files back.

    Parameters
    ----------
    pack
        The pack folder (locked and verified by the caller).
    manifest
        Its manifest, re-hashed and re-signed over the prepared files.
    """

    def __init__(self, pack: Path, manifest: dict[str, Any]) -> None:
        self.pack = pack
        self.manifest = manifest
        self.staging = pack.parent / f".{pack.name}.update-{secrets.token_hex(4)}"
        self.names: list[str] = []
        self.originals: dict[str, bytes | None] = {}
        self.pdf_problem: str | None = None
        """Why an existing ``pack.pdf`` could not be re-printed (it is kept), or None."""

    def __enter__(self) -> "StagedUpdate":
        self.staging.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def prepare(self, files: Mapping[str, str], *, pdf: str, reviews: int) -> None:
        """Prepare the update: ``files`` (name -> text) replace or add those files, the index is
        re-rendered from them, and the manifest re-hashed.

        Parameters
        ----------
        files
            Files of the pack's top folder to write.
        pdf
            ``"print"``: print ``pack.pdf`` (a failure raises); ``"refresh"``: re-print it when the
            pack has one, keeping the old one when Chromium is missing or fails (an InputError,
            ToolFailure or OSError: :attr:`pdf_problem` says why; any other exception is a bug and
            raises).
        reviews
            How many reviews the prepared index shows (the manifest's ``pdf.reviews``).
        """
        from validation.reporting.pack import print_pdf, render_pack_index

        rewritten = {*files, "index.html", MANIFEST, PDF}
        for path in sorted(self.pack.rglob("*")):
            relative = path.relative_to(self.pack)
            if path.is_file() and str(relative) not in rewritten:
                (self.staging / relative).parent.mkdir(parents=True, exist_ok=True)
                (self.staging / relative).symlink_to(path.resolve())
        for name, text in files.items():
            (self.staging / name).write_text(text, encoding="utf-8")
        (self.staging / MANIFEST).write_text(dump_json(self.manifest), encoding="utf-8")
        render_pack_index(self.staging)
        manifest = dict(self.manifest)
        printed = False
        if pdf == "print" or (pdf == "refresh" and (self.pack / PDF).is_file()):
            try:
                manifest["pdf"] = print_pdf(self.staging, self.staging / PDF, reviews=reviews)
                printed = True
            except (InputError, ToolFailure, OSError) as problem:  # no Chromium, or it failed on a page
                if pdf == "print":
                    raise
                (self.staging / PDF).unlink(missing_ok=True)
                self.pdf_problem = str(getattr(problem, "message", None) or problem).splitlines()[0][:300]
        if (self.pack / PDF).is_file() and not printed:
            (self.staging / PDF).symlink_to((self.pack / PDF).resolve())
        write_manifest(self.staging, manifest)
        self.names = [*files, "index.html", *([PDF] if printed else []), MANIFEST]
        self.originals = {name: (self.pack / name).read_bytes() if (self.pack / name).is_file() else None
                          for name in self.names}

    def publish(self) -> Callable[[], None]:
        """Rename the prepared files into the pack (the manifest last); returns the undo. A failed
        rename puts back those already renamed."""
        done: list[str] = []
        try:
            for name in self.names:
                os.replace(self.staging / name, self.pack / name)
                done.append(name)
        except BaseException:
            self._restore(done)
            raise
        return lambda: self._restore(list(self.names))

    def _restore(self, names: list[str]) -> None:
        """Put back the pack's files ``names`` as they were before (atomically each)."""
        for name in names:
            original = self.originals[name]
            if original is None:
                (self.pack / name).unlink(missing_ok=True)
                continue
            temporary = self.staging / f".{name}.undo"
            temporary.write_bytes(original)
            os.replace(temporary, self.pack / name)


def _check_arguments(reviewer: str, conclusion: str) -> tuple[str, str]:
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise InputError("--reviewer: give the validator's name")
    return (check_text(reviewer, "--reviewer", limit=MAX_NAME),
            check_text(conclusion, "--conclusion", limit=MAX_CONCLUSION, multiline=True))


def _locked_pack(pack: Path) -> Path:
    pack = Path(pack)
    if not (pack / MANIFEST).is_file():
        raise InputError(f"{pack}: no {MANIFEST}; give the folder of a validation pack")
    return pack


def add_review(pack: str | Path, *, reviewer: str, rating: str, conclusion: str,
               assessments: Sequence[Mapping[str, Any]] = (), registry: Registry | None = None) -> dict[str, Any]:
    """Record a review on an intact pack; returns the review (as in ``review.json``, with
    ``raised``: the register items it raised, with their ids), and ``pdf`` (why an existing
    ``pack.pdf`` could not be re-printed, when it could not).

    Raises
    ------
    InputError
        A rating not among the pack's ratings, a reviewer or conclusion missing or malformed, an
        assessment of an unknown target or missing a field, a raise without a registry, a
        registry that cannot be written (RegistryError), a malformed manifest or review.json, a
        signed pack without the key, an unsigned pack or a bad signature with the key, or a pack
        that changed since it was written (review evidence that is known to be altered, never).
    ToolFailure
        The registry stayed locked, or the pack could not be locked.
    """
    reviewer, conclusion = _check_arguments(reviewer, conclusion)
    if registry is not None:
        registry.check_writable()
    key = signing_key()
    pack = _locked_pack(Path(pack))
    with pack_lock(pack):
        manifest, reviews = _check_pack(pack, key)
        rating = check_choice(rating, "--rating", _ratings(pack))
        results = _results(pack)
        checked = check_assessments(list(assessments), results)
        draft = _new_review(pack, reviewer, rating, conclusion, checked)
        to_raise = _items_to_raise(results, draft, checked)
        if to_raise and registry is None:
            raise InputError(RAISE_NEEDS_REGISTRY)
        recorded: list[dict[str, Any]] = []
        with StagedUpdate(pack, manifest) as update:

            def publish(items: list[dict[str, Any]]) -> Callable[[], None]:
                review = _with_raised(draft, items, key)
                update.prepare({REVIEW: dump_json({"reviews": [*reviews, review]})}, pdf="refresh",
                               reviews=len(reviews) + 1)
                recorded.append(review)
                return update.publish()

            if registry is not None:
                registry.record_review(draft, raised=to_raise, publish=publish)
            else:
                publish([])
            problem = update.pdf_problem
    return {**recorded[0], "pdf": problem} if problem else recorded[0]


def add_pdf(pack: str | Path, *, out: Path | None = None) -> Any:
    """Print an intact pack to PDF: by default ``pack.pdf`` in the pack, added to (and re-signed
    in) its manifest by the same locked, verify-first publish as a review; with ``out``, a file
    outside the pack (the pack is read, under a shared lock, and not changed).

    Returns the manifest's ``pdf`` record (``file``, ``printed_at``, ``pages``, ``reviews``).

    Raises
    ------
    InputError
        As :func:`add_review` for the pack; Chromium or the PDF module missing (exit 2).
    """
    from validation.reporting.pack import print_pdf

    pack = _locked_pack(Path(pack))
    key = signing_key()
    if out is not None:
        if out.resolve().is_relative_to(pack.resolve()):
            raise InputError(f"--out {out}: inside the pack, where a file the manifest does not list makes it not "
                             "intact; leave out --out to add pack.pdf to the pack and its manifest")
        with pack_lock(pack, shared=True):
            _check_pack(pack, key)
            return print_pdf(pack, out, reviews=len(read_reviews(pack)))
    with pack_lock(pack):
        manifest, reviews = _check_pack(pack, key)
        with StagedUpdate(pack, manifest) as update:
            update.prepare({}, pdf="print", reviews=len(reviews))
            update.publish()
    return read_manifest(pack)["pdf"]
