"""Command line: ``validation run | demo | checks`` (DESIGN.md, "CLI contract").

Exit codes: 0 every check ran and none is red; 1 at least one red finding; 2 invalid spec, data or
usage (one message naming the file and key or column; nothing written); 3 a check could not execute
(the pack is still written, that check marked ``error``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from validation.errors import InputError
from validation.run import PackOutcome
from validation.runner import DEFAULT_CELL_TIMEOUT, TaskResult

EXIT_USAGE = 2


def _fail(error: InputError) -> None:
    click.echo(f"error: {error.message}", err=True)
    sys.exit(EXIT_USAGE)


def _progress(result: TaskResult) -> None:
    model, version, check = result.key
    state = f"error ({result.error.reason})" if result.error else "done"
    click.echo(f"  {model} v{version} {check}: {state} in {result.duration:.1f} s", err=True)


def _split_checks(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


class _Group(click.Group):
    """click's usage errors exit 2 already; ours (bad spec, data, artifact) do too, as one line
    on standard error and never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InputError as error:
            _fail(error)
            raise  # unreachable: _fail exits


@click.group(cls=_Group)
@click.version_option(package_name="validation")
def main() -> None:
    """Validation packs for model risk management."""


def _report(outcomes: list[PackOutcome], code: int) -> None:
    for outcome in outcomes:
        click.echo(f"{outcome.results['model']['name']} v{outcome.results['model']['version']}: "
                   f"{outcome.status}", err=True)
    for outcome in outcomes:
        click.echo(str(outcome.path))
    sys.exit(code)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version", help="Validate only this model version.")
@click.option("--checks", help="Comma-separated checks to run (default: the spec's checks).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder the packs are written under.")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel notebooks (default: CPU count).")
@click.option("--timeout", type=click.IntRange(min=1), default=DEFAULT_CELL_TIMEOUT, show_default=True,
              help="Per-cell timeout in seconds.")
def run(spec: Path, version: str | None, checks: str | None, out: Path, workers: int | None,
        timeout: int) -> None:
    """Validate the model version(s) of SPEC and write one pack per version.

    Prints each pack's folder on standard output, the last pack last.
    """
    from validation.run import run as run_specs

    outcomes, code = run_specs([spec], version=version, checks=_split_checks(checks), out=out,
                               workers=workers, timeout=timeout, on_done=_progress)
    _report(outcomes, code)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder the packs are written under.")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel notebooks (default: CPU count).")
def demo(out: Path, workers: int | None) -> None:
    """Build the demos (German credit: data, two PD model versions; a trading desk's VaR) and
    validate them."""
    from validation.demo import prepare_demo, prepare_var_demo
    from validation.run import run as run_specs

    specs = [prepare_demo(), prepare_var_demo()]
    click.echo("demo specs: " + ", ".join(map(str, specs)), err=True)
    outcomes, code = run_specs(specs, out=out, workers=workers, on_done=_progress)
    _report(outcomes, code)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version", help="The model version whose reference sample to profile "
              "(default: the last one).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The profile file to write (JSON).")
def profile(spec: Path, version: str | None, out: Path) -> None:
    """Profile SPEC's reference sample once, for drift checks that reuse it
    (``data.reference_profile``)."""
    from validation.data import load_samples
    from validation.models import sha256_file
    from validation.profile import build_profile, save_profile
    from validation.spec import load_spec

    loaded = load_spec(spec)
    entry = loaded.version(version) if version else loaded.versions[-1]
    samples = load_samples(entry)
    settings = {k: v for k, v in entry.checks.get("drift", {}).items()
                if k in ("bins", "max_discrete", "max_categories")}
    columns = [c for c in [samples.score, *samples.features] if c]
    built = build_profile(samples.reference, columns, **settings, source={
        "path": entry.data.reference, "sha256": sha256_file(entry.data.reference),
        "rows": len(samples.reference), "spec": str(entry.path), "version": entry.version})
    out.parent.mkdir(parents=True, exist_ok=True)
    save_profile(built, out)
    click.echo(str(out))


@main.command(name="checks")
def list_checks() -> None:
    """List the checks, their templates and their parameters."""
    from validation.checks import REGISTRY, RUNNER_PARAMETERS

    for check in REGISTRY:
        click.echo(f"{check.name}: {check.description}")
        click.echo(f"  template: {check.path}")
        for name, info in check.parameters().items():
            if name in RUNNER_PARAMETERS:
                continue
            default = info.get("default", "")
            help_text = info.get("help", "")
            click.echo(f"  {name} = {default}" + (f"  # {help_text}" if help_text else ""))
