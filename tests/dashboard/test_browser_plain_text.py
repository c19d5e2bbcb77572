"""Recorded text in a real browser (Debian's chromium): a site written as a markdown image, a name
written as a coloured directive with a fake NHS number, and HTML in a rationale are shown as text.

A local HTTP server records every request: the browser must fetch nothing from it while the Patient
page shows the hostile record, and the identity line must start with the real NHS number. A control
image injected at the end proves the browser could reach the server, and that anything the page had
asked for would have arrived before it.
"""

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.components import nhs_number
from dashboard.launch import start_dashboard, stop_dashboard
from pathway.store.db import make_engine, make_session_factory
from tests.dashboard.conftest import CHEAP_HASH
from tests.support.browser import (  # noqa: F401  (`browser` is a fixture, used by name)
    FIRST_RENDER_MS,
    browser,
    free_port,
    sign_in,
    wait_until_idle,
)
from tests.support.hostile import HOSTILE_NHS, NAME, record_hostile_patient

pytestmark = pytest.mark.browser


class Trap:
    """An HTTP server on loopback that answers every GET with an empty PNG and records its path."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.arrived = threading.Condition()
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with trap.arrived:
                    trap.paths.append(self.path)
                    trap.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, path: str, timeout: float = 20) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: path in self.paths, timeout=timeout), self.paths

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def trap() -> Iterator[Trap]:
    made = Trap()
    yield made
    made.close()


@pytest.fixture(scope="module")
def served(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory, trap: Trap) -> Iterator[str]:
    """A dashboard serving the seeded database plus a patient whose texts point at the trap."""
    folder = tmp_path_factory.mktemp("browser-plain")
    database = folder / "pathway.db"
    shutil.copy(seeded_template, database)
    engine = make_engine(f"sqlite:///{database}")
    record_hostile_patient(
        make_session_factory(engine),
        site=f"![px]({trap.url}/site.png)",
        rationale=f'<img src="{trap.url}/html.png"> [link]({trap.url}/link) ![md]({trap.url}/md.png)',
    )
    engine.dispose()
    env = os.environ | CHEAP_HASH | {"PATHWAY_DATABASE_URL": f"sqlite:///{database}", "PATHWAY_HOME": str(folder)}
    port = free_port()
    with (folder / "streamlit.log").open("wb") as log:
        proc: subprocess.Popen[bytes] = start_dashboard(port, env, address="127.0.0.1", timeout=90, log=log)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_dashboard(proc)


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:  # noqa: F811  (the imported fixture, by name)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})  # a fresh profile, no cookies
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def open_patient(page: Page, base: str, user: str, site: str) -> None:
    """The worklist with its site list open (the hostile site among the options), then the record."""
    sign_in(page, base, user)
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    page.get_by_test_id("stSelectbox").filter(has_text="Site").click()
    expect(page.get_by_role("option", name=site, exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Patient").click()
    # Type only once the Patient page's run is over: a run still under way redraws the empty field.
    expect(page.get_by_text("Choose a pathway on the worklist")).to_be_visible()
    wait_until_idle(page)
    reference = page.get_by_label("Pathway reference")
    reference.fill("P-HOSTILE")
    expect(reference).to_have_value("P-HOSTILE")
    reference.press("Enter")
    expect(page.get_by_role("heading", name="Pathway P-HOSTILE")).to_be_visible()
    expect(page.get_by_text("Audit history")).to_be_visible()
    wait_until_idle(page)


def control_image(page: Page, trap: Trap, name: str) -> None:
    """An image the test itself adds: once it has arrived, the page's own requests would have too."""
    page.evaluate(
        "url => { const img = new Image(); img.src = url; document.body.appendChild(img); }", f"{trap.url}/{name}"
    )
    trap.wait_for(f"/{name}")


@pytest.mark.parametrize("user", ["clin", "audit"])
def test_recorded_markdown_and_html_are_shown_as_text_and_nothing_is_fetched(
    tab: Page, served: str, trap: Trap, user: str
) -> None:
    open_patient(tab, served, user, f"![px]({trap.url}/site.png)")
    control_image(tab, trap, f"control-{user}.png")
    assert [p for p in trap.paths if not p.startswith("/control")] == []
    main = tab.get_by_test_id("stMain")
    expect(main.locator(f'img[src^="{trap.url}"], a[href^="{trap.url}"]')).to_have_count(0)
    expect(main.get_by_test_id("stText").filter(has_text=f"![px]({trap.url}/site.png)")).to_have_count(1)


def test_the_identity_line_shows_the_real_nhs_number_first(tab: Page, served: str, trap: Trap) -> None:
    open_patient(tab, served, "clin", f"![px]({trap.url}/site.png)")
    identity = tab.get_by_test_id("stMain").get_by_test_id("stText").filter(has_text="NHS")
    expect(identity).to_have_count(1)
    line = identity.inner_text()
    assert line.startswith(f"NHS {nhs_number(HOSTILE_NHS)} · ")
    assert NAME in line  # the name as typed, directive and all, after the real number
