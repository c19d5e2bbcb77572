"""Named accounts: argon2 hashes, one failure message, lockout, and the pure session-expiry rule."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from pathway.domain.vocabulary import Role
from pathway.errors import AccountError, AccountLocked, AuthenticationFailed
from pathway.services.accounts import (
    AccountPolicy,
    SessionEnd,
    active_role,
    add_user,
    authenticate,
    disable_user,
    list_users,
    session_end,
)
from pathway.store.account_models import Account
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import CHEAP_HASH

AT = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def accounts(factory: SessionFactory) -> SessionFactory:
    """One clinician's account, on SQLite and (when configured) PostgreSQL."""
    add_user(factory, "Nurse.Jones", Role.clinician, PASSWORD, at=AT)
    return factory


def _row(factory: SessionFactory, name: str) -> Account:
    with factory() as session:
        row = session.exec(select(Account).where(Account.name == name)).one()
    return row


def test_add_user_stores_an_argon2_hash_never_the_password(accounts: SessionFactory) -> None:
    row = _row(accounts, "nurse.jones")  # names are kept in lower case
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert [(v.name, v.role, v.disabled) for v in list_users(accounts)] == [("nurse.jones", "clinician", False)]
    assert "password_hash" not in list_users(accounts)[0].as_dict()


@pytest.mark.parametrize(
    ("name", "role", "password", "field"),
    [
        ("nurse.jones", "clinician", PASSWORD, "name: an account called nurse.jones already exists"),
        ("a", "clinician", PASSWORD, "name:"),
        ("dr who", "clinician", PASSWORD, "name:"),
        ("dr.who", "surgeon", PASSWORD, "role: must be one of coordinator, clinician, auditor, admin"),
        ("dr.who", "clinician", "short", "password: at least 10 characters"),
        ("dr.who.1234", "clinician", "DR.WHO.1234", "password: must not be the account name"),
    ],
)
def test_add_user_rejects_bad_or_taken_names_roles_and_passwords(
    accounts: SessionFactory, name: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(AccountError, match=field.replace(".", r"\.")):
        add_user(accounts, name, role, password, at=AT)
    assert len(list_users(accounts)) == 1


def test_authenticate_returns_the_actor_and_stamps_the_login(accounts: SessionFactory) -> None:
    actor = authenticate(accounts, " Nurse.Jones ", PASSWORD, AT)
    assert (actor.name, actor.role) == ("nurse.jones", Role.clinician)
    assert _row(accounts, "nurse.jones").last_login_at == AT


def test_unknown_name_and_wrong_password_fail_with_the_same_message(accounts: SessionFactory) -> None:
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate(accounts, "nobody", PASSWORD, AT)
    with pytest.raises(AuthenticationFailed) as wrong:
        authenticate(accounts, "nurse.jones", "not the password", AT)
    assert str(unknown.value) == str(wrong.value) == "Unknown username or wrong password."


def test_five_failures_lock_the_account_for_fifteen_minutes(accounts: SessionFactory) -> None:
    for attempt in range(4):
        with pytest.raises(AuthenticationFailed) as failed:
            authenticate(accounts, "nurse.jones", "wrong", AT + timedelta(seconds=attempt))
        assert not isinstance(failed.value, AccountLocked)
    with pytest.raises(AccountLocked) as locked:
        authenticate(accounts, "nurse.jones", "wrong", AT + timedelta(seconds=5))
    # Same words as any failure, so a lockout does not reveal that the name exists.
    assert str(locked.value) == "Unknown username or wrong password."
    assert _row(accounts, "nurse.jones").locked_until == AT + timedelta(seconds=5, minutes=15)
    with pytest.raises(AccountLocked):
        authenticate(accounts, "nurse.jones", PASSWORD, AT + timedelta(minutes=15))  # even the right password
    assert authenticate(accounts, "nurse.jones", PASSWORD, AT + timedelta(minutes=15, seconds=5)).name == "nurse.jones"
    row = _row(accounts, "nurse.jones")
    assert (row.failed_attempts, row.locked_until) == (0, None)


def test_a_success_resets_the_failure_count(accounts: SessionFactory) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            authenticate(accounts, "nurse.jones", "wrong", AT)
    authenticate(accounts, "nurse.jones", PASSWORD, AT)
    for _ in range(4):  # four more failures do not lock: the count started again
        with pytest.raises(AuthenticationFailed) as failed:
            authenticate(accounts, "nurse.jones", "wrong", AT)
        assert not isinstance(failed.value, AccountLocked)


def test_lockout_numbers_come_from_the_policy(accounts: SessionFactory) -> None:
    strict = AccountPolicy(lockout_attempts=2, lockout_minutes=60)
    with pytest.raises(AuthenticationFailed):
        authenticate(accounts, "nurse.jones", "wrong", AT, policy=strict)
    with pytest.raises(AccountLocked):
        authenticate(accounts, "nurse.jones", "wrong", AT, policy=strict)
    assert _row(accounts, "nurse.jones").locked_until == AT + timedelta(minutes=60)


def test_a_disabled_account_cannot_sign_in_and_has_no_active_role(accounts: SessionFactory) -> None:
    assert active_role(accounts, "nurse.jones") is Role.clinician
    disable_user(accounts, "Nurse.Jones")
    with pytest.raises(AuthenticationFailed, match="Unknown username or wrong password"):
        authenticate(accounts, "nurse.jones", PASSWORD, AT)
    assert active_role(accounts, "nurse.jones") is None
    with pytest.raises(AccountError, match="no account called ghost"):
        disable_user(accounts, "ghost")


def test_a_stronger_hash_setting_rehashes_on_the_next_login(accounts: SessionFactory) -> None:
    old = _row(accounts, "nurse.jones").password_hash
    authenticate(accounts, "nurse.jones", PASSWORD, AT, policy=AccountPolicy(argon2_time_cost=2, argon2_memory_kib=64))
    new = _row(accounts, "nurse.jones").password_hash
    assert new != old and "t=2" in new


POLICY = AccountPolicy()


@pytest.mark.parametrize(
    ("signed_in", "last_active", "expected"),
    [
        (timedelta(hours=1), timedelta(minutes=29, seconds=59), None),
        (timedelta(hours=1), timedelta(minutes=30), SessionEnd.inactivity),
        (timedelta(hours=11, minutes=59), timedelta(minutes=1), None),
        (timedelta(hours=12), timedelta(minutes=1), SessionEnd.absolute),
        (timedelta(hours=13), timedelta(hours=2), SessionEnd.absolute),  # the absolute limit is named first
    ],
)
def test_session_end_applies_inactivity_and_absolute_limits(
    signed_in: timedelta, last_active: timedelta, expected: SessionEnd | None
) -> None:
    assert session_end(signed_in_at=AT - signed_in, last_active_at=AT - last_active, now=AT, policy=POLICY) == expected


def test_session_policy_defaults_and_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (POLICY.session_inactivity_minutes, POLICY.session_absolute_hours) == (30, 12)
    assert (POLICY.lockout_attempts, POLICY.lockout_minutes) == (5, 15)
    monkeypatch.setenv("PATHWAY_SESSION_INACTIVITY_MINUTES", "10")
    assert AccountPolicy().inactivity == timedelta(minutes=10)
