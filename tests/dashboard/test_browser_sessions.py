"""A local account's session in a real browser (chromium, Playwright): it survives a reload and a new
tab through an HttpOnly cookie page scripts cannot read, and ends for good at sign-out and when the
account is disabled. Same server fixture as tests/dashboard/test_browser.py (its own server)."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import col, select

from dashboard.session_cookie import CLAIM_PATH, CLEAR_PATH, COOKIE
from pathway.services.accounts import disable_user
from pathway.store.db import make_engine, make_session_factory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import PASSWORD
from tests.support.browser import FIRST_RENDER_MS, browser, context, served

pytestmark = pytest.mark.browser
__all__ = ["browser", "context", "served"]  # fixtures, used by name


def _sign_in(page: Page, base: str, name: str) -> None:
    page.goto(base)
    page.get_by_label("Username").wait_for(timeout=FIRST_RENDER_MS)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_response(lambda answer: answer.url.endswith(CLAIM_PATH)) as claimed:
        page.get_by_role("button", name="Sign in").click()
    assert claimed.value.status == 204
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)


def _session_cookie(context: BrowserContext) -> dict[str, object]:
    (found,) = [c for c in context.cookies() if c["name"] == COOKIE]
    return dict(found)


def _audit(database: Path, actor: str) -> list[str]:
    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        rows = session.exec(select(AuditEvent.command).where(col(AuditEvent.actor) == actor)).all()
    engine.dispose()
    return list(rows)


def test_a_reload_and_a_new_tab_keep_the_session_until_sign_out(
    context: BrowserContext, served: tuple[str, Path]
) -> None:
    base, database = served
    page = context.new_page()
    _sign_in(page, base, "coord")
    cookie = _session_cookie(context)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/")
    assert COOKIE not in page.evaluate("document.cookie")  # page scripts cannot read it
    page.reload()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    other = context.new_page()
    other.goto(f"{base}/reports")
    expect(other.get_by_role("heading", name="Reports")).to_be_visible(timeout=FIRST_RENDER_MS)
    other.close()
    with page.expect_response(lambda answer: answer.url.endswith(CLEAR_PATH)):
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    assert not [c for c in context.cookies() if c["name"] == COOKIE]
    page.reload()
    expect(page.get_by_label("Username")).to_be_visible(timeout=FIRST_RENDER_MS)
    assert _audit(database, "coord")[-2:] == ["sign_in", "sign_out"]


def test_a_disabled_account_ends_at_reload_and_its_cookie_opens_nothing_elsewhere(
    context: BrowserContext, browser: Browser, served: tuple[str, Path]
) -> None:
    base, database = served
    page = context.new_page()
    _sign_in(page, base, "clin")
    stolen = _session_cookie(context)
    engine = make_engine(f"sqlite:///{database}")
    disable_user(make_session_factory(engine), "clin")
    engine.dispose()
    page.reload()
    expect(page.get_by_text("Your account has been disabled")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_label("Username")).to_be_visible()
    # The same token replayed from another browser profile opens nothing either.
    thief = browser.new_context()
    try:
        thief.add_cookies([{k: stolen[k] for k in ("name", "value", "domain", "path")}])  # type: ignore[list-item]
        replay = thief.new_page()
        replay.goto(base)
        expect(replay.get_by_label("Username")).to_be_visible(timeout=FIRST_RENDER_MS)
        expect(replay.get_by_role("heading", name="Worklist")).to_have_count(0)
    finally:
        thief.close()
