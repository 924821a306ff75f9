"""Schema migrations with Alembic, run from code so `throughcare db upgrade` works from any folder."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def is_current(engine: Engine) -> bool:
    """Whether the database has every migration: a command run on a new or older database says so at once, instead
    of failing on a missing table."""
    heads = set(
        ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False))).get_heads()
    )
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
