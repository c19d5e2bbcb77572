"""audit trail: outcome, hash chain, append-only triggers

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pathway import audit

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=10), nullable=False, server_default="accepted"))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_audit_event_hash", ["hash"])
    # Chain any rows written before this revision, then lock the table against change.
    bind = op.get_bind()
    session = sa.orm.Session(bind=bind)
    previous = audit.GENESIS
    for row in session.scalars(sa.select(audit.AuditEvent).order_by(audit.AuditEvent.id)):
        digest = audit.chain_hash(previous, row)
        bind.execute(
            sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": previous, "h": digest, "i": row.id},
        )
        previous = digest
    session.close()
    statements = audit.POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else audit.SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for statement in audit.DROP_TRIGGERS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("uq_audit_event_hash", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("outcome")
