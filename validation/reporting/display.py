"""Showing a check's output in a notebook: its header, sections, tables with shaded status cells,
charts, and its findings as judged by the policy.

Used by the templates through :meth:`validation.checks.CheckOutput.show`, and by modelers' own
notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

import pandas as pd

if TYPE_CHECKING:
    from validation.checks.base import CheckOutput
    from validation.judging.policy import Policy


def findings_table(findings: Iterable[Mapping[str, Any]], policy: Policy) -> pd.DataFrame:
    """Findings with their status under the version's policy, for display.

    Numbers are shown to four significant digits (the exact values are in ``results.json`` and the
    glued scraps); an undefined value reads ``undefined``; bounds not applied are left blank.

    >>> from validation.judging.policy import Policy
    >>> findings_table([{"metric": "psi", "subject": "score", "value": 0.123456},
    ...                 {"metric": "auc", "subject": "score", "value": None}], Policy())[["value", "status", "amber"]]
           value status amber
    0     0.1235  amber   0.1
    1  undefined   info   0.7
    """
    rows = [item.model_dump() for item in policy.judge_all(findings)]
    columns = ["metric", "subject", "value", "status", "amber", "red", "p_adjusted", "effect", "note"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    for column in ("value", "amber", "red", "p_adjusted", "effect"):
        table[column] = [_shown(v, blank="undefined" if column == "value" else "") for v in table[column]]
    if not any(table["p_adjusted"]) and not any(table["effect"]):
        table = table.drop(columns=["p_adjusted", "effect"])
    table["note"] = [note if isinstance(note, str) else "" for note in table["note"]]
    return table


_STATUS_COLOURS = {"green": "#dcefdc", "amber": "#fbe7b5", "yellow": "#fbe7b5", "red": "#f4c7c3",
                   "error": "#e6a5a5"}
_STATUS_CSS = "".join(f"table.vstatus td.v-{status}{{background:{colour}}}"
                      for status, colour in _STATUS_COLOURS.items()) + "table.vstatus td.v-label{white-space:nowrap}"


class StatusTable:
    """A table shown with its status cells shaded: every ``status`` column and every ``*_light``
    column (see :func:`traffic_lights`). The word stays in the cell, so colour is never the only
    carrier of the verdict.

    The HTML is written here, every value escaped, with one class per shaded cell and one short
    style block, rather than by pandas' ``Styler`` (a CSS rule and an id per cell: four times the
    size of the plain table, stored twice in a pack).
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    def __repr__(self) -> str:
        return self.table.to_string()

    def _repr_html_(self) -> str:
        import html

        from validation.reporting.render import format_value

        table = self.table
        shaded = {c for c in table.columns if c == "status" or str(c).endswith("_light")}
        labels = {c for c in table.columns if c in ("metric", "subject")}

        def cell(column: Any, value: Any) -> str:
            text = _shown(value, blank="")
            css = (f' class="v-{text}"' if column in shaded and text in _STATUS_COLOURS
                   else ' class="v-label"' if column in labels else "")
            return f"<td{css}>{html.escape(text)}</td>"

        index_name = html.escape(str(table.index.name or ""))
        head = f"<th>{index_name}</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
        body = "".join(
            f"<tr><th>{html.escape(format_value(index))}</th>"
            + "".join(cell(column, value) for column, value in zip(table.columns, row)) + "</tr>"
            for index, row in zip(table.index, table.itertuples(index=False, name=None)))
        return (f"<style>{_STATUS_CSS}</style><table class=\"dataframe vstatus\"><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")


def status_table(table: pd.DataFrame) -> StatusTable:
    """``table`` for display with its status and traffic-light cells shaded (:class:`StatusTable`).

    >>> page = status_table(pd.DataFrame({"subject": ["age_band:<25"], "status": ["red"], "p": [0.01234567]}))._repr_html_()
    >>> '<td class="v-red">red</td>' in page, "age_band:&lt;25" in page, "<td>0.01235</td>" in page
    (True, True, True)
    """
    return StatusTable(table)


def _shown(value: Any, *, blank: str) -> str:
    from validation.reporting.render import format_value

    return blank if value is None or value != value else format_value(value)


def traffic_lights(table: pd.DataFrame, metrics: Iterable[str], policy: Policy) -> pd.DataFrame:
    """``table`` with a ``<metric>_light`` column (green, amber, red; info when undefined) after each
    named metric column, judged under the policy as the findings are.

    >>> from validation.judging.policy import Policy
    >>> traffic_lights(pd.DataFrame({"jeffreys_pvalue": [0.3, 0.01, 0.0001]}), ["jeffreys_pvalue"], Policy())
       jeffreys_pvalue jeffreys_pvalue_light
    0           0.3000                 green
    1           0.0100                 amber
    2           0.0001                   red
    """
    shown = table.copy()
    for metric in metrics:
        lights = [policy.status(metric, value) for value in table[metric]]
        shown.insert(shown.columns.get_loc(metric) + 1, f"{metric}_light", lights)
    return shown


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~"})


def md(text: object) -> str:
    r"""Text from data made literal for a Markdown display: ``male*<25`` stays ``male*<25``
    instead of turning into emphasis or a tag.

    >>> print(md("sex*age_band: male*<25"))
    sex\*age\_band: male\*\<25
    """
    return str(text).translate(_MARKDOWN_SPECIAL)


def show(figure: Any) -> None:
    """Display a matplotlib figure in the notebook as a PNG (works with any backend)."""
    import base64
    import io

    from IPython.display import display

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    alt = "; ".join(titles) or "chart"
    display({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": f"<chart: {alt}>"},
            raw=True, metadata={"image/png": {"alt": alt}})


def show_output(output: CheckOutput) -> None:
    """Display a check's output: the model version and sample sizes, the headline, then each
    section under its heading (text, tables, charts in order)."""
    from IPython.display import Markdown, display

    from validation.checks.base import MarkdownText

    context = output.context
    if context is not None:
        s = context.samples
        display(Markdown(
            # name and version are letters, digits, '_', '.' and '-' (the spec checks): safe in a code span
            f"**Model** `{context.spec.name}` version `{context.spec.version}` · "
            f"reference sample: {len(context.reference):,} rows · current sample: {len(context.current):,} rows"
            + (f" · **sampled**: {s.sampling_note()}" if s.sampled else "")
            + (f" · **duplicate identifiers**: {s.duplicates_note()}" if s.duplicates_note() else "")
            + (f" · reference sample: the **{context.spec.data.reference_kind.replace('_', ' ')}** sample"
               if context.spec.data.reference_kind else "")))
    if output.parameters:
        shown = " · ".join(f"`{name}` {md(repr(value))}" for name, value in output.parameters.items())
        display(Markdown(f"Parameters (the spec's, else the check's defaults): {shown}"))
    if output.headline:
        display(Markdown(f"**{md(output.headline)}**"))
    for section in output.sections:
        display(Markdown(f"## {md(section.title)}"))
        for item in section.items:
            if isinstance(item, MarkdownText):
                display(Markdown(item.text))
            elif hasattr(item, "savefig"):
                show(item)
            else:
                display(item)
