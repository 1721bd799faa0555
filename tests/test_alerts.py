"""Alerts (issue 22): one message per run, received by real servers on loopback (an SMTP server,
aiosmtpd; an HTTP server taking the webhook's JSON); an unreachable target retried, recorded and
never the run's result; no identifier or rare category in a message; no secret in a spec."""

from __future__ import annotations

import email
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from click.testing import CliRunner

from conftest import synthetic_sample
from validation.cli import main


class _Mailbox:
    """aiosmtpd's handler: every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[_Mailbox, int, list[dict[str, Any]], int]]:
    """A loopback SMTP server and a loopback HTTP server: (mailbox, SMTP port, posted JSON bodies, HTTP port)."""
    from aiosmtpd.controller import Controller

    mailbox, smtp_port = _Mailbox(), _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    posted: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mailbox, smtp_port, posted, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        controller.stop()


def _mail_target(port: int, *extra: str) -> str:
    return f"mailto://127.0.0.1:{port}?from=validation@bank.example&to=mrm@bank.example&mode=insecure" + "".join(extra)


@pytest.fixture(scope="module")
def red_demo_run(tmp_path_factory: pytest.TempPathFactory, receivers: tuple[_Mailbox, int, list[dict[str, Any]], int]
                 ) -> tuple[Any, Path]:
    """The demo (version 1 amber, version 2 red) run once with an e-mail and a webhook target."""
    from validation.demo import prepare_demo

    mailbox, smtp_port, posted, http_port = receivers
    root = tmp_path_factory.mktemp("alerts")
    spec = prepare_demo(root)
    result = CliRunner().invoke(main, ["run", str(spec), "--out", str(root / "reports"), "--quiet",
                                       "--notify", _mail_target(smtp_port),
                                       "--notify", f"json://127.0.0.1:{http_port}/hook",
                                       "--pack-url-base", "https://mrm.bank.example/packs"])
    return result, root


def test_a_red_demo_run_sends_one_email_and_one_webhook(red_demo_run: tuple[Any, Path],
                                                        receivers: tuple[_Mailbox, int, list[dict[str, Any]], int]
                                                        ) -> None:
    result, root = red_demo_run
    mailbox, _, posted, _ = receivers
    assert result.exit_code == 1, result.output  # red: the alerts do not change the exit code
    assert len(mailbox.messages) == 1 and len(posted) == 1
    mail = email.message_from_bytes(mailbox.messages[0].content)
    assert mail["Subject"] == "Validation red: german_credit_pd version 2"
    assert mailbox.messages[0].rcpt_tos == ["mrm@bank.example"]
    text = mail.get_payload(decode=True).decode()
    hook = posted[0]
    assert hook["title"] == mail["Subject"]
    assert hook["message"].replace("\r\n", "\n").strip() == text.replace("\r\n", "\n").strip()
    pack = Path(result.output.strip().splitlines()[-1])
    run_id = json.loads((pack / "results.json").read_text())["run"]["id"]
    assert f"german_credit_pd version 2: RED (run {run_id})" in text
    assert "  RED    fairness: " in text and "disparate_impact_ratio of age_band:<25" in text  # the top issue
    assert "Since version 1: " in text and "green -> red" in text  # what changed
    assert f"Pack: https://mrm.bank.example/packs/german_credit_pd/2/{run_id}/index.html" in text
    assert "german_credit_pd version 1" not in text  # amber is not an event by default
    assert text.count("\n  RED") + text.count("\n  AMBER") <= 5  # one line per issue, the top five
    assert "alert sent to" in result.output
    listed = CliRunner().invoke(main, ["alerts", "--all", "--out", str(root / "reports")])
    assert listed.exit_code == 0 and listed.output.count("sent") == 2


def test_an_html_target_gets_the_text_escaped(receivers: tuple[_Mailbox, int, list[dict[str, Any]], int]) -> None:
    """The message is plain text; a target that reads HTML gets it escaped ("<25" as "&lt;25")."""
    from validation.governance.alerts import AlertMessage, deliver

    mailbox, smtp_port, _, _ = receivers
    before = len(mailbox.messages)
    message = AlertMessage("Validation red: toy_pd version 1", "  RED    fairness: ratio of age_band:<25 <script>", ())
    delivery = deliver(message, _mail_target(smtp_port, "&format=html"))
    assert delivery.status == "sent" and len(mailbox.messages) == before + 1
    content = mailbox.messages[-1].content.decode()
    html = next(part for part in email.message_from_string(content).walk()
                if part.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "age_band:&lt;25" in html and "&lt;script&gt;" in html and "<script>" not in html


def _red_spec(write_spec: Callable[..., Path], **alerts: Any) -> Path:
    """A spec whose fairness check is red (one group approved far less often), with an alerts block."""
    current = synthetic_sample(300, seed=2)
    current.loc[current["sex"] == "female", "pd"] = 0.9
    return write_spec({"checks": ["fairness"], **({"alerts": alerts} if alerts else {})}, current=current)


def test_an_unreachable_target_is_retried_recorded_and_never_fails_the_run(
        write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from validation.governance import alerts

    monkeypatch.setattr(alerts, "WAIT_SECONDS", 0.01)
    closed = _free_port()  # nothing listens there
    monkeypatch.setenv("VALIDATION_TEST_HOOK", f"json://127.0.0.1:{closed}/hook")
    spec = _red_spec(write_spec, targets=["${VALIDATION_TEST_HOOK}"])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(spec), "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output  # red, as without alerts
    pack = Path(result.output.strip().splitlines()[-1])
    assert (pack / "results.json").is_file() and json.loads((pack / "results.json").read_text())["status"] == "red"
    assert "warning: alert to ${VALIDATION_TEST_HOOK} failed after 3 attempt(s)" in result.output
    listed = CliRunner().invoke(main, ["alerts", "--out", str(out)])
    assert listed.exit_code == 0 and "${VALIDATION_TEST_HOOK}" in listed.output and "failed" in listed.output
    from validation.governance.registry import Registry

    (row,) = Registry(out / "registry.sqlite").alerts()
    assert row["attempts"] == 3 and row["status"] == "failed" and row["runs"] == pack.name
    assert "Connection" in row["error"] and " - WARNING - " not in row["error"]  # Apprise's words, no log prefix


def test_a_message_holds_no_identifier_and_no_rare_category(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """A sentinel identifier and a category held by one applicant are in the data; the message,
    built from the pack's aggregates, shows neither."""
    current = synthetic_sample(300, seed=2)
    current.loc[current["sex"] == "female", "pd"] = 0.9
    current.loc[7, "customer_id"] = 987_654_321_987
    current.loc[8, "region"] = "ZZSENTINELREGION"
    spec = write_spec({"checks": ["drift", "fairness", "data_quality"]}, current=current)
    result = CliRunner().invoke(main, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet",
                                       "--notify", "json://127.0.0.1:9/never", "--notify-on", "red,amber,error",
                                       "--notify-dry-run"])
    assert result.exit_code == 1, result.output
    assert "Validation red: toy_pd version 1" in result.output and "not sent: --notify-dry-run" in result.output
    assert "987654321987" not in result.output and "987654321" not in result.output
    assert "ZZSENTINEL" not in result.output


def test_a_literal_secret_in_a_spec_is_refused_and_never_echoed(write_spec: Callable[..., Path],
                                                                 tmp_path: Path) -> None:
    for target in ("mailtos://risk:hunter2@smtp.bank.example?to=mrm@bank.example",
                   "json://hooks.bank.example/mrm?token=hunter2"):
        spec = _red_spec(write_spec, targets=[target])
        result = CliRunner().invoke(main, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
        assert result.exit_code == 2 and "alerts.targets[0]: a literal secret in the URL" in result.output
        assert "hunter2" not in result.output
        assert not (tmp_path / "out").exists()


def test_a_notify_url_apprise_does_not_know_is_refused_before_anything_runs(write_spec: Callable[..., Path],
                                                                            tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(_red_spec(write_spec)), "--out", str(tmp_path / "out"),
                                       "--notify", "nosuch://host/path"])
    assert result.exit_code == 2 and "not a notification URL Apprise knows" in result.output
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(main, ["run", str(_red_spec(write_spec)), "--out", str(tmp_path / "out"),
                                       "--notify", "json://h/x", "--notify-on", "red,purple"])
    assert result.exit_code == 2 and "--notify-on" in result.output


def test_a_model_past_its_validation_date_is_reported_overdue(red_demo_run: tuple[Any, Path]) -> None:
    """The demo's model (materiality medium, which sets its next validation date: docs/spec.md,
    Materiality) is overdue the day after that date, in a run that validates nothing else; not on it."""
    import datetime

    from validation.governance.alerts import run_message
    from validation.governance.registry import Registry
    from validation.reporting.history import inventory

    _, root = red_demo_run
    registry = Registry(root / "reports" / "registry.sqlite")
    (due,) = inventory(registry, today=datetime.date.today())["next_due"]
    later = datetime.date.fromisoformat(due) + datetime.timedelta(days=1)
    message = run_message([], ["overdue"], out=root / "reports", registry=registry, today=later)
    assert message is not None and message.title == "Validation: 1 model overdue for validation"
    assert f"Overdue for validation:\n  german_credit_pd version 2: due {due} (materiality medium)" in message.body
    assert run_message([], ["overdue"], out=root / "reports", registry=registry,
                       today=datetime.date.fromisoformat(due)) is None  # due that day: not yet overdue
    assert run_message([], ["red", "error"], out=root / "reports", registry=registry, today=later) is None


def test_a_target_named_twice_gets_one_message_with_each_pack_judged_on_its_own_events(tmp_path: Path) -> None:
    """--notify X (red) and a spec naming X (amber too): one message to X; the spec's amber pack is
    in it because its spec asks for amber, another spec's amber pack is not."""
    from validation.execution.pipeline import PackOutcome
    from validation.governance.alerts import notify_run
    from validation.inputs.spec import Alerts

    def outcome(name: str, status: str, alerts: Alerts | None) -> PackOutcome:
        results = {"model": {"name": name, "version": "1"}, "status": status, "run": {"id": f"run-{name}"},
                   "checks": [{"name": "drift", "status": status, "findings": [], "issues": [
                       {"status": status, "check": "drift", "sentence": f"psi of score is high ({name})"}]}]}
        return PackOutcome(tmp_path / name / "1" / f"run-{name}", results, [], alerts)

    asked = Alerts(targets=["json://127.0.0.1:9/x"], on=["amber"], pack_url_base="https://a.example/packs")
    packs = [outcome("red_pd", "red", None), outcome("amber_pd", "amber", asked), outcome("other_pd", "amber", None)]
    ((audience, message, delivery),) = notify_run(packs, cli_targets=["json://127.0.0.1:9/x"], cli_events=["red"],
                                                  out=tmp_path, dry_run=True)
    assert delivery is None and message is not None
    assert "red_pd version 1: RED" in message.body and "amber_pd version 1: AMBER" in message.body
    assert "other_pd" not in message.body
    assert "Pack: https://a.example/packs/amber_pd/1/run-amber_pd/index.html" in message.body
    assert f"Pack: {tmp_path / 'red_pd' / '1' / 'run-red_pd'}" in message.body
    assert message.runs == ("run-red_pd", "run-amber_pd")


def test_targets_are_shown_without_their_secrets(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    from validation.governance.alerts import shown

    for target in ("mailtos://risk:hunter2@smtp.bank.example?to=mrm@bank.example",
                   "json://hooks.bank.example/x?+Authorization=Bearer%20hunter2", "slack://T1/B2/hunter2",
                   "mailtos://risk:hunter2@smtp.bank.example?to=${TO}"):
        assert "hunter2" not in shown(target) and shown(target).endswith("/...")
    result = CliRunner().invoke(main, ["run", str(_red_spec(write_spec)), "--out", str(tmp_path / "out"),
                                       "--notify", "mailtoz://risk:hunter2@smtp.bank.example"])
    assert result.exit_code == 2 and "hunter2" not in result.output


@pytest.mark.parametrize("target", ["json://hooks.bank.example/x?+Authorization=Bearer%20hunter2",
                                    "json://hooks.bank.example/x?-token=hunter2", "slack://T1/B2/hunter2"])
def test_a_secret_in_a_header_a_parameter_or_a_path_is_refused_in_a_spec(write_spec: Callable[..., Path],
                                                                         tmp_path: Path, target: str) -> None:
    result = CliRunner().invoke(main, ["run", str(_red_spec(write_spec, targets=[target])), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2 and "alerts.targets[0]: a " in result.output and "hunter2" not in result.output
