"""Single sign-on end to end in chromium against a real OpenID provider started here
(oidc-provider-mock 0.3.4, bound to 127.0.0.1): sign-in to the worklist, a reload, sign-out; an
identity linked to no account, a token for another audience, a denied login and an expired token are
refused with a message, audited. With a claims mapping configured (PATHWAY_SSO_...), a sign-in whose
role and sites come from the provider's claims, and one refused because its claims give no role.
The audience check of our own (dashboard.sso.problem) is tested on claims in test_sso.py."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from oidc_provider_mock import User
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import col, select

from dashboard.launch import start_dashboard, stop_dashboard
from pathway.services.accounts import link_sso, list_users
from pathway.store.db import make_engine, make_session_factory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import CHEAP_HASH
from tests.support.browser import FIRST_RENDER_MS, browser, context, free_port, wait_until_idle

__all__ = ["browser", "context"]  # fixtures, used by name

pytestmark = pytest.mark.browser

USERS = [
    User(sub="sso-clin", claims={"name": "Clin Ician"}),
    User(sub="sso-stranger", claims={"name": "Not Linked"}),
    User(sub="sso-elsewhere", claims={"aud": "another-application"}),
    # For a dashboard that maps claims: the provider's groups to roles, its site names to sites.
    User(
        sub="sso-mapped",
        claims={
            "preferred_username": "Ward.Nurse",
            "groups": ["staff", "dvt-clinicians"],
            "pathway_sites": ["north vale"],
        },
    ),
    User(
        sub="sso-norole", claims={"preferred_username": "no.role", "groups": ["staff"], "pathway_sites": ["North Vale"]}
    ),
]
CLAIMS_MAPPING = {
    "PATHWAY_SSO_ROLE_CLAIM": "groups",
    "PATHWAY_SSO_ROLES": json.dumps({"dvt-clinicians": "clinician", "dvt-coordinators": "coordinator"}),
    "PATHWAY_SSO_SITES_CLAIM": "pathway_sites",
}


@contextmanager
def _provider(token_max_age: int | None = None) -> Iterator[int]:
    """The provider as a process of its own on 127.0.0.1 (in a thread, its server's use of the global
    `random` leaked into hypothesis' strategies in later tests); yields its port once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    command += [f"--user-claims={json.dumps({'sub': user.sub} | user.claims)}" for user in USERS]
    if token_max_age is not None:
        command.append(f"--token-max-age={token_max_age}")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the OpenID provider did not start"
            time.sleep(0.2)  # polling interval, not a wait for readiness
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def _serving(
    seeded_template: Path, folder: Path, token_max_age: int | None = None, settings: dict[str, str] | None = None
) -> Iterator[tuple[str, Path]]:
    """A dashboard on a copy of the seeded database, signing in through a provider of its own
    (`settings`: more of the dashboard's environment)."""
    database = folder / "pathway.db"
    shutil.copy(seeded_template, database)
    engine = make_engine(f"sqlite:///{database}")
    link_sso(make_session_factory(engine), "clin", "sso-clin")
    link_sso(make_session_factory(engine), "coord", "sso-elsewhere")
    engine.dispose()
    with _provider(token_max_age) as issuer_port:
        port = free_port()
        env = os.environ | CHEAP_HASH
        env |= {"PATHWAY_DATABASE_URL": f"sqlite:///{database}", "PATHWAY_HOME": str(folder)}
        env |= {
            "PATHWAY_OIDC_CLIENT_ID": "dvt-pathway",
            "PATHWAY_OIDC_CLIENT_SECRET": secrets.token_urlsafe(16),
            "PATHWAY_OIDC_COOKIE_SECRET": secrets.token_urlsafe(32),
            "PATHWAY_OIDC_REDIRECT_URI": f"http://127.0.0.1:{port}/oauth2callback",
            "PATHWAY_OIDC_SERVER_METADATA_URL": f"http://127.0.0.1:{issuer_port}/.well-known/openid-configuration",
        }
        env |= settings or {}
        with (folder / "streamlit.log").open("wb") as log:
            proc = start_dashboard(port, env, address="127.0.0.1", timeout=90, log=log)
            try:
                yield f"http://127.0.0.1:{port}", database
            finally:
                stop_dashboard(proc)


@pytest.fixture(scope="module")
def served(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with _serving(seeded_template, tmp_path_factory.mktemp("sso")) as found:
        yield found


def _sso(page: Page, base: str, sub: str) -> None:
    page.goto(base)
    page.get_by_role("button", name="Sign in with single sign-on").click(timeout=FIRST_RENDER_MS)
    page.locator(f"button[name=sub][value={sub}]").click()  # the provider's login form


def _end_provider_session(page: Page) -> None:
    """Signing out of single sign-on ends the provider's session too: its page asks to confirm."""
    expect(page).to_have_url(re.compile(r"/end_session\?"), timeout=FIRST_RENDER_MS)
    page.get_by_role("button", name="End session").click(timeout=FIRST_RENDER_MS)


def _audit(database: Path, commands: list[str] | None = None) -> list[tuple[str, str, object]]:
    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        wanted = commands or ["sign_in", "sign_in_failed"]
        rows = session.exec(select(AuditEvent).where(col(AuditEvent.command).in_(wanted))).all()
    engine.dispose()
    return [(r.command, r.actor, (r.after or {}).get("reason") or (r.after or {}).get("via")) for r in rows]


def test_single_sign_on_opens_the_worklist_survives_a_reload_and_signs_out(
    context: BrowserContext, served: tuple[str, Path]
) -> None:
    base, database = served
    page = context.new_page()
    _sso(page, base, "sso-clin")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_text("Signed in as clin (clinician)")).to_be_visible()  # the account's role
    assert ("sign_in", "clin", "sso") in _audit(database)
    page.reload()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until_idle(page)  # the page drawn to its end: a click while it is still running may be lost
    page.get_by_role("button", name="Sign out").click()
    _end_provider_session(page)
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible(timeout=FIRST_RENDER_MS)
    page.reload()
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("heading", name="Worklist")).to_have_count(0)


@pytest.mark.parametrize(
    ("sub", "message", "reason"),
    [
        # Signed in at the provider but linked to no account: offered a sign-out of single sign-on.
        ("sso-stranger", "not linked to an account here", "unknown_identity"),
        # Refused by Authlib at the callback, where Streamlit would land anonymous without a word.
        ("sso-elsewhere", "Single sign-on did not complete", "callback_refused"),
    ],
)
def test_a_refused_identity_gets_a_message_not_a_silent_anonymous_page(
    context: BrowserContext, served: tuple[str, Path], sub: str, message: str, reason: str
) -> None:
    base, database = served
    page = context.new_page()
    _sso(page, base, sub)
    expect(page.get_by_text(message)).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("heading", name="Worklist")).to_have_count(0)
    assert ("sign_in_failed", "(unknown)", reason) in _audit(database)
    if reason == "unknown_identity":
        page.get_by_role("button", name="Sign out of single sign-on").click()
        _end_provider_session(page)
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible(timeout=FIRST_RENDER_MS)
    page.reload()  # the message was for that attempt only
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_text(message)).to_have_count(0)


def test_a_denied_login_gets_a_message(context: BrowserContext, served: tuple[str, Path]) -> None:
    base, database = served
    refused = ("sign_in_failed", "(unknown)", "callback_refused")
    before = _audit(database).count(refused)
    page = context.new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in with single sign-on").click(timeout=FIRST_RENDER_MS)
    page.get_by_role("button", name="Deny").click()  # the provider answers error=access_denied
    expect(page.get_by_text("Single sign-on did not complete")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("heading", name="Worklist")).to_have_count(0)
    assert _audit(database).count(refused) == before + 1


def test_an_expired_token_gets_a_message(
    context: BrowserContext, seeded_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A provider whose ID tokens expired two minutes before they were issued.
    folder = tmp_path_factory.mktemp("sso-expired")
    with _serving(seeded_template, folder, token_max_age=-120) as (base, database):
        page = context.new_page()
        _sso(page, base, "sso-clin")
        expect(page.get_by_text("Single sign-on did not complete")).to_be_visible(timeout=FIRST_RENDER_MS)
        expect(page.get_by_role("heading", name="Worklist")).to_have_count(0)
        assert ("sign_in_failed", "(unknown)", "callback_refused") in _audit(database)
        assert ("sign_in", "clin", "sso") not in _audit(database)


@pytest.fixture(scope="module")
def served_by_claims(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with _serving(seeded_template, tmp_path_factory.mktemp("sso-claims"), settings=CLAIMS_MAPPING) as found:
        yield found


def _accounts(database: Path) -> dict[str, tuple[str, list[str] | None]]:
    engine = make_engine(f"sqlite:///{database}")
    found = {a.name: (a.role, a.sites) for a in list_users(make_session_factory(engine))}
    engine.dispose()
    return found


def test_single_sign_on_takes_the_role_and_sites_from_the_claims(
    context: BrowserContext, served_by_claims: tuple[str, Path]
) -> None:
    base, database = served_by_claims
    assert "ward.nurse" not in _accounts(database)
    page = context.new_page()
    _sso(page, base, "sso-mapped")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_text("Signed in as ward.nurse (clinician)")).to_be_visible()  # the claims' role
    assert _accounts(database)["ward.nurse"] == ("clinician", ["North Vale"])  # the listed spelling
    assert ("sso_add_user", "system", "sso") in _audit(database, ["sso_add_user"])
    assert ("sign_in", "ward.nurse", "sso") in _audit(database)


def test_claims_that_give_no_role_are_refused_with_a_message(
    context: BrowserContext, served_by_claims: tuple[str, Path]
) -> None:
    base, database = served_by_claims
    page = context.new_page()
    _sso(page, base, "sso-norole")
    expect(page.get_by_text("your identity provider gives you no role in this application")).to_be_visible(
        timeout=FIRST_RENDER_MS
    )
    expect(page.get_by_role("heading", name="Worklist")).to_have_count(0)
    assert ("sign_in_failed", "(unknown)", "no_role") in _audit(database)
    assert "no.role" not in _accounts(database)
    expect(page.get_by_role("button", name="Sign out of single sign-on")).to_be_visible()  # a way to start over
