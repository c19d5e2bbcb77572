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
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

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
    focus_by_keyboard,
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


def choose_exactly(page: Page, label: str, option: str) -> None:
    """A selectbox by its whole label ("IVC filter", not "IVC filter indication ..."), by the keyboard:
    type the option's words, Enter."""
    box = page.get_by_role("combobox", name=label, exact=True)
    focus_by_keyboard(page, box)
    page.keyboard.type(option)
    expect(page.get_by_role("option", name=option, exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    expect(box).to_have_value(option)


def answer(page: Page, label: str, option: str) -> None:
    page.get_by_test_id("stRadio").filter(has=page.get_by_text(label, exact=True)).get_by_text(
        option, exact=True
    ).click()


def type_date(page: Page, label: str, offset: int = 0) -> None:
    """A date typed into its day, month and year segments (UK order), as a keyboard user does."""
    page.get_by_role("spinbutton", name=f"day, {label}").click()
    page.keyboard.type((today() + timedelta(days=offset)).strftime("%d%m%Y"))
    page.keyboard.press("Escape")  # the calendar the click opened, closed
    expect(page.get_by_role("grid", name=re.compile("^Choose date"))).to_have_count(0)


def saved(page: Page, what: str, ref: str) -> None:
    success, refused = page.get_by_test_id("stAlertContentSuccess"), page.get_by_test_id("stAlertContentError")
    expect(success.or_(refused).first).to_be_visible()
    assert refused.all_inner_texts() == []
    expect(success).to_have_text(f"Saved: {what} for pathway {ref}.")


def identity(page: Page) -> Locator:
    return page.get_by_test_id("stMain").get_by_test_id("stText").filter(has_text=re.compile(r"^(NHS|Site:) "))


def standing_flags(page: Page) -> Locator:
    """The patient page's standing flags (their codes are shown beside the words)."""
    return page.get_by_test_id("stMain").get_by_test_id("stMarkdown").filter(has_text=re.compile(r"\([A-Z_]+\), due "))


def test_coordinator_morning(browser: Browser, context: BrowserContext, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    page = context.new_page()
    page.goto(base)
    expect(page.get_by_label("Username")).to_be_visible(timeout=FIRST_RENDER_MS)
    accessible(page, "sign-in")
    sign_in_by_keyboard(page, "coord")
    heading(page, "Worklist")
    # Today's view: open windows first, then the older backlog below, grouped by age with counts.
    expect(page.get_by_text("open treatment windows first (fewest days left)", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Older backlog, by how long overdue")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Overdue 1–7 days \(\d+\)$"))).to_be_visible()
    accessible(page, "worklist")
    choose(page, "Site", "North Vale")
    expect(page).to_have_url(re.compile(r"site=North"))
    page.get_by_test_id("stCheckbox").filter(has_text="Flagged only").click()
    expect(page).to_have_url(re.compile(r"flagged=true"))
    wait_until_idle(page)
    # A flagged row opened with the keyboard: type its reference into the chooser, Enter.
    chooser = page.get_by_role("combobox", name="Open a pathway listed above")
    focus_by_keyboard(page, chooser)
    page.keyboard.type("P-CONSENT")
    expect(page.get_by_role("option", name="P-CONSENT", exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patient\?pathway=P-CONSENT(&|$)"))
    heading(page, "Pathway P-CONSENT")
    expect(identity(page)).to_contain_text("NHS 943 476 5919 · Ada Testcase · born 4 Mar 1970")
    expect(standing_flags(page).filter(has_text="CONSENT_OUTSTANDING")).to_have_count(1)
    accessible(page, "patient")
    # A reload keeps the place (and the session).
    page.reload()
    heading(page, "Pathway P-CONSENT")
    expect(identity(page)).to_contain_text("Ada Testcase")
    # Back: the worklist as it was left, its filters from the URL.
    page.go_back()
    heading(page, "Worklist")
    expect(page.get_by_role("combobox", name="Site")).to_have_value("North Vale")
    expect(page.get_by_label("Flagged only")).to_be_checked()
    # The patient's address, shared: opened elsewhere, it asks for sign-in, then shows the same patient.
    shared = f"{base}/patient?pathway=P-CONSENT"
    elsewhere = new_context(browser)
    try:
        other = elsewhere.new_page()
        other.goto(shared)
        sign_in_by_keyboard(other, "coord")
        heading(other, "Pathway P-CONSENT")
        expect(identity(other)).to_contain_text("NHS 943 476 5919 · Ada Testcase")
    finally:
        elsewhere.close()


def test_clinician_records_mdt_consent_safety_check_and_procedure(
    context: BrowserContext,
    served: tuple[str, Path],  # noqa: F811
) -> None:
    base, database = served
    page = context.new_page()
    page.goto(f"{base}/patient?pathway=P-QUIET")  # presented yesterday, anticoagulated: the MDT is next
    expect(page.get_by_label("Username")).to_be_visible(timeout=FIRST_RENDER_MS)
    fill_sign_in(page, "clin")
    heading(page, "Pathway P-QUIET")
    expect(standing_flags(page)).to_have_count(0)
    accessible(page, "patient, before")

    # MDT: "Record for this pathway" opens the next step's form, the patient named above it.
    page.get_by_role("button", name="Record for this pathway").click()
    heading(page, "Recording")
    expect(page).to_have_url(re.compile(r"pathway=P-QUIET"))
    expect(identity(page)).to_contain_text("NHS 999 000 0034 · Di Mockford")
    accessible(page, "MDT form")
    type_date(page, "Held on")
    page.get_by_label("Vascular surgeon").fill("Ms Vena")
    page.get_by_label("Interventional radiologist").fill("Dr Wire")
    page.get_by_label("Haematologist").fill("Dr Clot")
    choose_exactly(page, "Decision", "pmt")
    answer(page, "Thrombolysis planned", "no")
    page.get_by_label("Rationale").fill("Iliofemoral DVT, good functional status.")
    page.get_by_role("button", name="Save").click()
    saved(page, "record the mdt outcome", "P-QUIET")

    # Consent, from the "Record" beside its flag; saved with the keyboard alone.
    sidebar_link(page, "Patient")
    heading(page, "Pathway P-QUIET")
    expect(standing_flags(page).filter(has_text="CONSENT_OUTSTANDING")).to_have_count(1)
    page.get_by_role("button", name="Record consent").click()
    heading(page, "Recording")
    expect(page).to_have_url(re.compile(r"command=Record(\+|%20)consent"))
    accessible(page, "consent form")
    page.get_by_role("spinbutton", name="day, Consented on").focus()
    page.keyboard.type(today().strftime("%d%m%Y"))
    page.get_by_label("Written information given").focus()
    page.keyboard.type("PIL-PMT v2.0")
    page.get_by_role("checkbox", name="Uncertainties and alternatives discussed").focus()
    page.keyboard.press("Space")
    page.get_by_label("Clinician who did it (optional)").focus()
    page.keyboard.type("Dr Wire")
    page.keyboard.press("Enter")  # Enter in a form's field saves it
    saved(page, "record consent", "P-QUIET")

    # The procedure booked for tomorrow: the safety check is now wanted.
    choose(page, "What to record", "Schedule the procedure")
    type_date(page, "Scheduled on", 1)
    page.get_by_role("button", name="Save").click()
    saved(page, "schedule the procedure", "P-QUIET")
    sidebar_link(page, "Patient")
    heading(page, "Pathway P-QUIET")
    expect(standing_flags(page).filter(has_text="CONSENT_OUTSTANDING")).to_have_count(0)
    expect(standing_flags(page).filter(has_text="SAFETY_CHECK_OUTSTANDING")).to_have_count(1)
    accessible(page, "patient, safety check wanted")

    # The safety check, from beside its flag.
    page.get_by_role("button", name="Record the pre-procedure safety check").click()
    heading(page, "Recording")
    accessible(page, "safety check form")
    type_date(page, "Checked on")
    page.get_by_label("Platelets (x10^9/L)").fill("250")
    page.get_by_label("INR").fill("1.00")
    page.get_by_label("Haemoglobin (g/L)").fill("130")
    page.get_by_label("eGFR (mL/min/1.73m2)").fill("90")
    page.get_by_role("button", name="Save").click()
    saved(page, "record the pre-procedure safety check", "P-QUIET")

    # The procedure: the pathway's next step.
    sidebar_link(page, "Patient")
    heading(page, "Pathway P-QUIET")
    expect(standing_flags(page).filter(has_text="SAFETY_CHECK_OUTSTANDING")).to_have_count(0)
    page.get_by_role("button", name="Record for this pathway").click()
    heading(page, "Recording")
    expect(page).to_have_url(re.compile(r"command=Record(\+|%20)the(\+|%20)procedure"))
    accessible(page, "procedure form")
    type_date(page, "Performed on")
    choose_exactly(page, "Technique", "pmt")
    page.get_by_label("Device", exact=True).fill("Synthetic catheter")
    choose_exactly(page, "Access vein", "popliteal")
    choose_exactly(page, "IVC filter", "none")
    answer(page, "Stent placed", "no")
    choose_exactly(page, "Clot removal", "grade 3")
    page.get_by_role("button", name="Save").click()
    saved(page, "record the procedure", "P-QUIET")
    sidebar_link(page, "Patient")
    heading(page, "Pathway P-QUIET")
    expect(page.get_by_test_id("stMetric").filter(has_text="-day window")).to_contain_text("treated on day 1")
    expect(standing_flags(page).filter(has_text=re.compile("CONSENT_|SAFETY_CHECK_|MDT_"))).to_have_count(0)

    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        detail = queries.pathway_detail(session, "P-QUIET", today())
    engine.dispose()
    record = detail.rows
    assert (len(record.mdts), len(record.consents), len(record.safety_checks), len(record.procedures)) == (1, 1, 1, 1)
    assert record.consents[0]["information_leaflet"] == "PIL-PMT v2.0"
    assert not {f.code for f in detail.flags} & {"CONSENT_OUTSTANDING", "SAFETY_CHECK_OUTSTANDING", "MDT_OVERDUE"}


def test_auditor_reads_pseudonymised_reports_and_exports_and_records_nothing(
    context: BrowserContext,
    served: tuple[str, Path],  # noqa: F811
) -> None:
    base, _ = served
    page = context.new_page()
    page.goto(base)
    sign_in_by_keyboard(page, "audit")
    heading(page, "Worklist")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Reports")).to_be_visible()
    expect(nav.get_by_role("link", name="Recording")).to_have_count(0)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.get_by_role("columnheader", name="Pathway", include_hidden=True)).to_have_count(1)
    expect(grid.get_by_role("columnheader", name="Patient", include_hidden=True)).to_have_count(0)
    expect(page.get_by_role("combobox", name="Record a flagged step listed above")).to_have_count(0)
    accessible(page, "worklist")
    page.goto(f"{base}/patient?pathway=P-MISSED")
    heading(page, "Pathway P-MISSED")
    expect(identity(page)).to_have_text("Site: North Vale · Sex: female")
    expect(page.get_by_role("button", name=re.compile("^Record"))).to_have_count(0)
    assert "Bo Sample" not in page.content() and "999 000 0018" not in page.content()
    accessible(page, "patient")
    sidebar_link(page, "Reports")
    heading(page, "Reports")
    accessible(page, "reports")
    sidebar_link(page, "Exports")
    heading(page, "Exports")
    expect(page.get_by_text("the auditor role cannot export it")).to_be_visible()
    accessible(page, "exports")
    for name in ("Ada Testcase", "Bo Sample", "943 476 5919", "9434765919"):
        assert name not in page.content()
    # No recording page, even by its address.
    page.goto(f"{base}/record?pathway=P-MISSED&command=Record+consent")
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until_idle(page)
    expect(page.get_by_role("heading", name="Recording")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_have_count(0)


@pytest.fixture(scope="module")
def north_vale_only(served: tuple[str, Path]) -> str:  # noqa: F811
    """A clinician of North Vale alone (auditors are regional: they see every site)."""
    _, database = served
    engine = make_engine(f"sqlite:///{database}")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CHEAP_HASH.items():
            patch.setenv(key, value)
        add_user(make_session_factory(engine), "nvclin", Role.clinician, PASSWORD, sites=["North Vale"])
    engine.dispose()
    return "nvclin"


def test_another_sites_pathway_looks_unknown(
    context: BrowserContext,
    served: tuple[str, Path],  # noqa: F811
    north_vale_only: str,
) -> None:
    base, _ = served
    page = context.new_page()
    page.goto(f"{base}/patient?pathway=P-HARBOUR")  # Harbour Royal's
    sign_in_by_keyboard(page, north_vale_only)
    heading(page, "Patient pathway")
    expect(page.get_by_test_id("stAlertContentError")).to_have_text("No pathway has the reference P-HARBOUR.")
    assert "Ed Fictor" not in page.content()
    accessible(page, "patient, another site")
    unknown = page.get_by_label("Pathway reference")
    unknown.fill("P-NOSUCH")
    unknown.press("Enter")
    expect(page.get_by_test_id("stAlertContentError")).to_have_text("No pathway has the reference P-NOSUCH.")
    page.goto(f"{base}/record?pathway=P-HARBOUR&command=Record+the+MDT+outcome")
    heading(page, "Recording")
    expect(page.get_by_test_id("stAlertContentError")).to_be_visible()
    accessible(page, "recording, another site")
    other_site = page.get_by_test_id("stAlertContentError").inner_text()
    assert "Di Mockford" not in page.content() and "Ed Fictor" not in page.content()
    page.goto(f"{base}/record?pathway=P-NOSUCH&command=Record+the+MDT+outcome")
    heading(page, "Recording")
    expect(page.get_by_test_id("stAlertContentError")).to_have_text(other_site)
    assert "Ed Fictor" not in page.content()
