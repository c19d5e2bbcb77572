"""Three journeys through the dashboard in a real browser (chromium, Playwright), as a coordinator, a
clinician and an auditor would walk them, with axe-core (axe-playwright-python) on every page visited:
0 critical and 0 serious violations. The browser speaks British English (locale en-GB), as a ward's
does: its calendars start on a Monday. One server for the module (tests/support/browser.py).
"""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from pathway.domain.vocabulary import Role
from pathway.services.accounts import add_user
from pathway.store.db import make_engine, make_session_factory
from pathway.views import queries
from tests.dashboard.conftest import CHEAP_HASH, PASSWORD, today
from tests.support.browser import (  # noqa: F401  (`browser` and `served` are fixtures, used by name)
    FIRST_RENDER_MS,
    browser,
    choose,
    fill_sign_in,
    serious,
    served,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

LOCALE = "en-GB"


def new_context(browser: Browser, width: int = 1400) -> BrowserContext:  # noqa: F811
    fresh = browser.new_context(viewport={"width": width, "height": 900}, locale=LOCALE)
    fresh.set_default_timeout(20_000)
    return fresh


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:  # noqa: F811
    fresh = new_context(browser)
    yield fresh
    fresh.close()


def accessible(page: Page, where: str) -> None:
    """axe-core on the page as it stands: no serious or critical violation."""
    wait_until_idle(page)
    found = serious(Axe().run(page))
    assert found == [], f"{where}:\n" + "\n".join(found)


def sign_in_by_keyboard(page: Page, name: str) -> None:
    """The login form with the keyboard alone: type, Tab, type, Enter."""
    username = page.get_by_label("Username")
    expect(username).to_be_visible(timeout=FIRST_RENDER_MS)
    username.focus()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", name=text, exact=True)).to_be_visible(timeout=FIRST_RENDER_MS)


def sidebar_link(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()


def first_weekday(page: Page) -> str:
    """The first day of the week in the exports page's first calendar, opened."""
    picker = page.get_by_test_id("stDateInput").filter(has_text="First procedure date")
    picker.get_by_role("button", name="Choose date").click()
    first = page.get_by_role("grid").get_by_role("row").first.get_by_role("button").first
    expect(first).to_be_visible()
    return first.get_attribute("aria-label") or ""


def test_the_sidebar_folds_away_on_a_narrow_screen_and_calendars_start_on_monday(
    browser: Browser,  # noqa: F811
    served: tuple[str, Path],  # noqa: F811
) -> None:
    base, _ = served
    narrow = new_context(browser, width=800)
    try:
        page = narrow.new_page()
        page.goto(f"{base}/exports")
        sign_in_by_keyboard(page, "coord")
        heading(page, "Exports")
        wait_until_idle(page)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        page.get_by_role("button", name="Expand sidebar").click()  # still there for whoever wants it
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        expect(sidebar.get_by_role("link", name="Worklist")).to_be_visible()
        assert first_weekday(page).startswith("Monday")
    finally:
        narrow.close()
    # The first day is the browser's language's: an American browser starts on Sunday (docs/deploy.md).
    american = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        page = american.new_page()
        page.goto(f"{base}/exports")
        sign_in_by_keyboard(page, "coord")
        heading(page, "Exports")
        expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "false")  # wide: open
        assert first_weekday(page).startswith("Sunday")
    finally:
        american.close()
