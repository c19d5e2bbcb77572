"""The dashboard in a real browser: Debian's chromium driven by Playwright (never `playwright install`).

One server and one browser for the module; each test signs in on a fresh context. The database is
the seeded one plus a synthetic cohort, so the screenshots saved for the README look like a real
worklist. No fixed sleeps: the server is polled on /_stcore/health and every wait is an expectation.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pathway.store.db import make_engine, make_session_factory
from pathway.views import queries
from tests.dashboard.conftest import today
from tests.support.browser import (  # noqa: F401  (`browser`, `page` and `served` are fixtures, used by name)
    FIRST_RENDER_MS,
    browser,
    cell,
    choose,
    fill_sign_in,
    page,
    screenshot,
    served,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_the_login_gate_shows_nothing_before_sign_in(page: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    page.goto(f"{base}/patient")  # even a link to a page shows only the form
    expect(page.get_by_label("Username")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    # Only the hidden, empty table that preloads the table component (dashboard/auth.py): no data.
    expect(page.get_by_test_id("stDataFrame").filter(visible=True)).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)).to_have_count(0)
    assert "P-MISSED" not in page.content()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    sign_in(page, base, "coord", "not the password")
    expect(page.get_by_test_id("stAlertContentError")).to_have_text("Unknown username or wrong password.")
    assert "P-MISSED" not in page.content()


def test_a_flagged_pathway_on_the_worklist_and_its_timeline(page: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    sign_in(page, base, "coord")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True).first).to_be_attached()
    expect(page.get_by_text("As of")).to_be_visible()
    # The README's picture: the pathways waiting for consent, with their windows running down.
    choose(page, "Stage", "Information and consent")
    waiting = page.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
    expect(waiting.filter(has_text="(CONSENT_OUTSTANDING)").first).to_be_attached()
    screenshot(page, "worklist.png")
    choose(page, "Stage", "All stages")
    choose(page, "Site", "North Vale")
    expect(cell(page, "P-MISSED")).to_be_attached()
    flags = page.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
    expect(flags.filter(has_text="14-day treatment window missed (TREATMENT_WINDOW_MISSED)")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    csv = Path(download.value.path()).read_text()
    assert csv.startswith("pathway,patient,site,severity,flags") and "P-MISSED" in csv and "P-QUIET" in csv
    # Selecting the first row (its tick box, drawn on the grid's canvas) opens that patient's pathway.
    frame = page.get_by_test_id("stDataFrame").first.bounding_box()  # today's list, above the backlog
    assert frame is not None
    page.mouse.click(frame["x"] + 12, frame["y"] + 35 + 17)
    expect(page.get_by_role("heading", name="Patient pathway")).to_be_visible()
    # The link names the pathway opened (and carries the worklist's filters, for Back after a reload).
    expect(page).to_have_url(re.compile(r"/patient\?pathway=[^&]+(&worklist=[^&]+)?$"))
    opened = re.findall(r"pathway=([^&]+)", page.url)[0]
    expect(page.get_by_role("heading", name=f"Pathway {opened}")).to_be_visible()
    # A shared link opens the same pathway in a fresh page load (after signing in there, if asked to).
    page.goto(f"{base}/patient?pathway=P-MISSED")
    heading = page.get_by_role("heading", name="Pathway P-MISSED")
    expect(heading.or_(page.get_by_label("Username"))).to_be_visible(timeout=FIRST_RENDER_MS)
    if page.get_by_label("Username").is_visible():
        fill_sign_in(page, "coord")
    expect(heading).to_be_visible()
    expect(page.get_by_text("missed by 6 days")).to_be_visible()
    reference = page.get_by_label("Pathway reference")
    reference.fill("P-TREATED")
    reference.press("Enter")
    expect(page.get_by_role("heading", name="Pathway P-TREATED")).to_be_visible()
    expect(page.get_by_text("Registry entry overdue (REGISTRY_SUBMISSION_OVERDUE)")).to_be_visible()
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("canvas, svg").first).to_be_visible()
    screenshot(page, "patient-timeline.png")


def test_an_older_backlog_group_shows_its_rows_when_opened(page: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    # A group's rows are read and drawn only once it is opened (dashboard/app_pages/worklist.py).
    base, _ = served
    sign_in(page, base, "coord")
    expect(page.get_by_role("heading", name="Older backlog, by how long overdue")).to_be_visible(
        timeout=FIRST_RENDER_MS
    )
    group = page.get_by_test_id("stExpander").filter(has_text=re.compile(r"Overdue .*\([1-9]\d*\)"))
    expect(group.first).to_be_visible()
    expect(group.first.get_by_test_id("stDataFrame")).to_have_count(0)
    group.first.get_by_text(re.compile(r"^Overdue ")).click()
    rows = group.first.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
    expect(rows.first).to_be_attached()


def test_recording_consent_clears_its_flag(page: Page, served: tuple[str, Path]) -> None:  # noqa: F811
    base, database = served
    sign_in(page, base, "clin")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    choose(page, "Site", "North Vale")
    grid = page.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
    expect(grid.filter(has_text="Consent not yet recorded (CONSENT_OUTSTANDING)")).to_have_count(1)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Recording").click()
    expect(page.get_by_role("heading", name="Recording")).to_be_visible()
    choose(page, "What to record", "Record consent")
    reference = page.get_by_label("Pathway reference")
    reference.fill("P-CONSENT")
    reference.press("Enter")
    expect(page.get_by_text("you are recording against version")).to_be_visible()
    # No date is filled in for the user; the segments run day, month, year (UK order).
    day_part = page.get_by_role("spinbutton", name="day, Consented on")
    expect(day_part).to_have_attribute("aria-valuetext", "Empty")
    day_part.click()
    page.keyboard.type(today().strftime("%d%m%Y"))
    page.get_by_label("Written information given").fill("PIL-PMT v1.0")
    page.get_by_text("Uncertainties and alternatives discussed").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text("Saved: record consent for pathway P-CONSENT.")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Worklist").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    choose(page, "Site", "North Vale")
    expect(cell(page, "P-CONSENT")).to_be_attached()
    expect(grid.filter(has_text="CONSENT_OUTSTANDING")).to_have_count(0)
    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        detail = queries.pathway_detail(session, "P-CONSENT", today())
    engine.dispose()
    assert [c["information_leaflet"] for c in detail.rows.consents] == ["PIL-PMT v1.0"]
    assert "CONSENT_OUTSTANDING" not in {f.code for f in detail.flags}
