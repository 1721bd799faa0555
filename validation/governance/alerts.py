"""Alerts: one message per run to the people who must hear about it, through Apprise.

A scheduled ``validation run`` or ``batch`` that finds a red result, fails to run a check, or sees a
model overdue for validation tells its targets (Apprise URLs: e-mail over SMTP, Slack, Microsoft
Teams, a webhook receiving JSON...), in one message per run and target, never one per finding:

- each model version that triggers (``alerts.on``: ``red``, ``amber``, ``error``), with its overall
  status, its top issues in one line each (the pack's root-cause issues, worst first), the checks
  that could not run (their kind of failure only: an error's text may quote data), what changed
  since the previous version (findings whose status moved), and its pack (a path, or a link under
  ``pack_url_base``);
- the models overdue for validation (``overdue``), from the registry's inventory.

Everything in a message comes from the packs' results and the registry, which hold aggregates only
(``docs/results.md``): no row, identifier or category rarer than the pack shows. The text is plain;
Apprise escapes it for a target that reads HTML or Markdown, and a webhook receives it as JSON.

A delivery never changes a run's result, exit code or packs: a target that cannot be reached is
tried :data:`ATTEMPTS` times, waiting :data:`WAIT_SECONDS`, then twice that, then recorded as failed in
the registry (``validation alerts`` lists the failures). Secrets come from environment variables:
a target is given as ``${VAR}`` or with ``${VAR}`` in place of each password or token, expanded when
the message is sent, and shown with Apprise's privacy mask wherever it is printed or recorded.
"""

from __future__ import annotations

import datetime
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence
from urllib.parse import quote

if TYPE_CHECKING:
    from validation.execution.pipeline import PackOutcome
    from validation.governance.registry import Registry

ATTEMPTS = 3
"""Tries per target before a delivery is recorded as failed (project default: a mail relay or a
webhook restarting within a few seconds is reached; a target down for longer is left to the log)."""

WAIT_SECONDS = 2.0
"""Wait before the second try; doubled before each next one (2 s, 4 s: a run is delayed 6 s at most per target)."""

TOP_ISSUES = 5
"""Issues listed per model version; the rest are counted ("... and 3 more issues")."""

CHANGES_SHOWN = 3
"""Findings whose status changed since the previous version, listed per model version."""

_SEVERITY = {"error": 0, "red": 1, "amber": 2, "green": 3, "info": 4, "not_applicable": 5}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class AlertMessage:
    """One run's message: its title, its plain-text body and the runs it reports."""

    title: str
    body: str
    runs: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending a message to one target (``target`` masked)."""

    target: str
    status: str
    attempts: int
    error: str | None = None


@dataclass
class Audience:
    """A target and what it hears about: each pack with the events it is judged on (``--notify``'s
    for every pack, a spec's ``alerts.on`` for that spec's packs; both, merged, for a target given
    both ways) and the link base of its packs."""

    target: str
    packs: list[tuple["PackOutcome", tuple[str, ...], str | None]] = field(default_factory=list)

    @property
    def events(self) -> set[str]:
        return {event for _, events, _ in self.packs for event in events}


def audiences(outcomes: Sequence["PackOutcome"], cli_targets: Sequence[str], cli_events: Sequence[str],
              cli_base: str | None = None) -> list[Audience]:
    """Each target once, with its packs: ``--notify`` targets hear about every pack, with
    ``cli_events``; a spec's ``alerts.targets`` about that spec's packs, with its ``alerts.on``."""
    found: dict[str, dict[int, tuple["PackOutcome", set[str], str | None]]] = {}
    for outcome in outcomes:
        alerts = outcome.alerts
        base = cli_base or (alerts.pack_url_base if alerts is not None else None)
        heard = [(target, set(cli_events)) for target in cli_targets]
        if alerts is not None:
            heard += [(target, set(alerts.on)) for target in alerts.targets]
        for target, events in heard:
            packs = found.setdefault(target, {})
            _, known, _ = packs.get(id(outcome), (outcome, set(), base))
            packs[id(outcome)] = (outcome, known | events, base)
    return [Audience(target, [(o, tuple(sorted(e)), b) for o, e, b in packs.values()])
            for target, packs in found.items()]


def _failed_checks(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in results["checks"] if c["status"] == "error"]


def _triggers(results: Mapping[str, Any], events: Iterable[str]) -> bool:
    events = set(events)
    return (results["status"] in events & {"red", "amber"}) or ("error" in events and bool(_failed_checks(results)))


def pack_link(path: Path, out: Path, base: str | None) -> str:
    """The pack's folder, or its URL under ``base`` (the folder relative to ``out``, each part quoted).

    >>> pack_link(Path("reports/pd/2/20261206T1Z-ab"), Path("reports"), "https://mrm.bank.example/packs/")
    'https://mrm.bank.example/packs/pd/2/20261206T1Z-ab/index.html'
    >>> pack_link(Path("reports/pd/2/20261206T1Z-ab"), Path("reports"), None)
    'reports/pd/2/20261206T1Z-ab'
    """
    if not base:
        return str(path)
    try:
        relative = Path(path).resolve().relative_to(Path(out).resolve())
    except ValueError:
        relative = Path(*Path(path).parts[-3:])
    return base.rstrip("/") + "/" + "/".join(quote(part) for part in relative.parts) + "/index.html"


def _issue_lines(results: Mapping[str, Any]) -> list[str]:
    """The pack's issues worst first, each on one line with its status and figure, then the
    checks that could not run."""
    issues = [(_SEVERITY.get(issue["status"], 9), issue["status"], issue["check"], issue["sentence"])
              for check in results["checks"] for issue in check.get("issues") or []
              if issue["status"] in ("red", "amber")]
    issues.sort(key=lambda item: item[0])
    lines = [f"  {status.upper():5}  {check}: {sentence}" for _, status, check, sentence in issues[:TOP_ISSUES]]
    if len(issues) > TOP_ISSUES:
        more = len(issues) - TOP_ISSUES
        lines.append(f"  ... and {more} more issue{'s' * (more != 1)} in the pack")
    for check in _failed_checks(results):
        kind = (check.get("error") or {}).get("kind", "error")
        lines.insert(0, f"  ERROR  {check['name']}: the check could not run ({kind}); the pack has the details")
    return lines


def _changes_line(outcome: "PackOutcome", registry: "Registry | None") -> str | None:
    """What changed since the previous version: the findings whose status moved."""
    from validation.reporting.history import compare_findings

    card_file = outcome.path / "card.json"
    diff = None
    if card_file.is_file():
        import json

        diff = json.loads(card_file.read_text()).get("diff")
    if not diff or registry is None:
        return None
    new = [{**f, "check": c["name"]} for c in outcome.results["checks"] for f in c["findings"]]
    table = compare_findings(registry.findings(diff["run"]), new)
    moved = table[(table["diff"] == "changed") & (table["old_status"] != table["new_status"])]
    if moved.empty:
        return f"  Since version {diff['version']}: no finding changed status."
    shown = "; ".join(f"{row.check} {row.metric} {row.subject}: {row.old_status} -> {row.new_status}"
                      for row in moved.head(CHANGES_SHOWN).itertuples())
    more = f"; and {len(moved) - CHANGES_SHOWN} more" if len(moved) > CHANGES_SHOWN else ""
    return f"  Since version {diff['version']}: {len(moved)} finding{'s' * (len(moved) != 1)} changed status: " \
           f"{shown}{more}."


def _overdue_lines(registry: "Registry | None", today: datetime.date) -> list[str]:
    from validation.reporting.history import inventory

    if registry is None:
        return []
    table = inventory(registry, today=today)
    late = table[table["overdue"]]
    return [f"  {row.model} version {row.version}: due {row.next_due} (materiality {row.materiality})"
            for row in late.itertuples()]


def run_message(outcomes: Sequence["PackOutcome"], events: Iterable[str], *, out: Path,
                pack_url_base: str | None = None, registry: "Registry | None" = None,
                today: datetime.date | None = None,
                bases: Mapping[int, str | None] | None = None,
                judged: Mapping[int, Iterable[str]] | None = None) -> AlertMessage | None:
    """The message of one run to one target, or ``None`` when nothing in it calls for one.

    Parameters
    ----------
    outcomes
        The run's packs the target hears about.
    events
        What calls for a message: ``red``, ``amber`` (a pack of that overall status), ``error`` (a
        check that could not run), ``overdue`` (a model past its validation date in the registry).
    out
        The folder the packs are written under (for their links).
    pack_url_base
        The URL the folder is published under; the packs are given as paths without it.
    bases, judged
        By ``id()`` of an outcome: its own link base, and its own events (a spec's), in place of
        ``pack_url_base`` and ``events``.
    """
    events = tuple(events)
    today = today or datetime.date.today()
    judged = judged or {}
    bases = bases or {}
    triggered = [o for o in outcomes if _triggers(o.results, judged.get(id(o), events))]
    overdue = _overdue_lines(registry, today) if "overdue" in events else []
    if not triggered and not overdue:
        return None
    blocks = []
    for outcome in triggered:
        results = outcome.results
        model = results["model"]
        lines = [f"{model['name']} version {model['version']}: {results['status'].upper()} (run {results['run']['id']})",
                 *_issue_lines(results)]
        change = _changes_line(outcome, registry)
        if change:
            lines.append(change)
        lines.append(f"  Pack: {pack_link(outcome.path, out, bases.get(id(outcome), pack_url_base))}")
        blocks.append("\n".join(lines))
    if overdue:
        blocks.append("Overdue for validation:\n" + "\n".join(overdue))
    worst = min((o.results["status"] for o in triggered), key=lambda s: _SEVERITY.get(s, 9), default=None)
    if len(triggered) == 1:
        model = triggered[0].results["model"]
        title = f"Validation {worst}: {model['name']} version {model['version']}"
    elif triggered:
        title = f"Validation: {len(triggered)} of {len(outcomes)} model versions need attention (worst: {worst})"
    else:
        title = f"Validation: {len(overdue)} model{'s' * (len(overdue) != 1)} overdue for validation"
    footer = (f"{len(outcomes)} model version{'s' * (len(outcomes) != 1)} validated in this run; "
              "one message per run (docs/cli.md, Alerts).")
    return AlertMessage(title, "\n\n".join([*blocks, footer]), tuple(o.results["run"]["id"] for o in triggered))


def apprise_module() -> Any:
    """Apprise, without the DeprecationWarning of the ``imghdr`` module its e-mail plugin imports
    (Python 3.11 and 3.12; imported here first, silently): a dependency's warning is no failure of a
    run, and it would fail one where warnings are errors."""
    import contextlib
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*imghdr.*", category=DeprecationWarning)
        import apprise

        with contextlib.suppress(ImportError):
            import imghdr  # noqa: F401
    return apprise


def expand(target: str, environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """A target with each ``${VAR}`` replaced by the environment variable's value, and the values
    used (to mask them in any error text).

    Raises
    ------
    KeyError
        Naming a variable that is not set.
    """
    environ = os.environ if environ is None else environ
    used: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in environ:
            raise KeyError(name)
        used.append(environ[name])
        return environ[name]

    return _PLACEHOLDER.sub(value, target), used


def shown(target: str) -> str:
    """A target as it may be printed or recorded: ``${VAR}`` when it is one, else its scheme and
    host alone (a password, a token in a path or a header never shows).

    >>> shown("${MRM_HOOK}"), shown("mailtos://risk:hunter2@smtp.bank.example:587?to=mrm@bank.example")
    ('${MRM_HOOK}', 'mailtos://smtp.bank.example:587/...')
    >>> shown("slack://T1/B2/secret"), shown("not a url")
    ('slack://t1/...', '(not a URL)')
    """
    from urllib.parse import urlsplit

    if _PLACEHOLDER.fullmatch(target.strip()):
        return target.strip()
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(not a URL)"
    if not parts.scheme or "://" not in target:
        return "(not a URL)"
    return f"{parts.scheme}://{host}{port}/..."


def deliver(message: AlertMessage, target: str, *, attempts: int | None = None, wait: float | None = None,
            environ: Mapping[str, str] | None = None) -> Delivery:
    """Send ``message`` to ``target``, trying ``attempts`` times (default :data:`ATTEMPTS`), waiting
    ``wait`` seconds (default :data:`WAIT_SECONDS`), then twice that...; never raises."""
    apprise = apprise_module()

    attempts = ATTEMPTS if attempts is None else attempts
    wait = WAIT_SECONDS if wait is None else wait

    label = shown(target)
    try:
        url, secrets = expand(target, environ)
    except KeyError as missing:
        return Delivery(label, "failed", 0, f"the environment variable {missing.args[0]} is not set")
    server = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if not server:
        return Delivery(label, "failed", 0, "not a notification URL Apprise knows (see its list of services)")
    notifier = apprise.Apprise()
    notifier.add(server)
    error = "the target refused the message"
    for attempt in range(1, attempts + 1):
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            sent = notifier.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT)
        if bool(sent):
            return Delivery(label, "sent", attempt)
        lines = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
        error = _masked(lines[-1] if lines else error, secrets)
        if attempt < attempts:
            time.sleep(wait * 2 ** (attempt - 1))
    return Delivery(label, "failed", attempts, error)


def _masked(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:500]


def notify_run(outcomes: Sequence["PackOutcome"], *, cli_targets: Sequence[str] = (),
               cli_events: Sequence[str] = (), out: Path, pack_url_base: str | None = None,
               registry: "Registry | None" = None, dry_run: bool = False, attempts: int | None = None,
               wait: float | None = None) -> list[tuple[Audience, AlertMessage | None, Delivery | None]]:
    """Build and send each target's message of a run (printing nothing: the caller reports); with
    ``dry_run``, build them only. Each delivery is recorded in the registry. Never raises: a message
    that cannot be built (a registry that cannot be read) is a failed delivery, like a target that
    cannot be reached, and a delivery the registry cannot record says so in its error."""
    from validation.inputs.spec import DEFAULT_ALERT_EVENTS

    sent: list[tuple[Audience, AlertMessage | None, Delivery | None]] = []
    delivery: Delivery | None
    for audience in audiences(outcomes, cli_targets, cli_events or DEFAULT_ALERT_EVENTS, pack_url_base):
        try:
            message = run_message([o for o, _, _ in audience.packs], audience.events, out=out, registry=registry,
                                  bases={id(o): b for o, _, b in audience.packs},
                                  judged={id(o): e for o, e, _ in audience.packs})
        except Exception as exc:
            message, delivery = None, Delivery(shown(audience.target), "failed", 0, "the message could not be built "
                                               f"({type(exc).__name__}: {_masked(str(exc), [])})")
        else:
            if message is None:
                continue
            delivery = None if dry_run else deliver(message, audience.target, attempts=attempts, wait=wait)
        if delivery is not None and registry is not None:
            try:
                registry.record_alert(target=delivery.target, runs=message.runs if message else (),
                                      status=delivery.status, attempts=delivery.attempts, error=delivery.error)
            except Exception as exc:  # the delivery stands; its error says it is not in the registry
                delivery = Delivery(delivery.target, delivery.status, delivery.attempts,
                                    ((delivery.error + "; ") if delivery.error else "")
                                    + f"not recorded: the registry could not be written ({type(exc).__name__})")
        sent.append((audience, message, delivery))
    return sent
