"""audit trail: the fingerprints of the clinical rows each command wrote, and a baseline

Revision ID: 0009
Revises: 0008

Adds `audit_event.written` (only adds). A database that already holds clinical rows gets one audit row,
`audit_baseline`, that vouches for every clinical row as it stands at this upgrade (per table: the id
range, the count and the digest of the rows' fingerprints), so `pathway audit verify` can check every
row from here on. The tables are read as they are in the database at this revision (reflected), never
through the models, so later migrations cannot change what this one reads.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("written", sa.JSON(), nullable=True))
    _baseline(op.get_bind())


def _baseline(bind: sa.Connection) -> None:
    from pathway.store import audit
    from pathway.store.fingerprint import clinical_tables, vouch_for
    from pathway.store.models import AuditEvent

    reflected = sa.MetaData()
    tables = {name: sa.Table(name, reflected, autoload_with=bind) for name in clinical_tables()}
    written = vouch_for(bind, {}, tables=tables)
    if not written:
        return  # nothing recorded yet: every row to come is fingerprinted by its own command
    audit_event = sa.Table("audit_event", reflected, autoload_with=bind)
    last = bind.execute(
        sa.select(audit_event.c.id, audit_event.c.hash).order_by(audit_event.c.id.desc()).limit(1)
    ).first()
    last_id, previous = (last[0], last[1]) if last else (0, audit.GENESIS)
    row = AuditEvent(
        id=last_id + 1,
        at=datetime.now(UTC),
        actor="migration 0009",
        role="admin",
        command="audit_baseline",
        outcome="accepted",
        after={"note": "every clinical row at the upgrade to revision 0009"},
        written=written,
    )
    row.prev_hash, row.hash = previous, audit.chain_hash(previous, row)
    values = {column.name: getattr(row, column.name) for column in audit_event.columns}
    bind.execute(audit_event.insert().values(values))


def downgrade() -> None:
    """Drops the column. Rows written with it no longer verify (it was part of their hash): a database
    that recorded anything at this revision cannot go back below it with its audit trail intact."""
    from pathway.store import audit

    bind = op.get_bind()
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("written")
    if bind.dialect.name == "sqlite":  # the batch copy of the table lost its triggers
        for statement in audit.SQLITE_TRIGGERS:
            op.execute(statement)
