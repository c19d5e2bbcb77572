"""sites compared by a normalised key: site_key on patient, pathway and governance_notice

Each row keeps the site as it was recorded; `site_key` (pathway.domain.text.site_key: NFKC, white space
collapsed, case-folded) is what filters and the governance lookup compare, so `North Vale` and
`north\u00a0vale` recorded before this revision are one site after it. Only adds: three columns
(filled here from each row's own site), their indexes, and the worklist's index on the key.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import unicodedata

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("patient", "pathway", "governance_notice")


def site_key(value: str) -> str:
    """pathway.domain.text.site_key as it was at this revision (frozen here, never imported): NFKC,
    every run of white space one space, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def upgrade() -> None:
    connection = op.get_bind()
    for table in TABLES:
        # NOT NULL from the start: the empty default only fills the existing rows until the update
        # below, and is dropped where the database can (SQLite cannot alter a column in place).
        op.add_column(
            table,
            sa.Column("site_key", sqlmodel.sql.sqltypes.AutoString(length=240), nullable=False, server_default=""),
        )
        rows = sa.table(table, sa.column("site", sa.String), sa.column("site_key", sa.String))
        spellings = [site for (site,) in connection.execute(sa.select(rows.c.site).distinct())]
        for site in spellings:
            connection.execute(sa.update(rows).where(rows.c.site == site).values(site_key=site_key(site)))
        if connection.dialect.name != "sqlite":
            op.alter_column(table, "site_key", server_default=None)
    op.create_index("ix_patient_site_key", "patient", ["site_key"])
    op.create_index("ix_governance_notice_site_key", "governance_notice", ["site_key"])
    op.create_index("ix_pathway_open_site_key_due", "pathway", ["closed_on", "site_key", "next_due_on"])


def downgrade() -> None:
    op.drop_index("ix_pathway_open_site_key_due", table_name="pathway")
    op.drop_index("ix_governance_notice_site_key", table_name="governance_notice")
    op.drop_index("ix_patient_site_key", table_name="patient")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("site_key")
