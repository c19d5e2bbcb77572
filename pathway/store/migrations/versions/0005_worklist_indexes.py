"""worklist: flag windows in due order (a page of the worklist stops once it is full)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_flag_window_due", "flag_window", ["due_on", "starts_on", "ends_on", "pathway_id"])


def downgrade() -> None:
    op.drop_index("ix_flag_window_due", table_name="flag_window")
