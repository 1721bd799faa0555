"""Reference profiles: built once, stored as JSON, reused with the same results."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_sample
from validation.errors import DataError
from validation.metrics import drift
from validation.inputs.profile import build_profile, load_profile, save_profile


@pytest.fixture(scope="module")
def samples() -> tuple[pd.DataFrame, pd.DataFrame]:
    reference = synthetic_sample(20_000, seed=11)
    reference.loc[::50, "income"] = np.nan  # missing values in the reference
    current = synthetic_sample(8_000, seed=12, shift=0.2)
    current.loc[:5, "region"] = "west"  # a current-only category
    return reference, current


def test_profile_results_match_the_full_reference(samples: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    reference, current = samples
    columns = ["pd", "income", "tenure", "region"]
    save_profile(build_profile(reference, columns), tmp_path / "profile.json")
    profile = load_profile(tmp_path / "profile.json")
    direct, _ = drift.drift_table(reference, current, columns)
    stored, _ = drift.drift_table(reference.iloc[:0], current, columns, profile=profile)
    for column in columns:
        # bins and counts are those of the full sample: PSI, chi-square and JS are exact
        for metric in ("psi", "chi2_pvalue", "js_distance", "psi_critical_95"):
            assert stored.loc[column, metric] == pytest.approx(direct.loc[column, metric], rel=1e-12), (column, metric)
        if direct.loc[column, "kind"] != "categorical":
            # KS from 1,001 reference quantiles: the reference CDF is known to within 1/1000
            assert abs(stored.loc[column, "ks_stat"] - direct.loc[column, "ks_stat"]) <= 0.002
            assert stored.loc[column, "wasserstein_norm"] == pytest.approx(direct.loc[column, "wasserstein_norm"], abs=0.01)
            assert "approximate" in stored.loc[column, "note"]


def test_profile_holds_no_rows(samples: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    reference, _ = samples
    save_profile(build_profile(reference, ["income"]), tmp_path / "p.json")
    document = json.loads((tmp_path / "p.json").read_text())
    assert len(document["columns"]["income"]["quantiles"]) == 1001  # not 20,000 values
    assert document["columns"]["income"]["n"] == 20_000


def test_missing_or_broken_profile(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="reference profile not found"):
        load_profile(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text('{"schema_version": 1}')
    with pytest.raises(DataError, match="not a valid reference profile"):
        load_profile(tmp_path / "bad.json")


def test_profile_cli_and_spec_key(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec()
    result = subprocess.run([sys.executable, "-m", "validation", "profile", str(spec), "--out",
                             str(tmp_path / "ref-profile.json")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    profiled = write_spec({"data": {"reference_profile": "ref-profile.json"}}, name="profiled.yaml")
    from validation.inputs.samples import load_samples
    from validation.inputs.spec import load_spec

    entry = load_spec(profiled).versions[0]
    assert entry.data.reference_profile == str(tmp_path / "ref-profile.json")
    load_samples(entry)  # the profile agrees with the current sample's columns and types
    # a column the profile lacks is named
    wider = write_spec({"data": {"reference_profile": "ref-profile.json", "features": ["income", "tenure", "region", "sex"]},
                        "checks": ["drift"]}, name="wider.yaml")
    with pytest.raises(DataError, match="'sex': is not in the reference profile"):
        load_samples(load_spec(wider).versions[0])
