"""Shared fixtures: migrated temporary databases (SQLite always, PostgreSQL when a server is reachable)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, create_engine, event, make_url, text

from throughcare import clock
from throughcare.db.engine import Database
from throughcare.db.migrate import upgrade
from throughcare.demo.caseload import load_demo_data
from throughcare.knowledge.loader import default_knowledge
from throughcare.knowledge.nlu_patterns import rasa_entity_data
from throughcare.knowledge.schema import Knowledge

# pytest-xdist's workers start with COLUMNS=80 and LINES=24 in their environment, where a plain run has neither.
# The CLI's console takes its width from COLUMNS when it is made, on import, and would then wrap what the CLI tests
# read at 80 columns; without them it takes the width each test gives it, as in a plain run.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

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


class SqliteTemplates:
    """SQLite databases built once a session and copied for each test: a copy takes a millisecond, where migrating
    takes about half a second and loading the demo caseload a fifth of one more, in each of hundreds of tests."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def copy(self, destination: Path, demo_day: dt.date | None = None) -> str:
        """The URL of a database of the test's own: migrated, and holding the demo caseload of `demo_day` if given."""
        shutil.copy(self._template(demo_day), destination)
        return f"sqlite:///{destination}"

    def _template(self, demo_day: dt.date | None) -> Path:
        # One per day, because the demo caseload is dated from the day it is loaded.
        path = self.folder / (f"demo-{demo_day.isoformat()}.db" if demo_day else "migrated.db")
        if path.exists():
            return path
        # Built under another name and renamed when complete, so a build that fails is not copied by later tests.
        building = path.with_suffix(".building")
        if demo_day is None:
            upgrade(f"sqlite:///{building}")
        else:
            shutil.copy(self._template(None), building)
            db = Database.from_url(f"sqlite:///{building}")
            load_demo_data(db, demo_day)
            # Closing the last connection folds the write-ahead log into the file, so the file alone is the database.
            db.engine.dispose()
        building.rename(path)
        return path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    """Under pytest-xdist's default distribution (`make check` runs `-n auto`), the dashboard's tests go to one worker
    together, first, so that the served dashboard and Chromium, started once a session, start in one worker only;
    every other test goes to whichever worker is free. (xdist_group markers would say the same, but --dist loadgroup
    does not group under pytest 9.2: it renames items through an attribute pytest no longer reads.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class DashboardTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests/dashboard/" if nodeid.startswith("tests/dashboard/") else nodeid

    return DashboardTogether(config, log)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return default_knowledge()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_templates: SqliteTemplates) -> str:
    return sqlite_templates.copy(tmp_path / "throughcare.db")


@pytest.fixture
def demo_sqlite_url(tmp_path: Path, sqlite_templates: SqliteTemplates, today: dt.date) -> str:
    return sqlite_templates.copy(tmp_path / "demo.db", demo_day=today)


@contextmanager
def postgres_schema(revision: str = "head") -> Iterator[str]:
    """A fresh schema in the test PostgreSQL database, migrated to `revision`, dropped afterwards; the test is
    skipped, with the reason, when no server answers."""
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
        upgrade(url, revision)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class PostgresTemplates:
    """PostgreSQL's counterpart of SqliteTemplates: databases on the test server built once a session (migrated,
    and holding the demo caseload of a day) and copied for each test with CREATE DATABASE ... TEMPLATE, which takes
    a tenth of a second where migrating and loading the demo caseload take seconds. Every name carries the
    session's own token, so that sessions running at once (pytest-xdist's workers, or another checkout's tests)
    never touch each other's databases."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex[:10]
        self._reason: str | None = None
        self._checked = False
        self._built: dict[dt.date | None, str] = {}
        self._admin: Engine | None = None

    def _url(self, name: str) -> str:
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        if self._admin is None:
            self._admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(statement))

    @contextmanager
    def copy(self, demo_day: dt.date | None = None) -> Iterator[str]:
        """The URL of a database of the test's own, dropped afterwards: migrated, and holding the demo caseload of
        `demo_day` if given. The test is skipped, with the reason, when no server answers."""
        if not self._checked:
            self._reason, self._checked = postgres_unavailable_reason(), True
        if self._reason:
            pytest.skip(self._reason)
        name = f"tc_test_{self.token}_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template(demo_day)}"')
        try:
            yield self._url(name)
        finally:
            self._execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    def _template(self, demo_day: dt.date | None) -> str:
        if demo_day in self._built:
            return self._built[demo_day]
        name = f"tc_template_{self.token}_{demo_day.strftime('%Y%m%d') if demo_day else 'migrated'}"
        if demo_day is None:
            self._execute(f'CREATE DATABASE "{name}"')
            upgrade(self._url(name))
        else:
            self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template(None)}"')
            db = Database.from_url(self._url(name))
            load_demo_data(db, demo_day)
            db.engine.dispose()
        # A database is copied only while nobody is connected to it: the migration's own connections go now.
        self._execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        self._built[demo_day] = name
        return name

    def drop(self) -> None:
        for name in self._built.values():
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates()
    yield templates
    templates.drop()


@pytest.fixture
def postgres_url(postgres_templates: PostgresTemplates) -> Iterator[str]:
    with postgres_templates.copy() as url:
        yield url


@pytest.fixture
def demo_postgres_url(postgres_templates: PostgresTemplates, today: dt.date) -> Iterator[str]:
    with postgres_templates.copy(demo_day=today) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """The same store test on the embedded default and on the production database."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    db = Database.from_url(url)
    yield db
    db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_database(request, today: dt.date) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """`database` holding the demo caseload of `today`."""
    if request.param == "sqlite":
        db = Database.from_url(request.getfixturevalue("demo_sqlite_url"))
    else:
        db = Database.from_url(request.getfixturevalue("demo_postgres_url"))
    yield db
    db.engine.dispose()


@pytest.fixture
def today() -> dt.date:
    # London's day, as the code under test counts it (throughcare/clock.py).
    return clock.today()


# The served assistant is shared by the end-to-end and the Telegram gateway tests, so it starts once a session.
from tests.servers import assistant  # noqa: E402, F401


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements run on `db` inside the block."""
    seen: list[str] = []

    def count(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# The generated entity data, parsed, by the knowledge it was generated from (kept, so that its id names it):
# generating and parsing it takes about a second, and many tests read it with dozens of messages each.
_ENTITY_DATA: dict[int, tuple[Knowledge, list[dict]]] = {}


def generated_entity_data(knowledge: Knowledge) -> list[dict]:
    """The NLU's rule-based entity data (`nlu_patterns.rasa_entity_data`) for `knowledge`, parsed."""
    if id(knowledge) not in _ENTITY_DATA:
        _ENTITY_DATA[id(knowledge)] = (knowledge, yaml.safe_load(rasa_entity_data(knowledge))["nlu"])
    return _ENTITY_DATA[id(knowledge)][1]
