"""axe-core (axe-playwright-python) on every page of the dashboard in chromium, at 1400 and 800 px wide:
no serious or critical violation. Also: a worklist row opens with the keyboard, and the patient's
window reads "missed by N days" in the browser."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from dashboard.components import NARROW_PX
from pathway.store.db import make_engine, make_session_factory
from pathway.views import reports
from tests.dashboard.conftest import today
from tests.support.browser import (  # noqa: F401  (`browser` and `served` are fixtures, used by name)
    FIRST_RENDER_MS,
    browser,
    fill_sign_in,
    focus_by_keyboard,
    serious,
    served,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

PAGES = {
    "worklist": "",
    "patient": "patient?pathway=P-MISSED",
    "recording": "record?pathway=P-CONSENT&command=Record+consent",
    "reports": "reports",
    "reminders": "reminders",
    "exports": "exports",
    "codes": "codes",
    "policy": "policy",
}
WIDTHS = (1400, 800)
# The element or anything inside it cut short (an ellipsis hides the overflow from its own box).
CLIPPED = "e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1)"


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def open_signed_in(tab: Page, base: str, path: str, name: str = "clin") -> None:
    tab.goto(f"{base}/{path}")
    expect(tab.get_by_label("Username")).to_be_visible(timeout=FIRST_RENDER_MS)
    fill_sign_in(tab, name)
    expect(tab.get_by_test_id("stSidebar").or_(tab.get_by_test_id("stSidebarCollapsedControl")).first).to_be_attached()
    expect(tab.get_by_role("heading", level=1)).to_be_visible(timeout=FIRST_RENDER_MS)
    viewport = tab.viewport_size
    if viewport and viewport["width"] < NARROW_PX:  # the page folds its sidebar once loaded: let it settle
        expect(tab.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true", timeout=FIRST_RENDER_MS)


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_axe_violation(tab: Page, served: tuple[str, Path], name: str) -> None:  # noqa: F811
    base, _ = served
    open_signed_in(tab, base, PAGES[name])
    wait_until_idle(tab)
    found = serious(Axe().run(tab))
    assert found == [], "\n".join(found)


def test_no_serious_or_critical_axe_violation_on_the_admins_sites_page(tab: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    open_signed_in(tab, base, "sites", name="boss")  # the managed list of sites: admins only
    wait_until_idle(tab)
    found = serious(Axe().run(tab))
    assert found == [], "\n".join(found)


def test_the_worklist_shows_missed_windows_in_words_and_open_windows_first(
    tab: Page,
    served: tuple[str, Path],  # noqa: F811
) -> None:
    base, database = served
    open_signed_in(tab, base, "?site=North+Vale", name="coord")
    grid = tab.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
    expect(grid.filter(has_text="missed by ").first).to_be_attached()
    expect(grid.filter(has_text="0 days left")).to_have_count(0)
    expect(grid.filter(has_text="1 days left")).to_have_count(0)
    # The first row is a case whose window is still open (the default order puts them first).
    first_window = tab.get_by_test_id("stDataFrame").get_by_role("row", include_hidden=True).nth(1)
    expect(first_window.get_by_role("gridcell", include_hidden=True).filter(has_text=" left")).to_have_count(1)
    # The site filter came from the link, through the sign-in form: only that site's pathways counted.
    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        north, every = (reports.count_worklist(session, today(), site=s) for s in ("North Vale", None))
    engine.dispose()
    assert north < every
    matching = tab.get_by_test_id("stMetric").filter(has_text="Matching filters")
    expect(matching.get_by_test_id("stMetricValue")).to_have_text(str(north))


def test_a_worklist_row_opens_from_the_keyboard(tab: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    open_signed_in(tab, base, "", name="coord")
    wait_until_idle(tab)  # drawn to its end and settled: the sidebar folding at 800 px moves the page
    chooser = tab.get_by_role("combobox", name="Open a pathway listed above")
    focus_by_keyboard(tab, chooser)  # below the table: scrolled into view at the screen's bottom edge
    # One Down arrow opens the list on the first row's reference, and it stays open.
    tab.keyboard.press("ArrowDown")
    expect(tab.get_by_role("option").first).to_be_visible()
    tab.keyboard.press("Enter")
    # The patient page is a page switch on the server: slow on two busy cores (not a speed check).
    expect(tab).to_have_url(re.compile(r"/patient\?pathway=[^&]+$"), timeout=FIRST_RENDER_MS)
    opened = tab.url.rsplit("=", 1)[1]
    expect(tab.get_by_role("heading", name=f"Pathway {opened}")).to_be_visible(timeout=FIRST_RENDER_MS)


def test_keyboard_focus_is_visible_and_unlike_the_current_page_mark(tab: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    open_signed_in(tab, base, "", name="coord")
    link = tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Reports")
    wait_until_idle(tab)
    expect(link).to_be_visible()
    link.focus()
    expect(link).to_be_focused()
    tab.keyboard.press("Shift+Tab")
    tab.keyboard.press("Tab")  # focus arrives by keyboard, so :focus-visible applies
    outline = link.evaluate("e => getComputedStyle(e).outlineWidth + ' ' + getComputedStyle(e).outlineStyle")
    assert outline == "3px solid"


def test_the_patient_cards_are_not_truncated(tab: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    open_signed_in(tab, base, "patient?pathway=P-MISSED", name="coord")
    for ref in ("P-MISSED", "P-TREATED"):  # "missed by 6 days", "treated on day 5"
        reference = tab.get_by_label("Pathway reference")
        reference.fill(ref)
        reference.press("Enter")
        expect(tab.get_by_role("heading", name=f"Pathway {ref}")).to_be_visible()
        wait_until_idle(tab)
        for part in ("stMetricLabel", "stMetricValue"):
            for element in tab.get_by_test_id(part).all():
                clipped = element.evaluate(CLIPPED)
                assert not clipped, (ref, element.inner_text())


def test_record_for_this_pathway_opens_its_next_step_with_the_patient_named(
    tab: Page,
    served: tuple[str, Path],  # noqa: F811
) -> None:
    base, _ = served
    open_signed_in(tab, base, "patient?pathway=P-CONSENT", name="clin")
    expect(tab.get_by_role("heading", name="Pathway P-CONSENT")).to_be_visible()
    tab.get_by_role("button", name="Record for this pathway").click()
    expect(tab.get_by_role("heading", name="Recording")).to_be_visible()
    expect(tab).to_have_url(re.compile(r"/record\?.*pathway=P-CONSENT"))
    assert "command=Record+consent" in tab.url or "command=Record%20consent" in tab.url
    identity = tab.get_by_test_id("stMain").get_by_test_id("stText").filter(has_text="NHS 943 476 5919")
    expect(identity).to_contain_text("Ada Testcase · born 4 Mar 1970")
    expect(tab.get_by_role("spinbutton", name="day, Consented on")).to_be_visible()  # the consent form
