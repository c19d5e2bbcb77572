"""Tables of the accounts (issue 4): one named account per person, never shared."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from pathway.store.models import UTCDateTime


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

    __table_args__ = (
        CheckConstraint("role IN ('coordinator', 'clinician', 'auditor', 'admin')", name="role"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_nonneg"),
    )
