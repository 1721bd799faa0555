"""Small file helpers shared by the pack's writers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented UTF-8 strict JSON with a final newline: an undefined number (NaN, an
    infinity) is ``null``, never the bare ``NaN`` that JSON parsers other than Python's refuse."""
    from validation.judging.findings import plain

    path.write_text(json.dumps(plain(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
