"""History and comparison of runs from the registry: ``validation history`` and ``validation compare``.

- :func:`history_table`: every run of a model with its status and the checks' headline metrics.
- :func:`compare_findings`: finding-by-finding diff of two runs (value, status, change, new or removed).
- :func:`next_due` and :func:`inventory`: when each model is due again, by its materiality, and
  which are overdue (``validation history`` without a model).
All render to a terminal table and to an offline HTML page (trend charts as inline PNG).
"""

from __future__ import annotations

import base64
import calendar
import datetime
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from validation.governance.registry import Registry

INVENTORY_COLUMNS = ["model", "version", "run_id", "finished_at", "status", "materiality", "frequency_months",
                     "next_due", "overdue"]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, on the month's last day when it is shorter.

    >>> add_months(datetime.date(2026, 1, 31), 1), add_months(datetime.date(2026, 11, 15), 3)
    (datetime.date(2026, 2, 28), datetime.date(2027, 2, 15))
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _finished_day(finished_at: str) -> datetime.date:
    """The UTC day a run finished (``finished_at`` as ISO 8601, e.g. ``2026-04-20T10:11:12+00:00``)."""
    moment = datetime.datetime.fromisoformat(finished_at.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.date()


def next_due(card: Mapping[str, Any], finished_at: str) -> dict[str, Any] | None:
    """When the model of a pack is next due: the run's day plus the months its materiality sets
    (:data:`validation.inputs.spec.FREQUENCY_MONTHS`).

    Parameters
    ----------
    card
        The pack's ``card.json`` (its ``model_details.materiality``).
    finished_at
        When the run finished (ISO 8601).

    Returns
    -------
    dict or None
        ``{"date": "YYYY-MM-DD", "materiality", "months"}``; ``None`` when the card gives no
        materiality (no frequency is set).

    Examples
    --------
    >>> next_due({"model_details": {"materiality": "high"}}, "2026-04-20T10:11:12+00:00")
    {'date': '2026-07-20', 'materiality': 'high', 'months': 3}
    """
    from validation.inputs.spec import FREQUENCY_MONTHS

    materiality = (card.get("model_details") or {}).get("materiality")
    months = FREQUENCY_MONTHS.get(materiality) if isinstance(materiality, str) else None
    if months is None:
        return None
    return {"date": add_months(_finished_day(finished_at), months).isoformat(), "materiality": materiality,
            "months": months}


def _card(pack: str) -> dict[str, Any]:
    """A pack's ``card.json``, or ``{}`` when the pack is gone or its card unreadable (the model then
    shows no materiality, and is never called overdue on a guess)."""
    try:
        loaded = json.loads((Path(pack) / "card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def inventory(registry: Registry, *, today: datetime.date) -> pd.DataFrame:
    """Every model in the registry with its latest run and when it is next due.

    A model's materiality is the one its latest pack's ``card.json`` records; the next run is due
    :func:`next_due` after that run finished, and is overdue when that day is before ``today``.

    Returns
    -------
    DataFrame
        Columns :data:`INVENTORY_COLUMNS`: ``model``, ``version``, ``run_id``, ``finished_at``,
        ``status`` (of the latest run), ``materiality``, ``frequency_months`` (int) and ``next_due``
        (``YYYY-MM-DD``), each ``None`` without a materiality, and ``overdue`` (bool). Overdue models first, then by the day
        they are due (the soonest first; models with no day last), then by name.
    """
    rows = []
    for model in registry.models():
        runs = registry.runs(model)
        if not runs:
            continue
        latest = runs[-1]
        due = next_due(_card(latest["pack"]), latest["finished_at"])
        rows.append({"model": model, "version": latest["version"], "run_id": latest["run_id"],
                     "finished_at": latest["finished_at"], "status": latest["status"],
                     "materiality": due["materiality"] if due else None,
                     "frequency_months": due["months"] if due else None,
                     "next_due": due["date"] if due else None,
                     "overdue": due is not None and datetime.date.fromisoformat(due["date"]) < today})
    rows.sort(key=lambda row: (not row["overdue"], row["next_due"] is None, row["next_due"] or "", row["model"]))
    # object columns keep None (no materiality, no due date) rather than NaN
    return pd.DataFrame(rows, columns=INVENTORY_COLUMNS, dtype=object).astype({"overdue": bool})

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


def page_context(title: str, table: pd.DataFrame, *, charts: list[str] | None = None, intro: str = "",
                 back: tuple[str, str] | None = None) -> dict[str, Any]:
    """What ``table.html.j2`` renders: the rows shown, and, for a diff (a table with a ``diff``
    column), its unchanged rows apart in ``hidden_rows``, shown collapsed (a ``<details>``) under
    ``hidden_label``; ``back`` is the link back, ``(href, label)``.

    >>> frame = pd.DataFrame({"metric": ["auc", "psi"], "diff": ["changed", "same"]})
    >>> context = page_context("t", frame, back=("../index.html", "Back to the pack"))
    >>> [r["metric"] for r in context["rows"]], [r["metric"] for r in context["hidden_rows"]], context["hidden_label"]
    (['auc'], ['psi'], '1 unchanged finding')
    """
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    unchanged = [r for r in records if r.get("diff") == "same"] if "diff" in table else []
    shown = [r for r in records if r.get("diff") != "same"] if "diff" in table else records
    count = len(unchanged)
    return {"title": title, "intro": intro, "columns": list(table.columns), "rows": shown, "charts": charts or [],
            "hidden_rows": unchanged,
            "hidden_label": f"{count} unchanged finding{'s' * (count != 1)}" if count else "",
            "back_href": back[0] if back else None, "back_label": back[1] if back else None}


def render_page(title: str, table: pd.DataFrame, *, charts: list[str] | None = None, intro: str = "",
                back: tuple[str, str] | None = None) -> str:
    """An offline HTML page (autoescaped) with a table and optional charts (:func:`page_context`):
    a diff's unchanged rows collapsed, and a link back (``("../index.html", "Back to the pack")``
    from a pack's ``html/diff.html``)."""
    from validation.reporting.render import jinja_environment

    return str(jinja_environment().get_template("table.html.j2").render(
        **page_context(title, table, charts=charts, intro=intro, back=back)))
