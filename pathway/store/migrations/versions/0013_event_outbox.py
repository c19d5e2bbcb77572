"""flow_trigger is the event outbox: its `flow_run` column becomes `event_id`

Revision ID: 0013
Revises: 0012

A recorded command still writes one `flow_trigger` row in its own transaction; the relay now sends it
as a Prefect event (a deployment trigger starts the run), so the row records the event's id, not a
flow run's. Only a rename: no row changes, and the table is not clinical (no fingerprints).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_trigger") as batch:
        batch.alter_column("flow_run", new_column_name="event_id")


def downgrade() -> None:
    with op.batch_alter_table("flow_trigger") as batch:
        batch.alter_column("event_id", new_column_name="flow_run")
