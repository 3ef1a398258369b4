"""The dashboard in headless Chromium: every page loads cleanly, the filter works, it renders."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from garrison.web.app import create_dashboard
from tests.unit.web.seed import seed_store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_browser() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package"
    else:
        if CHROMIUM.exists():
            return sync_playwright
        missing = str(CHROMIUM)
    if os.environ.get("CI"):
        pytest.fail(f"{missing} is missing; CI must run the browser tests")
    pytest.skip(f"{missing} is missing")


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    store = seed_store(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_dashboard(store), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture
def page(dashboard: str) -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 900})
        finally:
            browser.close()


def test_pages_load_without_console_errors(page: Any, dashboard: str, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.url} {request.failure}"))
    for path, heading in [
        ("/", "Overview"),
        ("/inventory", "Inventory"),
        ("/gateway", "Gateway traffic"),
        ("/audit", "Audit log"),
    ]:
        response = page.goto(dashboard + path)
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text() == heading
    # The next navigation may cancel the browser's own favicon fetch; it is served all the same.
    aborted_icon = f"{dashboard}/static/favicon.svg net::ERR_ABORTED"
    assert errors == [] and [f for f in failed if f != aborted_icon] == []
    assert page.request.get(dashboard + "/static/favicon.svg").status == 200

    page.goto(dashboard + "/")
    assert page.locator("#audit-state").inner_text().startswith("Audit log verified")
    assert page.locator(".chart svg rect").count() > 0  # the stylesheet and charts rendered
    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_inventory_filter_narrows_the_table(page: Any, dashboard: str) -> None:
    page.goto(dashboard + "/inventory")
    rows = page.locator("#assets tbody tr")
    assert rows.count() == 4
    page.select_option("#kind", "model")
    page.select_option("#tier", "high")
    page.click("button[type=submit]")
    page.wait_for_url("**/inventory?kind=model&tier=high")
    assert rows.count() == 1
    assert "resnet.safetensors" in rows.first.inner_text()
    # The hostile asset name is shown as text, never run.
    page.select_option("#tier", "unclassified")
    page.click("button[type=submit]")
    page.wait_for_url("**tier=unclassified")
    assert rows.first.inner_text().startswith("<script>alert('x')</script>")


def test_verify_button_checks_the_whole_log_again(page: Any, dashboard: str) -> None:
    # The browser sends Origin and Sec-Fetch-Site with the form; the dashboard must accept
    # its own form and show the fresh result.
    page.goto(dashboard + "/audit")
    assert page.locator("#audit-state").inner_text().startswith("Audit log verified: 2 records")
    with page.expect_response(lambda r: r.url.endswith("/audit/verify")) as posted:
        page.click("#verify-now")
    assert posted.value.status == 303
    page.wait_for_url("**/audit")
    assert "Checked 0 s ago" in page.locator("#audit-age").inner_text()
