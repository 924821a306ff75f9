"""Engine and sessions. DATABASE_URL picks the database: PostgreSQL in production, a SQLite file for the demo.

There is no silent default: without DATABASE_URL, outside demo mode, asking for the database raises SettingsError
saying what to set (throughcare/config.py)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, ExceptionContext, Executable, Row, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from throughcare.config import Settings
from throughcare.private_files import create_owner_only


def database_url() -> str:
    """DATABASE_URL, or in demo mode the demo's SQLite file; SettingsError (naming what to set) otherwise."""
    return Settings.from_env().case_database_url


def make_engine(url: str) -> Engine:
    # hide_parameters: a failed statement's values (prison numbers, skip reasons) must not reach a log or an error.
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            create_owner_only(Path(path))
        engine = create_engine(url, connect_args={"timeout": 15}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pool_pre_ping: a database restarted under a running action server must not cost the next user an error.
    engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5}, hide_parameters=True)
    event.listen(engine, "handle_error", _without_detail)
    return engine


def _without_detail(context: ExceptionContext) -> None:
    """Take PostgreSQL's detail out of the error: it quotes the values, such as the prison number a unique index
    refused ("Key (prison_number)=(A1234BC) already exists"), and errors are logged."""
    detail = getattr(getattr(context.original_exception, "diag", None), "message_detail", None)
    if not detail:
        return
    for error in (context.original_exception, context.sqlalchemy_exception):
        if error is not None:
            error.args = tuple(a.replace(detail, "(hidden)") if isinstance(a, str) else a for a in error.args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class Database:
    """A handle on one database; every unit of work is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def execute_alone(self, statement: Executable, parameters: dict | None = None) -> Sequence[Row]:
        """One statement as a transaction of its own, and its rows. For a single read or insert that nothing else
        must be atomic with (the staff check, the query log): without BEGIN and COMMIT it is one round trip to
        the database, not three, on every message."""
        with self._autocommit.connect() as connection:
            result = connection.execute(statement, parameters)
            return result.all() if result.returns_rows else []

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that reads and then writes a case record.

        On SQLite it takes the database's write lock before the first read. A transaction that read first and asks
        for the lock later fails at once if another writer committed in between (waiting cannot help: what it read
        is stale), so two staff writing at the same moment would see a fault; with the lock taken first, the second
        waits, then reads what the first wrote. On PostgreSQL the store locks the rows it is about to change."""
        with self.transaction() as session:
            if self.engine.dialect.name == "sqlite":
                session.execute(text("BEGIN IMMEDIATE"))
            yield session


def default_database() -> Database:
    """The handle on the configured database, made once per URL: a process whose settings change (a test pointing
    DATABASE_URL elsewhere) gets the new database's, never a stale one. A handle is cheap to use, not to make, and
    the action server asks for it several times a message."""
    return _database_for(database_url())


@functools.cache
def _database_for(url: str) -> Database:
    return Database(make_engine(url))
