"""reminders tables: notification, flow_trigger, governance_digest

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("recipient_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("leaflet", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("claim", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('first', 'escalation', 'request')", name=op.f("ck_notification_kind")),
        sa.CheckConstraint("status IN ('claimed', 'sent', 'failed')", name=op.f("ck_notification_status")),
        sa.ForeignKeyConstraint(["pathway_id"], ["pathway.id"], name=op.f("fk_notification_pathway_id_pathway")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("pathway_id", "code", "severity", "kind", name="uq_notification_key"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_created", ["created_at"], unique=False)
        batch_op.create_index("ix_notification_status_claimed", ["status", "claimed_at"], unique=False)

    op.create_table(
        "flow_trigger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("command", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flow_run", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent')", name=op.f("ck_flow_trigger_status")),
        sa.ForeignKeyConstraint(["pathway_id"], ["pathway.id"], name=op.f("fk_flow_trigger_pathway_id_pathway")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_trigger")),
    )
    with op.batch_alter_table("flow_trigger", schema=None) as batch_op:
        batch_op.create_index("ix_flow_trigger_status_pathway", ["status", "pathway_id"], unique=False)

    op.create_table(
        "governance_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("file", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("claim", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('claimed', 'sent', 'failed')", name=op.f("ck_governance_digest_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_digest")),
        sa.UniqueConstraint("week_of", name=op.f("uq_governance_digest_week_of")),
    )


def downgrade() -> None:
    op.drop_table("governance_digest")
    with op.batch_alter_table("flow_trigger", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_trigger_status_pathway")
    op.drop_table("flow_trigger")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_status_claimed")
        batch_op.drop_index("ix_notification_created")
    op.drop_table("notification")
