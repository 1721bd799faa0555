"""``validation init``: a starter spec for a dataset, so a new model is validated in two commands.

Reads the data file's columns (and a sample of its rows), then writes a commented YAML spec:
features (every column with no other role), categorical columns (named in a comment), likely
identifier columns (``id`` in the name, or unique on every row: moved to ``data.ids``) and likely
protected attributes (common names such as sex or age: listed in a comment to confirm, never
assumed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from validation.inputs.samples import read_table
from validation.errors import InputError
from validation.metrics.drift import is_numeric

PROTECTED_HINTS = re.compile(r"^(sex|gender|age|age_band|race|ethnicity|religion|marital|nationality|disability)",
                             re.IGNORECASE)
ID_HINTS = re.compile(r"(^id$|_id$|^id_|identifier|customer|account_?n(o|umber)|ssn)", re.IGNORECASE)


def likely_ids(frame: pd.DataFrame) -> list[str]:
    """Columns named like identifiers, or non-float columns unique on every row."""
    found = []
    for column in frame.columns:
        values = frame[column]
        unique_everywhere = (len(frame) > 20 and values.nunique(dropna=False) == len(frame)
                             and not pd.api.types.is_float_dtype(values))
        if ID_HINTS.search(str(column)) or unique_everywhere:
            found.append(str(column))
    return found


def starter_spec(data: Path, target: str, *, score: str | None, out: Path, current: Path | None = None,
                 name: str | None = None) -> str:
    """The text of a starter spec for ``data`` (see the module docstring)."""
    frame = read_table(data, "--data")
    for column, option in ((target, "--target"), (score, "--score")):
        if column is not None and column not in frame.columns:
            raise InputError(f"{option} {column!r}: no such column in {data}; it has: "
                             f"{', '.join(map(str, frame.columns[:20]))}")
    ids = [c for c in likely_ids(frame) if c not in (target, score)]
    protected = [str(c) for c in frame.columns if PROTECTED_HINTS.match(str(c)) and c not in (target, score)]
    features = [str(c) for c in frame.columns if c not in (target, score) and c not in ids and c not in protected]
    categorical = [c for c in features if not is_numeric(frame[c])]
    model = name or re.sub(r"[^A-Za-z0-9_.-]+", "_", data.stem) or "model"
    relative = os.path.relpath(data.resolve(), out.resolve().parent)
    current_relative = os.path.relpath((current or data).resolve(), out.resolve().parent)
    lines = [
        f"# Starter spec written by `validation init` for {data.name} ({len(frame):,} rows, {frame.shape[1]} columns).",
        "# Check every line, then: validation run " + str(out),
        "model:",
        f"  name: {model}",
        '  version: "1"',
        "  type: classification",
        "  owner: # who owns the model",
        "  purpose: # what the model decides",
        "  # artifact: models/model.skops        # to compute scores from the model (and explain it)",
        "  # artifact_sha256: <sha256sum of the artifact>",
        "data:",
        f"  reference: {relative}    # the development sample",
        f"  current: {current_relative}    # the monitoring sample{'' if current else ': replace with fresh data'}",
        f"  target: {target}",
    ]
    lines.append(f"  score: {score}" if score else "  # score: <column of predicted probabilities>   # or give model.artifact")
    lines.append("  features:" + (" []" if not features else ""))
    lines += [f"    - {c}" + ("    # categorical" if c in categorical else "") for c in features]
    lines.append("  ids: [" + ", ".join(ids) + "]" + ("    # likely identifiers: never features, never shown" if ids else ""))
    if protected:
        lines.append("  # protected: [" + ", ".join(protected) + "]    # likely protected attributes: confirm, "
                     "then set decision and add fairness")
    lines += [
        "# decision: {threshold: 0.2, favourable: below}   # needed by the fairness check",
        "checks: [drift, backtesting]   # add fairness (with protected and decision) and explainability (with an artifact)",
        "",
    ]
    return "\n".join(lines)


def write_starter_spec(data: Path, target: str, *, score: str | None, out: Path, current: Path | None = None,
                       force: bool = False) -> Path:
    """Write the starter spec to ``out`` (never over an existing file unless ``force``)."""
    if out.exists() and not force:
        raise InputError(f"{out} exists; choose another --out or add --force")
    text = starter_spec(data, target, score=score, out=out, current=current)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
