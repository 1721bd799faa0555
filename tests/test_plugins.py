"""Third-party checks: a package that declares an entry point in the group ``validation.checks``
adds a check, its template ships inside it, and a spec names it like a built-in one.

The example package in ``tests/plugins/example_check`` is installed for real (pip, into a folder
of its own that the child processes put on their path), then run through ``validation run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

PLUGIN = Path(__file__).resolve().parent / "plugins" / "example_check"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example check installed by pip into a site folder of its own."""
    scratch = tmp_path_factory.mktemp("plugin")
    source = scratch / "source"
    shutil.copytree(PLUGIN, source)  # pip builds in place: keep the repository clean
    target = scratch / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, text=True, timeout=300)
    assert (target / "validation_example_check" / "score_range.ipynb").is_file()
    return target


def _cli(arguments: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "validation", *arguments], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_an_installed_check_runs_into_a_pack(site: Path, write_spec: Callable[..., Path], tmp_path: Path) -> None:
    listed = _cli(["checks"], site, tmp_path)
    assert listed.returncode == 0 and "score_range: share of current scores outside" in listed.stdout
    assert str(site / "validation_example_check" / "score_range.ipynb") in listed.stdout
    assert "package: validation-example-check 0.1.0" in listed.stdout  # its release is part of the reuse hash
    spec = write_spec({"checks": {"drift": {}, "score_range": {"margin": 0.0}}})
    run = _cli(["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"], site, tmp_path)
    assert run.returncode in (0, 1), run.stderr
    pack = Path(run.stdout.strip().splitlines()[-1])
    results = json.loads((pack / "results.json").read_text())
    check = {c["name"]: c for c in results["checks"]}["score_range"]
    (finding,) = check["findings"]
    # judged by the rule the plugin declares (amber 0.01, red 0.05), recomputed here from the data
    import pandas as pd

    reference = pd.read_parquet(spec.parent / "data" / "ref.parquet")["pd"]
    current = pd.read_parquet(spec.parent / "data" / "cur.parquet")["pd"]
    share = float(((current < reference.min()) | (current > reference.max())).mean())
    assert finding["metric"] == "score_out_of_range_share" and finding["value"] == pytest.approx(share)
    assert (finding["amber"], finding["red"]) == (0.01, 0.05)
    expected = "red" if share >= 0.05 else "amber" if share >= 0.01 else "green"
    assert finding["status"] == check["status"] == expected
    assert (pack / "html" / "score_range.html").is_file() and (pack / "notebooks" / "score_range.ipynb").is_file()
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["inputs"]["template:score_range"]["path"].startswith(str(site))
    assert "check: score_range" in (pack / "index.html").read_text()


def test_a_spec_naming_an_uninstalled_check_is_refused(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec({"checks": ["score_range"]})
    result = subprocess.run([sys.executable, "-m", "validation", "run", str(spec), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "checks.score_range: unknown check; known checks: data_quality, drift" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_broken_plugin_is_named_not_a_traceback(tmp_path: Path, write_spec: Callable[..., Any]) -> None:
    """A package whose entry point cannot be imported: one line naming it, exit 2."""
    site = tmp_path / "site"
    info = site / "broken_check-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-check\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[validation.checks]\nbroken = no_such_module:Check\n")
    result = _cli(["run", str(write_spec({"checks": ["drift"]})), "--out", str(tmp_path / "out")], site, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "check plugin 'broken = no_such_module:Check'" in result.stderr and "Traceback" not in result.stderr


def test_a_check_may_not_change_the_bounds_of_a_known_metric() -> None:
    """An installed package adds metrics; it never moves the bank's bounds of an existing one."""
    from validation.checks import Check, CheckRegistry
    from validation.judging.policy import Rule

    class Lenient(Check):
        name = "lenient"
        rules = {"psi": Rule("higher_is_worse", 0.5, 0.9, "a plugin's own view")}

    class BadName(Check):
        name = "../escape"

    registry = CheckRegistry()
    with pytest.raises(ValueError, match="declares rules for psi, which the policy already has"):
        registry.register(Lenient())
    with pytest.raises(ValueError, match="use letters, digits"):
        registry.register(BadName())
    assert "lenient" not in registry.names() and "../escape" not in registry.names()
