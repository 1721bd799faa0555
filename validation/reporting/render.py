"""Rendering: executed notebooks to HTML (nbconvert), and the pack's ``index.html`` (Jinja2).

Both load nothing from the network. The nbconvert template ``validation`` extends ``lab`` with the
require.js, MathJax, mermaid and widget blocks emptied, code hidden by default and a navigation
bar back to the summary. The index template is autoescaped: every model name, group name
(``<25``), purpose or error text from a spec or data is escaped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_notebook(notebook: str | Path, html: str | Path, *, title: str = "") -> None:
    """Render an executed notebook to a self-contained HTML page (code hidden by default)."""
    import nbformat
    from nbconvert import HTMLExporter

    book = nbformat.read(str(notebook), as_version=4)
    for cell in book.cells:  # scraps are data for the runner, not for people
        if cell.cell_type == "code":
            cell.outputs = [neutralise(o) for o in cell.outputs if not _is_scrap(o)]
    if title:
        book.metadata["title"] = title
    exporter = HTMLExporter(template_name="validation",
                            extra_template_basedirs=[str(_TEMPLATES / "nbconvert")])
    body, _ = exporter.from_notebook_node(book, resources={"metadata": {"name": Path(notebook).stem}})
    Path(html).write_text(body, encoding="utf-8")


_ACTIVE_CONTENT = re.compile(r"<\s*(script|iframe|object|embed|link|meta|base|form)\b|\bon[a-z]+\s*=|javascript:",
                             re.IGNORECASE)


def neutralise(output: Any) -> Any:
    """An output safe to put in a pack page: JavaScript outputs dropped, and HTML or Markdown
    that carries active content (scripts, event handlers, frames) shown as escaped text instead.

    nbconvert's own ``sanitize_html`` garbles tables, so plain tables (pandas escapes every value)
    pass untouched and only active content is caught.
    """
    data = output.get("data")
    if not data:
        return output
    data.pop("application/javascript", None)
    for mimetype in ("text/html", "text/markdown", "image/svg+xml"):
        text = data.get(mimetype)
        if text is not None and _ACTIVE_CONTENT.search("".join(text) if isinstance(text, list) else str(text)):
            data.pop(mimetype)
            data.setdefault("text/plain", "".join(text) if isinstance(text, list) else str(text))
    return output


def _is_scrap(output: Any) -> bool:
    data = output.get("data", {})
    return bool(data) and all(key.startswith("application/scrapbook.scrap") for key in data)


def jinja_environment() -> Any:
    """The Jinja2 environment of the pack's own pages: autoescaped, strict about undefined names,
    with the number filters of :mod:`validation.reporting.formatting` (``number``, ``kind``,
    ``column_kind``, ``first_sentence``, ``breakable``) and ``value`` (a number of no particular kind)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from markupsafe import Markup

    from validation.reporting.formatting import (
        P_FLOOR, breakable, column_kind, first_sentence, format_number, metric_kind,
    )

    env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update({"value": format_value, "number": format_number, "kind": metric_kind,
                        "column_kind": column_kind, "first_sentence": first_sentence,
                        "breakable": lambda text: Markup(breakable(text))})
    env.globals["p_floor"] = f"{P_FLOOR:g}"
    return env


def format_value(value: Any) -> str:
    """A value of no particular kind for people: 4 significant digits in plain notation (thousands
    separated), ``-`` for undefined (:func:`validation.reporting.formatting.format_number`).

    >>> format_value(138123.4), format_value(0.123456), format_value(None), format_value(3)
    ('138,123', '0.1235', '-', '3')
    """
    from validation.reporting.formatting import format_number

    return format_number(value, "value")


def render_index(context: dict[str, Any]) -> str:
    """The pack summary page from the results and lineage."""
    return str(jinja_environment().get_template("index.html.j2").render(**context))
