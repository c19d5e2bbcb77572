"""The dashboard in a real browser: Debian's chromium driven by Playwright (never `playwright install`),
shared by the browser tests. One server and one browser per module (fixtures), a fresh context per test.
No fixed sleeps: the server is polled on /_stcore/health and every wait is an expectation.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from dashboard.launch import start_dashboard, stop_dashboard
from pathway.services.bulk_load import load_cohort
from pathway.store.db import make_engine, make_session_factory
from tests.dashboard.conftest import CHEAP_HASH, PASSWORD, SEEDER, today

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshots are taken here; `make screenshots` writes them to docs/images, any other
# run to a scratch folder (a test run never changes tracked files).
IMAGES = Path(os.environ.get("PATHWAY_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "pathway-screenshots")
FIRST_RENDER_MS = 60_000  # the first page a server draws imports pandas and altair: slow on two busy cores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def served(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, database file) of a dashboard serving a copy of the seeded database plus a cohort."""
    folder = tmp_path_factory.mktemp("browser")
    database = folder / "pathway.db"
    shutil.copy(seeded_template, database)
    engine = make_engine(f"sqlite:///{database}")
    load_cohort(make_session_factory(engine), patients=300, seed=7, today=today(), actor=SEEDER)
    engine.dispose()
    env = os.environ | CHEAP_HASH | {"PATHWAY_DATABASE_URL": f"sqlite:///{database}", "PATHWAY_HOME": str(folder)}
    port = free_port()
    with (folder / "streamlit.log").open("wb") as log:
        proc: subprocess.Popen[bytes] = start_dashboard(port, env, address="127.0.0.1", timeout=90, log=log)
        try:
            yield f"http://127.0.0.1:{port}", database
        finally:
            stop_dashboard(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (never `playwright install`)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (its own cookies) at the desktop size, for tests that open several pages."""
    fresh = browser.new_context(viewport={"width": 1400, "height": 900})
    fresh.set_default_timeout(20_000)
    yield fresh
    fresh.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})  # a fresh profile, no cookies
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def sign_in(page: Page, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(base)
    fill_sign_in(page, name, password)


def fill_sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    """The login form on the page shown now (a link keeps its address through the form)."""
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(password)  # plain "Password" also matches "Show password"
    page.get_by_role("button", name="Sign in").click()


def cell(page: Page, text: str) -> Locator:
    # The grid's accessible copy lives inside its canvas, so Playwright counts it as hidden. The page's
    # first table (on the worklist, today's list; the backlog's tables follow it).
    return page.get_by_test_id("stDataFrame").first.get_by_role("gridcell", name=text, include_hidden=True).first


def wait_until_idle(page: Page) -> None:
    """After the expected content is there: the script has finished and every chart is drawn."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED")
    expect(app).to_have_attribute("data-test-script-state", "notRunning")
    # No element still shown faded from the previous run (axe would measure its contrast mid-fade).
    expect(page.locator('[data-stale="true"]')).to_have_count(0)
    # No transition still running (the sidebar folding at narrow widths, placeholders fading out):
    # it moves the page under the next click or key, and a scroll closes an open list.
    page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect?.getComputedTiming().iterations === Infinity)"
    )
    for chart in page.get_by_test_id("stVegaLiteChart").all():
        expect(chart.locator("canvas, svg").first).to_be_visible()


def _next_frames(page: Page) -> None:
    """Let two frames pass. A scroll is announced at the next frame, and Streamlit closes an open list
    when the page scrolls: a list opened within the frame after a scroll (no person is that quick)
    was shut at once."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def focus_by_keyboard(page: Page, target: Locator) -> None:
    """Focus as Tab does (scrolled into view if need be), ready for the next key."""
    target.focus()
    expect(target).to_be_focused()
    _next_frames(page)


def screenshot(page: Page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside stMain, so grow the viewport to its height first."""
    wait_until_idle(page)
    height = page.get_by_test_id("stMain").evaluate("e => e.scrollHeight")
    size = page.viewport_size or {"width": 1600, "height": 1000}
    page.set_viewport_size({"width": size["width"], "height": max(int(height), size["height"])})
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / name
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)
    return path


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box.scroll_into_view_if_needed()  # as a click would, but before the list opens (_next_frames)
    _next_frames(page)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def serious(results: Any) -> list[str]:
    """axe-core's serious and critical violations in an axe-playwright-python result, a line each."""
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [f"{node['html'][:120]} {node.get('failureSummary', '')[:200]}" for node in violation["nodes"]][
                :3
            ]
            found.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}): {targets}")
    return found
