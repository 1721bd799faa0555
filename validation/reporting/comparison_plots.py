"""Charts of the challenger check: the ROC curves and the calibration curves of a model and its
comparators, each set on one chart, drawn from aggregates only (ROC points thinned, calibration per
quantile bin of at least five rows), so a figure leaks no applicant.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

_COLOURS = ("#dd8452", "#4c72b0", "#55a868", "#8172b3", "#937860")
"""The new model first (the current sample's colour of the other charts), then its comparators."""


def _figure(size: tuple[float, float]) -> tuple[Figure, Any]:
    figure = Figure(figsize=size, dpi=80, layout="constrained")
    return figure, figure.add_subplot()


def roc_curves(y: np.ndarray, scores: Mapping[str, np.ndarray], *, max_points: int = 200) -> Figure:
    """The ROC curve of each score (label -> scores of the same rows) on one chart, each thinned to
    ``max_points`` points, with the chance diagonal."""
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    figure, ax = _figure((4.8, 4.4))
    for (label, score), colour in zip(scores.items(), _COLOURS):
        fpr, tpr, _ = sk_roc(y, score)
        keep = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).astype(int))
        ax.plot(fpr[keep], tpr[keep], color=colour, label=f"{label} (AUC {roc_auc_score(y, score):.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC on the same applicants")
    ax.legend(fontsize=8)
    return figure


def calibration_curves(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """Observed default rate against mean PD per quantile bin of each score
    (:func:`validation.metrics.comparison.calibration_curve`), on one chart with the diagonal of
    perfect calibration."""
    figure, ax = _figure((4.8, 4.4))
    top = 0.0
    for (label, table), colour in zip(curves.items(), _COLOURS):
        ax.plot(table["mean_pd"], table["odr"], marker="o", color=colour, label=label)
        top = max(top, float(table["mean_pd"].max()), float(table["odr"].max()))
    top = min(1.0, top * 1.05) if top > 0 else 1.0
    ax.plot([0, top], [0, top], color="#999999", linestyle=":")
    ax.set_xlabel("mean PD of the bin")
    ax.set_ylabel("observed default rate")
    ax.set_title("Calibration on the same applicants")
    ax.legend(fontsize=8)
    return figure
