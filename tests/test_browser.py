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


def _open(page_path: Path, shot: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri(), wait_until="load")
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        result = {"errors": errors, "requests": requests, "title": page.title()}
        if page_path.name == "index.html":
            first = page.locator("#findings tbody tr").first.locator("td").first.inner_text()
            page.click("#findings th button[data-column='0']")
            page.click("#findings th button[data-column='0']")
            result["status_after_sort"] = page.locator("#findings tbody tr").first.locator("td").first.inner_text()
            result["status_before_sort"] = first
        else:
            hidden = page.locator(".jp-CodeCell .jp-Cell-inputWrapper").first.is_visible()
            page.click("#toggle-code")
            result["code_hidden_then_shown"] = (hidden, page.locator(".jp-CodeCell .jp-Cell-inputWrapper").first.is_visible())
        browser.close()
    return result


def test_index_and_check_pages_open_offline_without_errors(pack: Path) -> None:
    pages = [pack / "index.html", *sorted((pack / "html").glob("*.html"))]
    assert len(pages) >= 5
    for page_path in pages:
        shot = ARTIFACTS / "screenshots" / f"{page_path.stem}.png"
        result = _open(page_path, shot)
        assert result["errors"] == [], (page_path.name, result["errors"])
        assert all(url.startswith(("file://", "data:")) for url in result["requests"]), result["requests"]
        assert shot.stat().st_size > 10_000
        if page_path.name == "index.html":
            assert "german_credit_pd" in result["title"]
            # most severe first as written; two clicks on Status sort it least severe first
            assert "red" in result["status_before_sort"] and "info" in result["status_after_sort"]
        else:
            assert result["code_hidden_then_shown"] == (False, True)
