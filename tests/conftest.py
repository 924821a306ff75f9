"""Shared fixtures: migrated temporary databases (SQLite always, PostgreSQL when a server is reachable)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from throughcare.db import Database
from throughcare.knowledge import Knowledge, default_knowledge
from throughcare.migrate import upgrade

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_unavailable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as err:  # any failure to connect means: skip, and say why
        return f"no PostgreSQL at {POSTGRES_URL} ({type(err).__name__})"
    return None


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return default_knowledge()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'throughcare.db'}"
    upgrade(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL database, migrated, dropped afterwards."""
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    schema = f"tc_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """The same store test on the embedded default and on the production database."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    db = Database.from_url(url)
    yield db
    db.engine.dispose()


@pytest.fixture
def today() -> dt.date:
    return dt.date.today()


# The served assistant is shared by the end-to-end and the Telegram gateway tests, so it starts once a session.
from tests.servers import assistant  # noqa: E402, F401
