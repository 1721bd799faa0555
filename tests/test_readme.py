"""The README's Python examples run: every fenced ``python`` block with ``>>>`` prompts is a doctest."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_examples() -> str:
    """The fenced ``python`` blocks of the README that hold ``>>>`` prompts, joined (the fences
    themselves are no expected output)."""
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)
    return "\n".join(block for block in blocks if ">>> " in block)


def test_the_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing an example writes lands in the checkout
    text = readme_examples()
    assert "validation.validate(" in text
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md", str(README), 0)
    assert len(test.examples) >= 5
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
    assert list(tmp_path.iterdir()) == []  # validate() without workdir leaves nothing behind
