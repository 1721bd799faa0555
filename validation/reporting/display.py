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


def findings_table(findings: Iterable[Mapping[str, Any]], policy: Policy, *,
                   currency: str | None = None) -> pd.DataFrame:
    """Findings with their status under the version's policy, for display.

    Each value and bound is formatted by its metric's kind (:func:`~validation.reporting.
    formatting.metric_kind`: p-values ``< 0.001`` or 3 significant digits, rates in percent,
    counts whole, amounts in ``currency``; the exact values are in ``results.json`` and the glued
    scraps); an undefined value reads ``undefined``; bounds not applied are left blank.

    >>> from validation.judging.policy import Policy
    >>> findings_table([{"metric": "psi", "subject": "score", "value": 0.123456},
    ...                 {"metric": "jeffreys_pvalue", "subject": "grade:1", "value": 1e-9},
    ...                 {"metric": "auc", "subject": "score", "value": None}], Policy())[["value", "status", "amber"]]
           value status amber
    0     0.1235  amber   0.1
    1    < 0.001    red  0.05
    2  undefined   info   0.7
    """
    from validation.reporting.formatting import format_number, metric_kind

    rows = [item.model_dump() for item in policy.judge_all(findings)]
    columns = ["metric", "subject", "value", "status", "amber", "red", "p_adjusted", "effect", "note"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    kinds = [metric_kind(str(metric)) for metric in table["metric"]]

    def shown(value: Any, kind: str, blank: str) -> str:
        return blank if _undefined(value) else format_number(value, kind, currency)

    for column in ("value", "amber", "red"):
        blank = "undefined" if column == "value" else ""
        table[column] = [shown(v, kind, blank) for v, kind in zip(table[column], kinds)]
    table["p_adjusted"] = [shown(v, "p", "") for v in table["p_adjusted"]]
    table["effect"] = [shown(v, "value", "") for v in table["effect"]]
    if not any(table["p_adjusted"]) and not any(table["effect"]):
        table = table.drop(columns=["p_adjusted", "effect"])
    table["note"] = [note if isinstance(note, str) else "" for note in table["note"]]
    return table


def _undefined(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


_STATUS_COLOURS = {"green": "#dcefdc", "amber": "#fbe7b5", "yellow": "#fbe7b5", "red": "#f4c7c3",
                   "error": "#e6a5a5"}
_STATUS_CSS = ("".join(f"table.vstatus td.v-{status}{{background:{colour}}}" for status, colour in _STATUS_COLOURS.items())
               + "table.vstatus td.v-label{white-space:nowrap}div.vscroll{overflow-x:auto;max-width:100%}"
               "table.vstatus th{white-space:nowrap}table.vstatus wbr{display:none}"
               "@media print{div.vscroll{overflow:visible}table.vstatus wbr{display:inline}"
               "table.vstatus th,table.vstatus td.v-label{white-space:normal}}")


class StatusTable:
    """A table shown with its status cells shaded: every ``status`` column and every ``*_light``
    column (see :func:`traffic_lights`). The word stays in the cell, so colour is never the only
    carrier of the verdict.

    Numbers are formatted by their column's kind (:func:`~validation.reporting.formatting.
    column_kind`: p-values, rates in percent, whole numbers without decimals, amounts with
    ``currency``), rows labelled by numeric bands (``<25, 25-34, 50+``) are put in their order,
    and the table sits in a horizontal scroll container (never clipped). Headers and row labels
    may wrap (on paper) only after ``_``, ``*``, ``:`` or ``/``. A default row number index is not
    shown.

    The HTML is written here, every value escaped, with one class per shaded cell and one short
    style block, rather than by pandas' ``Styler`` (a CSS rule and an id per cell: four times the
    size of the plain table, stored twice in a pack).
    """

    def __init__(self, table: pd.DataFrame, *, currency: str | None = None) -> None:
        self.table = table
        self.currency = currency

    def __repr__(self) -> str:
        return self.table.to_string()

    def _repr_html_(self) -> str:
        import html

        from validation.reporting.formatting import breakable, column_kind, format_number, in_band_order

        table = in_band_order(self.table)
        shaded = {c for c in table.columns if c == "status" or str(c).endswith("_light")}
        labels = {c for c in table.columns if c in ("metric", "subject")}
        kinds = [column_kind(c, table.iloc[:, i].tolist()) for i, c in enumerate(table.columns)]

        def cell(position: int, column: Any, value: Any) -> str:
            text = "" if _undefined(value) else format_number(value, kinds[position], self.currency)
            css = (f' class="v-{text}"' if column in shaded and text in _STATUS_COLOURS
                   else ' class="v-label"' if column in labels else "")
            return f"<td{css}>{html.escape(text)}</td>"

        numbered = isinstance(table.index, pd.RangeIndex) and table.index.name is None
        index_name = html.escape(str(table.index.name or ""))
        head = ("" if numbered else f"<th>{index_name}</th>") + "".join(
            f"<th>{breakable(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + ("" if numbered else f"<th>{breakable(_label(index))}</th>")
            + "".join(cell(i, column, value) for i, (column, value) in enumerate(zip(table.columns, row))) + "</tr>"
            for index, row in zip(table.index, table.itertuples(index=False, name=None)))
        return (f"<style>{_STATUS_CSS}</style><div class=\"vscroll\"><table class=\"dataframe vstatus\">"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _label(index: Any) -> str:
    from validation.reporting.formatting import format_number

    if isinstance(index, tuple):
        return " / ".join(_label(part) for part in index)
    return format_number(index, "value")


def status_table(table: pd.DataFrame, *, currency: str | None = None) -> StatusTable:
    """``table`` for display with its status and traffic-light cells shaded and its numbers
    formatted by column (:class:`StatusTable`).

    >>> page = status_table(pd.DataFrame({"subject": ["age_band:<25"], "status": ["red"], "p": [0.01234567],
    ...                                   "n": [600.0]}))._repr_html_()
    >>> '<td class="v-red">red</td>' in page, "age_band:&lt;25" in page, "<td>0.0123</td>" in page, "<td>600</td>" in page
    (True, True, True, True)
    """
    return StatusTable(table, currency=currency)


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
    section under its heading (text, tables, charts in order). Tables are shown as
    :class:`StatusTable` (numbers by column kind, amounts in the spec's ``model.currency``)."""
    from IPython.display import Markdown, display

    from validation.checks.base import MarkdownText

    context = output.context
    currency = getattr(getattr(getattr(context, "spec", None), "model", None), "currency", None)
    if context is not None:
        s = context.samples
        display(Markdown(
            # name and version are letters, digits, '_', '.' and '-' (the spec checks): safe in a code span
            f"**Model** `{context.spec.name}` version `{context.spec.version}` · "
            + (f"reference sample: {len(context.reference):,} rows" if s.has_reference else "no reference sample")
            + f" · current sample: {len(context.current):,} rows"
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
            elif isinstance(item, StatusTable):
                display(StatusTable(item.table, currency=item.currency or currency))
            elif isinstance(item, pd.DataFrame):
                display(StatusTable(item, currency=currency))
            else:
                display(item)
