"""The findings register: issues a validator raised, as items with an owner, a due date and a status.

A review (:mod:`validation.governance.review`) assesses a pack's issues and findings: it accepts
one, overrides it with a rationale, or raises it as a register item. A raised item gets a stable
identifier ``<model>-<NNN>`` (a sequence per model, never reused) and lives in the registry
(:class:`~validation.governance.registry.Registry`), where ``validation findings`` lists, updates,
exports and imports it; every change is an event (who, when, field, old, new) chained in the
registry's ledger. The next version's pack carries the items still not closed (``register.json``).

This module holds what the register's values may be, and their checks, so that the command line,
a CSV import and an assessments file all say the same thing about a bad value:

- :func:`check_assessments`: a review's assessments, each naming an issue or a finding of the pack;
- :func:`load_assessments`: an assessments file (YAML or CSV);
- :func:`check_change`: an update of an item's editable fields;
- :func:`export_csv` and :func:`read_csv_edits`: the spreadsheet round trip, with cells a spreadsheet
  would run as a formula neutralised on export and restored on import.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from validation.errors import InputError

STATUSES = ("open", "in_progress", "remediated", "closed", "risk_accepted")
"""An item's status. ``closed`` ends it; every other status is carried into the next version's pack."""
CLOSED = ("closed",)
SEVERITIES = ("low", "medium", "high")
ACTIONS = ("accept", "override", "raise")
ITEM_FIELDS = ("id", "model", "version", "run_id", "target", "title", "severity", "owner", "due", "remediation",
               "status", "raised_at", "updated_at")
"""A register item's fields, in the order of ``validation findings export``."""
EDITABLE = ("status", "owner", "due", "remediation", "severity")
"""The fields ``validation findings update`` and ``import`` may change (an item's title and target
say what was raised, and stay)."""
RAISE_FIELDS = ("title", "severity", "owner", "due", "remediation")
"""What an assessment that raises an issue must give."""

MAX_NAME = 200
"""Characters of a name (a reviewer, an owner, a target)."""
MAX_TEXT = 2_000
"""Characters of a title, a rationale, a remediation or a note."""
MAX_CONCLUSION = 20_000
"""Characters of a review's conclusion (a few pages)."""
MAX_ASSESSMENTS = 1_000
MAX_FILE_BYTES = 1_048_576
"""Bytes of an assessments file or an imported CSV."""
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")
"""First characters that make a spreadsheet run a cell as a formula (OWASP's CSV injection list),
and the quote that neutralises them (so that a cell that began with one is restored exactly)."""

FIND_TARGETS = ("the pack's results.json lists them: an issue id is checks[].issues[].id ('<check>:<cause>'), a "
                "finding key is '<check>:<metric>:<subject>' of checks[].findings[]")


def check_text(value: Any, where: str, *, limit: int = MAX_TEXT, required: bool = True,
               multiline: bool = False) -> str:
    """``value`` as stripped text of at most ``limit`` characters, printable (line breaks only when
    ``multiline``).

    Raises
    ------
    InputError
        Naming ``where``: not text, empty when required, too long, or with a control character.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(f"{where}: {type(value).__name__} {value!r:.60}, expected text")
    text = value.strip()
    if required and not text:
        raise InputError(f"{where}: empty; give the text")
    if len(text) > limit:
        raise InputError(f"{where}: {len(text):,} characters; at most {limit:,}")
    allowed = "\t\n\r" if multiline else "\t"
    if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text):
        kind = "a control character (a NUL byte)" if multiline else "a control character (a line break or a NUL byte)"
        raise InputError(f"{where}: has {kind}; give {'printable text' if multiline else 'one line of text'}")
    return text


def check_choice(value: Any, where: str, choices: Sequence[str]) -> str:
    """``value`` when it is one of ``choices``; an InputError listing them otherwise."""
    if not isinstance(value, str) or value.strip() not in choices:
        raise InputError(f"{where}: {value!r:.60} is not one of {', '.join(choices)}")
    return value.strip()


def check_due(value: Any, where: str) -> str:
    """An ISO date ``YYYY-MM-DD`` (a spreadsheet's date cell, a ``date`` from YAML, or text)."""
    if isinstance(value, date):
        return value.isoformat()
    text = check_text(value, where, limit=10)
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) != len("YYYY-MM-DD"):
        raise InputError(f"{where}: {text!r} is not a date; give it as YYYY-MM-DD (e.g. 2026-09-30)")
    return parsed.isoformat()


def check_change(field: str, value: Any, where: str) -> str:
    """The checked new value of an editable field of an item."""
    if field not in EDITABLE:
        raise InputError(f"{where}: {field!r} cannot be changed; the editable fields are {', '.join(EDITABLE)}")
    if field == "status":
        return check_choice(value, where, STATUSES)
    if field == "severity":
        return check_choice(value, where, SEVERITIES)
    if field == "due":
        return check_due(value, where)
    if field == "owner":
        return check_text(value, where, limit=MAX_NAME)
    return check_text(value, where, multiline=True)


def valid_targets(results: Mapping[str, Any]) -> set[str]:
    """The ids of a pack's issues and the keys ``<check>:<metric>:<subject>`` of its findings."""
    targets: set[str] = set()
    for check in results.get("checks", []):
        targets.update(str(issue["id"]) for issue in check.get("issues", []))
        targets.update(f"{check['name']}:{f['metric']}:{f['subject']}" for f in check.get("findings", []))
    return targets


def check_assessments(assessments: Sequence[Mapping[str, Any]], results: Mapping[str, Any], *,
                      source: str = "assessments") -> list[dict[str, Any]]:
    """A review's assessments, checked against the pack's ``results.json``.

    Each is ``{"target", "action", "rationale"}`` and, for ``raise``, ``title``, ``severity``,
    ``owner``, ``due`` and ``remediation``. A target is assessed once.

    Raises
    ------
    InputError
        Naming the assessment (``<source>[<n>]``) and key: an unknown target (with where to find
        the valid ones), an unknown action, an override without a rationale, a raise missing a
        field, a bad date or severity.
    """
    if len(assessments) > MAX_ASSESSMENTS:
        raise InputError(f"{source}: {len(assessments):,} assessments; at most {MAX_ASSESSMENTS:,}")
    targets = valid_targets(results)
    checked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(assessments, start=1):
        where = f"{source}[{number}]"
        if not isinstance(raw, Mapping):
            raise InputError(f"{where}: a {type(raw).__name__}, expected a mapping with target and action")
        unknown = sorted(set(map(str, raw)) - {"target", "action", "rationale", *RAISE_FIELDS})
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r}; the keys are target, action, rationale, "
                             + ", ".join(RAISE_FIELDS))
        target = check_text(raw.get("target"), f"{where}.target", limit=MAX_TEXT)
        if target not in targets:
            raise InputError(f"{where}.target: {target!r} is neither an issue nor a finding of this pack; {FIND_TARGETS}")
        if target in seen:
            raise InputError(f"{where}.target: {target!r} is assessed twice; give one assessment per target")
        seen.add(target)
        action = check_choice(raw.get("action"), f"{where}.action", ACTIONS)
        rationale = check_text(raw.get("rationale"), f"{where}.rationale", required=action == "override",
                               multiline=True)
        entry: dict[str, Any] = {"target": target, "action": action, "rationale": rationale or None}
        if action == "raise":
            entry.update(_raise_fields(raw, where))
        else:
            extra = [key for key in RAISE_FIELDS if raw.get(key) not in (None, "")]
            if extra:
                raise InputError(f"{where}.{extra[0]}: only an assessment with action 'raise' takes {extra[0]}")
        checked.append(entry)
    return checked


def _raise_fields(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    missing = [key for key in RAISE_FIELDS if raw.get(key) in (None, "")]
    if missing:
        raise InputError(f"{where}: action 'raise' needs {', '.join(missing)} (each of {', '.join(RAISE_FIELDS)})")
    return {"title": check_text(raw["title"], f"{where}.title"),
            "severity": check_choice(raw["severity"], f"{where}.severity", SEVERITIES),
            "owner": check_text(raw["owner"], f"{where}.owner", limit=MAX_NAME),
            "due": check_due(raw["due"], f"{where}.due"),
            "remediation": check_text(raw["remediation"], f"{where}.remediation", multiline=True)}


def _read_bounded(path: Path, option: str) -> str:
    try:
        if path.is_dir():
            raise InputError(f"{option} {path}: is a folder; give a file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{option} {path}: over {MAX_FILE_BYTES // 1024} KiB")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{option} {path}: no such file") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{option} {path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise InputError(f"{option} {path}: cannot be read ({error.strerror or error})") from None


def load_assessments(path: Path) -> list[dict[str, Any]]:
    """The assessments of a file: YAML (a list of mappings, or a mapping with ``assessments``) or
    CSV (``.csv``: a header row with ``target``, ``action`` and the other keys as columns; empty
    cells are absent keys).

    Raises
    ------
    InputError
        Naming the file: missing, unreadable, too large, not YAML or CSV of that shape.
    """
    text = _read_bounded(path, "--assessments")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        if rows and ("target" not in rows[0] or "action" not in rows[0]):
            raise InputError(f"--assessments {path}: the CSV needs the columns target and action (and rationale, "
                             + ", ".join(RAISE_FIELDS) + ")")
        return [{str(k): restore_cell(v) for k, v in row.items() if k is not None and v not in (None, "")}
                for row in rows]
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"--assessments {path}: not YAML{where} ({getattr(error, 'problem', None) or error})") from None
    if isinstance(document, Mapping) and set(document) == {"assessments"}:
        document = document["assessments"]
    if document is None:
        return []
    if not isinstance(document, list):
        raise InputError(f"--assessments {path}: expected a list of assessments (mappings with target and action), "
                         f"got a {type(document).__name__}")
    return list(document)


def neutralise_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading ``= + - @``, tab, carriage return or quote
    gets a ``'`` in front (so ``=HYPERLINK(...)`` is never run when the export is opened)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def restore_cell(value: str) -> str:
    """The cell :func:`neutralise_cell` was given (one added ``'`` removed)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def export_csv(items: Iterable[Mapping[str, Any]]) -> str:
    """The items as CSV text, one row per item, columns :data:`ITEM_FIELDS`, cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ITEM_FIELDS)
    for item in items:
        writer.writerow([neutralise_cell(item.get(name)) for name in ITEM_FIELDS])
    return buffer.getvalue()


def read_csv_edits(path: Path, current: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The edits of an exported CSV: item id -> {field: new value} for every editable cell that
    differs from the register (``current``: id -> item). Rows that change nothing give nothing.

    Raises
    ------
    InputError
        Naming the row (as a spreadsheet numbers it: the header is row 1) and the column: no
        ``id`` column, an unknown or repeated id, a bad status, severity or date, an edited cell
        that is not editable, or an item updated in the registry after the export (its
        ``updated_at`` differs: export again).
    """
    text = _read_bounded(path, "--csv")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or [])
    if "id" not in header:
        raise InputError(f"--csv {path}: row 1: no 'id' column; import a file written by `validation findings "
                         "export` (columns " + ", ".join(ITEM_FIELDS) + ")")
    unknown = [name for name in header if name not in ITEM_FIELDS]
    if unknown:
        raise InputError(f"--csv {path}: row 1, column {unknown[0]!r}: not a register field; the columns are "
                         + ", ".join(ITEM_FIELDS))
    edits: dict[str, dict[str, str]] = {}
    for row_number, row in enumerate(reader, start=2):
        if None in row:
            raise InputError(f"--csv {path}: row {row_number}: more cells than columns")
        cells = {name: restore_cell(value or "") for name, value in row.items()}
        where = f"--csv {path}: row {row_number}"
        item_id = cells["id"].strip()
        if item_id not in current:
            raise InputError(f"{where}, column 'id': {item_id!r} is not in the register; `validation findings list` "
                             "shows the items")
        if item_id in edits:
            raise InputError(f"{where}, column 'id': {item_id!r} is given twice")
        edits[item_id] = _row_edits(cells, current[item_id], where)
    return {item_id: changes for item_id, changes in edits.items() if changes}


def _row_edits(cells: Mapping[str, str], item: Mapping[str, Any], where: str) -> dict[str, str]:
    stamp = cells.get("updated_at")
    if stamp is not None and stamp.strip() != str(item["updated_at"]):
        raise InputError(f"{where}, column 'updated_at': {item['id']} was updated at {item['updated_at']}, after "
                         "this export; export again and redo the edit")
    changes: dict[str, str] = {}
    for name, raw in cells.items():
        if name == "id":
            continue
        old = "" if item.get(name) is None else str(item[name])
        if name not in EDITABLE:
            if raw.strip() != old.strip():
                raise InputError(f"{where}, column {name!r}: changed, but only {', '.join(EDITABLE)} can be edited")
            continue
        value = check_change(name, raw, f"{where}, column {name!r}")
        if value != old:
            changes[name] = value
    return changes
