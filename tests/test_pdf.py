"""The pack as one PDF (validation.reporting.pdf): a real demo pack printed by Debian's headless
Chromium, read back with pypdf (pages, contents page, bookmarks, every table column's header in
the text), with Chromium's own network log proving no connection left the machine; and the errors
(no Chromium, not a pack, Chromium failing or hanging) with fake Chromium scripts, which need no
browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import pytest

from validation.errors import InputError, OutputError, ToolFailure
from validation.reporting import pdf as printing
from validation.reporting.pdf import CHROMIUM_ENV, CHROMIUM_FIX, ChromiumNotFound, PdfReport, print_pack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
A4_LANDSCAPE = (841.89, 595.28)  # points: 297 mm x 210 mm

if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the PDF test; .ci/run installs it")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")


class _Headers(HTMLParser):
    """Column headers (``<thead>``'s ``<th>`` texts) of every table of a page, and its first
    ``<h1>``'s first text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[str]] = []
        self.heading: str | None = None
        self._in_thead = self._in_th = self._in_h1 = False
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "thead":
            self._in_thead = True
        elif tag == "th" and self._in_thead:
            self._in_th, self._text = True, ""
        elif tag == "h1" and self.heading is None:
            self._in_h1 = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_thead = False
        elif tag == "th" and self._in_th:
            self._in_th = False
            if self._text.strip() and self.tables:
                self.tables[-1].append(" ".join(self._text.split()))
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self._text += data
        if self._in_h1 and self.heading is None and data.strip():
            self.heading = " ".join(data.split())


def _parse(page: Path) -> _Headers:
    parser = _Headers()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _squeezed(text: str) -> str:
    """Text compared without its layout: ligatures unfolded (pypdf reads "ﬁ"), whitespace removed
    (a narrow column wraps a header across lines)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _fake_pack(root: Path, *, model: str = "toy_pd", pages: dict[str, str] | None = None) -> Path:
    """A minimal pack: index.html, one check page per ``pages`` entry, results.json naming them."""
    pack = root / "pack"
    (pack / "html").mkdir(parents=True)
    (pack / "index.html").write_text("<!DOCTYPE html><html><head><title>index</title></head>"
                                     "<body><h1>Summary page</h1><a href='html/a.html'>a</a></body></html>")
    pages = pages if pages is not None else {"a": "<h1>Check a</h1><p>alpha</p>"}
    for name, body in pages.items():
        (pack / "html" / f"{name}.html").write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
    checks = [{"name": name, "status": "green", "html": f"html/{name}.html"} for name in pages]
    (pack / "results.json").write_text(json.dumps({
        "model": {"name": model, "version": "1", "type": "classification"},
        "run": {"id": "20260101T000000Z-abcdef"}, "status": "green", "checks": checks}))
    return pack


def _fake_chromium(root: Path, body: str) -> str:
    """An executable shell script standing in for Chromium."""
    script = root / "fake-chromium"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def _logging_command(folder: Path) -> Any:
    """print_pack's Chromium command line, plus a network log (Chromium's ``--log-net-log``) per
    Chromium started, written into ``folder``."""
    command = printing.chromium_command
    counter = iter(range(10_000))

    def logged(*args: Any) -> list[str]:
        line = command(*args)
        return [*line[:-1], f"--log-net-log={folder / f'{next(counter)}.json'}", line[-1]]

    return logged


@pytest.fixture
def netlogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder where every Chromium print_pack starts writes its network log."""
    folder = tmp_path / "netlogs"
    folder.mkdir()
    monkeypatch.setattr(printing, "chromium_command", _logging_command(folder))
    return folder


def _connections(folder: Path) -> Iterator[tuple[str, str]]:
    """(event, address or URL) of every connection attempt and URL request in the network logs."""
    for log in sorted(folder.glob("*.json")):
        document = json.loads(log.read_text())
        names = {number: name for name, number in document["constants"]["logEventTypes"].items()}
        for event in document["events"]:
            name, params = names[event["type"]], event.get("params") or {}
            if name in ("TCP_CONNECT_ATTEMPT", "UDP_CONNECT", "SOCKET_CONNECT") and "address" in params:
                yield name, params["address"]
            elif name == "URL_REQUEST_START_JOB" and "url" in params:
                yield name, params["url"]


# Chromium's resolver checks whether IPv6 is routable with connect() on a UDP socket to this address,
# which sends no packet (a UDP connect only picks a route).
IPV6_PROBE = "[2001:4860:4860::8888]:443"


def _left_the_machine(folder: Path) -> list[str]:
    return [f"{event} {address}" for event, address in _connections(folder)
            if event != "URL_REQUEST_START_JOB" and not address.startswith(("127.0.0.1:", "[::1]:"))
            and not (event in ("UDP_CONNECT", "SOCKET_CONNECT") and address == IPV6_PROBE)]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PdfReport, Path]:
    """The demo's version 2 pack (with its diff page against version 1), printed once, with the
    network logs of every Chromium it started: (pack, report, network log folder)."""
    from validation.demo import prepare_demo
    from validation.execution.pipeline import run_specs as run
    from validation.governance.registry import Registry

    root = tmp_path_factory.mktemp("pdf")
    spec = prepare_demo(root)
    registry = Registry(root / "registry.sqlite")
    run([spec], version="1", out=root / "reports", workers=2, registry=registry)
    (outcome,), _ = run([spec], version="2", out=root / "reports", workers=2, registry=registry)
    folder = root / "netlogs"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(printing, "chromium_command", _logging_command(folder))
        report = print_pack(outcome.path, root / "pack.pdf")
    return outcome.path, report, folder


def _sections_expected(pack: Path) -> list[tuple[str, Path]]:
    results = json.loads((pack / "results.json").read_text())
    expected = [(f"Summary: {results['model']['name']} version {results['model']['version']}", pack / "index.html")]
    expected += [(f"Check: {c['name']}", pack / c["html"]) for c in results["checks"] if c["html"]]
    if (pack / "html" / "diff.html").is_file():
        expected.append(("Comparison with the previous version", pack / "html" / "diff.html"))
    return expected


def _section_texts(report: PdfReport) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(report.path)
    starts = [page for _, page in report.sections] + [len(reader.pages) + 1]
    return ["\n".join(reader.pages[number - 1].extract_text() for number in range(start, end))
            for start, end in zip(starts, starts[1:])]


@needs_chromium
def test_every_page_of_the_pack_is_a_section_in_order(printed: tuple[Path, PdfReport, Path]) -> None:
    from pypdf import PdfReader

    pack, report, _ = printed
    reader = PdfReader(report.path)
    expected = _sections_expected(pack)
    assert [title for title, _ in report.sections] == [title for title, _ in expected]
    assert any(title.startswith("Comparison") for title, _ in report.sections)  # the demo's v2 has a diff
    assert {"Check: data_quality", "Check: challenger"} <= {title for title, _ in report.sections}
    assert report.pages == len(reader.pages)
    firsts = [page for _, page in report.sections]
    assert firsts[0] == 2 and firsts == sorted(set(firsts)) and firsts[-1] <= report.pages
    # each section starts with its own page: the page's first heading is on the section's first PDF page
    for (_, page), first in zip(expected, firsts):
        heading = _parse(page).heading
        assert heading is not None, page
        assert _squeezed(heading) in _squeezed(reader.pages[first - 1].extract_text()), (page.name, first)
    assert report.size == report.path.stat().st_size > 50_000


@needs_chromium
def test_text_copied_from_the_pdf_has_no_ligatures(printed: tuple[Path, PdfReport, Path]) -> None:
    """Chromium joins "ff", "fi", "ffi"... into one glyph (U+FB00 to U+FB06) unless told not to, and
    a PDF reader then copies "ﬀ" for "ff": a run id such as ``...Z-ff6315``, a sha256, "coefficient"
    or a column name would not read back as the pack wrote it (a CI run failed on such a run id)."""
    from pypdf import PdfReader

    _, report, _ = printed
    text = "".join(page.extract_text() for page in PdfReader(report.path).pages)
    assert "fi" in text and "ff" in text  # the demo pack has both ("findings", "coefficient"...)
    assert not {char for char in text if "\ufb00" <= char <= "\ufb06"}


@needs_chromium
def test_pages_are_a4_landscape(printed: tuple[Path, PdfReport, Path]) -> None:
    from pypdf import PdfReader

    _, report, _ = printed
    sizes = {(round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
             for p in PdfReader(report.path).pages}
    assert all(abs(w - A4_LANDSCAPE[0]) < 1 and abs(h - A4_LANDSCAPE[1]) < 1 for w, h in sizes), sizes


@needs_chromium
def test_contents_page_lists_every_section_with_its_first_page(printed: tuple[Path, PdfReport, Path]) -> None:
    from pypdf import PdfReader

    pack, report, _ = printed
    reader = PdfReader(report.path)
    lines = [" ".join(line.split()) for line in reader.pages[0].extract_text().splitlines()]
    results = json.loads((pack / "results.json").read_text())
    assert f"Validation pack: {results['model']['name']} version {results['model']['version']}" in lines
    assert any(results["run"]["id"] in line for line in lines)
    for title, first in report.sections:
        rows = [line for line in lines if line.startswith(title + " ")]
        assert len(rows) == 1 and rows[0].endswith(f" {first}"), (title, first, lines)


@needs_chromium
def test_outline_has_one_bookmark_per_section_at_its_first_page(printed: tuple[Path, PdfReport, Path]) -> None:
    from pypdf import PdfReader

    pack, report, _ = printed
    reader = PdfReader(report.path)
    from pypdf.generic import Destination

    items = list(reader.outline)
    assert all(isinstance(item, Destination) for item in items)  # one level: no nested bookmarks
    outline = [(item.title, 1 + (reader.get_destination_page_number(item) or 0))
               for item in items if isinstance(item, Destination)]
    assert outline == report.sections
    results = json.loads((pack / "results.json").read_text())
    assert reader.metadata is not None and reader.metadata.title == (
        f"Validation pack: {results['model']['name']} version {results['model']['version']}, "
        f"run {results['run']['id']}")


@needs_chromium
def test_every_table_column_header_is_printed(printed: tuple[Path, PdfReport, Path]) -> None:
    """Every column header of every table of every page (read from the page's HTML) is in the text
    of that page's section of the PDF: a column clipped by the print layout would be missing."""
    pack, report, _ = printed
    missing: dict[str, list[str]] = {}
    fairness_headers: list[str] = []
    for (_, page), text in zip(_sections_expected(pack), _section_texts(report)):
        squeezed = _squeezed(text)
        tables = _parse(page).tables
        if page.name == "fairness.html":
            fairness_headers = max(tables, key=len)
        absent = sorted({header for table in tables for header in table if _squeezed(header) not in squeezed})
        if absent:
            missing[page.name] = absent
    assert len(fairness_headers) >= 14  # the group table: the 14 columns, all kept
    assert missing == {}, f"column headers not in the PDF's text (clipped in print?): {missing}"


@needs_chromium
def test_links_between_pages_lead_inside_the_pdf_and_none_names_a_local_file(
        printed: tuple[Path, PdfReport, Path]) -> None:
    from pypdf import PdfReader

    _, report, _ = printed
    reader = PdfReader(report.path)
    firsts = {page for _, page in report.sections}
    internal, local = [], []
    for page in reader.pages:
        for reference in page.get("/Annots") or []:
            annotation = reference.get_object()
            action = annotation.get("/A")
            if action is not None and str(action.get_object().get("/URI", "")).startswith("file:"):
                local.append(str(action.get_object()["/URI"]))
            elif "/Dest" in annotation:
                target = annotation["/Dest"][0].get_object()
                internal.append(1 + next(i for i, p in enumerate(reader.pages) if p.get_object() == target))
    assert local == []
    assert internal and set(internal) <= firsts  # the summary's links to the check pages


@needs_chromium
def test_no_connection_left_the_machine(printed: tuple[Path, PdfReport, Path]) -> None:
    _, report, folder = printed
    logs = list(folder.glob("*.json"))
    assert len(logs) == len(report.sections) + 1  # one log per Chromium: every page, and the contents
    assert _left_the_machine(folder) == []
    # Chromium did try (its own update and sign-in services): the logs see attempts, all refused at loopback
    assert any(event == "TCP_CONNECT_ATTEMPT" for event, _ in _connections(folder))


@needs_chromium
def test_a_page_that_asks_for_the_network_gets_nothing(tmp_path: Path, netlogs: Path) -> None:
    """The control: a page that loads images from the internet is printed, its requests are made
    (the log shows them), and every connection goes to the refusing loopback proxy."""
    pack = _fake_pack(tmp_path, pages={"a": "<h1>Remote</h1><img src='http://example.com/a.png'>"
                                            "<img src='https://example.org/b.png'>"})
    report = print_pack(pack, tmp_path / "out.pdf")
    urls = [address for event, address in _connections(netlogs) if event == "URL_REQUEST_START_JOB"]
    assert "http://example.com/a.png" in urls and "https://example.org/b.png" in urls
    assert _left_the_machine(netlogs) == []
    assert report.pages == 3


@needs_chromium
def test_contents_page_escapes_the_pack_text(tmp_path: Path) -> None:
    from pypdf import PdfReader

    pack = _fake_pack(tmp_path, model="<b>toy</b>&co")
    report = print_pack(pack, tmp_path / "out.pdf")
    assert "Validation pack: <b>toy</b>&co version 1" in PdfReader(report.path).pages[0].extract_text()
    assert report.sections == [("Summary: <b>toy</b>&co version 1", 2), ("Check: a", 3)]


def test_missing_chromium_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _fake_pack(tmp_path)
    out = tmp_path / "out.pdf"
    with pytest.raises(ChromiumNotFound) as named:
        print_pack(pack, out, chromium=str(tmp_path / "no-chromium"))
    assert str(named.value) == (f"printing a PDF needs Chromium, and there is none (the chromium argument names "
                                f"'{tmp_path / 'no-chromium'}', which is not an executable): {CHROMIUM_FIX}")
    monkeypatch.setenv(CHROMIUM_ENV, "no-such-chromium")
    with pytest.raises(ChromiumNotFound, match=f"{CHROMIUM_ENV} names 'no-such-chromium'"):
        print_pack(pack, out)
    monkeypatch.delenv(CHROMIUM_ENV)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ChromiumNotFound, match="none of chromium, chromium-browser, .* is on PATH"):
        print_pack(pack, out)
    assert isinstance(named.value, InputError)  # exit 2: a missing system dependency, with its fix
    assert "apt-get install chromium" in str(named.value) and CHROMIUM_ENV in str(named.value)
    import pickle

    assert str(pickle.loads(pickle.dumps(named.value))) == str(named.value)
    assert not out.exists()


@pytest.mark.parametrize("breakage, named", [
    ("no folder", "no such folder"),
    ("no results.json", "results.json is missing"),
    ("no index.html", "index.html is missing"),
    ("results.json not JSON", "not a pack's results.json"),
    ("results.json without checks", "not a pack's results.json (KeyError"),
    ("check page missing", "the page of check 'a' is missing"),
])
def test_a_folder_that_is_not_a_pack_is_an_input_error(tmp_path: Path, breakage: str, named: str) -> None:
    pack = _fake_pack(tmp_path)
    if breakage == "no folder":
        shutil.rmtree(pack)
    elif breakage == "no results.json":
        (pack / "results.json").unlink()
    elif breakage == "no index.html":
        (pack / "index.html").unlink()
    elif breakage == "results.json not JSON":
        (pack / "results.json").write_text("{")
    elif breakage == "results.json without checks":
        (pack / "results.json").write_text(json.dumps({"model": {"name": "m", "version": "1"}}))
    else:
        (pack / "html" / "a.html").unlink()
    with pytest.raises(InputError, match=re.escape(named)) as raised:
        print_pack(pack, tmp_path / "out.pdf", chromium=_fake_chromium(tmp_path, "exit 0"))
    assert str(pack) in str(raised.value)
    assert not (tmp_path / "out.pdf").exists()


def test_an_output_in_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist; create it first"):
        print_pack(_fake_pack(tmp_path), tmp_path / "nowhere" / "out.pdf", chromium=_fake_chromium(tmp_path, "exit 0"))


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".out.pdf"))


def test_chromium_failing_is_a_tool_failure_and_the_old_pdf_stays(tmp_path: Path) -> None:
    pack = _fake_pack(tmp_path)
    out = tmp_path / "out.pdf"
    out.write_bytes(b"%PDF- the previous print")
    failing = _fake_chromium(tmp_path, "echo '[1:2:ERROR:dbus/bus.cc] noise' >&2; echo 'cannot open display' >&2; exit 3")
    with pytest.raises(ToolFailure) as raised:
        print_pack(pack, out, chromium=failing)
    assert str(raised.value).endswith("Chromium exited with code 3: cannot open display")
    assert "\n" not in str(raised.value)
    assert out.read_bytes() == b"%PDF- the previous print" and _leftovers(tmp_path) == []


def test_chromium_writing_no_pdf_is_a_tool_failure(tmp_path: Path) -> None:
    # exits 0 having written something that is not a PDF to the --print-to-pdf file
    silent = _fake_chromium(tmp_path, 'for a; do case "$a" in --print-to-pdf=*) echo junk > "${a#--print-to-pdf=}";; '
                                      "esac; done; exit 0")
    with pytest.raises(ToolFailure, match="Chromium wrote no PDF"):
        print_pack(_fake_pack(tmp_path), tmp_path / "out.pdf", chromium=silent)
    assert not (tmp_path / "out.pdf").exists() and _leftovers(tmp_path) == []


def test_a_hanging_chromium_is_stopped_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    hanging = _fake_chromium(tmp_path, f"sleep 60 & echo $! >> {pids}; wait")
    started = time.monotonic()
    with pytest.raises(ToolFailure, match=r"no PDF within 1 s \(the whole print's limit\); Chromium was stopped"):
        print_pack(_fake_pack(tmp_path, pages={"a": "a", "b": "b", "c": "c"}), tmp_path / "out.pdf",
                   timeout=1, chromium=hanging)
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    children = [int(line) for line in pids.read_text().split()]
    assert children
    for pid in children:  # the children of the killed group are gone (or zombies reaped by init)
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "State:\tZ" in status.read_text(), pid
    assert not (tmp_path / "out.pdf").exists() and _leftovers(tmp_path) == []
