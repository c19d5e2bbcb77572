"""Named accounts: add, list, disable, authenticate with lockout, and the session policy.

A new password needs 10 characters and zxcvbn's strength estimate of 3 of 4 (a common password, a
keyboard run or the account name scores lower). Passwords are hashed with argon2id (argon2-cffi);
only the hash is stored. An unknown name, a disabled account, a wrong password and a locked account
all fail with the same message, so the login form does not tell anyone which names exist. Time is
always an argument: the dashboard passes `utc_now()`, tests pass fixed instants.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import update
from sqlmodel import Session, col, select
from zxcvbn import zxcvbn  # type: ignore[import-untyped,unused-ignore]

from pathway.domain.clock import utc_now
from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import AccountError, AccountLocked, AuthenticationFailed
from pathway.store.account_models import Account
from pathway.store.db import SessionFactory
from pathway.store.unit_of_work import writing

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_CHECKED = 100  # zxcvbn's work grows with the length; a longer password is long enough


class AccountPolicy(BaseSettings):
    """Every number of the login and session rules, in one place (env `PATHWAY_...` overrides)."""

    model_config = SettingsConfigDict(env_prefix="PATHWAY_", env_ignore_empty=True, extra="ignore", frozen=True)

    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_inactivity_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=72)
    # zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" (about 10^8 guesses),
    # and zxcvbn scores any of its 30,000 common passwords, or a near copy of one, below that.
    password_minimum_strength: int = Field(default=3, ge=0, le=4)
    # argon2id cost (RFC 9106 low-memory profile by default); tests lower it to stay fast.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

    @property
    def inactivity(self) -> timedelta:
        return timedelta(minutes=self.session_inactivity_minutes)

    @property
    def absolute(self) -> timedelta:
        return timedelta(hours=self.session_absolute_hours)

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)


def account_policy() -> AccountPolicy:
    return AccountPolicy()


@dataclass(frozen=True)
class AccountView:
    """An account as listed: never the hash."""

    name: str
    role: str
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "name": self.name,
            "role": self.role,
            "disabled": self.disabled,
            "failed_attempts": self.failed_attempts,
            "locked_until": iso(self.locked_until),
            "created_at": iso(self.created_at),
            "last_login_at": iso(self.last_login_at),
        }


def _view(account: Account) -> AccountView:
    return AccountView(
        account.name,
        account.role,
        account.disabled,
        account.failed_attempts,
        account.locked_until,
        account.created_at,
        account.last_login_at,
    )


@cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def _hasher_for(policy: AccountPolicy) -> PasswordHasher:
    return _hasher(policy.argon2_time_cost, policy.argon2_memory_kib)


@cache
def _decoy_hash(time_cost: int, memory_kib: int) -> str:
    """Verified for unknown names, so they cost as long as a real wrong password."""
    return _hasher(time_cost, memory_kib).hash("decoy password, never valid")


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_name(name: str) -> str:
    return name.strip().lower()


def _find(session: Session, name: str) -> Account | None:
    return session.exec(select(Account).where(Account.name == normalise_name(name))).first()


def add_user(
    factory: SessionFactory,
    name: str,
    role: Role | str,
    password: str,
    *,
    at: datetime | None = None,
    policy: AccountPolicy | None = None,
) -> AccountView:
    """Create a named account; raises AccountError for a bad name, role or password or a taken name."""
    policy = policy or account_policy()
    key = normalise_name(name)
    if not NAME_PATTERN.match(key):
        raise AccountError("name: 2-80 characters, lower-case letters, digits, '.', '_' or '-'")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"role: must be one of {', '.join(r.value for r in Role)}") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == key:
        raise AccountError("password: must not be the account name")
    if problem := password_weakness(password, key, policy.password_minimum_strength):
        raise AccountError(f"password: {problem}")
    password_hash = _hasher_for(policy).hash(password)
    with writing(factory) as session:
        if _find(session, key) is not None:
            raise AccountError(f"name: an account called {key} already exists")
        account = Account(name=key, role=role.value, password_hash=password_hash, created_at=at or utc_now())
        session.add(account)
        session.flush()
        return _view(account)


def password_weakness(password: str, name: str, minimum: int) -> str | None:
    """Why a password is too easy to guess (zxcvbn's estimate and advice), or None when it is not.

    zxcvbn knows common passwords, names, words, keyboard runs, dates and l33t spellings; the account
    name counts against the password too. The message never repeats the password.
    """
    found = zxcvbn(password[:MAX_PASSWORD_CHECKED], user_inputs=[name, *name.replace(".", " ").split()])
    if found["score"] >= minimum:
        return None
    advice = [found["feedback"]["warning"], *found["feedback"]["suggestions"]]
    said = " ".join(line for line in advice if line)
    return f"too easy to guess (strength {found['score']} of 4, at least {minimum} needed)" + (
        f": {said}" if said else ""
    )


def list_users(factory: SessionFactory) -> list[AccountView]:
    with factory() as session:
        return [_view(a) for a in session.exec(select(Account).order_by(col(Account.name))).all()]


def disable_user(factory: SessionFactory, name: str) -> AccountView:
    """Disable an account; its open dashboard sessions end at their next rerun (see `active_role`)."""
    with writing(factory) as session:
        account = _find(session, name)
        if account is None:
            raise AccountError(f"name: no account called {normalise_name(name)}")
        account.disabled = True
        session.flush()
        return _view(account)


def active_role(factory: SessionFactory, name: str) -> Role | None:
    """The account's role now, or None once it is disabled or gone (checked on every page run)."""
    with factory() as session:
        account = _find(session, name)
        return None if account is None or account.disabled else Role(account.role)


def authenticate(
    factory: SessionFactory, name: str, password: str, at: datetime, *, policy: AccountPolicy | None = None
) -> Actor:
    """The account's Actor if the password matches; raises AuthenticationFailed (or AccountLocked).

    Each failure counts; `lockout_attempts` failures in a row lock the account for
    `lockout_minutes`, during which even the right password fails. The slow hash check runs
    outside the writing transaction, so a sign-in never holds the database's write lock for it.
    """
    policy = policy or account_policy()
    hasher = _hasher_for(policy)
    with factory() as session:
        account = _find(session, name)
    if account is None or account.disabled:
        _verify(hasher, _decoy_hash(policy.argon2_time_cost, policy.argon2_memory_kib), password)
        raise AuthenticationFailed()
    if account.locked_until is not None and at < account.locked_until:
        _verify(hasher, account.password_hash, password)
        raise AccountLocked()
    matches = _verify(hasher, account.password_hash, password)
    with writing(factory) as session:
        if not matches:
            failure = _count_failure(session, account.id, at, policy)
        else:
            failure = None
            changes: dict[str, Any] = {"failed_attempts": 0, "locked_until": None, "last_login_at": at}
            if hasher.check_needs_rehash(account.password_hash):
                changes["password_hash"] = hasher.hash(password)
            session.execute(update(Account).where(col(Account.id) == account.id).values(**changes))
    # Raised after the transaction commits, so the failure count is kept.
    if failure is not None:
        raise failure
    return Actor(account.name, Role(account.role))


def _count_failure(
    session: Session, account_id: int | None, at: datetime, policy: AccountPolicy
) -> AuthenticationFailed:
    # An atomic increment: two wrong attempts at once both count.
    session.execute(
        update(Account).where(col(Account.id) == account_id).values(failed_attempts=col(Account.failed_attempts) + 1)
    )
    failures = session.exec(select(Account.failed_attempts).where(col(Account.id) == account_id)).one()
    if failures >= policy.lockout_attempts:
        session.execute(
            update(Account)
            .where(col(Account.id) == account_id)
            .values(failed_attempts=0, locked_until=at + policy.lockout)
        )
        return AccountLocked()
    return AuthenticationFailed()


class SessionEnd(StrEnum):
    inactivity = "inactivity"
    absolute = "absolute"


SESSION_END_MESSAGES = {
    SessionEnd.inactivity: "You were signed out after {minutes} minutes without activity. Please sign in again.",
    SessionEnd.absolute: "You were signed out because a session lasts at most {hours} hours. Please sign in again.",
}


def session_end(
    *, signed_in_at: datetime, last_active_at: datetime, now: datetime, policy: AccountPolicy
) -> SessionEnd | None:
    """Why a dashboard session must end now, or None while it may go on (pure: `now` is given)."""
    if now - signed_in_at >= policy.absolute:
        return SessionEnd.absolute
    if now - last_active_at >= policy.inactivity:
        return SessionEnd.inactivity
    return None


def session_end_message(reason: SessionEnd, policy: AccountPolicy) -> str:
    return SESSION_END_MESSAGES[reason].format(
        minutes=policy.session_inactivity_minutes, hours=policy.session_absolute_hours
    )
