"""Migrations against the models, and revision 0005 on a database that already holds records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import postgres_schema
from throughcare.db.migrate import upgrade
from throughcare.db.models import Base

EPISODE = (
    "INSERT INTO episode (id, client_id, referral_date, referral_route, stage, on_prescription, parole_case,"
    " closure_date) VALUES (:id, 1, '2026-01-05', 'self_referral', :stage, false, false, :closed)"
)
STEP = "(2, 'triage', 'x', 'y', '2026-06-01')"


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0004(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database migrated to 0004, the revision before the constraints."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, "0004")
        yield url
        return
    with postgres_schema("0004") as url:
        yield url


def seed(engine: Engine, open_episodes: int) -> None:
    """One client with a closed episode and `open_episodes` open ones, and the first open one's steps listed twice."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO client (id, prison_number) VALUES (1, 'A1234BC')"))
        conn.execute(text(EPISODE), {"id": 1, "stage": "closed", "closed": "2026-03-01"})
        for n in range(open_episodes):
            conn.execute(text(EPISODE), {"id": 2 + n, "stage": "referred", "closed": None})
        for row_id, key in enumerate(["triage", "initial_assessment", "triage", "initial_assessment", "triage"], 1):
            conn.execute(
                text(
                    "INSERT INTO open_step (id, episode_id, key, what, who, due, computed_on)"
                    " VALUES (:id, 2, :key, 'x', 'y', NULL, '2026-06-01')"
                ),
                {"id": row_id, "key": key},
            )


def test_0005_keeps_the_first_of_each_duplicated_open_step_and_adds_the_constraints(url_at_0004: str) -> None:
    engine = create_engine(url_at_0004)
    seed(engine, open_episodes=1)
    upgrade(url_at_0004, "0005")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, key FROM open_step ORDER BY id")).all() == [
            (1, "triage"),
            (2, "initial_assessment"),
        ]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(f"INSERT INTO open_step (episode_id, key, what, who, computed_on) VALUES {STEP}"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(EPISODE), {"id": 9, "stage": "referred", "closed": None})
    engine.dispose()


def test_0005_on_a_client_with_two_open_episodes_stops_and_says_why_changing_nothing(url_at_0004: str) -> None:
    engine = create_engine(url_at_0004)
    seed(engine, open_episodes=2)
    with pytest.raises(RuntimeError, match=r"client 1: episodes 2, 3\). Nothing was changed. Ask the service"):
        upgrade(url_at_0004, "0005")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        assert conn.execute(text("SELECT count(*) FROM open_step")).scalar() == 5
        conn.execute(text("UPDATE episode SET closure_date = '2026-06-02', stage = 'closed' WHERE id = 2"))
    upgrade(url_at_0004, "0005")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        assert conn.execute(text("SELECT count(*) FROM open_step")).scalar() == 2
    engine.dispose()


def test_the_migrations_build_the_schema_the_models_describe(database) -> None:  # type: ignore[no-untyped-def]
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
