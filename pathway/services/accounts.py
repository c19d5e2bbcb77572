"""Named accounts: add, list, disable, authenticate with lockout, and the session policy.

A new password needs 10 characters and zxcvbn's strength estimate of 3 of 4 (a common password, a
keyboard run or the account name scores lower). Passwords are hashed with argon2id (argon2-cffi);
only the hash is stored. An unknown name, a disabled account, a wrong password and a locked account
all fail with the same message, so the login form does not tell anyone which names exist. Time is
always an argument: the dashboard passes `utc_now()`, tests pass fixed instants.
"""

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import CursorResult, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from zxcvbn import zxcvbn  # type: ignore[import-untyped,unused-ignore]

from pathway.domain.clock import utc_now
from pathway.domain.roles import Actor
from pathway.domain.text import site_key, site_spelling
from pathway.domain.vocabulary import Role
from pathway.errors import (
    AccountError,
    AccountLocked,
    AuthenticationFailed,
    CommandRejected,
    SessionEnded,
    SignInThrottled,
    SsoRefused,
)
from pathway.services.sites import listed_site
from pathway.services.sso_claims import (
    REGIONAL_ROLES,
    Claimed,
    ClaimsMapping,
    claims_mapping,
    read_claims,
    refusal,
)
from pathway.store import audit
from pathway.store.account_models import Account, AccountSession, SignInFailure
from pathway.store.db import SessionFactory
from pathway.store.unit_of_work import writing

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
NO_PASSWORD = "!sso"  # the hash of an account made by single sign-on: no argon2 hash, so no password matches
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_CHECKED = 100  # zxcvbn's work grows with the length; a longer password is long enough
UNKNOWN = "(unknown)"  # the audit's actor for a sign-in with a name no account has (never the name typed)
NO_ROLE = "-"
SYSTEM = "system"  # the audit's actor for account changes made without a named operator


class AccountPolicy(BaseSettings):
    """Every number of the login and session rules, in one place (env `PATHWAY_...` overrides)."""

    model_config = SettingsConfigDict(env_prefix="PATHWAY_", env_ignore_empty=True, extra="ignore", frozen=True)

    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_inactivity_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=72)
    # Per network address: this many failed sign-ins (any names) within the window refuse further
    # attempts from it until the oldest falls out of the window. High enough for a ward's shared NAT.
    address_failures: int = Field(default=20, ge=1, le=10_000)
    address_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A session's last activity is written at most this often (every page run would be a write).
    session_touch_seconds: int = Field(default=60, ge=0, le=600)
    # Behind a reverse proxy every browser shares the proxy's address: trust its X-Forwarded-For then
    # (only then: a direct client could forge that header to dodge the throttle).
    trust_proxy: bool = False
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

    @property
    def address_window(self) -> timedelta:
        return timedelta(minutes=self.address_window_minutes)


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
    sites: list[str] | None = None  # None: every site

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
            "sites": ", ".join(self.sites) if self.sites else "all",
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
        account.sites,
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


def _audit(
    session: Session,
    at: datetime,
    command: str,
    *,
    actor: str,
    role: str,
    outcome: str = "accepted",
    after: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> None:
    """One account event on the audit chain, inside the caller's transaction (never a password)."""
    audit.append(session, at=at, actor=actor, role=role, command=command, outcome=outcome, before=before, after=after)


def actor_of(account: Account) -> Actor:
    """The account as the services see it: name, role and the sites it sees (admins and auditors: all)."""
    role = Role(account.role)
    regional = role in (Role.admin, Role.auditor) or account.sites is None
    return Actor(account.name, role, None if regional else frozenset(site_key(s) for s in account.sites or ()))


def _by(by: Actor | None) -> tuple[str, str]:
    return (by.name, by.role.value) if by else (SYSTEM, Role.admin.value)


def add_user(
    factory: SessionFactory,
    name: str,
    role: Role | str,
    password: str,
    *,
    at: datetime | None = None,
    policy: AccountPolicy | None = None,
    by: Actor | None = None,
    sites: list[str] | None = None,
) -> AccountView:
    """Create a named account; raises AccountError for a bad name, role or password or a taken name.

    `sites` limits what the account sees (None: every site); `by` is who adds it (audited).
    """
    policy = policy or account_policy()
    at = at or utc_now()
    key = normalise_name(name)
    if not NAME_PATTERN.match(key):
        raise AccountError("name: 2-80 characters, lower-case letters, digits, '.', '_' or '-'")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"role: must be one of {', '.join(r.value for r in Role)}") from None
    _check_password(password, key, policy)
    chosen = _clean_sites(sites)
    password_hash = _hasher_for(policy).hash(password)
    with writing(factory) as session:
        if _find(session, key) is not None:
            raise AccountError(f"name: an account called {key} already exists")
        chosen = _on_the_list(session, chosen)
        account = Account(name=key, role=role.value, password_hash=password_hash, created_at=at, sites=chosen)
        session.add(account)
        session.flush()
        actor, actor_role = _by(by)
        _audit(session, at, "add_user", actor=actor, role=actor_role, after=_audited(account))
        return _view(account)


def _check_password(password: str, key: str, policy: AccountPolicy) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == key:
        raise AccountError("password: must not be the account name")
    if problem := password_weakness(password, key, policy.password_minimum_strength):
        raise AccountError(f"password: {problem}")


def _clean_sites(sites: list[str] | None) -> list[str] | None:
    if sites is None:
        return None
    chosen = sorted({site_spelling(s) for s in sites if site_spelling(s)}, key=site_key)
    if not chosen:
        raise AccountError("sites: at least one site, or none given for every site")
    return chosen


def _audited(account: Account) -> dict[str, Any]:
    """What an account row's audit shows: name, role, state, sites (never the hash)."""
    return {"account": account.name, "role": account.role, "disabled": account.disabled, "sites": account.sites}


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


def _change(
    factory: SessionFactory,
    name: str,
    command: str,
    change: Any,
    *,
    at: datetime | None,
    by: Actor | None,
) -> AccountView:
    """One administrative change to one account: one transaction, one audit row (before and after)."""
    at = at or utc_now()
    with writing(factory) as session:
        account = _find(session, name)
        if account is None:
            raise AccountError(f"name: no account called {normalise_name(name)}")
        before = _audited(account)
        change(session, account, at)
        session.flush()
        actor, actor_role = _by(by)
        _audit(session, at, command, actor=actor, role=actor_role, before=before, after=_audited(account))
        return _view(account)


def disable_user(
    factory: SessionFactory, name: str, *, at: datetime | None = None, by: Actor | None = None
) -> AccountView:
    """Disable an account and end its open sessions (each open page signs out at its next run)."""

    def disable(session: Session, account: Account, when: datetime) -> None:
        account.disabled = True
        _end_all(session, account.name, when, "disabled")

    return _change(factory, name, "disable_user", disable, at=at, by=by)


def set_role(
    factory: SessionFactory, name: str, role: Role | str, *, at: datetime | None = None, by: Actor | None = None
) -> AccountView:
    """Change an account's role; open sessions take the new role at their next run."""
    try:
        new = Role(role)
    except ValueError:
        raise AccountError(f"role: must be one of {', '.join(r.value for r in Role)}") from None

    def assign(_session: Session, account: Account, _when: datetime) -> None:
        account.role = new.value

    return _change(factory, name, "change_role", assign, at=at, by=by)


def set_sites(
    factory: SessionFactory,
    name: str,
    sites: list[str] | None,
    *,
    at: datetime | None = None,
    by: Actor | None = None,
) -> AccountView:
    """Change the sites an account sees (None: every site); open sessions follow at their next run."""
    chosen = _clean_sites(sites)

    def assign(session: Session, account: Account, _when: datetime) -> None:
        account.sites = _on_the_list(session, chosen)

    return _change(factory, name, "change_sites", assign, at=at, by=by)


def _on_the_list(session: Session, chosen: list[str] | None) -> list[str] | None:
    """Each site from the managed list (pathway.services.sites), in its listed spelling."""
    if chosen is None:
        return None
    try:
        return sorted({listed_site(session, site, "sites") for site in chosen}, key=site_key)
    except CommandRejected as refused:
        raise AccountError(str(refused)) from None


def reset_password(
    factory: SessionFactory,
    name: str,
    password: str,
    *,
    at: datetime | None = None,
    by: Actor | None = None,
    policy: AccountPolicy | None = None,
) -> AccountView:
    """Set a new password (same rules as a new account), unlock the account and end its sessions."""
    policy = policy or account_policy()
    _check_password(password, normalise_name(name), policy)
    new_hash = _hasher_for(policy).hash(password)

    def reset(session: Session, account: Account, when: datetime) -> None:
        account.password_hash = new_hash
        account.failed_attempts = 0
        account.locked_until = None
        _end_all(session, account.name, when, "password_reset")

    return _change(factory, name, "reset_password", reset, at=at, by=by)


def active_role(factory: SessionFactory, name: str) -> Role | None:
    """The account's role now, or None once it is disabled or gone (checked on every page run)."""
    with factory() as session:
        account = _find(session, name)
        return None if account is None or account.disabled else Role(account.role)


def address_key(address: str | None) -> str | None:
    """What the throttle and the audit keep of a network address: its SHA-256 (the address is
    personal data and needs no more than to be recognised again)."""
    return hashlib.sha256(address.encode()).hexdigest() if address else None


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    token: str  # the session's secret: give it to the browser only, never log or store it
    started_at: datetime


def authenticate(
    factory: SessionFactory,
    name: str,
    password: str,
    at: datetime,
    *,
    policy: AccountPolicy | None = None,
    address: str | None = None,
) -> Actor:
    """The account's Actor if the password matches (see `sign_in`, which this runs)."""
    return sign_in(factory, name, password, at, policy=policy, address=address).actor


def sign_in(
    factory: SessionFactory,
    name: str,
    password: str,
    at: datetime,
    *,
    policy: AccountPolicy | None = None,
    address: str | None = None,
) -> SignedIn:
    """Check the password and open a server-side session; raises AuthenticationFailed (or a subclass).

    Each failure counts for the account and for the network address; `lockout_attempts` failures in
    a row lock the account for `lockout_minutes`, during which even the right password fails, and
    `address_failures` failures from one address within the window refuse that address before any
    password is checked. Every outcome is one transaction with one audit row: `sign_in`,
    `sign_in_failed` (reason: unknown_account, disabled, locked, wrong_password, throttled) or
    `account_locked`. The slow hash check runs outside the writing transaction, so a sign-in never
    holds the database's write lock for it.
    """
    policy = policy or account_policy()
    hasher = _hasher_for(policy)
    source = address_key(address)
    with factory() as session:
        account = _find(session, name)
        throttled = source is not None and _recent_failures(session, source, at, policy) >= policy.address_failures
    known = account is not None and not account.disabled
    if throttled:
        _refuse(factory, at, account if known else None, "throttled", source, policy, count=False)
        raise SignInThrottled(policy.address_window_minutes)
    if account is None or account.disabled:
        _verify(hasher, _decoy_hash(policy.argon2_time_cost, policy.argon2_memory_kib), password)
        reason = "unknown_account" if account is None else "disabled"
        _refuse(factory, at, account if account is not None else None, reason, source, policy)
        raise AuthenticationFailed()
    if account.locked_until is not None and at < account.locked_until:
        _verify(hasher, account.password_hash, password)
        _refuse(factory, at, account, "locked", source, policy)
        raise AccountLocked()
    matches = _verify(hasher, account.password_hash, password)
    token = secrets.token_urlsafe(32)
    with writing(factory) as session:
        if not matches:
            failure = _count_failure(session, account, at, policy, source)
        else:
            failure = None
            changes: dict[str, Any] = {"failed_attempts": 0, "locked_until": None, "last_login_at": at}
            if hasher.check_needs_rehash(account.password_hash):
                changes["password_hash"] = hasher.hash(password)
            session.execute(update(Account).where(col(Account.id) == account.id).values(**changes))
            session.add(
                AccountSession(
                    token_hash=_token_hash(token), account_name=account.name, started_at=at, last_active_at=at
                )
            )
            _audit(session, at, "sign_in", actor=account.name, role=account.role, after=_source(source))
    # Raised after the transaction commits, so the failure count is kept.
    if failure is not None:
        raise failure
    return SignedIn(actor_of(account), token, at)


def _source(source: str | None) -> dict[str, Any] | None:
    return {"address": source[:16]} if source else None


def _recent_failures(session: Session, source: str, at: datetime, policy: AccountPolicy) -> int:
    since = at - policy.address_window
    found = session.exec(
        select(func.count()).select_from(SignInFailure).where(SignInFailure.source == source, SignInFailure.at > since)
    ).one()
    return int(found)


def _note_address_failure(session: Session, source: str | None, at: datetime, policy: AccountPolicy) -> None:
    if source is None:
        return
    session.execute(delete(SignInFailure).where(col(SignInFailure.at) <= at - policy.address_window))
    session.add(SignInFailure(source=source, at=at))


def _refuse(
    factory: SessionFactory,
    at: datetime,
    account: Account | None,
    reason: str,
    source: str | None,
    policy: AccountPolicy,
    *,
    count: bool = True,
) -> None:
    """A refused sign-in that does not touch the account's counter: counted for the address, audited."""
    with writing(factory) as session:
        if count:
            _note_address_failure(session, source, at, policy)
        actor, role = (account.name, account.role) if account is not None else (UNKNOWN, NO_ROLE)
        after = {"reason": reason} | (_source(source) or {})
        _audit(session, at, "sign_in_failed", actor=actor, role=role, outcome="denied", after=after)


def _count_failure(
    session: Session, account: Account, at: datetime, policy: AccountPolicy, source: str | None
) -> AuthenticationFailed:
    # An atomic increment: two wrong attempts at once both count.
    session.execute(
        update(Account).where(col(Account.id) == account.id).values(failed_attempts=col(Account.failed_attempts) + 1)
    )
    _note_address_failure(session, source, at, policy)
    failures = session.exec(select(Account.failed_attempts).where(col(Account.id) == account.id)).one()
    after = {"reason": "wrong_password", "failures": failures} | (_source(source) or {})
    if failures >= policy.lockout_attempts:
        session.execute(
            update(Account)
            .where(col(Account.id) == account.id)
            .values(failed_attempts=0, locked_until=at + policy.lockout)
        )
        after["locked_until"] = (at + policy.lockout).isoformat()
        _audit(session, at, "account_locked", actor=account.name, role=account.role, outcome="denied", after=after)
        return AccountLocked()
    _audit(session, at, "sign_in_failed", actor=account.name, role=account.role, outcome="denied", after=after)
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


END_MESSAGES = {
    "signed_out": "You have signed out.",
    "disabled": "Your account has been disabled. Ask an administrator.",
    "password_reset": "Your password has been reset. Please sign in with the new one.",
    "revoked": "Your session was ended by an administrator. Please sign in again.",
}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(factory: SessionFactory, actor: Actor, at: datetime, *, kind: str = "sso") -> str:
    """A session for an account signed in elsewhere (single sign-on): one transaction, one `sign_in`
    audit row; returns the token. Local accounts get theirs from `sign_in`."""
    token = secrets.token_urlsafe(32)
    with writing(factory) as session:
        session.add(
            AccountSession(
                token_hash=_token_hash(token), account_name=actor.name, kind=kind, started_at=at, last_active_at=at
            )
        )
        _audit(session, at, "sign_in", actor=actor.name, role=actor.role.value, after={"via": kind})
    return token


def resume_session(
    factory: SessionFactory,
    token: str,
    now: datetime,
    *,
    activity: bool = True,
    policy: AccountPolicy | None = None,
) -> Actor:
    """The account behind a session token, with its current role; raises SessionEnded once the session
    was ended, its account disabled, or a time limit passed (that end is recorded and audited once).

    `activity` is False for a timed refresh, which must not keep an idle session alive. The last
    activity is written at most every `session_touch_seconds`.
    """
    policy = policy or account_policy()
    key = _token_hash(token)
    with factory() as session:
        found = session.exec(select(AccountSession).where(AccountSession.token_hash == key)).first()
        account = _find(session, found.account_name) if found is not None else None
    if found is None:
        raise SessionEnded()
    if found.ended_at is not None:
        raise SessionEnded(END_MESSAGES.get(found.end_reason or "", "Please sign in."))
    if account is None or account.disabled:
        _end(factory, key, now, "disabled", account, audit_it=False)
        raise SessionEnded(END_MESSAGES["disabled"])
    ended = session_end(signed_in_at=found.started_at, last_active_at=found.last_active_at, now=now, policy=policy)
    if ended is not None:
        _end(factory, key, now, ended.value, account, audit_it=True)
        raise SessionEnded(session_end_message(ended, policy))
    if activity and (now - found.last_active_at).total_seconds() >= policy.session_touch_seconds:
        with writing(factory) as session:
            session.execute(
                update(AccountSession)
                .where(col(AccountSession.id) == found.id, col(AccountSession.ended_at).is_(None))
                .values(last_active_at=now)
            )
    return actor_of(account)


def end_session(factory: SessionFactory, token: str, at: datetime, *, reason: str = "signed_out") -> None:
    """Sign out: the session ends on the server (its token is useless from now on); audited once."""
    with factory() as session:
        found = session.exec(select(AccountSession).where(AccountSession.token_hash == _token_hash(token))).first()
        account = _find(session, found.account_name) if found is not None else None
    if found is not None:
        _end(factory, found.token_hash, at, reason, account, audit_it=True)


def _end(
    factory: SessionFactory, key: str, at: datetime, reason: str, account: Account | None, *, audit_it: bool
) -> None:
    with writing(factory) as session:
        ended: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(AccountSession)
            .where(col(AccountSession.token_hash) == key, col(AccountSession.ended_at).is_(None))
            .values(ended_at=at, end_reason=reason)
        )
        # Only the transaction that ended it audits it: two tabs noticing the same timeout write one row.
        if audit_it and ended.rowcount == 1 and account is not None:
            command = "sign_out" if reason == "signed_out" else "session_expired"
            after = {"reason": reason}
            _audit(session, at, command, actor=account.name, role=account.role, after=after)


def _end_all(session: Session, name: str, at: datetime, reason: str) -> None:
    session.execute(
        update(AccountSession)
        .where(col(AccountSession.account_name) == name, col(AccountSession.ended_at).is_(None))
        .values(ended_at=at, end_reason=reason)
    )


def open_sessions(factory: SessionFactory, name: str) -> int:
    """How many sessions of an account are open (not ended; a timed-out one counts until noticed)."""
    with factory() as session:
        found = session.exec(
            select(func.count())
            .select_from(AccountSession)
            .where(AccountSession.account_name == normalise_name(name), col(AccountSession.ended_at).is_(None))
        ).one()
    return int(found)


def session_started_at(factory: SessionFactory, token: str) -> datetime | None:
    """When the session behind a token began (to restore a page's clock after a reload), or None."""
    with factory() as session:
        return session.exec(
            select(AccountSession.started_at).where(AccountSession.token_hash == _token_hash(token))
        ).first()


def link_sso(
    factory: SessionFactory,
    name: str,
    subject: str | None,
    *,
    at: datetime | None = None,
    by: Actor | None = None,
) -> AccountView:
    """Let the single sign-on identity `subject` (the provider's `sub`) sign in as this account (None:
    unlink). The account's role and sites apply, whatever the provider says."""
    subject = subject.strip() if subject else None
    if subject is not None and not 1 <= len(subject) <= 255:
        raise AccountError("subject: 1-255 characters")

    def assign(session: Session, account: Account, _when: datetime) -> None:
        if subject is not None:
            holder = session.exec(select(Account.name).where(Account.sso_subject == subject)).first()
            if holder is not None and holder != account.name:
                raise AccountError(f"subject: already linked to the account {holder}")
        account.sso_subject = subject

    return _change(factory, name, "link_sso", assign, at=at, by=by)


def sso_sign_in(
    factory: SessionFactory,
    subject: str,
    at: datetime,
    *,
    address: str | None = None,
    claims: Mapping[str, Any] | None = None,
    mapping: ClaimsMapping | None = None,
) -> SignedIn:
    """A server-side session for the account of a single sign-on identity; one transaction either way.

    Without a claims mapping (pathway.services.sso_claims, `PATHWAY_SSO_ROLE_CLAIM` unset) the identity
    signs in as the account linked to it, with that account's role and sites; one linked to no account
    is refused (AuthenticationFailed). With one, the role and sites come from `claims` at each sign-in:
    the linked account takes them (a `sso_update_user` row when they differ), an unknown identity gets
    an account of its own (`sso_add_user`), and claims that give no role, several roles, no sites or an
    unlisted site are refused (SsoRefused, its message says why). A disabled account is refused
    whatever the claims say. Every refusal is one `sign_in_failed` row."""
    mapping = mapping or claims_mapping()
    if claims is not None and mapping.enabled:
        return _sso_sign_in_by_claims(factory, subject, claims, at, mapping, address)
    source = address_key(address)
    with factory() as session:
        account = session.exec(select(Account).where(Account.sso_subject == subject)).first()
    if account is None or account.disabled:
        reason = "unknown_identity" if account is None else "disabled"
        refuse_sso(factory, at, reason, account_name=account.name if account else None, address=address)
        raise AuthenticationFailed()
    token = secrets.token_urlsafe(32)
    with writing(factory) as session:
        _open_sso_session(session, account, token, at, source)
    return SignedIn(actor_of(account), token, at)


def _open_sso_session(session: Session, account: Account, token: str, at: datetime, source: str | None) -> None:
    session.execute(update(Account).where(col(Account.id) == account.id).values(last_login_at=at))
    session.add(
        AccountSession(
            token_hash=_token_hash(token), account_name=account.name, kind="sso", started_at=at, last_active_at=at
        )
    )
    after = {"via": "sso"} | (_source(source) or {})
    _audit(session, at, "sign_in", actor=account.name, role=account.role, after=after)


def _sso_sign_in_by_claims(
    factory: SessionFactory,
    subject: str,
    claims: Mapping[str, Any],
    at: datetime,
    mapping: ClaimsMapping,
    address: str | None,
) -> SignedIn:
    source = address_key(address)
    token = secrets.token_urlsafe(32)
    for attempt in range(2):  # a second try when another tab provisioned the same identity meanwhile
        linked: str | None = None
        try:
            with writing(factory) as session:
                account = session.exec(select(Account).where(Account.sso_subject == subject)).first()
                linked = account.name if account is not None else None
                if account is not None and account.disabled:
                    raise SsoRefused("disabled", FAILED_SSO_DISABLED)
                claimed = read_claims(claims, mapping)
                sites = _listed_claimed_sites(session, claimed)
                if account is None:
                    account = _provision(session, subject, claimed, sites, at)
                else:
                    _follow_claims(session, account, claimed, sites, at)
                _open_sso_session(session, account, token, at, source)
                return SignedIn(actor_of(account), token, at)
        except SsoRefused as refused:
            refuse_sso(factory, at, refused.reason, account_name=linked, address=address, detail=refused.detail)
            raise
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


FAILED_SSO_DISABLED = "Your account has been disabled. Ask an administrator."


def _listed_claimed_sites(session: Session, claimed: Claimed) -> list[str] | None:
    """The claimed sites in their listed spelling; a site not on the managed list refuses the sign-in."""
    if claimed.sites is None:
        return None
    listed = []
    for site in claimed.sites:
        try:
            listed.append(listed_site(session, site, "sites"))
        except CommandRejected:
            raise refusal("unknown_site", site=site) from None
    return sorted(set(listed), key=site_key)


def _provision(session: Session, subject: str, claimed: Claimed, sites: list[str] | None, at: datetime) -> Account:
    """A named account for an identity the claims admit: no password (it signs in only through single
    sign-on), named after preferred_username or email; a name another account holds is refused."""
    if not claimed.sites_given and claimed.role not in REGIONAL_ROLES:
        raise refusal("no_sites", role=claimed.role.value)  # never every site by default
    name = next((n for n in claimed.names if NAME_PATTERN.match(n)), None)
    if name is None:
        raise refusal("no_name")
    if _find(session, name) is not None:
        raise refusal("name_taken", name=name)
    account = Account(
        name=name, role=claimed.role.value, password_hash=NO_PASSWORD, created_at=at, sites=sites, sso_subject=subject
    )
    session.add(account)
    session.flush()
    _audit(session, at, "sso_add_user", actor=SYSTEM, role=Role.admin.value, after=_audited(account) | {"via": "sso"})
    return account


def _follow_claims(session: Session, account: Account, claimed: Claimed, sites: list[str] | None, at: datetime) -> None:
    """The linked account takes the claims' role (and sites, when a sites claim is configured): one
    `sso_update_user` row with before and after when anything changes."""
    before = _audited(account)
    account.role = claimed.role.value
    if claimed.sites_given:
        account.sites = sites
    after = _audited(account)
    if after != before:
        session.flush()
        _audit(session, at, "sso_update_user", actor=SYSTEM, role=Role.admin.value, before=before, after=after)


def refuse_sso(
    factory: SessionFactory,
    at: datetime,
    reason: str,
    *,
    account_name: str | None = None,
    address: str | None = None,
    detail: str | None = None,
) -> None:
    """A refused single sign-on (unknown identity, wrong audience, stale login, claims that give no
    role, ...): one audit row; `detail` is what the refusal names (a site, a name), never a token."""
    with writing(factory) as session:
        account = _find(session, account_name) if account_name else None
        actor, role = (account.name, account.role) if account is not None else (UNKNOWN, NO_ROLE)
        after = {"reason": reason, "via": "sso"} | ({"detail": detail} if detail else {})
        after |= _source(address_key(address)) or {}
        _audit(session, at, "sign_in_failed", actor=actor, role=role, outcome="denied", after=after)
