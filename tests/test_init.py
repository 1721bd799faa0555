"""`validation init`: a starter spec that runs."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from conftest import synthetic_sample
from validation.cli import main
from validation.inputs.starter import likely_ids


def test_init_writes_a_spec_that_runs(tmp_path: Path) -> None:
    data = tmp_path / "loans.parquet"
    synthetic_sample(400, seed=1).to_parquet(data)
    out = tmp_path / "params" / "loans.yaml"
    result = CliRunner().invoke(main, ["init", "--data", str(data), "--target", "default", "--score", "pd",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    spec = yaml.safe_load(text)
    assert spec["data"]["ids"] == ["customer_id"]
    assert "- region    # categorical" in text
    assert "# protected: [sex]" in text  # suggested, never assumed
    assert spec["data"]["features"] == ["income", "tenure", "region", "month"]
    run = CliRunner().invoke(main, ["run", str(out), "--out", str(tmp_path / "reports"), "--quiet", "--workers", "2"])
    assert run.exit_code in (0, 1), run.output
    again = CliRunner().invoke(main, ["init", "--data", str(data), "--target", "default", "--out", str(out)])
    assert again.exit_code == 2 and "exists; choose another --out or add --force" in again.output


def test_init_names_a_wrong_column(tmp_path: Path) -> None:
    data = tmp_path / "loans.csv"
    synthetic_sample(50, seed=1).to_csv(data, index=False)
    result = CliRunner().invoke(main, ["init", "--data", str(data), "--target", "defaulted", "--out",
                                       str(tmp_path / "s.yaml")])
    assert result.exit_code == 2 and "--target 'defaulted': no such column" in result.output


def test_likely_ids() -> None:
    frame = synthetic_sample(100, seed=3).assign(loan_number=lambda f: range(100))
    assert likely_ids(frame) == ["customer_id", "loan_number"]
