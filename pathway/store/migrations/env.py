"""Alembic environment: the engine comes from pathway.store.db.alembic_config (no alembic.ini needed)."""

from alembic import context
from sqlalchemy import Engine

from pathway.store.schema import metadata  # every table of every model module

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through pathway.store.db.migrate(engine) or `pathway init`")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
