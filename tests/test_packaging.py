"""A package that installs: a non-editable wheel carries the templates, the report templates and
the demo data, and runs a check from any folder (no checkout behind it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built into a wheel from a copy of its tracked files (a build in place would leave
    build/ and egg-info folders in the checkout)."""
    scratch = tmp_path_factory.mktemp("wheel")
    source = scratch / "source"
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(scratch / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    (built,) = (scratch / "dist").glob("validation-*.whl")
    return built


def test_the_wheel_carries_every_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "validation").rglob("*.py")}
    assert modules <= names, sorted(modules - names)  # a new sub-package must be listed in pyproject.toml
    templates = {f"validation/notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert len(templates) == 6 and templates <= names
    assert "validation/datasets/german.csv" in names
    assert "validation/reporting/templates/nbconvert/validation/index.html.j2" in names
    assert not [n for n in names if n.startswith("notebooks/") or n.startswith("tests/")]


def test_the_installed_wheel_runs_a_check_from_any_folder(wheel: Path, write_spec: Callable[..., Path],
                                                          tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import validation.checks as c; print(c.REGISTRY['drift'].template_path())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert where.stdout.strip() == str(site / "validation" / "notebooks" / "drift.ipynb"), where.stderr
    spec = write_spec({"checks": ["drift", "backtesting"]})
    run = subprocess.run([sys.executable, "-m", "validation", "run", str(spec), "--out", str(elsewhere / "out"), "--quiet"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr
    pack = Path(run.stdout.strip().splitlines()[-1])
    results = json.loads((pack / "results.json").read_text())
    assert [c["status"] for c in results["checks"]] != ["error", "error"]
    assert all(c["error"] is None for c in results["checks"])
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["inputs"]["template:drift"]["path"] == str(site / "validation" / "notebooks" / "drift.ipynb")
    assert manifest["environment"]["git_commit"] is None  # no checkout behind an installed wheel
