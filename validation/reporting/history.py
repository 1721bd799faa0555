"""History and comparison of runs from the registry: ``validation history`` and ``validation compare``.

- :func:`history_table`: every run of a model with its status and the checks' headline metrics.
- :func:`compare_findings`: finding-by-finding diff of two runs (value, status, change, new or removed).
Both render to a terminal table and to an offline HTML page (trend charts as inline PNG).
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Iterable, Mapping

import pandas as pd

from validation.governance.registry import Registry

def headline_columns() -> list[tuple[str, str, Any]]:
    """(column, check, headline) for every headline metric of the registered checks."""
    from validation.checks import REGISTRY

    return [(h.key, check.name, h) for check in REGISTRY for h in check.headlines]


def history_table(registry: Registry, model: str) -> pd.DataFrame:
    """One row per run of ``model``, oldest first: version, run, finished, status, and the headline
    metrics of the checks (AUC, the score's PSI, the worst disparate impact ratio, ...)."""
    from validation.judging.findings import Finding

    columns = headline_columns()
    rows = []
    for run in registry.runs(model):
        by_check: dict[str, list[Finding]] = {}
        for f in registry.findings(run["run_id"]):
            by_check.setdefault(f["check"], []).append(Finding(
                metric=f["metric"], subject=f["subject"], value=f["value"], status=f["status"],
                amber=f["amber"], red=f["red"], direction="none"))
        row: dict[str, Any] = {"version": run["version"], "run_id": run["run_id"], "finished_at": run["finished_at"],
                               "status": run["status"]}
        for key, check, headline in columns:
            value = headline.value(by_check.get(check, []))
            row[key] = math.nan if value is None else value
        rows.append(row)
    return pd.DataFrame(rows, columns=["version", "run_id", "finished_at", "status", *[c[0] for c in columns]])


def compare_findings(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Finding-by-finding diff, keyed by (check, metric, subject).

    Parameters
    ----------
    old, new
        Findings with ``check``, ``metric``, ``subject``, ``value`` and ``status`` (from
        :meth:`Registry.findings`, or ``results.json`` findings with their check added).

    Returns
    -------
    DataFrame
        Columns ``check``, ``metric``, ``subject``, ``old_value``, ``new_value``, ``change``,
        ``old_status``, ``new_status`` and ``diff`` (``changed``, ``same``, ``new``, ``removed``),
        status changes first.
    """
    def keyed(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], tuple[Any, str]]:
        return {(r["check"], r["metric"], r["subject"]): (r["value"], r["status"]) for r in rows}

    before, after = keyed(old), keyed(new)
    rows = []
    for key in sorted(set(before) | set(after)):
        old_value, old_status = before.get(key, (None, None))
        new_value, new_status = after.get(key, (None, None))
        change: float | None = None
        same_value = old_value == new_value
        if isinstance(old_value, (int, float)) and isinstance(new_value, (int, float)):
            change = float(new_value) - float(old_value)
            same_value = math.isclose(old_value, new_value, rel_tol=1e-12, abs_tol=1e-15)
        if key not in before:
            kind = "new"
        elif key not in after:
            kind = "removed"
        else:
            kind = "same" if old_status == new_status and same_value else "changed"
        rows.append({"check": key[0], "metric": key[1], "subject": key[2], "old_value": old_value,
                     "new_value": new_value, "change": change, "old_status": old_status,
                     "new_status": new_status, "diff": kind})
    table = pd.DataFrame(rows, columns=["check", "metric", "subject", "old_value", "new_value", "change",
                                        "old_status", "new_status", "diff"])
    # status changes of findings in both runs first, then new and removed findings, then the rest
    rank = table["diff"].map({"new": 1, "removed": 1}).fillna(2)
    rank = rank.where(~((table["diff"] == "changed") & (table["old_status"] != table["new_status"])), 0)
    return table.assign(_rank=rank).sort_values(["_rank", "check", "metric", "subject"], kind="stable").drop(
        columns="_rank").reset_index(drop=True)


def compare_versions(registry: Registry, model: str, old_version: str, new_version: str) -> tuple[pd.DataFrame, str, str]:
    """Diff of the latest runs of two versions; returns the table and the two run ids.

    Raises
    ------
    InputError
        When a version has no run in the registry.
    """
    from validation.errors import InputError

    runs = []
    for version in (old_version, new_version):
        run = registry.latest_run(model, version)
        if run is None:
            known = ", ".join(registry.versions(model)) or "none"
            raise InputError(f"no run of {model} version {version} in the registry {registry.path}; "
                             f"versions with runs: {known}")
        runs.append(run)
    table = compare_findings(registry.findings(runs[0]["run_id"]), registry.findings(runs[1]["run_id"]))
    return table, runs[0]["run_id"], runs[1]["run_id"]


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def trend_charts(table: pd.DataFrame) -> list[str]:
    """Base64 PNGs of the headline metrics over runs."""
    from matplotlib.figure import Figure

    charts = []
    labels = [f"v{v}\n{r[-6:]}" for v, r in zip(table["version"], table["run_id"])]
    for column, _, headline in headline_columns():
        title = headline.label[:1].upper() + headline.label[1:]
        if column in table and pd.to_numeric(table[column], errors="coerce").notna().any():
            figure = Figure(figsize=(6.5, 2.6), dpi=90, layout="constrained")
            ax = figure.add_subplot()
            ax.plot(range(len(table)), table[column], marker="o")
            ax.set_xticks(range(len(table)), labels, fontsize=7)
            ax.set_title(title)
            charts.append(_png(figure))
    return charts


def render_page(title: str, table: pd.DataFrame, *, charts: list[str] | None = None, intro: str = "") -> str:
    """An offline HTML page (autoescaped) with a table and optional charts."""
    from validation.reporting.render import jinja_environment

    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return str(jinja_environment().get_template("table.html.j2").render(
        title=title, intro=intro, columns=list(table.columns), rows=records, charts=charts or []))
