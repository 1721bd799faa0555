"""Plots for the check notebooks, drawn from aggregates only (bin shares, group rates, grades).

Every function returns a matplotlib ``Figure`` sized to read in a pack (about 7 x 3.5 inches) and
never plots individual applicants, so a figure is small and leaks no rows.

Categories are drawn in their order when they have one (numeric bands ``<25, 25-34, 50+`` by
:func:`validation.reporting.formatting.band_sort_key`), and a line joins points only along an
ordered axis (periods, grades, bands): unordered categories (segments) are points or bars.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from validation.reporting.formatting import in_band_order

_SIZE = (7.0, 3.4)
_REFERENCE = "#4c72b0"
_CURRENT = "#dd8452"
_AMBER = "#c98a00"
_RED = "#c0392b"
_DARK_SHARE = 0.6
"""Heat-map cells above this share of the colour scale are dark: their numbers are written in white."""


def _figure(size: tuple[float, float] = _SIZE) -> tuple[Figure, Any]:
    figure = Figure(figsize=size, dpi=80, layout="constrained")
    return figure, figure.add_subplot()


def bin_shares(table: pd.DataFrame, title: str) -> Figure:
    """Reference vs current share per bin (a :meth:`ColumnDrift.bin_table`); categories that are
    numeric bands in their order."""
    table = in_band_order(table)
    figure, ax = _figure()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["reference_share"], width=0.4, label="reference", color=_REFERENCE)
    ax.bar(x + 0.2, table["current_share"], width=0.4, label="current", color=_CURRENT)
    ax.set_xticks(x, [str(i) for i in table.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share")
    ax.set_title(title)
    ax.legend()
    return figure


def ranked_bars(values: pd.Series, title: str, *, amber: float | None = None,
                red: float | None = None, xlabel: str = "") -> Figure:
    """Horizontal bars, largest on top, with optional amber and red reference lines."""
    ordered = values.sort_values()
    figure, ax = _figure((7.0, max(2.0, 0.32 * len(ordered) + 0.9)))
    ax.barh([str(i) for i in ordered.index], ordered.to_numpy(), color=_REFERENCE)
    for bound, colour, label in ((amber, _AMBER, "amber"), (red, _RED, "red")):
        if bound is not None:
            ax.axvline(bound, color=colour, linestyle="--", label=f"{label} {bound:g}")
    if amber is not None or red is not None:
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return figure


def approval_rates(table: pd.DataFrame, attribute: str, *, ratio_bound: float | None = None) -> Figure:
    """Approval rate per group, with the line below which the disparate impact ratio is flagged:
    ``ratio_bound`` (the policy's amber bound) times the highest judged rate."""
    figure, ax = _figure()
    table = in_band_order(table)
    colours = [_REFERENCE if judged else "#bbbbbb" for judged in table["judged"]]
    ax.bar([str(i) for i in table.index], table["approval_rate"], color=colours)
    judged = table.loc[table["judged"], "approval_rate"]
    if len(judged) and ratio_bound is not None:
        ax.axhline(ratio_bound * judged.max(), color=_AMBER, linestyle="--",
                   label=f"{ratio_bound:g} x the highest judged rate (policy bound)")
        ax.legend(fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("approval rate")
    ax.set_title(f"Approval rate by {attribute} (grey: too few applicants to judge)")
    return figure


def roc_curve(y: np.ndarray, score: np.ndarray, *, weights: np.ndarray | None = None,
              reference: tuple[Any, ...] | None = None, max_points: int = 200) -> Figure:
    """ROC curve of the current sample (and the reference: outcomes, scores and optionally
    weights), thinned to ``max_points`` points; ``weights`` count each row that many times (the
    cells of a sample read in batches, :func:`validation.metrics.outcome_cells.roc_points`)."""
    samples: list[tuple[Any, ...]] = [("current", y, score, _CURRENT, weights)]
    if reference is not None:
        samples.insert(0, ("reference", reference[0], reference[1], _REFERENCE,
                           reference[2] if len(reference) > 2 else None))
    return roc_chart(samples, title="ROC", size=(4.6, 4.2), max_points=max_points)


def roc_chart(curves: list[tuple[Any, ...]], *, title: str, size: tuple[float, float] = (4.6, 4.2),
              max_points: int = 200) -> Figure:
    """ROC curves, each ``(label, outcomes, scores, colour[, weights])`` thinned to ``max_points``
    points, with the chance diagonal: only aggregates of the rows are drawn."""
    from sklearn.metrics import roc_curve as sk_roc

    figure, ax = _figure(size)
    for label, yy, ss, colour, *weights in curves:
        fpr, tpr, _ = sk_roc(yy, ss, sample_weight=weights[0] if weights else None)
        keep = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).astype(int))
        ax.plot(fpr[keep], tpr[keep], color=colour, label=label)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return figure


def calibration(table: pd.DataFrame) -> Figure:
    """Observed default rate vs mean PD per grade, with Jeffreys 95% intervals
    (``Beta(D + 1/2, N - D + 1/2)`` quantiles)."""
    figure, ax = _figure()
    d, n = table["defaults"].to_numpy(), table["n"].to_numpy()
    # Jeffreys interval, lower bound 0 when D = 0 and upper bound 1 when D = N
    # (Brown, Cai & DasGupta 2001, section 4.1.2)
    low = np.where(d == 0, 0.0, stats.beta.ppf(0.025, d + 0.5, n - d + 0.5))
    high = np.where(d == n, 1.0, stats.beta.ppf(0.975, d + 0.5, n - d + 0.5))
    odr = table["odr"].to_numpy()
    low, high = np.minimum(low, odr), np.maximum(high, odr)
    x = np.arange(len(table))
    ax.errorbar(x, odr, yerr=[odr - low, high - odr], fmt="o",
                color=_CURRENT, label="observed default rate (Jeffreys 95%)")
    ax.plot(x, table["pd"], marker="_", markersize=18, linestyle="none", color=_REFERENCE, label="mean PD")
    ax.set_xticks(x, [f"{g}" for g in table.index])
    ax.set_xlabel("grade")
    ax.set_ylabel("rate")
    ax.set_title("Calibration per grade")
    ax.legend(fontsize=8)
    return figure


def heatmap(frame: pd.DataFrame, title: str, *, amber: float | None = None, red: float | None = None) -> Figure:
    """A rows x columns heat map with each cell's value written in it (PSI by feature and period).

    Colours run from white (0) to red at ``red`` (or the largest value); ``amber`` is marked in the
    colour bar."""
    figure, ax = _figure((7.0, max(2.2, 0.35 * len(frame) + 1.2)))
    top = red if red is not None else float(np.nanmax(frame.to_numpy())) or 1.0
    image = ax.imshow(frame.to_numpy(dtype=float), cmap="Reds", vmin=0, vmax=top, aspect="auto")
    ax.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(frame.shape[0]), [str(i) for i in frame.index], fontsize=8)
    for (row, column), value in np.ndenumerate(frame.to_numpy(dtype=float)):
        ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value > _DARK_SHARE * top else "black")
    bar = figure.colorbar(image, ax=ax)
    if amber is not None:
        bar.ax.axhline(amber, color=_AMBER, linewidth=2)
    ax.set_title(title)
    return figure


def shap_distribution(values: pd.DataFrame, order: list[str], units: str) -> Figure:
    """Distribution of SHAP values per feature as box plots (5th-95th percentile whiskers):
    the aggregate counterpart of a beeswarm, with no applicant drawn as a point."""
    figure, ax = _figure((7.0, max(2.2, 0.35 * len(order) + 1.0)))
    data = [values[f].to_numpy() for f in reversed(order)]
    ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=False, tick_labels=list(reversed(order)))
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(f"SHAP value ({units})")
    ax.set_title("Contributions per feature (boxes: quartiles; whiskers: 5th-95th percentiles)")
    return figure


def binned_dependence(feature_values: pd.Series, shap_values: pd.Series, units: str, *, bins: int = 10) -> Figure:
    """SHAP dependence as aggregates: mean SHAP value (and 10th-90th percentiles) per decile of the
    feature (per value for categorical features)."""
    figure, ax = _figure()
    frame = pd.DataFrame({"x": feature_values.to_numpy(), "phi": shap_values.to_numpy()})
    numeric = pd.api.types.is_numeric_dtype(frame["x"]) and frame["x"].nunique() > bins
    keys = pd.qcut(frame["x"], bins, duplicates="drop") if numeric else frame["x"].astype(str)
    grouped = frame.groupby(keys, observed=True, sort=True)["phi"]
    mean, low, high = grouped.mean(), grouped.quantile(0.1), grouped.quantile(0.9)
    x = np.arange(len(mean))
    ax.fill_between(x, low.to_numpy(), high.to_numpy(), color=_REFERENCE, alpha=0.2, label="10th-90th percentile")
    ax.plot(x, mean.to_numpy(), marker="o", color=_REFERENCE, label="mean")
    # deciles by their inner bounds only: the outermost values are single applicants'
    labels = [str(i) for i in mean.index]
    if numeric:
        lefts = [i.left for i in mean.index]
        labels = [f"<{mean.index[0].right:.4g}"] + [f">{left:.4g}" for left in lefts[1:]]
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(f"{feature_values.name} (deciles)" if numeric else str(feature_values.name))
    ax.set_ylabel(f"SHAP ({units})")
    ax.set_title(f"Dependence: {feature_values.name}")
    ax.legend(fontsize=8)
    return figure


def ice(grid: np.ndarray, curves: np.ndarray, feature: str, direction: str, broken: np.ndarray,
        bound: float | None = None) -> Figure:
    """Partial dependence (mean of the ICE curves) with the 10th-90th percentile band of the curves,
    and the partial dependence of the curves that reverse against the declared direction by at
    least ``bound`` of their own range (``broken``) apart. Aggregates only: no applicant's own
    curve is drawn."""
    figure, ax = _figure()
    low, high = np.percentile(curves, [10, 90], axis=0) if len(curves) else (grid * np.nan, grid * np.nan)
    ax.fill_between(grid, low, high, color=_REFERENCE, alpha=0.2, label="10th-90th percentile of the curves")
    ax.plot(grid, curves.mean(axis=0), color=_REFERENCE, linewidth=2.5, label="partial dependence (all curves)")
    if broken.any():
        ax.plot(grid, curves[broken].mean(axis=0), color=_RED, linewidth=1.5, linestyle="--",
                label=f"mean of the {int(broken.sum())} curves against the declared direction")
    ax.set_xlabel(feature)
    ax.set_ylabel("PD")
    by = f" by {bound:.0%} of their range or more" if bound else ""
    ax.set_title(f"{feature}: declared {direction}; {broken.mean():.0%} of curves reverse{by}")
    ax.legend(fontsize=8)
    return figure


def cap(population: np.ndarray, captured: np.ndarray, default_rate: float) -> Figure:
    """Cumulative accuracy profile with the perfect and random models."""
    figure, ax = _figure((4.6, 4.2))
    ax.plot(population, captured, color=_CURRENT, label="model")
    ax.plot([0, default_rate, 1], [0, 1, 1], color="#999999", linestyle="--", label="perfect")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", label="random")
    ax.set_xlabel("share of applicants (riskiest first)")
    ax.set_ylabel("share of defaults captured")
    ax.set_title("CAP")
    ax.legend(fontsize=8)
    return figure


def trend(table: pd.DataFrame, column: str) -> Figure:
    """Observed default rate and mean PD (left) and AUC (right) per period or segment.

    Periods, grades and numeric bands are joined by lines (bands sorted in their order); segments,
    which have no order, are drawn as points only."""
    from validation.reporting.formatting import is_ordered_labels

    table = in_band_order(table)
    joined = "-" if is_ordered_labels(table.index) else "none"
    figure, ax = _figure()
    x = np.arange(len(table))
    ax.plot(x, table["odr"], marker="o", linestyle=joined, color=_CURRENT, label="observed default rate")
    ax.plot(x, table["pd"], marker="s", linestyle=joined, color=_REFERENCE, label="mean PD")
    ax.set_xticks(x, [str(i) for i in table.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("rate")
    right = ax.twinx()
    right.plot(x, table["auc"], marker="^", color="#55a868", linestyle="--" if joined == "-" else "none", label="AUC")
    right.set_ylabel("AUC")
    right.set_ylim(0.4, 1.0)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    ax.set_title(f"Calibration and discrimination by {column}")
    return figure


def pnl_against_var(days: np.ndarray, pnl: np.ndarray, var: np.ndarray, hits: np.ndarray, *,
                    window: tuple[Any, Any] | None = None, window_label: str = "") -> Figure:
    """Daily P&L against -VaR, exceptions marked (aggregate desk figures, not customer data).

    ``window`` is ``(first day, last day)``, two values of ``days`` (compared as text): that
    stretch is shaded, its bars whole, with ``window_label`` in the legend ("stress window" when
    empty). A day not among ``days`` is refused.
    """
    figure, ax = _figure((7.0, 3.4))
    x = np.arange(len(pnl))
    ax.bar(x, pnl, color="#8da0cb", width=1.0, label="daily P&L")
    ax.plot(x, -np.asarray(var), color=_RED, linewidth=1.2, label="-VaR")
    marked = np.flatnonzero(hits)
    ax.scatter(marked, np.asarray(pnl)[marked], color="black", marker="x", s=18, zorder=3, label="exception")
    if window is not None:
        first, last = (_day_index(days, day) for day in window)
        ax.axvspan(min(first, last) - 0.5, max(first, last) + 0.5, color=_AMBER, alpha=0.18, zorder=0,
                   label=window_label or "stress window")
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], [str(d) for d in np.asarray(days)[::step]], rotation=30, ha="right", fontsize=8)
    ax.set_title("P&L against VaR")
    ax.legend(fontsize=8)
    return figure


def _day_index(days: np.ndarray, day: Any) -> int:
    labels = [str(d) for d in np.asarray(days)]
    try:
        return labels.index(str(day))
    except ValueError:
        raise ValueError(f"window day {str(day)!r} is not among the days of the P&L "
                         f"({labels[0] if labels else 'none'} to {labels[-1] if labels else 'none'})") from None


def rolling_exception_count(counts: np.ndarray, days: np.ndarray, *, yellow: int, red: int) -> Figure:
    """Exceptions in the trailing 250 days with the counts at which the Basel yellow and red zones
    begin (:func:`validation.metrics.backtesting.basel_zone_starts`)."""
    figure, ax = _figure()
    x = np.arange(len(counts))
    ax.plot(x, counts, color=_REFERENCE)
    ax.axhline(yellow, color=_AMBER, linestyle="--", label=f"yellow zone ({yellow})")
    ax.axhline(red, color=_RED, linestyle="--", label=f"red zone ({red})")
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], [str(d) for d in np.asarray(days)[::step]], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("exceptions")
    ax.set_title("Exceptions in the trailing 250 days")
    ax.legend(fontsize=8)
    return figure


_MODEL_COLOURS = ("#dd8452", "#4c72b0", "#55a868", "#8172b3", "#937860")
"""The new model first (the current sample's colour of the other charts), then its comparators."""


def roc_curves(y: np.ndarray, scores: Mapping[str, np.ndarray], *, max_points: int = 200) -> Figure:
    """The ROC curve of each score (label -> scores of the same rows) on one chart, each thinned to
    ``max_points`` points, with the chance diagonal (:func:`roc_chart`): the challenger check's chart."""
    from sklearn.metrics import roc_auc_score

    curves = [(f"{label} (AUC {roc_auc_score(y, score):.3f})", y, score, colour)
              for (label, score), colour in zip(scores.items(), _MODEL_COLOURS)]
    return roc_chart(curves, title="ROC on the same applicants", size=(4.8, 4.4), max_points=max_points)


def calibration_curves(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """Observed default rate against mean PD per quantile bin of each score
    (:func:`validation.metrics.comparison.calibration_curve`), on one chart with the diagonal of
    perfect calibration."""
    figure, ax = _figure((4.8, 4.4))
    top = 0.0
    for (label, table), colour in zip(curves.items(), _MODEL_COLOURS):
        ax.plot(table["mean_pd"], table["odr"], marker="o", color=colour, label=label)
        top = max(top, float(table["mean_pd"].max()), float(table["odr"].max()))
    top = min(1.0, top * 1.05) if top > 0 else 1.0
    ax.plot([0, top], [0, top], color="#999999", linestyle=":")
    ax.set_xlabel("mean PD of the bin")
    ax.set_ylabel("observed default rate")
    ax.set_title("Calibration on the same applicants")
    ax.legend(fontsize=8)
    return figure
