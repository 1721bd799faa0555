"""Small file helpers shared by the pack's writers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def probe_creatable(path: Path) -> Path:
    """Prove that a file can be created at ``path``: a probe file is created and removed in its
    folder, or in the nearest existing folder above (``os.access`` says yes to root even where
    nothing can be created, as under ``/proc``). Nothing is left behind.

    Returns the folder probed.

    Raises
    ------
    OSError
        When nothing can be created there (or ``path`` is a folder).
    """
    import tempfile

    if path.is_dir():
        raise IsADirectoryError(21, "is a folder", str(path))
    folder = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    with tempfile.TemporaryFile(dir=folder):
        pass
    return folder


def atomic_write(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: a fresh temporary file of a random name beside it
    (created exclusively, so a planted link is never written through), then renamed over it (a
    rename replaces a link at ``path`` itself, never its target)."""
    import os
    import tempfile

    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented UTF-8 strict JSON with a final newline: an undefined number (NaN, an
    infinity) is ``null``, never the bare ``NaN`` that JSON parsers other than Python's refuse."""
    from validation.judging.findings import plain

    path.write_text(json.dumps(plain(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
