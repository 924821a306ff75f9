"""Engine and sessions. DATABASE_URL picks the database: a SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from throughcare.knowledge import REPO_ROOT

DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'throughcare.db'}"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pool_pre_ping: a database restarted under a running action server must not cost the next user an error.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@functools.cache
def default_engine() -> Engine:
    return make_engine(database_url())


class Database:
    """A handle on one database; every unit of work is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session
