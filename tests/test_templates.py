"""The template notebooks: one parameters cell, no committed outputs, and they run with their
defaults (the demo) as a modeler would run them in Jupyter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from validation.checks import REGISTRY, RUNNER_PARAMETERS, parameters_source

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_every_registered_check_has_its_template() -> None:
    assert sorted(c.template_path().name for c in REGISTRY) == sorted(t.name for t in TEMPLATES)
    assert len(TEMPLATES) == 6  # the built-in checks, data_quality and challenger among them


@pytest.mark.parametrize("path", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_template_is_clean(path: Path) -> None:
    book = nbformat.read(str(path), as_version=4)
    nbformat.validate(book)
    tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "clear outputs before committing"


@pytest.mark.parametrize("check", REGISTRY.names())
def test_runner_parameters_default_to_the_demo(check: str) -> None:
    import papermill

    parameters = papermill.inspect_notebook(str(REGISTRY[check].template_path()))
    for name in RUNNER_PARAMETERS:
        assert parameters[name]["default"] == "None"


@pytest.mark.parametrize("check", REGISTRY.names())
def test_parameters_cell_is_the_checks_own(check: str) -> None:
    """The template's parameters are exactly the check's (names, descriptions, defaults), each
    ``None`` so that the spec's value applies: one source, no template that says otherwise."""
    book = nbformat.read(str(REGISTRY[check].template_path()), as_version=4)
    (cell,) = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert cell.source == parameters_source(REGISTRY[check])


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-root")


@pytest.mark.parametrize("check", REGISTRY.names())
def test_template_runs_with_its_defaults(check: str, demo_root: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Each template with no parameters, as a modeler opens it in Jupyter: it builds the demo on
    first use and validates the demo's last version."""
    import papermill as pm

    from validation.execution.kernel import KERNEL_NAME
    from validation.execution.scraps import read_scraps

    monkeypatch.setenv("VALIDATION_DEMO_ROOT", str(demo_root))
    template = REGISTRY[check].template_path()
    output = tmp_path / f"{check}.ipynb"
    pm.execute_notebook(str(template), str(output), kernel_name=KERNEL_NAME, progress_bar=False,
                        kernel_manager_class="validation.execution.kernel.EnvironmentKernelManager",
                        cwd=str(template.parent))
    assert (demo_root / "params" / "german_credit_pd.yaml").is_file()
    scraps = read_scraps(output)
    assert len(scraps["findings"]) >= 5
    # the kernel ran this environment's Python, whatever kernelspecs the machine has
    assert scraps["summary"]["kernel_python"] == sys.executable
    book = json.loads(output.read_text())
    assert book["metadata"]["language_info"]["name"] == "python"
