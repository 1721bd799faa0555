"""History and comparison of runs from the registry: ``validation history`` and ``validation compare``.

- :func:`history_table`: every run of a model with its status and headline metrics (AUC, the score's
  PSI, the worst disparate impact ratio).
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

HEADLINES = {
    "auc": ("backtesting", "auc", "score"),
    "score_psi": ("drift", "psi", "score"),
}


def history_table(registry: Registry, model: str) -> pd.DataFrame:
    """One row per run of ``model``, oldest first: version, run, finished, status, AUC, score PSI,
    worst disparate impact ratio."""
    rows = []
    for run in registry.runs(model):
        findings = registry.findings(run["run_id"])
        row: dict[str, Any] = {"version": run["version"], "run_id": run["run_id"], "finished_at": run["finished_at"],
                               "status": run["status"]}
        for key, (check, metric, subject) in HEADLINES.items():
            values = [f["value"] for f in findings
                      if f["check"] == check and f["metric"] == metric and f["subject"] == subject]
            row[key] = values[0] if values else math.nan
        ratios = [f["value"] for f in findings if f["metric"] == "disparate_impact_ratio" and f["value"] is not None
                  and f["status"] != "info"]
        row["worst_disparate_impact_ratio"] = min(ratios) if ratios else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["version", "run_id", "finished_at", "status", "auc", "score_psi",
                                       "worst_disparate_impact_ratio"])


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
    for column, title in (("auc", "AUC"), ("score_psi", "Score PSI"),
                          ("worst_disparate_impact_ratio", "Worst disparate impact ratio")):
        if table[column].notna().any():
            figure = Figure(figsize=(6.5, 2.6), dpi=90, layout="constrained")
            ax = figure.add_subplot()
            ax.plot(range(len(table)), table[column], marker="o")
            ax.set_xticks(range(len(table)), labels, fontsize=7)
            ax.set_title(title)
            charts.append(_png(figure))
    return charts


def render_page(title: str, table: pd.DataFrame, *, charts: list[str] | None = None, intro: str = "") -> str:
    """An offline HTML page (autoescaped) with a table and optional charts."""
    from validation.reporting.render import environment

    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return str(environment().get_template("table.html.j2").render(
        title=title, intro=intro, columns=list(table.columns), rows=records, charts=charts or []))
