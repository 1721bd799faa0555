"""A pack as one PDF: the summary, every check page and the diff page, printed by headless Chromium.

:func:`print_pack` prints each page of a pack (``index.html``, then ``results.json``'s
``checks[].html`` in order, then ``html/diff.html`` when there is one) with Chromium's own
command line (``--print-to-pdf``), at most :data:`PARALLEL` Chromium processes at a time, each
with a fresh profile folder removed afterwards. The pages' own ``@page`` rules set the paper (A4
landscape); nothing on the command line overrides them. pypdf then joins the pages behind a
first "Contents" page (model, version, run, each section's first page), adds one bookmark per
section, turns the links between the pack's pages into links inside the PDF, drops links to
other local files, sets the document's title, and writes the file atomically.

No network: every page of a pack is offline by design, and Chromium is kept from the network
whatever it tries (its own update and sign-in services included): every request goes to a proxy
on a loopback port that is bound but never listens (so every connection is refused), loopback
addresses are not exempt from it, and every host name resolves to nothing
(:data:`NO_NETWORK_FLAGS`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence
from urllib.parse import unquote, urlsplit

from validation.errors import InputError, OutputError, ToolFailure

if TYPE_CHECKING:
    from pypdf import PdfWriter

CHROMIUM_ENV = "VALIDATION_CHROMIUM"
"""Environment variable naming the Chromium to print with (a path or a command name)."""

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Commands looked for on ``PATH`` when neither the ``chromium`` argument nor
:data:`CHROMIUM_ENV` names one."""

CHROMIUM_FIX = f"install Debian's chromium (apt-get install chromium) or set {CHROMIUM_ENV} to its path"

PARALLEL = 2
"""Chromium processes printing at the same time."""

NO_NETWORK_FLAGS = (
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-quic",
    "--disable-features=NetworkTimeServiceQuerying,Translate,OptimizationHints,MediaRouter",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--no-first-run",
    "--no-service-autorun",
    "--password-store=basic",
)
"""Chromium flags that keep it off the network, besides ``--proxy-server`` (a refusing loopback
port, :func:`refusing_loopback_port`). The proxy catches every request, loopback included
(``<-loopback>``); the resolver rule stops the direct connection Chromium falls back to when the
proxy refuses, and any lookup outside the proxy; the rest stop the background services."""

CONTENTS_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Contents: {{ model }} version {{ version }}</title>
<style>
  @page { size: A4 landscape; margin: 15mm; }
  body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 11pt; color: #1b1f24;
         font-variant-ligatures: none; }
  h1 { font-size: 20pt; margin: 0 0 4mm; }
  p.meta { margin: 0 0 8mm; color: #444; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 2mm 3mm; border-bottom: 1px solid #ccc; }
  td.page, th.page { text-align: right; width: 25mm; }
</style>
</head>
<body>
<h1>Validation pack: {{ model }} version {{ version }}</h1>
<p class="meta">Run {{ run_id }}{% if status %}, overall status {{ status }}{% endif %}. Printed {{ printed_at }}.</p>
<h2>Contents</h2>
<table>
<thead><tr><th>Section</th><th>Status</th><th class="page">Page</th></tr></thead>
<tbody>
{% for row in rows %}
<tr><td>{{ row.title }}</td><td>{{ row.status }}</td><td class="page">{{ row.page if row.page else "not printed" }}</td></tr>
{% endfor %}
</tbody>
</table>
</body>
</html>
"""
"""The first page: autoescaped (model names, versions and check names are the spec's text)."""


@dataclass(frozen=True)
class PdfReport:
    """What :func:`print_pack` wrote.

    Attributes
    ----------
    path
        The PDF.
    pages
        Its number of pages, the contents page included.
    sections
        ``(title, first page)`` of each printed section in order, pages counted from 1.
    seconds
        Wall time of the whole print.
    size
        The PDF's size in bytes.
    """

    path: Path
    pages: int
    sections: list[tuple[str, int]]
    seconds: float
    size: int


@dataclass(frozen=True)
class Section:
    """One page of the pack to print: its title on the contents page and in the bookmarks, its
    status (``""`` when none) and its HTML file (``None`` for a check without a page)."""

    title: str
    status: str
    page: Path | None


class ChromiumNotFound(InputError):
    """No Chromium to print with: a missing system dependency with a fix (exit code 2).

    Parameters
    ----------
    looked_for
        What was looked for: the given path or command, or the names searched on ``PATH``.
    """

    def __init__(self, looked_for: str) -> None:
        self.looked_for = looked_for
        super().__init__(f"printing a PDF needs Chromium, and there is none ({looked_for}): {CHROMIUM_FIX}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.looked_for,))


def find_chromium(chromium: str | None = None) -> str:
    """The Chromium executable: ``chromium`` when given, else :data:`CHROMIUM_ENV`, else the
    first of :data:`CHROMIUM_NAMES` on ``PATH``.

    Raises
    ------
    ChromiumNotFound
        (exit 2) When the one named is not an executable, or none is found.
    """
    named = chromium or os.environ.get(CHROMIUM_ENV) or None
    if named is not None:
        found = shutil.which(named)
        if found is None:
            source = "the chromium argument" if chromium else CHROMIUM_ENV
            raise ChromiumNotFound(f"{source} names {named!r}, which is not an executable")
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ChromiumNotFound(f"none of {', '.join(CHROMIUM_NAMES)} is on PATH")


def pack_sections(pack: Path) -> tuple[dict[str, Any], list[Section]]:
    """``results.json`` of ``pack`` and the sections to print, in order: the summary, each check
    (``checks[].html``; a check without a page is listed, not printed), the diff when present.

    Raises
    ------
    InputError
        (exit 2) ``pack`` is not a pack folder: no such folder, ``index.html`` or
        ``results.json`` missing or unreadable, or a check page ``results.json`` names missing.
    """
    if not pack.is_dir():
        raise InputError(f"{pack}: not a pack folder (no such folder); give the folder `validation run` printed")
    index, results_path = pack / "index.html", pack / "results.json"
    for required in (index, results_path):
        if not required.is_file():
            raise InputError(f"{pack}: not a pack folder: {required.name} is missing ({required}); "
                             "give the folder `validation run` printed")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
        checks = results["checks"]
        model, version = str(results["model"]["name"]), str(results["model"]["version"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{results_path}: not a pack's results.json ({type(error).__name__}: {error}); "
                         "give the folder `validation run` printed") from None
    sections = [Section(f"Summary: {model} version {version}", str(results.get("status") or ""), index)]
    for check in checks:
        html = check.get("html")
        page = pack / html if html else None
        if page is not None and not page.is_file():
            raise InputError(f"{pack}: the page of check '{check.get('name')}' is missing ({page}); "
                             "the pack is incomplete: run `validation verify` on it")
        sections.append(Section(f"Check: {check.get('name')}", str(check.get("status") or ""), page))
    diff = pack / "html" / "diff.html"
    if diff.is_file():
        sections.append(Section("Comparison with the previous version", "", diff))
    return results, sections


@contextmanager
def refusing_loopback_port() -> Iterator[int]:
    """A loopback TCP port that refuses every connection while the context lasts: bound (so no
    other program takes it) and never listening."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])
    finally:
        holder.close()


def chromium_command(executable: str, url: str, pdf: Path, profile: Path, proxy_port: int) -> list[str]:
    """The command line printing ``url`` to ``pdf`` with a fresh ``profile`` folder, its network
    going only to ``127.0.0.1:proxy_port`` (:data:`NO_NETWORK_FLAGS`)."""
    return [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy_port}", *NO_NETWORK_FLAGS,
            f"--print-to-pdf={pdf}", url]


class _Printer:
    """Runs Chromium processes, each in its own process group, and stops every one still running
    when asked (a timeout, a failure elsewhere, an interrupt)."""

    def __init__(self, executable: str, work: Path, proxy_port: int, deadline: float, timeout: float) -> None:
        self.executable = executable
        self.work = work
        self.proxy_port = proxy_port
        self.deadline = deadline
        self.timeout = timeout
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def print_page(self, page: Path, pdf: Path) -> None:
        """Print ``page`` to ``pdf``.

        Raises
        ------
        ToolFailure
            Chromium failed, wrote no PDF, or did not finish before the deadline.
        """
        operation = f"printing {page.name} to PDF with Chromium"
        profile = Path(tempfile.mkdtemp(prefix="profile-", dir=self.work))
        try:
            command = chromium_command(self.executable, page.resolve().as_uri(), pdf, profile, self.proxy_port)
            returncode, stderr = self._run(command, operation, page)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        if returncode != 0:
            raise ToolFailure(operation, page, f"Chromium exited with code {returncode}: {_last_line(stderr)}")
        if not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF-"):
            raise ToolFailure(operation, page, f"Chromium wrote no PDF: {_last_line(stderr)}")

    def _run(self, command: list[str], operation: str, page: Path) -> tuple[int, str]:
        with self._lock:
            if self._stopped:
                raise ToolFailure(operation, page, "stopped: another page failed")
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, start_new_session=True)
            self._running.add(process)
        try:
            remaining = self.deadline - time.monotonic()
            try:
                _, stderr = process.communicate(timeout=max(remaining, 0.001))
            except subprocess.TimeoutExpired:
                _kill_group(process)
                process.communicate()
                raise ToolFailure(operation, page, f"no PDF within {self.timeout:g} s (the whole print's "
                                  "limit); Chromium was stopped") from None
            return int(process.returncode), stderr.decode("utf-8", "replace")
        finally:
            _kill_group(process)
            with self._lock:
                self._running.discard(process)

    def stop(self) -> None:
        """Stop every Chromium still running, and start no other."""
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for process in running:
            _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL Chromium's process group (its renderer, GPU and zygote processes with it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _last_line(stderr: str) -> str:
    """The last line of Chromium's standard error that says something (not D-Bus noise), one line."""
    lines = [line.strip() for line in stderr.splitlines()
             if line.strip() and "dbus" not in line and "unexpected operator" not in line]
    return lines[-1][:300] if lines else "nothing on standard error"


def _print_sections(printer: _Printer, pages: Sequence[Path]) -> list[Path]:
    """Print ``pages`` (at most :data:`PARALLEL` at a time); the PDFs in the same order. On the
    first failure the other Chromium processes are stopped and the failure raised."""
    pdfs = [printer.work / f"{number:03d}.pdf" for number in range(len(pages))]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures: list[Future[None]] = [pool.submit(printer.print_page, page, pdf) for page, pdf in zip(pages, pdfs)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            printer.stop()
            for future in futures:
                future.cancel()
            raise
    return pdfs


def _contents_html(results: Mapping[str, Any], sections: Sequence[Section], first_pages: Mapping[int, int]) -> str:
    """The contents page (autoescaped): the pack's identity and each section's first page."""
    from jinja2 import Environment

    from validation.reporting.lineage import now

    rows = [{"title": section.title, "status": section.status, "page": first_pages.get(number)}
            for number, section in enumerate(sections)]
    template = Environment(autoescape=True).from_string(CONTENTS_TEMPLATE)
    return str(template.render(model=results["model"]["name"], version=results["model"]["version"],
                               run_id=(results.get("run") or {}).get("id", ""), status=results.get("status"),
                               printed_at=now(), rows=rows))


def _first_pages(sections: Sequence[Section], page_counts: Sequence[int], contents_pages: int) -> dict[int, int]:
    """Section number -> first page (from 1), the contents taking the first ``contents_pages``;
    sections without a page have none.

    >>> sections = [Section("a", "", Path("a")), Section("b", "", None), Section("c", "", Path("c"))]
    >>> _first_pages(sections, [3, 2], 1)
    {0: 2, 2: 5}
    """
    first: dict[int, int] = {}
    page = contents_pages + 1
    counts = iter(page_counts)
    for number, section in enumerate(sections):
        if section.page is not None:
            first[number] = page
            page += next(counts)
    return first


def _print_contents(printer: _Printer, results: Mapping[str, Any], sections: Sequence[Section],
                    page_counts: Sequence[int]) -> tuple[Path, dict[int, int]]:
    """Print the contents page; its page numbers assume its own length, so it is printed again
    until they do (a second time only when the contents run onto more pages than assumed)."""
    from pypdf import PdfReader

    html, pdf = printer.work / "contents.html", printer.work / "contents.pdf"
    contents_pages = 1
    for _ in range(3):
        first = _first_pages(sections, page_counts, contents_pages)
        html.write_text(_contents_html(results, sections, first), encoding="utf-8")
        printer.print_page(html, pdf)
        printed = len(PdfReader(pdf).pages)
        if printed == contents_pages:
            break
        contents_pages = printed
    return pdf, first


def _link_targets(pages: Sequence[Path], first_pages: Sequence[int]) -> dict[str, int]:
    """Printed page's resolved path -> its first page index in the PDF (from 0)."""
    return {str(page.resolve()): first - 1 for page, first in zip(pages, first_pages)}


def _rewrite_links(writer: "PdfWriter", targets: Mapping[str, int]) -> None:
    """Links to a printed page of the pack become links to its first page in the PDF; links to
    other local files (a notebook, results.json) are removed: they would name the folder the pack
    was printed from and lead nowhere for the reader."""
    from pypdf.generic import ArrayObject, NameObject

    for page in writer.pages:
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        kept = ArrayObject()
        for reference in annotations.get_object():
            annotation = reference.get_object()
            action = annotation.get("/A")
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            if not uri.startswith("file:"):
                kept.append(reference)
                continue
            target = targets.get(str(Path(unquote(urlsplit(uri).path)).resolve()))
            if target is not None:
                del annotation["/A"]
                annotation[NameObject("/Dest")] = ArrayObject([writer.pages[target].indirect_reference,
                                                               NameObject("/Fit")])
                kept.append(reference)
        page[NameObject("/Annots")] = kept


def _join(results: Mapping[str, Any], contents: Path, sections: Sequence[Section], pdfs: Sequence[Path],
          first: Mapping[int, int]) -> "PdfWriter":
    """The contents then every section's PDF, with one bookmark per section, internal links and
    the document's title."""
    from importlib import metadata

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(contents), import_outline=False)
    printed = [(number, section) for number, section in enumerate(sections) if section.page is not None]
    for (number, section), pdf in zip(printed, pdfs):
        writer.append(str(pdf), import_outline=False)
        writer.add_outline_item(title=section.title, page_number=first[number] - 1)
    _rewrite_links(writer, _link_targets([s.page for _, s in printed if s.page is not None],
                                         [first[number] for number, _ in printed]))
    model, run = results["model"], results.get("run") or {}
    writer.add_metadata({"/Title": f"Validation pack: {model['name']} version {model['version']}, "
                                   f"run {run.get('id', '')}",
                         "/Subject": "Model validation pack", "/Creator": f"validation {metadata.version('validation')}"})
    writer.page_mode = "/UseOutlines"
    return writer


def _write_atomically(writer: "PdfWriter", out: Path) -> int:
    """Write ``writer`` to a fresh temporary file beside ``out``, then rename it over ``out``;
    nothing is left on failure. Returns the size in bytes."""
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            writer.write(handle)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out.stat().st_size


def _check_output(out: Path) -> None:
    """``out`` can be written: its folder exists and it is not a folder.

    Raises
    ------
    OutputError
        (exit 2) Naming the path and the fix.
    """
    if out.is_dir():
        raise OutputError(out, "is a folder; give the PDF's file name", option="PDF")
    if not out.parent.is_dir():
        raise OutputError(out, f"its folder {out.parent} does not exist; create it first", option="PDF")


def print_pack(pack: Path, out: Path, *, timeout: float = 180.0, chromium: str | None = None) -> PdfReport:
    """Print a pack to one PDF: a contents page, the summary, every check page and the diff page.

    Parameters
    ----------
    pack
        The pack folder (``index.html``, ``results.json`` and the pages it names).
    out
        The PDF to write; written whole or not at all (a temporary file beside it, renamed).
    timeout
        Seconds allowed for the whole print; Chromium is stopped (its process group killed) when
        they run out.
    chromium
        The Chromium to use (a path or a command); default :data:`CHROMIUM_ENV`, else the first of
        :data:`CHROMIUM_NAMES` on ``PATH``.

    Returns
    -------
    PdfReport
        The file, its pages, each section's first page, the time taken and the size.

    Raises
    ------
    ChromiumNotFound
        (exit 2) No Chromium, with the fix.
    InputError
        (exit 2) ``pack`` is not a pack folder (naming the missing file).
    OutputError
        (exit 2) ``out`` is a folder or its folder does not exist.
    ToolFailure
        (exit 4) Chromium failed or ran out of time (one line), or the PDF could not be written.
    """
    started = time.monotonic()
    pack, out = Path(pack), Path(out)
    results, sections = pack_sections(pack)
    _check_output(out)
    executable = find_chromium(chromium)
    pages = [section.page for section in sections if section.page is not None]
    with tempfile.TemporaryDirectory(prefix="validation-pdf-") as folder, refusing_loopback_port() as port:
        printer = _Printer(executable, Path(folder), port, started + timeout, timeout)
        pdfs = _print_sections(printer, pages)
        page_counts = [_page_count(pdf) for pdf in pdfs]
        contents, first = _print_contents(printer, results, sections, page_counts)
        writer = _join(results, contents, sections, pdfs, first)
        total = len(writer.pages)
        try:
            size = _write_atomically(writer, out)
        except OSError as error:
            raise ToolFailure("writing the PDF", out, f"{type(error).__name__}: {error}") from None
    titled = [(section.title, first[number]) for number, section in enumerate(sections) if number in first]
    return PdfReport(path=out, pages=total, sections=titled, seconds=time.monotonic() - started, size=size)


def _page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)
