"""The one adapter to scrapbook: notebooks glue aggregates, the runner reads them back.

Only this module imports scrapbook, so a change of scrapbook (or a move away from it) touches one
place. Notebooks call :func:`glue_findings` and :func:`glue_summary`; the runner calls
:func:`read_scraps`. Everything glued is JSON: findings (metric, subject, value) and small
summaries (sample sizes, explainer used). Never rows of data: a glued DataFrame would be stored in
the executed notebook and so in the pack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from validation.judging.findings import plain

FINDINGS = "findings"
SUMMARY = "summary"
_MAX_GLUED_ITEMS = 5000


def glue_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Glue the check's findings into the running notebook (scrap ``findings``)."""
    import scrapbook as sb

    items = [plain(dict(f)) for f in findings]
    if len(items) > _MAX_GLUED_ITEMS:
        raise ValueError(f"{len(items)} findings is too many to glue; aggregate them first")
    for item in items:
        if not isinstance(item.get("metric"), str) or not isinstance(item.get("subject"), str):
            raise ValueError(f"a finding needs a metric and a subject, got {item}")
    sb.glue(FINDINGS, items, encoder="json")
    return items


def glue_summary(summary: Mapping[str, Any]) -> None:
    """Glue a small summary of the check (scrap ``summary``): sample sizes, settings used."""
    import sys

    import scrapbook as sb

    # lineage: the interpreter the kernel ran, so a pack shows which environment computed it
    sb.glue(SUMMARY, plain({**dict(summary), "kernel_python": sys.executable}), encoder="json")


def read_scraps(notebook: str | Path) -> dict[str, Any]:
    """Read the glued scraps of an executed notebook: name -> data."""
    import scrapbook as sb

    book = sb.read_notebook(str(notebook))
    return {name: scrap.data for name, scrap in book.scraps.items()}
