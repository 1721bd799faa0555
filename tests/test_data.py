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


# Duplicate identifiers (issue 17): every test assumes one row per applicant, so rows whose data.ids
# repeat another row's are removed when the data are read. The expected rows come from pandas'
# drop_duplicates on the same data, and from a plain loop over the rows.

def _with_repeats(n: int, *, seed: int, draws: int) -> pd.DataFrame:
    """``draws`` rows drawn with replacement from a sample of ``n`` customers (as the demo once did),
    each row a month of its own and an ``income`` of its own, so every row can be told apart."""
    rng = np.random.default_rng(seed)
    base = synthetic_sample(n, seed=seed)
    rows = base.iloc[rng.integers(0, n, size=draws)].reset_index(drop=True)
    rows["month"] = rng.choice(["2025-01", "2025-02", "2025-03", "2025-04"], size=draws)
    rows["income"] = rng.permutation(np.arange(draws, dtype=float) + 1.0)  # a row's own mark
    return rows


def _latest_by_loop(frame: pd.DataFrame, ids: list[str], time: str | None) -> pd.DataFrame:
    """Brute force: for each identifier, the row of the greatest time (ties: the last in the file)."""
    best: dict[tuple[object, ...], int] = {}
    for position in range(len(frame)):
        key = tuple(frame[c].iloc[position] for c in ids)
        previous = best.get(key)
        if previous is None or time is None or frame[time].iloc[position] >= frame[time].iloc[previous]:
            best[key] = position
    return frame.iloc[sorted(best.values())]


@pytest.mark.parametrize("time", ["month", None], ids=["latest by data.time", "last in the file"])
def test_duplicate_ids_are_removed_before_any_check(write_spec: Callable[..., Path], time: str | None) -> None:
    current = _with_repeats(300, seed=2, draws=500)
    reference = synthetic_sample(400, seed=1)
    samples = _load(write_spec({"data": {"time": time}}, reference=reference, current=current))
    by_pandas = (current.sort_values("month", kind="stable") if time else current).drop_duplicates(
        "customer_id", keep="last").sort_index()
    by_loop = _latest_by_loop(current, ["customer_id"], time)
    pd.testing.assert_frame_equal(by_pandas, by_loop)
    assert samples.duplicates == {"reference": 0, "current": 500 - current["customer_id"].nunique()}
    assert samples.duplicates["current"] == 500 - len(by_pandas) > 100
    kept = samples.current.reset_index(drop=True)
    assert "customer_id" not in kept.columns
    pd.testing.assert_frame_equal(kept, by_pandas[list(kept.columns)].reset_index(drop=True),
                                  check_dtype=False)  # the target is read as int64


def test_duplicates_of_several_id_columns_and_both_samples(write_spec: Callable[..., Path]) -> None:
    reference = _with_repeats(200, seed=1, draws=400).assign(account=lambda f: f.index % 2)
    current = _with_repeats(300, seed=2, draws=300).assign(account=lambda f: f.index % 3)
    samples = _load(write_spec({"data": {"ids": ["customer_id", "account"], "time": "month"}},
                               reference=reference, current=current))
    expected = {role: len(frame) - len(frame.sort_values("month", kind="stable").drop_duplicates(
        ["customer_id", "account"], keep="last")) for role, frame in (("reference", reference), ("current", current))}
    assert samples.duplicates == expected and min(expected.values()) > 0
    assert len(samples.reference) == 400 - expected["reference"]
    # the reference has a month column here, so its latest row is kept too
    np.testing.assert_array_equal(samples.reference["income"], _latest_by_loop(
        reference, ["customer_id", "account"], "month")["income"])


def test_no_duplicates_no_change(write_spec: Callable[..., Path]) -> None:
    plain = _load(write_spec())
    assert plain.duplicates == {"reference": 0, "current": 0}
    assert plain.duplicates_note() == ""
    assert len(plain.reference) == 400 and len(plain.current) == 300
    without_ids = _load(write_spec({"data": {"ids": []}}, name="no_ids.yaml"))
    assert without_ids.duplicates == {} and without_ids.duplicates_note() == ""


def test_duplicates_note(write_spec: Callable[..., Path]) -> None:
    current = _with_repeats(300, seed=2, draws=500)
    samples = _load(write_spec(current=current))
    removed = 500 - current["customer_id"].nunique()
    assert samples.duplicates_note() == (
        f"current: {removed:,} rows removed whose identifiers (data.ids) repeat another row's, one row kept "
        "per identifier (its latest by data.time, else its last in the file)")


def test_deduplication_comes_before_sampling(write_spec: Callable[..., Path]) -> None:
    """data.max_rows samples the deduplicated rows: the counts removed are the file's own, and the
    sample holds max_rows distinct customers."""
    current = _with_repeats(300, seed=2, draws=500)
    unique = current.drop_duplicates("customer_id", keep="last")
    samples = _load(write_spec({"data": {"max_rows": 150}}, current=current))
    assert samples.duplicates["current"] == 500 - len(unique)
    assert samples.sampled == {"data.current": (150, len(unique)), "data.reference": (150, 400)}
    assert len(samples.current) == 150
    # every row kept is a customer's last row (incomes mark rows): none of the removed rows came back
    assert set(samples.current["income"]) <= set(unique["income"])


def test_rows_missing_an_identifier_are_kept() -> None:
    from validation.inputs.samples import deduplicate

    frame = pd.DataFrame({"id": [1.0, np.nan, 1.0, np.nan, 2.0], "x": [1, 2, 3, 4, 5]})
    kept, removed = deduplicate(frame, ["id"])
    known = frame.dropna(subset=["id"]).drop_duplicates("id", keep="last")
    expected = pd.concat([known, frame[frame["id"].isna()]]).sort_index()
    pd.testing.assert_frame_equal(kept, expected)
    assert removed == 1


def test_missing_times_count_as_earliest() -> None:
    from validation.inputs.samples import deduplicate

    frame = pd.DataFrame({"id": [1, 1, 1], "month": ["2025-02", None, "2025-01"], "x": [1, 2, 3]})
    assert deduplicate(frame, ["id"], "month")[0]["x"].tolist() == [1]


def test_unorderable_times_are_a_data_error(write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSV read in chunks can give a column text beside numbers; the latest row is then unknowable."""
    from validation.inputs import samples as module

    path = write_spec({"data": {"time": "month"}})
    real = module.read_table

    def mixed(file: str, role: str, columns: list[str] | None = None) -> pd.DataFrame:
        frame = real(file, role, columns).copy()
        if role == "data.current":
            frame["month"] = frame["month"].astype(object)
            frame.loc[0, "month"] = 3
            frame.loc[1, "customer_id"] = frame.loc[0, "customer_id"]
        return frame

    monkeypatch.setattr(module, "read_table", mixed)
    with pytest.raises(DataError, match="cannot be ordered") as caught:
        _load(path)
    assert (caught.value.column, caught.value.role) == ("month", "data.current")
