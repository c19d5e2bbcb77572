"""version 2, the clinical safety net: safety checks, and the new optional fields (columns added only)

A pathway recorded under version 1 keeps every row as it was: each new column is nullable, and the
rules read a missing value as version 1 meant it (not pregnant, no plan recorded, no safety check).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_check",
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("clinician", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("platelets", sa.Float(), nullable=False),
        sa.Column("inr", sa.Float(), nullable=False),
        sa.Column("haemoglobin", sa.Float(), nullable=False),
        sa.Column("egfr", sa.Float(), nullable=False),
        sa.Column("contraindications", sa.JSON(), nullable=False),
        sa.Column("pregnancy_test", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.ForeignKeyConstraint(["pathway_id"], ["pathway.id"], name=op.f("fk_safety_check_pathway_id_pathway")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_check")),
    )
    with op.batch_alter_table("safety_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_check_pathway_id"), ["pathway_id"], unique=False)
    op.add_column("pathway", sa.Column("pregnant", sa.Boolean(), nullable=True))
    op.add_column(
        "mdt_meeting", sa.Column("outside_scope_plan", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True)
    )
    op.add_column(
        "procedure",
        sa.Column("outside_criteria_rationale", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    )
    op.add_column("procedure", sa.Column("filter_indication", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    op.add_column("procedure", sa.Column("filter_removal_planned_on", sa.Date(), nullable=True))
    op.add_column("anticoagulation_event", sa.Column("restart_planned_on", sa.Date(), nullable=True))
    op.add_column(
        "anticoagulation_event",
        sa.Column("plan_approved_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("anticoagulation_event") as batch:
        batch.drop_column("plan_approved_by")
        batch.drop_column("restart_planned_on")
    with op.batch_alter_table("procedure") as batch:
        batch.drop_column("filter_removal_planned_on")
        batch.drop_column("filter_indication")
        batch.drop_column("outside_criteria_rationale")
    with op.batch_alter_table("mdt_meeting") as batch:
        batch.drop_column("outside_scope_plan")
    with op.batch_alter_table("pathway") as batch:
        batch.drop_column("pregnant")
    with op.batch_alter_table("safety_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_check_pathway_id"))
    op.drop_table("safety_check")
