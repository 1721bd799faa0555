"""Data loading: required columns, types, target and score ranges, identifiers dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_sample
from validation.inputs.samples import load_samples
from validation.errors import DataError
from validation.inputs.spec import load_spec


def _load(path: Path):  # type: ignore[no-untyped-def]
    return load_samples(load_spec(path).versions[0])


def test_identifiers_are_dropped(write_spec: Callable[..., Path]) -> None:
    samples = _load(write_spec())
    assert "customer_id" not in samples.reference.columns
    assert "customer_id" not in samples.current.columns
    assert samples.features == ["income", "tenure", "region"]
    assert samples.categorical == ["region"]


def test_default_features_exclude_roles_and_protected(write_spec: Callable[..., Path]) -> None:
    samples = _load(write_spec({"data": {"features": None, "time": "month"}}))
    assert samples.features == ["income", "tenure", "region"]


def _broken(change: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    return change(synthetic_sample(300, seed=2))


CASES = [
    ("missing column", lambda f: f.drop(columns=["income"]), "income", "named in data.features but missing"),
    ("target not binary", lambda f: f.assign(default=f["default"] * 2), "default", "target must be 0 or 1"),
    ("target missing values", lambda f: f.assign(default=f["default"].where(f.index > 0)), "default",
     "missing values"),
    ("score above one", lambda f: f.assign(pd=f["pd"] + 1), "pd", "score must lie in [0, 1]"),
    ("score missing", lambda f: f.assign(pd=f["pd"].where(f.index > 5)), "pd", "score has 6 missing values"),
    ("score as text", lambda f: f.assign(pd=f["pd"].astype(str)), "pd", "must be a probability"),
    ("type mismatch", lambda f: f.assign(income=f["income"].astype(str)), "income", "text here but numeric"),
    ("infinite values", lambda f: f.assign(income=np.where(f.index < 3, np.inf, f["income"])), "income",
     "has 3 infinite values"),
]


@pytest.mark.parametrize(("case", "change", "column", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_current_data(write_spec: Callable[..., Path], case: str, change: Callable[[pd.DataFrame], pd.DataFrame],
                          column: str, fragment: str) -> None:
    path = write_spec(current=_broken(change))
    with pytest.raises(DataError) as caught:
        _load(path)
    assert caught.value.column == column
    assert fragment in caught.value.problem
    assert caught.value.role == "data.current"
    assert caught.value.path.endswith("cur.parquet")


def test_empty_sample(write_spec: Callable[..., Path]) -> None:
    path = write_spec(current=synthetic_sample(10, seed=2).iloc[:0])
    with pytest.raises(DataError, match="has no rows"):
        _load(path)


def test_missing_file(write_spec: Callable[..., Path]) -> None:
    path = write_spec({"data": {"current": "data/absent.parquet"}})
    with pytest.raises(DataError, match="file not found"):
        _load(path)


def test_csv_with_duplicate_columns(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    frame = synthetic_sample(50, seed=3)
    csv = tmp_path / "data" / "dup.csv"
    csv.parent.mkdir(exist_ok=True)
    csv.write_text(frame.to_csv(index=False).replace("tenure", "income", 1))
    path = write_spec({"data": {"current": "data/dup.csv"}})
    with pytest.raises(DataError, match="appears more than once") as caught:
        _load(path)
    assert caught.value.column == "income"


def test_csv_and_parquet_agree(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    current = synthetic_sample(300, seed=2, shift=0.3)
    (tmp_path / "data").mkdir(exist_ok=True)
    current.to_csv(tmp_path / "data" / "cur.csv", index=False)
    from_csv = _load(write_spec({"data": {"current": "data/cur.csv"}}, current=current))
    np.testing.assert_allclose(from_csv.current["pd"], current["pd"])


def _var_spec(write_spec: Callable[..., Path], current: pd.DataFrame) -> Path:
    reference = pd.DataFrame({"pnl": [1.0, -2.0, 0.5], "var": [3.0, 3.0, 3.0]})
    return write_spec({"model": {"type": "var"}, "data": {"target": None, "score": None, "features": [],
                                                           "protected": [], "ids": [], "pnl": "pnl", "var": "var",
                                                           "var_level": 0.99},
                       "decision": None, "checks": ["backtesting"]}, reference=reference, current=current)


@pytest.mark.parametrize(("current", "fragment"), [
    (pd.DataFrame({"pnl": [1.0, -2.0], "var": [3.0, -3.0]}), "VaR must be a positive loss amount"),
    (pd.DataFrame({"pnl": [1.0, -2.0], "var": [3.0, None]}), "missing values"),
    (pd.DataFrame({"pnl": [1.0, -2.0]}), "named in data.var but missing"),
])
def test_bad_var_data(write_spec: Callable[..., Path], current: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        _load(_var_spec(write_spec, current))


@pytest.mark.parametrize(("column", "values", "fragment"), [
    ("ead", [-1.0] + [100.0] * 299, r"must be at least 0; 1 values are not \(e.g. -1\)"),
    ("ead", [None] + [100.0] * 299, "has 1 missing values"),
    ("lgd", [45.0] + [0.45] * 299, r"must be \[0, 1\]; 1 values are not \(e.g. 45\): give LGD as a fraction"),
])
def test_bad_exposure_and_lgd(write_spec: Callable[..., Path], column: str, values: list[float | None],
                              fragment: str) -> None:
    current = synthetic_sample(300, seed=2).assign(ead=100.0, lgd=0.45)
    current[column] = values
    reference = synthetic_sample(400, seed=1).assign(ead=100.0, lgd=0.45)
    path = write_spec({"data": {"exposure": "ead", "lgd": "lgd"}}, reference=reference, current=current)
    with pytest.raises(DataError, match=fragment) as caught:
        _load(path)
    assert caught.value.column == column
