"""The command line, end to end: real notebooks through papermill on small data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from validation.metrics import drift
from validation.inputs.artifacts import sha256_file

VALIDATION = [sys.executable, "-m", "validation"]
TEMPLATES = Path(__file__).resolve().parent.parent / "notebooks"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VALIDATION, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def test_checks_lists_templates_and_parameters() -> None:
    result = cli("checks")
    assert result.returncode == 0, result.stderr
    for name in ("drift", "fairness", "explainability", "backtesting"):
        assert f"{name}: " in result.stdout
    assert "bins = 10" in result.stdout and "min_group_size = 30" in result.stdout


@pytest.mark.parametrize("kind", ["spec", "results"])
def test_schema_prints_the_published_json_schema(kind: str) -> None:
    result = cli("schema", kind)
    assert result.returncode == 0, result.stderr
    published = Path(__file__).resolve().parent.parent / "docs" / "schemas" / f"{kind}.schema.json"
    assert json.loads(result.stdout) == json.loads(published.read_text())
    assert cli("schema", "pack").returncode == 2  # click refuses an unknown kind


def test_bad_spec_exits_2_and_writes_nothing(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", str(write_spec({"model": {"naem": "x"}})), "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "model.naem: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_data_exits_2_and_writes_nothing(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", str(write_spec({"data": {"target": "defaulted"}})), "--out", str(out))
    assert result.returncode == 2
    assert "column 'defaulted': named in data.target but missing from the file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_check_and_version_exit_2(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = str(write_spec())
    result = cli("run", spec, "--checks", "drift,stress", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "unknown check 'stress'; known checks: data_quality, drift" in result.stderr
    result = cli("run", spec, "--version", "9", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "no version '9' in this spec; it has: 1" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def small_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real run: drift, fairness and backtesting on a scores-only spec; explainability is
    not applicable without an artifact."""
    from conftest import synthetic_sample
    import yaml

    root = tmp_path_factory.mktemp("small")
    (root / "data").mkdir()
    reference, current = synthetic_sample(400, seed=1), synthetic_sample(300, seed=2, shift=0.3)
    reference.to_parquet(root / "data" / "ref.parquet")
    current.to_parquet(root / "data" / "cur.parquet")
    spec = {
        "model": {"name": "toy_pd", "version": "1", "owner": "Tests <QA>",
                  "purpose": "a <b>test</b> model"},
        "data": {"reference": "data/ref.parquet", "current": "data/cur.parquet", "target": "default",
                 "score": "pd", "features": ["income", "tenure", "region"], "protected": ["sex"],
                 "ids": ["customer_id"], "time": "month"},
        "decision": {"threshold": 0.2, "favourable": "below"},
        "checks": {"drift": {"bins": 10, "psi_rule": "critical"}, "fairness": None, "explainability": None,
                   "backtesting": None},
        "thresholds": {"psi": {"amber": 0.05, "red": 0.5}},
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = cli("run", str(root / "spec.yaml"), "--out", str(root / "out"), "--workers", "2")
    pack = Path(result.stdout.strip().splitlines()[-1])
    return {"result": result, "pack": pack, "reference": reference, "current": current}


def test_run_writes_a_complete_pack(small_pack: dict[str, Any]) -> None:
    result, pack = small_pack["result"], small_pack["pack"]
    assert result.returncode in (0, 1), result.stderr
    assert pack.parent.parent.name == "toy_pd" and pack.parent.name == "1"
    names = sorted(str(p.relative_to(pack)) for p in pack.rglob("*") if p.is_file())
    assert names == ["card.json", "html/backtesting.html", "html/drift.html", "html/fairness.html", "index.html",
                     "manifest.json", "notebooks/backtesting.ipynb", "notebooks/drift.ipynb",
                     "notebooks/fairness.ipynb", "register.json", "results.json"]
    assert not [p for p in pack.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_results_json_contract(small_pack: dict[str, Any]) -> None:
    doc = json.loads((small_pack["pack"] / "results.json").read_text())
    assert doc["schema_version"] == 1
    assert doc["model"] == {"name": "toy_pd", "version": "1", "type": "classification"}
    assert set(doc["run"]) == {"id", "started_at", "finished_at", "spec_sha256"}
    checks = {c["name"]: c for c in doc["checks"]}
    assert list(checks) == ["drift", "fairness", "explainability", "backtesting"]
    assert checks["explainability"]["status"] == "not_applicable"
    assert "no model artifact" in checks["explainability"]["reason"]
    severity = {"green": 0, "amber": 1, "red": 2, "error": 3}
    for name in ("drift", "fairness", "backtesting"):
        check = checks[name]
        assert check["error"] is None and len(check["findings"]) >= 5
        assert check["notebook"] == f"notebooks/{name}.ipynb" and check["html"] == f"html/{name}.html"
        judged = [f["status"] for f in check["findings"] if f["status"] in severity]
        assert check["status"] == max(judged, key=severity.__getitem__)
        for finding in check["findings"]:
            assert set(finding) >= {"metric", "subject", "value", "status", "amber", "red", "direction"}
    worst = max((c["status"] for c in doc["checks"] if c["status"] in severity), key=severity.__getitem__)
    assert doc["status"] == worst
    assert small_pack["result"].returncode == (1 if worst == "red" else 0)
    # psi_rule: critical: each PSI judged against its own critical values, not the spec's 0.05 / 0.5
    psi = [f for f in checks["drift"]["findings"] if f["metric"] == "psi" and not f["subject"].startswith("period:")]
    # chi2.ppf(q, B - 1) * (1/N + 1/M) with N = 400, M = 300 (Yurdakul 2018): 10 bins for income and
    # the score, 3 categories for region; the columns are one family (multiplicity holm by default):
    # the levels are adjusted over them by Bonferroni, q' = 1 - (1 - q) / m
    from scipy import stats

    bounds = {f["subject"]: (f["amber"], f["red"]) for f in psi}
    m = len(psi)
    for subject, n_bins in (("feature:income", 10), ("score", 10), ("feature:region", 3)):
        expected = [stats.chi2.ppf(1 - (1 - q) / m, n_bins - 1) * (1 / 400 + 1 / 300) for q in (0.95, 0.999)]
        assert bounds[subject] == pytest.approx(expected, rel=1e-12)
    assert all(f"critical values {f['amber']:.4f}" in f["note"] and f"adjusted over {m} columns" in f["note"]
               for f in psi)
    assert checks["drift"]["summary"]["psi_rule"] == "critical"
    # by period: the score's PSI and the default rate per month of the current sample
    periods = {(f["metric"], f["subject"]) for f in checks["drift"]["findings"] if f["subject"].startswith("period:")}
    assert periods == {(m, f"period:2025-0{k}") for m in ("psi", "default_rate") for k in (1, 2, 3)}
    assert {f["metric"] for f in checks["drift"]["findings"]} >= {"psi", "ks_stat", "ks_pvalue", "chi2_pvalue",
                                                                  "js_distance", "wasserstein_norm"}


def test_numbers_are_reproducible_from_the_data(small_pack: dict[str, Any]) -> None:
    doc = json.loads((small_pack["pack"] / "results.json").read_text())
    findings = {(f["metric"], f["subject"]): f["value"] for c in doc["checks"] for f in c["findings"]}
    ref, cur = small_pack["reference"], small_pack["current"]
    assert findings[("psi", "feature:income")] == pytest.approx(drift.column_drift(ref["income"], cur["income"]).psi)
    assert findings[("psi", "score")] == pytest.approx(drift.column_drift(ref["pd"], cur["pd"]).psi)
    assert findings[("auc", "score")] == pytest.approx(roc_auc_score(cur["default"], cur["pd"]))
    approved = cur["pd"] < 0.2
    rates = approved.groupby(cur["sex"]).mean()
    assert findings[("approval_rate", "sex:female")] == pytest.approx(rates["female"])
    assert findings[("disparate_impact_ratio", "sex:female")] == pytest.approx(rates["female"] / rates.max())


def test_backtesting_results_carry_the_design_metrics(small_pack: dict[str, Any]) -> None:
    """The backtesting metric names and subjects of docs/results.md, each value recomputed from the data."""
    from scipy import stats

    doc = json.loads((small_pack["pack"] / "results.json").read_text())
    (check,) = [c for c in doc["checks"] if c["name"] == "backtesting"]
    found = {(f["metric"], f["subject"]): f for f in check["findings"]}
    cur = small_pack["current"]
    y, p = cur["default"].to_numpy(), cur["pd"].to_numpy()
    for metric in ("auc", "gini", "ks", "brier", "auc_change_pvalue"):
        assert (metric, "score") in found
    for metric in ("hosmer_lemeshow_pvalue", "jeffreys_pvalue", "binomial_pvalue", "spiegelhalter_pvalue",
                   "observed_expected_ratio", "herfindahl_index", "herfindahl_change_pvalue"):
        assert (metric, "portfolio") in found
    # no master scale in the spec: grades are deciles, numbered 1..10 from the lowest PD
    grades = sorted(int(s.split(":")[1]) for m, s in found if m == "jeffreys_pvalue" and s.startswith("grade:"))
    assert grades == list(range(1, 11))
    # ECB Jeffreys test of the portfolio: BetaCDF(mean PD; D + 1/2, N - D + 1/2)
    n, d = len(y), int(y.sum())
    assert found[("jeffreys_pvalue", "portfolio")]["value"] == pytest.approx(stats.beta.cdf(p.mean(), d + 0.5, n - d + 0.5))
    assert found[("binomial_pvalue", "portfolio")]["value"] == pytest.approx(stats.binom.sf(d - 1, n, p.mean()))
    # the lowest grade by hand: no master scale, so grades are the reference score's deciles
    low = p <= np.quantile(small_pack["reference"]["pd"], 0.1)
    expected = stats.beta.cdf(p[low].mean(), y[low].sum() + 0.5, low.sum() - y[low].sum() + 0.5)
    assert found[("jeffreys_pvalue", "grade:1")]["value"] == pytest.approx(expected)
    # p-values judged as traffic lights at 95% / 99.9%
    assert (found[("jeffreys_pvalue", "grade:1")]["amber"], found[("jeffreys_pvalue", "grade:1")]["red"]) == (0.05, 0.001)
    # by period (data.time): AUC, observed/expected and Jeffreys per month
    for month in ("2025-01", "2025-02", "2025-03"):
        part = cur[cur["month"] == month]
        assert found[("auc", f"period:{month}")]["value"] == pytest.approx(roc_auc_score(part["default"], part["pd"]))
        assert found[("observed_expected_ratio", f"period:{month}")]["value"] == pytest.approx(
            part["default"].sum() / part["pd"].sum())
        assert ("jeffreys_pvalue", f"period:{month}") in found
    # business impact at the decision threshold (score < 0.2 approved)
    approved = cur["pd"] < 0.2
    assert found[("approval_rate", "portfolio")]["value"] == pytest.approx(approved.mean())
    assert found[("bad_rate_approved", "portfolio")]["value"] == pytest.approx(cur.loc[approved, "default"].mean())
    # the grade table in the pack shows each grade's traffic lights
    # (column names carry line-break opportunities, <wbr>, after each underscore)
    html = (small_pack["pack"] / "html" / "backtesting.html").read_text(encoding="utf-8").replace("<wbr/>", "")
    assert "jeffreys_pvalue_light" in html and "binomial_pvalue_light" in html


def test_manifest_hashes_every_file_and_input(small_pack: dict[str, Any]) -> None:
    pack = small_pack["pack"]
    manifest = json.loads((pack / "manifest.json").read_text())
    files = {str(p.relative_to(pack)) for p in pack.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    for name, digest in manifest["files"].items():
        assert sha256_file(pack / name) == digest
    inputs = manifest["inputs"]
    assert {"spec", "data.reference", "data.current", "template:drift", "template:fairness",
            "template:backtesting"} <= set(inputs)
    for item in inputs.values():
        assert sha256_file(item["path"]) == item["sha256"]
    assert manifest["environment"]["packages"]["papermill"] != "not installed"


def test_pack_holds_no_rows_and_loads_offline(small_pack: dict[str, Any]) -> None:
    pack, current = small_pack["pack"], small_pack["current"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pack.rglob("*") if p.suffix in {".html", ".json", ".ipynb"})
    # identifiers never appear; neither do individual incomes (exact float values of rows)
    for value in current["customer_id"].head(20):
        assert f"customer_id: {value}" not in text
    for value in current["income"].head(50):
        assert repr(float(value)) not in text
    for html in pack.rglob("*.html"):
        body = html.read_text(encoding="utf-8")
        assert "src=\"http" not in body and "href=\"http" not in body and "require.js" not in body


def test_index_escapes_spec_text(small_pack: dict[str, Any]) -> None:
    index = (small_pack["pack"] / "index.html").read_text(encoding="utf-8")
    assert "a &lt;b&gt;test&lt;/b&gt; model" in index and "<b>test</b>" not in index
    assert "Tests &lt;QA&gt;" in index


def test_executed_notebooks_glue_aggregates_only(small_pack: dict[str, Any]) -> None:
    from validation.execution.scraps import read_scraps

    for name in ("drift", "fairness", "backtesting"):
        scraps = read_scraps(small_pack["pack"] / "notebooks" / f"{name}.ipynb")
        assert set(scraps) == {"findings", "summary"}
        # the kernel is this environment's interpreter (no kernelspec lookup)
        assert scraps["summary"]["kernel_python"] == sys.executable
        assert all(isinstance(f["value"], (float, int, type(None))) for f in scraps["findings"])


# --- failure isolation ----------------------------------------------------------------------


def _hostile_template(path: Path, body: str) -> None:
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("spec = None\nversion = None")
    parameters.metadata["tags"] = ["parameters"]
    book.cells = [parameters, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(body),
                  nbformat.v4.new_code_cell("y = 2")]
    nbformat.write(book, str(path))


@pytest.fixture
def broken_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    _hostile_template(folder / "fairness.ipynb", "raise ValueError('broken on purpose')")
    _hostile_template(folder / "backtesting.ipynb", "import os\nos._exit(1)")
    return folder


def test_cell_error_and_dead_kernel_are_isolated(write_spec: Callable[..., Path], tmp_path: Path,
                                                 broken_templates: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", str(write_spec()), "--out", str(out), "--workers", "2",
                 env={"VALIDATION_TEMPLATES": str(broken_templates)})
    assert result.returncode == 3, result.stderr
    pack = Path(result.stdout.strip().splitlines()[-1])
    checks = {c["name"]: c for c in json.loads((pack / "results.json").read_text())["checks"]}
    assert checks["drift"]["status"] != "error" and checks["drift"]["findings"]
    fairness = checks["fairness"]
    assert fairness["status"] == "error" and fairness["findings"] == []
    assert fairness["error"]["kind"] == "cell_error"
    assert fairness["error"]["ename"] == "ValueError" and "broken on purpose" in fairness["error"]["evalue"]
    assert "broken on purpose" in fairness["error"]["traceback"]
    backtesting = checks["backtesting"]
    assert backtesting["status"] == "error" and backtesting["error"]["kind"] == "dead_kernel"
    # the dead cell is marked in the saved notebook (papermill itself leaves it "completed")
    book = nbformat.read(str(pack / backtesting["notebook"]), as_version=4)
    assert "validation-error-cell" in book.cells[0].metadata.get("tags", [])
    failed = [c for c in book.cells if c.get("metadata", {}).get("papermill", {}).get("status") == "failed"]
    assert len(failed) == 1 and "os._exit" in failed[0].source
    assert (pack / "html" / "backtesting.html").exists()
    index = (pack / "index.html").read_text()
    assert "broken on purpose" in index and "the kernel died" in index


def test_cell_timeout_is_isolated(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    _hostile_template(folder / "fairness.ipynb", "import time\ntime.sleep(120)")
    out = tmp_path / "out"
    result = cli("run", str(write_spec()), "--out", str(out), "--checks", "drift,fairness",
                 "--timeout", "8", env={"VALIDATION_TEMPLATES": str(folder)})
    assert result.returncode == 3, result.stderr
    pack = Path(result.stdout.strip().splitlines()[-1])
    checks = {c["name"]: c for c in json.loads((pack / "results.json").read_text())["checks"]}
    assert checks["drift"]["findings"]
    error = checks["fairness"]["error"]
    assert error["kind"] == "timeout" and "8 s cell timeout" in error["reason"]
    book = nbformat.read(str(pack / "notebooks" / "fairness.ipynb"), as_version=4)
    assert "time.sleep(120)" in book.cells[error["cell_index"] + 1].source  # +1: the banner on top


def test_check_error_pickles() -> None:
    import pickle

    from validation.errors import CheckExecutionError

    error = CheckExecutionError("drift", "nb.ipynb", "timeout", "too slow", cell_index=3)
    again = pickle.loads(pickle.dumps(error))
    assert (again.check, again.kind, again.cell_index, str(again)) == ("drift", "timeout", 3, str(error))


def test_a_missing_template_exits_2_naming_it(write_spec: Callable[..., Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from validation.cli import main

    monkeypatch.setenv("VALIDATION_TEMPLATES", str(tmp_path / "no-templates"))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(write_spec({"checks": ["drift"]})), "--out", str(out)])
    assert result.exit_code == 2 and "check 'drift': its template" in result.output and "is missing" in result.output
    assert not out.exists()
