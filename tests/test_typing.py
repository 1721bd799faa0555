"""The library type-checks (STYLE.md: every function annotated, mypy clean on validation/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_mypy_is_clean() -> None:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-m", "mypy", "validation"], cwd=root,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
