"""A seeded synthetic credit portfolio for benchmarks: N rows, numeric and categorical features,
a protected attribute, a calibrated PD score, outcomes drawn from it, and controllable drift."""

from __future__ import annotations

import numpy as np
import pandas as pd


def portfolio(rows: int, *, numeric: int = 20, categorical: int = 4, seed: int = 0,
              drift: float = 0.0, months: int = 6) -> pd.DataFrame:
    """A portfolio of ``rows`` applicants.

    ``drift`` shifts every numeric feature's mean by ``drift`` standard deviations times its index
    fraction (feature 0 unmoved, the last by ``drift``) and tilts the categorical frequencies.
    """
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {"customer_id": np.arange(rows, dtype=np.int64) + seed * 10**9}
    logit = np.full(rows, -2.0)
    for k in range(numeric):
        shift = drift * k / max(numeric - 1, 1)
        values = rng.normal(shift, 1.0, rows)
        data[f"num_{k:02d}"] = values
        logit += values * (0.3 / (1 + k))
    for k in range(categorical):
        levels = np.array([f"c{k}_{j}" for j in range(5 + 3 * k)])
        weights = np.linspace(1.0, 1.0 + drift * 2, len(levels))
        data[f"cat_{k}"] = rng.choice(levels, size=rows, p=weights / weights.sum())
        logit += (data[f"cat_{k}"] == levels[0]) * 0.2
    data["sex"] = rng.choice(np.array(["female", "male"]), size=rows)
    data["month"] = np.array([f"2025-{m:02d}" for m in range(1, months + 1)])[rng.integers(0, months, rows)]
    score = 1 / (1 + np.exp(-logit))
    data["pd"] = score
    data["default"] = (rng.random(rows) < score).astype(np.int64)
    # a simpler model's PD (the first feature alone), drawn after everything else so no other
    # column changes: the challenger check's data.benchmark_score
    data["benchmark_pd"] = 1 / (1 + np.exp(2.0 - 0.3 * data["num_00"]))
    return pd.DataFrame(data)
