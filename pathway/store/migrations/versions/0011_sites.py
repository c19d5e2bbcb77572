"""sites as a managed list: the `site` table, filled from the sites already in use

Registrations, governance notices and accounts name a site from this list from now on (a typo no longer
opens a new site). An existing database keeps every site it has used: each site key found on a patient,
a pathway, a governance notice or an account becomes one row, spelt as it was first recorded, added at
that first recording, `added_by` this migration. Only adds.

Revision ID: 0011
Revises: 0010
"""

import json
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDED_BY = "migration 0011"


def site_spelling(value: str) -> str:
    """pathway.domain.text.site_spelling as it was at this revision (frozen here, never imported)."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def site_key(value: str) -> str:
    return site_spelling(value).casefold()


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upgrade() -> None:
    site = op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("site_key", sqlmodel.sql.sqltypes.AutoString(length=240), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("site_key", name=op.f("uq_site_site_key")),
    )
    connection = op.get_bind()
    seen: list[tuple[datetime, str]] = []
    for table in ("patient", "pathway", "governance_notice"):
        rows = sa.table(table, sa.column("site", sa.String), sa.column("recorded_at", sa.DateTime))
        query = sa.select(rows.c.site, sa.func.min(rows.c.recorded_at)).group_by(rows.c.site)
        seen += [(_utc(at), name) for name, at in connection.execute(query)]
    accounts = sa.table("account", sa.column("sites", sa.JSON), sa.column("created_at", sa.DateTime))
    for sites, at in connection.execute(sa.select(accounts.c.sites, accounts.c.created_at)):
        listed = json.loads(sites) if isinstance(sites, str) else sites
        seen += [(_utc(at), name) for name in listed or () if isinstance(name, str)]
    first: dict[str, tuple[datetime, str]] = {}
    for at, name in sorted(seen):
        spelt = site_spelling(name)
        if spelt:
            first.setdefault(site_key(spelt), (at, spelt))
    if first:
        op.bulk_insert(
            site,
            [
                {"name": name[:80], "site_key": key, "added_at": at, "added_by": ADDED_BY}
                for key, (at, name) in sorted(first.items())
            ],
        )


def downgrade() -> None:
    op.drop_table("site")
