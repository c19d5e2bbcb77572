"""Tables of the accounts (issue 4): one named account per person, never shared."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from pathway.store.models import UTCDateTime, json_column


class Account(SQLModel, table=True):
    """A dashboard login: an argon2 hash (never the password), one role, lockout counters."""

    __tablename__: ClassVar[str] = "account"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    disabled: bool = Field(default=False)
    failed_attempts: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # The sites (as registered, compared by pathway.text.site_key) whose patients this account sees;
    # None: every site (regional roles). Admins and auditors see every site whatever this holds.
    sites: list[str] | None = json_column(nullable=True)
    # The single sign-on identity (the OpenID provider's `sub`) that signs in as this account, if any.
    sso_subject: str | None = Field(default=None, max_length=255, unique=True)

    __table_args__ = (
        CheckConstraint("role IN ('coordinator', 'clinician', 'auditor', 'admin')", name="role"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_nonneg"),
    )


class AccountSession(SQLModel, table=True):
    """A signed-in dashboard session, kept on the server so it can be ended from here (sign-out, a
    disabled account, the time limits). Only the SHA-256 of its random token is stored: a copy of the
    table cannot be replayed as a session."""

    __tablename__: ClassVar[str] = "account_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    account_name: str = Field(max_length=80, index=True)
    kind: str = Field(default="local", max_length=10)  # local | sso
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_active_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    end_reason: str | None = Field(default=None, max_length=20)


class SignInFailure(SQLModel, table=True):
    """One failed sign-in from a network address (its SHA-256, not the address), for per-address
    throttling; rows older than the throttling window are deleted as new ones come."""

    __tablename__: ClassVar[str] = "sign_in_failure"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
