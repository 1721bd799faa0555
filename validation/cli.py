"""Command line (`docs/cli.md`).

``validation run | batch | history | compare | profile | demo | checks | verify | review | pdf |
findings | init | schema``. Exit codes: 0 every check
ran and none is red; 1 at least one red finding; 2 invalid spec, data or usage (one message naming
the file and key or column; nothing written); 3 a check could not execute (the pack is still
written, that check marked ``error``); 4 the tool itself failed (one line naming the operation or
path; the traceback in ``<out>/validation-error-<time>.log`` when there is an output folder);
128 + N when stopped by signal N (143 SIGTERM, 130 Ctrl-C; nothing written, see
:mod:`validation.execution.interrupts`). No traceback ever reaches the terminal.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from validation.errors import InputError
from validation.execution.pipeline import PackOutcome
from validation.execution.workers import DEFAULT_CELL_TIMEOUT, TaskResult

EXIT_USAGE = 2
EXIT_INTERNAL = 4
"""A failure of the tool itself (a bug, a disk that cannot be written): never 0 or 1, which a
scheduler reads as a finished validation."""


OUT_KEY = "validation.out"
"""``ctx.meta`` key under which a command that writes packs leaves its ``--out`` folder, where a
failure's traceback is logged."""


def printable(text: str) -> str:
    """``text`` on one line: control characters (a line break in a name, a NUL byte) escaped, so
    that an error is always the one line the contract promises."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fail(error: InputError) -> None:
    click.echo(f"error: {printable(error.message)}", err=True)
    sys.exit(EXIT_USAGE)


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def _describe_failure(failure: BaseException) -> str:
    """One line for a failure of the tool: the operation and path when known, never a traceback."""
    from validation.errors import ToolFailure

    if isinstance(failure, ToolFailure):
        return str(failure)
    if isinstance(failure, OSError):
        where = " ".join(str(f) for f in (failure.filename, failure.filename2) if f)
        reason = failure.strerror or _one_line(str(failure))
        return f"input/output failure{' on ' + where if where else ''}: {reason}"
    return f"internal failure ({type(failure).__name__}: {_one_line(str(failure))})"


@contextlib.contextmanager
def _writing(path: Path, option: str) -> Iterator[None]:
    """Write the file an option names: a file system's refusal is the option's problem (exit 2)."""
    from validation.errors import OutputError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as exc:
        raise OutputError(path, f"cannot be written ({exc.strerror or exc}); give a path you can write to",
                          option) from None


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit raises no second error."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _probe_writable(path: Path, option: str) -> None:
    """Before anything runs: a file can be created where ``option`` names one (nothing is left)."""
    from validation.errors import OutputError
    from validation.reporting.files import probe_creatable

    try:
        probe_creatable(path)
    except OSError as exc:
        raise OutputError(path, f"cannot be written ({exc.strerror or exc}); give a path you can write to",
                          option) from None


def _log_traceback(ctx: click.Context, failure: BaseException) -> Path | None:
    """Write the traceback under the command's ``--out`` folder when it exists; its path, or None."""
    import traceback

    from validation.reporting.lineage import now

    out = ctx.meta.get(OUT_KEY)
    if out is None or not Path(out).is_dir():
        return None
    stamp = now().replace(":", "").replace("-", "").replace("+0000", "Z")
    log = Path(out) / f"validation-error-{stamp}.log"
    try:
        log.write_text(f"validation {' '.join(sys.argv[1:])}\n\n" + "".join(
            traceback.format_exception(type(failure), failure, failure.__traceback__)), encoding="utf-8")
    except OSError:
        return None
    return log


class _Group(click.Group):
    """click's usage errors exit 2 already; ours (bad spec, data, artifact) do too, as one line
    on standard error and never a traceback. A run told to stop (SIGTERM, SIGHUP, Ctrl-C) exits
    128 + the signal number with no pack written (click would exit 1, which means red findings)."""

    def invoke(self, ctx: click.Context) -> object:
        from validation.execution.interrupts import Interrupted, stop_on_signals

        try:
            with stop_on_signals():
                return super().invoke(ctx)
        except InputError as error:
            _fail(error)
            raise  # unreachable: _fail exits
        except (Interrupted, KeyboardInterrupt) as stop:
            stopped = stop if isinstance(stop, Interrupted) else Interrupted(signal.SIGINT)
            click.echo(f"error: {printable(str(stopped))}; the run was abandoned: no pack written, nothing recorded",
                       err=True)
            sys.exit(stopped.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors exit 2, --help and --version 0
        except Exception as failure:  # the tool itself failed: one line, its own exit code
            from validation.errors import ToolFailure

            if isinstance(failure, BrokenPipeError):  # the reader of standard output went away
                _silence_stdout()
                sys.exit(128 + signal.SIGPIPE)
            log = _log_traceback(ctx, failure)
            details = ""
            if OUT_KEY in ctx.meta:  # a command that writes packs: say what the failure left
                details = "; no partial pack or registry row was left (packs finished before it stand, recorded)"
            details += f"; traceback in {log}" if log else ""
            if not isinstance(failure, (OSError, ToolFailure)):
                details += "; this is a bug: please report it with the command that failed"
            click.echo(f"error: {printable(_describe_failure(failure) + details)}", err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=_Group)
@click.version_option(package_name="validation")
def main() -> None:
    """Validation packs for model risk management."""


def _split_checks(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


class _Progress:
    """Progress on standard error: a rich bar on a terminal, one line per task otherwise; silent
    with ``--quiet``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> "_Progress":
        if not self.quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("notebooks", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, result: TaskResult) -> None:
        model, version, check = result.key
        state = ("reused" if result.reused_from else
                 f"error ({result.error.reason})" if result.error else f"done in {result.duration:.1f} s")
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{model} v{version} {check}: {state}")
        elif not self.quiet:
            click.echo(f"  {model} v{version} {check}: {state}", err=True)


def _summary(outcomes: list[PackOutcome], quiet: bool) -> None:
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Validation summary", title_justify="left")
    for column in ("model", "version", "check", "status", "seconds", "note"):
        table.add_column(column)
    for outcome in outcomes:
        model = outcome.results["model"]
        durations = {r.key[2]: r for r in outcome.tasks}
        for check in outcome.results["checks"]:
            result = durations.get(check["name"])
            note = ("reused from run " + str(result.reused_from)) if result and result.reused_from else (
                (check.get("error") or {}).get("reason") or check.get("reason") or "")
            seconds = f"{result.duration:.1f}" if result and not result.reused_from else "-"
            cells = (model["name"], model["version"], check["name"], check["status"], seconds, str(note)[:80])
            table.add_row(*(Text(str(cell)) for cell in cells))  # text, never rich markup: data may hold "[/x]"
    Console(stderr=True).print(table)


def _report(outcomes: list[PackOutcome], code: int) -> None:
    for outcome in outcomes:
        click.echo(f"{outcome.results['model']['name']} v{outcome.results['model']['version']}: "
                   f"{outcome.status}", err=True)
    for outcome in outcomes:
        click.echo(str(outcome.path))
    sys.exit(code)


ALERT_EVENTS = ("red", "amber", "error", "overdue")


def _alert_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--notify``, ``--notify-on``, ``--pack-url-base`` and ``--notify-dry-run`` (docs/cli.md, Alerts)."""
    options = [
        click.option("--notify", "notify", multiple=True, metavar="URL",
                     help="Send the run's message to this Apprise URL (mailtos://, json://, slack://...); repeatable. "
                          "Adds to the spec's alerts.targets."),
        click.option("--notify-on", "notify_on", default="red,error,overdue", show_default=True,
                     help="When --notify targets hear: comma-separated red, amber, error, overdue."),
        click.option("--pack-url-base", help="URL the --out folder is published under: packs become links."),
        click.option("--notify-dry-run", is_flag=True,
                     help="Print each target's message on standard error instead of sending it."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _alert_events(value: str) -> tuple[str, ...]:
    events = tuple(dict.fromkeys(e.strip() for e in value.split(",") if e.strip()))
    unknown = [e for e in events if e not in ALERT_EVENTS]
    if unknown or not events:
        raise InputError(f"--notify-on {value!r}: expected a comma-separated list of {', '.join(ALERT_EVENTS)}")
    return events


def _check_notify(targets: tuple[str, ...]) -> None:
    """Each ``--notify`` target is a URL Apprise knows (exit 2 before anything runs)."""
    if not targets:
        return
    from validation.governance.alerts import apprise_module, expand, shown

    apprise = apprise_module()

    for target in targets:
        try:
            url, _ = expand(target)
        except KeyError as missing:
            raise InputError(f"--notify {target}: the environment variable {missing.args[0]} is not set") from None
        if not apprise.Apprise.instantiate(url, suppress_exceptions=True):
            raise InputError(f"--notify {printable(shown(target))}: not a notification URL Apprise knows; e.g. "
                             "mailtos://user:${SMTP_PASSWORD}@smtp.host?to=mrm@bank.example or json://host/path")


def _send_alerts(outcomes: list[PackOutcome], *, notify: tuple[str, ...], events: tuple[str, ...], out: Path,
                 pack_url_base: str | None, dry_run: bool, registry: Any) -> None:
    """Each target's message of the run (:mod:`validation.governance.alerts`): sent, or printed
    with ``--notify-dry-run``; a failed delivery is a warning on standard error, never the exit code."""
    from validation.governance.alerts import notify_run, shown

    for audience, message, delivery in notify_run(outcomes, cli_targets=notify, cli_events=events, out=out,
                                                  pack_url_base=pack_url_base, registry=registry, dry_run=dry_run):
        if delivery is None and message is not None:
            click.echo(f"alert for {shown(audience.target)} (not sent: --notify-dry-run)\n{message.title}\n\n"
                       f"{message.body}\n", err=True)
        elif delivery is not None and delivery.status == "sent":
            click.echo(f"alert sent to {delivery.target}" + (f" ({delivery.error})" if delivery.error else ""),
                       err=True)
        elif delivery is not None:
            recorded = "" if "not recorded" in (delivery.error or "") else "; recorded (validation alerts)"
            click.echo(f"warning: alert to {delivery.target} failed after {delivery.attempts} attempt(s): "
                       f"{printable(delivery.error or '')}{recorded}", err=True)


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
                     show_default=True, help="Folder the packs are written under."),
        click.option("--workers", type=click.IntRange(min=1), help="Parallel notebooks (default: CPU count)."),
        click.option("--timeout", type=click.IntRange(min=1), default=DEFAULT_CELL_TIMEOUT, show_default=True,
                     help="Per-cell timeout in seconds."),
        click.option("--registry", type=click.Path(dir_okay=False, path_type=Path),
                     help="Registry file (default: <out>/registry.sqlite)."),
        click.option("--force", is_flag=True, help="Run every check, even those whose inputs are unchanged."),
        click.option("--quiet", is_flag=True, help="No progress or summary on standard error."),
    ]
    for option in reversed(options):
        function = option(function)
    return _remember_out(function)


def _remember_out(function: Callable[..., Any]) -> Callable[..., Any]:
    """Leave the command's ``--out`` in ``ctx.meta`` for the failure log (:data:`OUT_KEY`)."""
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        click.get_current_context().meta[OUT_KEY] = kwargs.get("out")
        return function(*args, **kwargs)

    return wrapper


def _registry(out: Path, registry: Path | None) -> Any:
    from validation.governance.registry import Registry

    return Registry(registry) if registry else Registry(out / "registry.sqlite")


PDF_HELP = "Also print each pack to pack.pdf (in its manifest); needs Chromium."


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version", help="Validate only this model version.")
@click.option("--checks", help="Comma-separated checks to run (default: the spec's checks).")
@click.option("--pdf", is_flag=True, help=PDF_HELP)
@_alert_options
@_common
def run(spec: Path, version: str | None, checks: str | None, pdf: bool, notify: tuple[str, ...], notify_on: str,
        pack_url_base: str | None, notify_dry_run: bool, out: Path, workers: int | None, timeout: int,
        registry: Path | None, force: bool, quiet: bool) -> None:
    """Validate the model version(s) of SPEC and write one pack per version.

    Prints each pack's folder on standard output, the last pack last.
    """
    from validation.execution.pipeline import run_specs

    events = _alert_events(notify_on)
    _check_notify(notify)
    book = _registry(out, registry)
    with _Progress(quiet) as progress:
        outcomes, code = run_specs([spec], version=version, checks=_split_checks(checks), out=out,
                                   workers=workers, timeout=timeout, registry=book,
                                   force=force, on_done=progress, pdf=pdf)
    _send_alerts(outcomes, notify=notify, events=events, out=out, pack_url_base=pack_url_base,
                 dry_run=notify_dry_run, registry=book)
    _report(outcomes, code)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--scheduler", help="Address of a Dask distributed scheduler (e.g. tcp://host:8786); "
              "default: a local process pool.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--pdf", is_flag=True, help=PDF_HELP)
@_alert_options
@_common
def batch(specs: tuple[Path, ...], scheduler: str | None, junit: Path | None, pdf: bool, notify: tuple[str, ...],
          notify_on: str, pack_url_base: str | None, notify_dry_run: bool, out: Path,
          workers: int | None, timeout: int, registry: Path | None, force: bool, quiet: bool) -> None:
    """Validate every model version of every SPEC (files or folders of specs), every check, as
    independent notebook tasks; unchanged (version, check) pairs are reused unless --force."""
    from validation.reporting.junit import write_junit
    from validation.execution.pipeline import run_specs

    if junit:
        _probe_writable(junit, "--junit")
    events = _alert_events(notify_on)
    _check_notify(notify)
    book = _registry(out, registry)
    with _Progress(quiet) as progress:
        outcomes, code = run_specs(list(specs), out=out, workers=workers, scheduler=scheduler, timeout=timeout,
                                   registry=book, force=force, on_done=progress, pdf=pdf)
    _summary(outcomes, quiet)
    if junit:
        write_junit(junit, [(o.results, str(o.path)) for o in outcomes])
    _send_alerts(outcomes, notify=notify, events=events, out=out, pack_url_base=pack_url_base,
                 dry_run=notify_dry_run, registry=book)
    _report(outcomes, code)


def _print_table(table: Any, title: str, *, no_wrap: tuple[str, ...] = ()) -> None:
    from rich.console import Console
    from rich.table import Table

    from validation.reporting.render import format_value

    from rich.text import Text

    view = Table(title=Text(title), title_justify="left")
    for column in table.columns:
        view.add_column(Text(str(column)), no_wrap=column in no_wrap)
    for row in table.itertuples(index=False):
        view.add_row(*[Text(format_value(None if v != v else v) if isinstance(v, float) else format_value(v))
                       for v in row])
    Console().print(view)


def _registry_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--registry", type=click.Path(dir_okay=False, path_type=Path),
                            help="Registry file (default: <out>/registry.sqlite).")(function)
    return click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
                        show_default=True, help="Folder whose registry to read.")(function)


@main.command()
@click.argument("model", required=False)
@_registry_options
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an HTML page (with trend charts for a MODEL).")
def history(model: str | None, out: Path, registry: Path | None, html: Path | None) -> None:
    """Every version and run of MODEL with its status and headline metrics; without MODEL, every
    model with its latest run, when it is next due, and whether it is overdue."""
    from validation.reporting.history import history_table, render_page, trend_charts

    store = _registry(out, registry)
    if model is None:
        _inventory(store, html)
        return
    table = history_table(store, model)
    if table.empty:
        raise InputError(f"no runs of {model!r} in the registry {store.path}; run `validation run` or "
                         "`validation batch` first")
    _print_table(table, f"History of {model}")
    if html:
        with _writing(html, "--html"):
            html.write_text(render_page(f"History of {model}", table, charts=trend_charts(table)), encoding="utf-8")
        click.echo(str(html))


def _inventory(store: Any, html: Path | None) -> None:
    """``validation history`` without a model: the inventory of
    :func:`validation.reporting.history.inventory`."""
    from datetime import date

    from validation.reporting.history import inventory, render_page  # type: ignore[attr-defined, unused-ignore]

    table = inventory(store, today=date.today())
    if table.empty:
        raise InputError(f"no runs in the registry {store.path}; run `validation run` or `validation batch` first")
    _print_table(table, "Models: latest run, next due date, overdue", no_wrap=("model", "next_due", "overdue"))
    if html:
        with _writing(html, "--html"):
            html.write_text(render_page("Model inventory", table, intro="Overdue models first."), encoding="utf-8")
        click.echo(str(html))


@main.command()
@click.argument("model")
@click.argument("old_version")
@click.argument("new_version")
@_registry_options
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Also write the diff as an HTML page.")
def compare(model: str, old_version: str, new_version: str, out: Path, registry: Path | None, html: Path | None) -> None:
    """Finding-by-finding diff of the latest runs of two versions of MODEL."""
    from validation.reporting.history import compare_versions, render_page

    table, old_run, new_run = compare_versions(_registry(out, registry), model, old_version, new_version)
    title = f"{model}: version {old_version} (run {old_run}) against version {new_version} (run {new_run})"
    _print_table(table, title)
    if html:
        with _writing(html, "--html"):
            html.write_text(render_page(title, table, intro="Status changes first."), encoding="utf-8")
        click.echo(str(html))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version", help="The model version whose reference sample to profile "
              "(default: the last one).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The profile file to write (JSON).")
def profile(spec: Path, version: str | None, out: Path) -> None:
    """Profile SPEC's reference sample once, for drift checks that reuse it
    (``data.reference_profile``)."""
    from validation.inputs.samples import load_samples, source_record
    from validation.inputs.profile import build_profile, save_profile
    from validation.inputs.spec import load_spec

    loaded = load_spec(spec)
    entry = loaded.version(version) if version else loaded.versions[-1]
    if entry.data.reference is None:
        raise InputError(f"{spec}: version {entry.version} has no data.reference: no reference sample to profile")
    samples = load_samples(entry)
    from validation.checks.drift import DriftCheck

    settings = DriftCheck().profile_settings(entry)
    columns = [c for c in [samples.score, *samples.features] if c]
    built = build_profile(samples.reference, columns, **settings, source={
        **source_record(entry.data.reference), "rows": len(samples.reference), "spec": str(entry.path),
        "version": entry.version})
    with _writing(out, "--out"):
        save_profile(built, out)
    click.echo(str(out))


@main.command()
@_common
def demo(out: Path, workers: int | None, timeout: int, registry: Path | None, force: bool, quiet: bool) -> None:
    """Build the demos (German credit: a champion and a challenger PD model; a trading desk's VaR),
    validate them, and record the champion's review."""
    from validation.demo import prepare_demo, prepare_var_demo, record_review
    from validation.execution.pipeline import run_specs

    specs = [prepare_demo(), prepare_var_demo()]
    click.echo("demo specs: " + ", ".join(map(str, specs)), err=True)
    ledger = _registry(out, registry)
    with _Progress(quiet) as progress:
        outcomes, code = run_specs(specs, out=out, workers=workers, timeout=timeout,
                                   registry=ledger, force=force, on_done=progress)
    review = record_review([outcome.path for outcome in outcomes], ledger)
    if review is not None:
        raised = ", ".join(item["id"] for item in review["raised"]) or "none (already open)"
        click.echo(f"review {review['review_id']} recorded on the champion's pack: {review['rating']}; "
                   f"issues raised: {raised}", err=True)
    _report(outcomes, code)


@main.command()
@click.argument("pack", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path),
              help="Also (or only) verify a registry's hash chain.")
def verify(pack: Path | None, registry: Path | None) -> None:
    """Recompute every hash of PACK (and its signature when VALIDATION_SIGNING_KEY is set);
    exit 0 when intact, 1 with the changed, missing or added files otherwise."""
    from validation.governance.integrity import signing_key, verify_pack
    from validation.governance.registry import Registry

    if pack is None and registry is None:
        raise InputError("give a pack folder, --registry FILE, or both")
    problems: list[str] = []
    if pack is not None:
        result = verify_pack(pack, key=signing_key())
        for line in result.lines():
            click.echo(f"{pack}: {line}")
        if not result.intact:
            problems.append(str(pack))
    if registry is not None:
        if not registry.is_file():
            raise InputError(f"{registry}: no such registry file")
        issues = Registry(registry).verify()
        for line in issues:
            click.echo(f"{registry}: {line}")
        if not issues:
            click.echo(f"{registry}: ledger intact")
        else:
            problems.append(str(registry))
    click.echo("intact" if not problems else "NOT INTACT: " + ", ".join(problems))
    sys.exit(1 if problems else 0)


def _pack_registry(pack: Path, registry: Path | None) -> Any:
    """``--registry``, or the registry.sqlite above the pack's model folder (<out>/<model>/<version>/<run>)."""
    from validation.governance.registry import Registry

    return Registry(registry) if registry else Registry(pack.resolve().parent.parent.parent / "registry.sqlite")


@main.command()
@click.argument("pack", type=click.Path(file_okay=False, path_type=Path))
@click.option("--reviewer", required=True, help="The validator's name.")
@click.option("--rating", required=True, help="The overall rating: one of the pack's ratings (the spec's "
              "governance.ratings; by default satisfactory, satisfactory with findings, unsatisfactory).")
@click.option("--conclusion", required=True, help="The written conclusion (line breaks allowed).")
@click.option("--assessments", type=click.Path(dir_okay=False, path_type=Path),
              help="A YAML or CSV file of assessments: each names an issue or finding of the pack and accepts, "
              "overrides (with a rationale) or raises it (with title, severity, owner, due, remediation).")
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path),
              help="Registry to record the review in (default: the registry.sqlite above the pack's model folder).")
def review(pack: Path, reviewer: str, rating: str, conclusion: str, assessments: Path | None,
           registry: Path | None) -> None:
    """Record a validator's conclusion on PACK (review.json in the pack, and the registry)."""
    from validation.governance.register import load_assessments
    from validation.governance.review import add_review

    store = _pack_registry(pack, registry)
    given = load_assessments(assessments) if assessments else []
    recorded = add_review(pack, reviewer=reviewer, rating=rating, conclusion=conclusion, assessments=given,
                          registry=store)
    for item in recorded["raised"]:
        click.echo(f"raised {item['id']}: {printable(item['title'])} ({item['severity']}, {printable(item['owner'])}, "
                   f"due {item['due']})")
    if recorded.get("pdf"):
        click.echo(f"warning: pack.pdf was kept as printed before this review ({printable(recorded['pdf'])}); "
                   f"re-print it with `validation pdf {pack}`", err=True)
    click.echo(f"review {recorded['review_id']} recorded in {pack / 'review.json'} and {store.path}")


@main.command()
@click.argument("pack", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the PDF here instead (outside the pack, which is then left as it is).")
def pdf(pack: Path, out: Path | None) -> None:
    """Print PACK (its index and every check page) to one PDF with a table of contents: pack.pdf in
    the pack, added to its (re-signed) manifest."""
    from validation.governance.review import add_pdf

    if out is not None:
        _probe_writable(out, "--out")
    record = add_pdf(pack, out=out)
    click.echo(str(out if out is not None else pack / record["file"]))


@main.group()
def findings() -> None:
    """The findings register: issues raised by reviews, with owner, due date and status."""


@findings.command(name="list")
@click.option("--model", help="Only this model's items.")
@click.option("--status", type=click.Choice(["open", "in_progress", "remediated", "closed", "risk_accepted"]),
              help="Only items with this status.")
@_registry_options
def list_findings(model: str | None, status: str | None, out: Path, registry: Path | None) -> None:
    """List the register's items (every model, every status unless given)."""
    import pandas as pd

    items = _registry(out, registry).register_items(model=model, status=status)
    columns = ["id", "version", "severity", "status", "owner", "due", "title"]
    _print_table(pd.DataFrame(items, columns=columns), f"Findings register ({len(items)} items)",
                 no_wrap=("id", "due", "status"))


@findings.command()
@click.argument("item_id", metavar="ID")
@click.option("--status", type=click.Choice(["open", "in_progress", "remediated", "closed", "risk_accepted"]),
              help="The new status.")
@click.option("--owner", help="The new owner.")
@click.option("--due", help="The new due date (YYYY-MM-DD).")
@click.option("--remediation", help="The new remediation text.")
@click.option("--severity", type=click.Choice(["low", "medium", "high"]), help="The new severity.")
@click.option("--by", "by", required=True, help="Who makes the change (recorded with it).")
@click.option("--note", help="Why (recorded with the change).")
@_registry_options
def update(item_id: str, status: str | None, owner: str | None, due: str | None, remediation: str | None,
           severity: str | None, by: str, note: str | None, out: Path, registry: Path | None) -> None:
    """Change an item's status, owner, due date, remediation or severity (each change is recorded
    with who, when and the old value)."""
    from validation.governance.register import MAX_NAME, check_change, check_text

    given = {"status": status, "owner": owner, "due": due, "remediation": remediation, "severity": severity}
    fields = {name: check_change(name, value, f"--{name}") for name, value in given.items() if value is not None}
    if not fields:
        raise InputError("give at least one of --status, --owner, --due, --remediation, --severity")
    who = check_text(by, "--by", limit=MAX_NAME)
    why = check_text(note, "--note", required=False) or None
    store = _registry(out, registry)
    changed = store.update_items({item_id: fields}, by=who, note=why)
    if not changed:
        click.echo(f"{item_id}: unchanged (already as given)")
    for item in changed:
        click.echo(f"{item['id']}: {item['status']}, {item['severity']}, owner {printable(item['owner'])}, "
                   f"due {item['due']} (updated {item['updated_at']})")


@findings.command(name="export")
@click.option("--model", help="Only this model's items.")
@click.option("--csv", "csv_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file to write.")
@_registry_options
def export_findings(model: str | None, csv_file: Path, out: Path, registry: Path | None) -> None:
    """Write the register's items to a CSV file for a spreadsheet (cells a spreadsheet would run as
    a formula start with an added ')."""
    from validation.governance.register import export_csv
    from validation.reporting.files import atomic_write

    items = _registry(out, registry).register_items(model=model)
    with _writing(csv_file, "--csv"):
        atomic_write(csv_file, export_csv(items))
    click.echo(str(csv_file))


@findings.command(name="import")
@click.option("--csv", "csv_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV written by `validation findings export`, edited.")
@click.option("--by", "by", required=True, help="Who makes the changes (recorded with them).")
@click.option("--note", help="Why (recorded with each change).")
@_registry_options
def import_findings(csv_file: Path, by: str, note: str | None, out: Path, registry: Path | None) -> None:
    """Apply the edits of an exported CSV (status, owner, due, remediation, severity): all of them,
    or none when a row is wrong."""
    from validation.governance.register import MAX_NAME, check_text, read_csv_edits

    who = check_text(by, "--by", limit=MAX_NAME)
    why = check_text(note, "--note", required=False) or None
    store = _registry(out, registry)
    current = {item["id"]: item for item in store.register_items()}
    edits = read_csv_edits(csv_file, current)
    changed = store.update_items(edits, by=who, note=why,
                                 expected={item_id: current[item_id]["updated_at"] for item_id in edits})
    for item in changed:
        click.echo(f"{item['id']}: " + ", ".join(f"{name} {printable(str(item[name]))}" for name in edits[item["id"]]))
    click.echo(f"{len(changed)} item(s) updated from {csv_file}")


@main.command()
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The (development) sample: parquet or csv.")
@click.option("--target", required=True, help="The 0/1 outcome column (1 = event).")
@click.option("--score", help="The column of predicted probabilities, if the data has one.")
@click.option("--current", type=click.Path(dir_okay=False, path_type=Path),
              help="The monitoring sample (default: --data, to replace later).")
@click.option("--artifact", type=click.Path(dir_okay=False, path_type=Path),
              help="The fitted model: its input names (feature_names_in_) are the features, and the spec "
              "pins it by its sha256.")
@click.option("--allow-pickle", is_flag=True, help="Load an --artifact that is a pickle (.joblib, .pkl): it can "
              "run code when loaded. Sets model.allow_pickle.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the spec (default: params/<data name>.yaml).")
@click.option("--force", is_flag=True, help="Overwrite an existing spec.")
def init(data: Path, target: str, score: str | None, current: Path | None, artifact: Path | None,
         allow_pickle: bool, out: Path | None, force: bool) -> None:
    """Write a starter spec for a dataset: dates become data.time, identifiers data.ids, protected
    attributes data.protected (still features when the model uses them: flagged for review).

    Prints the spec's path on standard output, what was guessed on standard error.
    """
    from validation.inputs.starter import write_starter_spec

    target_path = out or Path("params") / f"{data.stem}.yaml"
    _probe_writable(target_path, "--out")
    written = write_starter_spec(data, target, score=score, out=target_path, current=current, force=force,
                                 artifact=artifact, allow_pickle=allow_pickle)
    roles = written.roles
    guessed = [("time", [roles.time] if roles.time else []), ("other dates (not features)", roles.other_dates),
               ("ids", roles.ids), ("protected", roles.protected)]
    for label, columns in guessed:
        if columns:
            click.echo(f"{label}: {printable(', '.join(columns))}", err=True)
    source = " (the artifact's inputs)" if roles.features_from_model else ""
    click.echo(f"features{source}: {len(roles.features)}, {len(roles.categorical)} of them categorical", err=True)
    if roles.time_as_text:
        from validation.inputs.starter import TEXT_DATES

        click.echo(f"time: {printable(str(roles.time))} holds {TEXT_DATES}", err=True)
    note = roles.review_note()
    if note is not None:
        click.echo(f"REVIEW (conceptual soundness): {printable(note)}", err=True)
    click.echo(str(written.path))


@main.command(name="alerts")
@click.option("--all", "everything", is_flag=True, help="Every delivery, not only the failed ones.")
@_registry_options
def alerts_command(everything: bool, out: Path, registry: Path | None) -> None:
    """List the deliveries of run messages that failed (or all of them), newest first: one line
    each, tab-separated: time, status, attempts, target (secrets masked), runs, error."""
    for row in _registry(out, registry).alerts(failed=not everything):
        click.echo("\t".join(printable(str(row[key] if row[key] is not None else ""))
                             for key in ("at", "status", "attempts", "target", "runs", "error")))


@main.command(name="checks")
def list_checks() -> None:
    """List the checks (built-in and installed), their templates and their parameters."""
    from validation.checks import REGISTRY

    for check in REGISTRY:
        click.echo(f"{check.name}: {check.description}")
        if check.name in REGISTRY.providers:
            click.echo(f"  package: {REGISTRY.providers[check.name]}")
        click.echo(f"  template: {check.template_path()}")
        for name, info in check.params.model_fields.items():
            default = info.get_default(call_default_factory=True)
            click.echo(f"  {name} = {default!r}" + (f"  # {info.description}" if info.description else ""))


@main.command()
@click.argument("kind", type=click.Choice(["spec", "results"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a spec or of results.json."""
    import json

    from validation.schemas import schema as build

    click.echo(json.dumps(build(kind), indent=2))
