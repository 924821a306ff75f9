"""Alembic environment: the URL comes from the caller's config (see throughcare.db.migrate)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from throughcare.db.models import Base

config = context.config
connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}),
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
    hide_parameters=True,  # as throughcare.db.engine: no values from the case records in an error or a log
)
with connectable.connect() as connection:
    # render_as_batch: SQLite can only alter a table by copying it.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
