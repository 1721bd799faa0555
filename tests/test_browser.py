"""The pack in a real browser: headless Chromium (Debian's package) opens the index and every check
page from file://, with no console errors and no request beyond file://; screenshots are kept in
test-artifacts/ (and docs/pack.png, the README's picture, can be refreshed from them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium for the browser test; .ci/run installs it")
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from validation.demo import prepare_demo
    from validation.execution.pipeline import run_specs as run

    root = tmp_path_factory.mktemp("browser")
    spec = prepare_demo(root)
    (outcome,), _ = run([spec], version="2", out=root / "reports", workers=2)
    return outcome.path


LAYOUT = """() => {
  const scrolls = (element) => {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (overflow === "auto" || overflow === "scroll") { return true; }
    }
    return false;
  };
  const visible = (element) => element.getClientRects().length > 0;
  const lines = (element) => new Set([...element.getClientRects()].map((rect) => Math.round(rect.top))).size;
  const clipped = [...document.querySelectorAll("table")].filter(visible)
    .filter((table) => table.scrollWidth > table.clientWidth + 1 && !scrolls(table))
    .map((table) => table.id || table.className || "table");
  const names = [...document.querySelectorAll("code.metric, td.v-label")].filter(visible);
  const broken = names.filter((element) => getComputedStyle(element).whiteSpace !== "nowrap"
                                           && lines(element) !== 1).map((e) => e.textContent);
  const multiline = [...document.querySelectorAll("#findings tbody td:nth-child(3) code")]
    .filter((element) => lines(element) !== 1).map((e) => e.textContent);
  const verdict = document.getElementById("verdict");
  const info = document.getElementById("info-findings");
  return {clipped: clipped, broken: broken, multiline: multiline, names: names.length,
          verdict_bottom: verdict ? verdict.getBoundingClientRect().bottom + window.scrollY : null,
          info_open: info ? info.open : null};
}"""
"""Measures a page at the screen size: tables wider than their box with no scroll container around
them, metric names broken over lines, the verdict block's bottom edge, and the info findings'
state."""

PRINTED = """() => {
  const width = document.documentElement.clientWidth;
  const tables = [...document.querySelectorAll("table")].filter((table) => table.getClientRects().length > 0);
  const cut = tables.filter((table) => table.getBoundingClientRect().right > width + 1
                                       || table.scrollWidth > table.clientWidth + 1)
    .map((table) => (table.id || table.className || "table") + " " + table.getBoundingClientRect().right);
  const info = document.querySelector("#findings-info");
  return {tables: tables.length, cut: cut, info_height: info ? info.getBoundingClientRect().height : null};
}"""
"""Measures a page printed on A4 landscape (the print stylesheet, at the printable width): tables
whose columns do not all fit the page, and whether the collapsed info findings print."""

A4_LANDSCAPE_PRINTABLE = {"width": 1047, "height": 740}
"""297 x 210 mm less the stylesheet's 10 mm margins, at 96 px per inch."""


def _open(page_path: Path, shot: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri(), wait_until="load")
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        page.screenshot(path=str(shot.with_name(f"{shot.stem}-top.png")))
        result = {"errors": errors, "requests": requests, "title": page.title(), "layout": page.evaluate(LAYOUT)}
        if page_path.name == "index.html":
            statuses = page.locator("#findings tbody tr td:first-child").all_inner_texts()
            page.click("#findings th button[data-column='0']")
            page.click("#findings th button[data-column='0']")
            result["statuses"] = statuses
            result["status_after_sort"] = page.locator("#findings tbody tr").first.locator("td").first.inner_text()
        else:
            hidden = page.locator(".jp-CodeCell .jp-Cell-inputWrapper").first.is_visible()
            page.click("#toggle-code")
            result["code_hidden_then_shown"] = (hidden, page.locator(".jp-CodeCell .jp-Cell-inputWrapper").first.is_visible())
            page.click("#toggle-code")
        page.set_viewport_size(A4_LANDSCAPE_PRINTABLE)
        page.emulate_media(media="print")
        result["printed"] = page.evaluate(PRINTED)
        browser.close()
    return result


SEVERITY = ["error", "red", "amber", "green", "info"]


def _check_layout(name: str, result: dict[str, Any]) -> None:
    layout, printed = result["layout"], result["printed"]
    assert layout["clipped"] == [], (name, "tables clipped: neither fit nor scroll", layout["clipped"])
    assert layout["broken"] == [] and layout["multiline"] == [], (name, "metric names broken", layout)
    assert printed["tables"] > 0 and printed["cut"] == [], (name, "columns cut from the A4 print", printed["cut"])


def test_index_and_check_pages_open_offline_without_errors(pack: Path) -> None:
    pages = [pack / "index.html", *sorted((pack / "html").glob("*.html"))]
    assert len(pages) >= 5
    for page_path in pages:
        shot = ARTIFACTS / "screenshots" / f"{page_path.stem}.png"
        result = _open(page_path, shot)
        assert result["errors"] == [], (page_path.name, result["errors"])
        assert all(url.startswith(("file://", "data:")) for url in result["requests"]), result["requests"]
        assert shot.stat().st_size > 10_000
        _check_layout(page_path.name, result)
        if page_path.name == "index.html":
            assert "german_credit_pd" in result["title"]
            layout = result["layout"]
            assert layout["names"] > 0
            assert 0 < layout["verdict_bottom"] <= 900  # the rating and status without scrolling
            assert layout["info_open"] is False  # info findings collapsed
            assert result["printed"]["info_height"] > 0  # and printed in full
            # judged findings only, most severe first as written; two clicks on Status: least severe first
            ranks = [SEVERITY.index(text.strip().split()[-1]) for text in result["statuses"]]
            assert ranks == sorted(ranks) and "info" not in " ".join(result["statuses"])
            assert SEVERITY.index(result["status_after_sort"].strip().split()[-1]) == max(ranks)
        else:
            assert result["code_hidden_then_shown"] == (False, True)
