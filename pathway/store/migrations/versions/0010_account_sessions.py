"""accounts: server-side sessions, per-address sign-in throttling, an account's sites

Revision ID: 0010
Revises: 0009

Only adds: two tables and two nullable columns (`account.sites`: None means every site, which is
what every existing account could see before; `account.sso_subject`: the single sign-on identity).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_session_token_hash")),
    )
    op.create_index(op.f("ix_account_session_account_name"), "account_session", ["account_name"], unique=False)
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index(op.f("ix_sign_in_failure_at"), "sign_in_failure", ["at"], unique=False)
    op.create_index(op.f("ix_sign_in_failure_source"), "sign_in_failure", ["source"], unique=False)
    with op.batch_alter_table("account") as batch:  # SQLite adds a unique constraint by a table copy
        batch.add_column(sa.Column("sites", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("sso_subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch.create_unique_constraint(batch.f("uq_account_sso_subject"), ["sso_subject"])


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_constraint(batch.f("uq_account_sso_subject"), type_="unique")
        batch.drop_column("sso_subject")
        batch.drop_column("sites")
    op.drop_index(op.f("ix_sign_in_failure_source"), table_name="sign_in_failure")
    op.drop_index(op.f("ix_sign_in_failure_at"), table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    op.drop_index(op.f("ix_account_session_account_name"), table_name="account_session")
    op.drop_table("account_session")
