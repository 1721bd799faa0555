"""Shared fixtures: small synthetic samples and specs written to a temporary folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import yaml


def synthetic_sample(n: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A scored portfolio: numeric and categorical features, a protected attribute, a PD score
    and outcomes drawn from it (so the score is calibrated by construction)."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10 + shift, 0.5, n)
    tenure = rng.integers(0, 4, n)
    region = rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["female", "male"], size=n)
    logit = -1.5 - 0.8 * (np.log(income) - 10) + 0.3 * tenure
    pd_score = 1 / (1 + np.exp(-logit))
    default = (rng.random(n) < pd_score).astype(int)
    month = np.array(["2025-01", "2025-02", "2025-03"])[np.arange(n) % 3]
    return pd.DataFrame({"customer_id": np.arange(n) + seed * 100_000, "income": income,
                         "tenure": tenure, "region": region, "sex": sex, "pd": pd_score,
                         "default": default, "month": month})


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write a scores-only spec (and its data) into ``tmp_path``; keyword overrides are merged in."""

    def write(document: dict[str, Any] | None = None, *, name: str = "spec.yaml",
              reference: pd.DataFrame | None = None, current: pd.DataFrame | None = None,
              raw: str | None = None) -> Path:
        data_dir = tmp_path / "data"
        data_dir.mkdir(exist_ok=True)
        (reference if reference is not None else synthetic_sample(400, seed=1)).to_parquet(data_dir / "ref.parquet")
        (current if current is not None else synthetic_sample(300, seed=2, shift=0.3)).to_parquet(data_dir / "cur.parquet")
        path = tmp_path / name
        if raw is not None:
            path.write_text(raw)
            return path
        spec: dict[str, Any] = {
            "model": {"name": "toy_pd", "version": "1", "owner": "Tests <QA>", "purpose": "a <b>test</b> model"},
            "data": {"reference": "data/ref.parquet", "current": "data/cur.parquet", "target": "default",
                     "score": "pd", "features": ["income", "tenure", "region"], "protected": ["sex"],
                     "ids": ["customer_id"]},
            "decision": {"threshold": 0.2, "favourable": "below"},
            "checks": ["drift", "fairness", "backtesting"],
        }
        for key, value in (document or {}).items():
            if isinstance(value, dict) and isinstance(spec.get(key), dict):
                spec[key] = {**spec[key], **value}
            else:
                spec[key] = value
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        return path

    return write
