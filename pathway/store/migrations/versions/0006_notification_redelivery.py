"""notification redelivery: which channels took a failed notification all the same

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notification", sa.Column("accepted_channels", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("accepted_channels")
