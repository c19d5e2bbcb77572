"""Account events on the audit chain, per-address throttling and server-side sessions (issue 14).

Each event is one transaction with one audit row; no row holds a password; the chain verifies.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.services.accounts import (
    AccountError,
    AccountLocked,
    AccountPolicy,
    AuthenticationFailed,
    SessionEnded,
    SignInThrottled,
    add_user,
    address_key,
    disable_user,
    end_session,
    link_sso,
    open_sessions,
    reset_password,
    resume_session,
    set_role,
    set_sites,
    sign_in,
    sso_sign_in,
)
from pathway.store import audit
from pathway.store.account_models import AccountSession
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import CHEAP_HASH

AT = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
NEW_PASSWORD = "purple tractor lantern"
ADMIN = Actor("boss", Role.admin)
WARD = "10.1.2.3"


@pytest.fixture(autouse=True)
def _cheap_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def accounts(factory: SessionFactory) -> SessionFactory:
    add_user(factory, "nurse.jones", Role.clinician, PASSWORD, at=AT, by=ADMIN)
    return factory


def _rows(factory: SessionFactory) -> list[AuditEvent]:
    with factory() as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def _new_rows(factory: SessionFactory, before: int) -> list[tuple[str, str, str, dict[str, object] | None]]:
    return [(r.command, r.actor, r.outcome, r.after) for r in _rows(factory)[before:]]


def _no_password_anywhere(factory: SessionFactory) -> None:
    for row in _rows(factory):
        text = repr((row.before, row.after))
        assert PASSWORD not in text and NEW_PASSWORD not in text and "wrong" not in text.replace("wrong_password", "")
    with factory() as session:
        assert audit.verify(session).intact


def test_adding_an_account_is_audited_with_who_did_it(accounts: SessionFactory) -> None:
    [row] = _rows(accounts)
    assert (row.command, row.actor, row.role, row.outcome) == ("add_user", "boss", "admin", "accepted")
    assert row.after == {"account": "nurse.jones", "role": "clinician", "disabled": False, "sites": None}


def test_each_sign_in_outcome_is_one_audit_row(accounts: SessionFactory) -> None:
    start = len(_rows(accounts))
    signed = sign_in(accounts, "nurse.jones", PASSWORD, AT, address=WARD)
    with pytest.raises(AuthenticationFailed):
        sign_in(accounts, "nobody.here", PASSWORD, AT, address=WARD)
    with pytest.raises(AuthenticationFailed):
        sign_in(accounts, "nurse.jones", "wrong one", AT, address=WARD)
    source = {"address": address_key(WARD)[:16]}  # type: ignore[index]
    assert _new_rows(accounts, start) == [
        ("sign_in", "nurse.jones", "accepted", source),
        ("sign_in_failed", "(unknown)", "denied", {"reason": "unknown_account"} | source),
        ("sign_in_failed", "nurse.jones", "denied", {"reason": "wrong_password", "failures": 1} | source),
    ]
    assert WARD not in repr(_rows(accounts))  # the address is kept as a hash only
    assert signed.token and len(signed.token) >= 40
    _no_password_anywhere(accounts)


def test_the_lockout_and_attempts_while_locked_are_audited(accounts: SessionFactory) -> None:
    start = len(_rows(accounts))
    policy = AccountPolicy(lockout_attempts=2)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            sign_in(accounts, "nurse.jones", "wrong one", AT, policy=policy)
    with pytest.raises(AccountLocked):
        sign_in(accounts, "nurse.jones", PASSWORD, AT + timedelta(minutes=1), policy=policy)
    commands = [(c, o, (a or {}).get("reason")) for c, _, o, a in _new_rows(accounts, start)]
    assert commands == [
        ("sign_in_failed", "denied", "wrong_password"),
        ("account_locked", "denied", "wrong_password"),
        ("sign_in_failed", "denied", "locked"),
    ]
    _no_password_anywhere(accounts)


def test_one_address_is_throttled_across_names_and_the_right_password(accounts: SessionFactory) -> None:
    policy = AccountPolicy(address_failures=3, address_window_minutes=10, lockout_attempts=100)
    for n in range(3):
        with pytest.raises(AuthenticationFailed) as failed:
            sign_in(accounts, f"guess{n}", "anything at all", AT + timedelta(minutes=n), policy=policy, address=WARD)
        assert not isinstance(failed.value, SignInThrottled)
    with pytest.raises(SignInThrottled, match="Try again in 10 minutes"):
        sign_in(accounts, "nurse.jones", PASSWORD, AT + timedelta(minutes=3), policy=policy, address=WARD)
    # Another address is not held back; nor is this one once the first failures leave the window.
    assert sign_in(accounts, "nurse.jones", PASSWORD, AT + timedelta(minutes=3), policy=policy, address="10.9.9.9")
    assert sign_in(accounts, "nurse.jones", PASSWORD, AT + timedelta(minutes=10), policy=policy, address=WARD)
    throttled = [r for r in _rows(accounts) if (r.after or {}).get("reason") == "throttled"]
    assert [(r.command, r.actor) for r in throttled] == [("sign_in_failed", "nurse.jones")]


def test_a_session_survives_on_its_token_and_ends_at_sign_out(accounts: SessionFactory) -> None:
    signed = sign_in(accounts, "nurse.jones", PASSWORD, AT)
    assert resume_session(accounts, signed.token, AT + timedelta(minutes=5)) == Actor("nurse.jones", Role.clinician)
    with accounts() as session:
        stored = session.exec(select(AccountSession)).one()
    assert stored.token_hash != signed.token and signed.token not in repr(stored)  # only its hash is kept
    start = len(_rows(accounts))
    end_session(accounts, signed.token, AT + timedelta(minutes=6))
    end_session(accounts, signed.token, AT + timedelta(minutes=7))  # a second sign-out (another tab) adds nothing
    assert [(c, a) for c, a, _, _ in _new_rows(accounts, start)] == [("sign_out", "nurse.jones")]
    with pytest.raises(SessionEnded, match="You have signed out"):
        resume_session(accounts, signed.token, AT + timedelta(minutes=8))
    with pytest.raises(SessionEnded, match="Please sign in"):
        resume_session(accounts, "a forged token", AT)


def test_the_time_limits_end_a_session_once_and_audit_it(accounts: SessionFactory) -> None:
    policy = AccountPolicy(session_touch_seconds=0)
    idle = sign_in(accounts, "nurse.jones", PASSWORD, AT)
    start = len(_rows(accounts))
    resume_session(accounts, idle.token, AT + timedelta(minutes=29), policy=policy)
    # A timed refresh is not activity: the idle time still counts from minute 29.
    resume_session(accounts, idle.token, AT + timedelta(minutes=58), activity=False, policy=policy)
    with pytest.raises(SessionEnded, match="30 minutes without activity"):
        resume_session(accounts, idle.token, AT + timedelta(minutes=59), policy=policy)
    with pytest.raises(SessionEnded):
        resume_session(accounts, idle.token, AT + timedelta(minutes=60), policy=policy)
    busy = sign_in(accounts, "nurse.jones", PASSWORD, AT)
    for minute in range(20, 12 * 60, 20):
        resume_session(accounts, busy.token, AT + timedelta(minutes=minute), policy=policy)
    with pytest.raises(SessionEnded, match="at most 12 hours"):
        resume_session(accounts, busy.token, AT + timedelta(hours=12), policy=policy)
    expired = [(c, (a or {}).get("reason")) for c, _, _, a in _new_rows(accounts, start) if c == "session_expired"]
    assert expired == [("session_expired", "inactivity"), ("session_expired", "absolute")]


def test_user_administration_is_audited_and_ends_sessions(accounts: SessionFactory) -> None:
    signed = sign_in(accounts, "nurse.jones", PASSWORD, AT)
    start = len(_rows(accounts))
    set_role(accounts, "nurse.jones", Role.coordinator, at=AT, by=ADMIN)
    assert resume_session(accounts, signed.token, AT).role is Role.coordinator  # the new role at the next run
    set_sites(accounts, "nurse.jones", ["North Vale"], at=AT, by=ADMIN)
    reset_password(accounts, "nurse.jones", NEW_PASSWORD, at=AT, by=ADMIN)
    with pytest.raises(SessionEnded, match="password has been reset"):
        resume_session(accounts, signed.token, AT)
    again = sign_in(accounts, "nurse.jones", NEW_PASSWORD, AT)
    disable_user(accounts, "nurse.jones", at=AT, by=ADMIN)
    assert open_sessions(accounts, "nurse.jones") == 0
    with pytest.raises(SessionEnded, match="disabled"):
        resume_session(accounts, again.token, AT)
    assert [(c, a) for c, a, _, _ in _new_rows(accounts, start)] == [
        ("change_role", "boss"),
        ("change_sites", "boss"),
        ("reset_password", "boss"),
        ("sign_in", "nurse.jones"),
        ("disable_user", "boss"),
    ]
    changed = _rows(accounts)[start]
    assert (changed.before or {})["role"] == "clinician" and (changed.after or {})["role"] == "coordinator"
    assert (_rows(accounts)[start + 1].after or {})["sites"] == ["North Vale"]
    _no_password_anywhere(accounts)


def test_rejected_administration_writes_nothing(accounts: SessionFactory) -> None:
    start = len(_rows(accounts))
    with pytest.raises(AccountError, match="role: must be one of"):
        set_role(accounts, "nurse.jones", "surgeon", by=ADMIN)
    with pytest.raises(AccountError, match="password: at least 10 characters"):
        reset_password(accounts, "nurse.jones", "short", by=ADMIN)
    with pytest.raises(AccountError, match="sites: at least one site"):
        set_sites(accounts, "nurse.jones", ["  "], by=ADMIN)
    with pytest.raises(AccountError, match="no account called ghost"):
        set_role(accounts, "ghost", Role.admin, by=ADMIN)
    assert len(_rows(accounts)) == start


def test_single_sign_on_opens_the_linked_accounts_session_and_refuses_the_rest(accounts: SessionFactory) -> None:
    add_user(accounts, "dr.smith", Role.coordinator, PASSWORD, at=AT, by=ADMIN)
    link_sso(accounts, "nurse.jones", "sub-123", at=AT, by=ADMIN)
    with pytest.raises(AccountError, match=r"subject: already linked to the account nurse\.jones"):
        link_sso(accounts, "dr.smith", "sub-123", at=AT, by=ADMIN)
    start = len(_rows(accounts))
    signed = sso_sign_in(accounts, "sub-123", AT)
    assert signed.actor == Actor("nurse.jones", Role.clinician)  # the account's role, not the provider's
    assert resume_session(accounts, signed.token, AT + timedelta(minutes=1)).name == "nurse.jones"
    with pytest.raises(AuthenticationFailed):
        sso_sign_in(accounts, "sub-unknown", AT)
    disable_user(accounts, "nurse.jones", at=AT, by=ADMIN)
    with pytest.raises(AuthenticationFailed):
        sso_sign_in(accounts, "sub-123", AT)
    assert [(c, a, o, (after or {}).get("reason")) for c, a, o, after in _new_rows(accounts, start)] == [
        ("sign_in", "nurse.jones", "accepted", None),
        ("sign_in_failed", "(unknown)", "denied", "unknown_identity"),
        ("disable_user", "boss", "accepted", None),
        ("sign_in_failed", "nurse.jones", "denied", "disabled"),
    ]
