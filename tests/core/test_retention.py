"""The purge: old query-log rows, button payloads, deliveries, Telegram updates and conversations go; what is
recent, and the audit trail, stay. On SQLite and PostgreSQL, for the case store and for Rasa's tracker store."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, func, insert, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from throughcare.access import delivery
from throughcare.cases import audit_trail, retention, staff_members
from throughcare.cli import app
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import (
    AuditEvent,
    ButtonPayload,
    DashboardSession,
    DigestDelivery,
    GuidanceQuery,
    QueryReview,
    ReviewMark,
    Role,
    TelegramUpdate,
    utcnow,
    week_of,
)

NOW = utcnow()
DAY = dt.timedelta(days=1)

# The columns of Rasa 3.6's SQL tracker store (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent).
_metadata = MetaData()
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    # The CLI makes its process's files owner-only; the test session's umask is put back after each test.
    umask = os.umask(0o022)
    os.umask(umask)
    yield
    os.umask(umask)


def add_query(db: Database, at: dt.datetime, text: str, reviewer: int | None = None) -> int:
    with db.transaction() as session:
        query = GuidanceQuery(at=at, week=week_of(at), text=text, action="action_next_steps")
        session.add(query)
        session.flush()
        if reviewer is not None:
            session.add(QueryReview(query_id=query.id, mark=ReviewMark.knowledge_gap, by_staff_id=reviewer, at=at))
            audit_trail.audit(session, reviewer, "query_review", query.id, "mark", None, {"mark": "knowledge_gap"})
        return query.id


def add_gateway_rows(db: Database, staff_id: int, at: dt.datetime, tag: int) -> None:
    with db.transaction() as session:
        session.add(
            ButtonPayload(key=f"key-{tag}", payload=f'/ask_next_steps{{"prison_number":"A{tag:04d}BC"}}', at=at)
        )
        session.add(DigestDelivery(staff_id=staff_id, day=at.date(), sent=True, at=at))
        session.add(TelegramUpdate(update_id=tag, telegram_user_id=42, at=at))
        session.add(
            DashboardSession(
                staff_id=staff_id, link_hash=f"link-{tag}", link_expires_at=at + dt.timedelta(minutes=15), created_at=at
            )
        )


def texts(db: Database) -> set[str]:
    with db.transaction() as session:
        return set(session.scalars(select(GuidanceQuery.text)))


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_query_log_and_its_reviews_go_after_their_time_and_the_audit_trail_stays(database: Database) -> None:
    manager = staff_members.add_staff(database, "Manager", Role.manager)
    add_query(database, NOW - 200 * DAY, "what's next for A1234BC", reviewer=manager)
    add_query(database, NOW - 190 * DAY, "when is the IA due for B2345CD")
    add_query(database, NOW - 170 * DAY, "what does TTG mean", reviewer=manager)
    audit_rows = count(database, AuditEvent)

    deleted = retention.purge_case_store(database, retention.Cutoffs.from_retention(NOW))

    assert texts(database) == {"what does TTG mean"}
    assert count(database, QueryReview) == 1
    assert (deleted.counts["guidance queries"], deleted.counts["query reviews"]) == (2, 1)
    assert count(database, AuditEvent) == audit_rows


def test_gateway_records_go_after_their_own_shorter_time(database: Database) -> None:
    staff_id = staff_members.add_staff(database, "Practitioner", Role.practitioner)
    add_gateway_rows(database, staff_id, NOW - 40 * DAY, 1)
    add_gateway_rows(database, staff_id, NOW - 20 * DAY, 2)
    add_gateway_rows(database, staff_id, NOW - 1 * DAY, 3)

    deleted = retention.purge_case_store(database, retention.Cutoffs.from_retention(NOW))

    with database.transaction() as session:
        assert set(session.scalars(select(ButtonPayload.key))) == {"key-2", "key-3"}
        assert len(session.scalars(select(DigestDelivery)).all()) == 2
        # Telegram redelivers for a day: update ids are kept two days, no longer.
        assert set(session.scalars(select(TelegramUpdate.update_id))) == {3}
        assert set(session.scalars(select(DashboardSession.link_hash))) == {"link-2", "link-3"}
    assert deleted.counts == {
        "query reviews": 0,
        "guidance queries": 0,
        "button payloads": 1,
        "digest deliveries": 1,
        "telegram updates": 2,
        "dashboard sign-ins": 1,
    }


def test_before_a_day_deletes_everything_older_than_that_day_and_nothing_of_it(database: Database) -> None:
    staff_id = staff_members.add_staff(database, "Practitioner", Role.practitioner)
    day = (NOW - 10 * DAY).astimezone(retention.LONDON).date()
    start = dt.datetime.combine(day, dt.time(0), retention.LONDON)
    add_query(database, start - dt.timedelta(minutes=1), "just before")
    add_query(database, start + dt.timedelta(minutes=1), "just after")
    add_gateway_rows(database, staff_id, start + dt.timedelta(hours=12), 1)

    retention.purge_case_store(database, retention.Cutoffs.before_day(day))

    assert texts(database) == {"just after"}
    assert (count(database, ButtonPayload), count(database, DigestDelivery), count(database, TelegramUpdate)) == (
        1,
        1,
        1,
    )


def _events(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(EVENTS.c.sender_id, func.count()).group_by(EVENTS.c.sender_id).order_by(EVENTS.c.sender_id)
        ).all()
    engine.dispose()
    return dict(rows)


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A tracker store with three conversations: one idle for 190 days, one started 300 days ago and still in
    use yesterday, one from an hour ago."""
    url = (
        f"sqlite:///{tmp_path / 'tracker.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    engine = create_engine(url)
    _metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, age in (
            ("idle", 200 * DAY),
            ("idle", 190 * DAY),
            ("long", 300 * DAY),
            ("long", DAY),
            ("new", dt.timedelta(hours=1)),
        ):
            connection.execute(
                insert(EVENTS).values(
                    sender_id=sender,
                    type_name="user",
                    timestamp=(NOW - age).timestamp(),
                    data='{"event": "user", "text": "what\'s next for A1234BC"}',
                )
            )
    engine.dispose()
    return url


def test_conversations_idle_past_their_time_go_whole_and_live_ones_stay_whole(tracker_url: str) -> None:
    deleted = retention.purge_tracker_store(tracker_url, NOW - 183 * DAY)
    assert deleted.counts == {"conversations": 1, "conversation events": 2}
    assert _events(tracker_url) == {"long": 2, "new": 1}


def test_a_tracker_store_never_written_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "tracker.db"
    assert retention.purge_tracker_store(f"sqlite:///{missing}", NOW).counts["conversations"] == 0
    assert not missing.exists()


def test_the_tracker_store_is_found_where_the_servers_find_it() -> None:
    embedded = retention.tracker_store_url(REPO_ROOT / "endpoints.yml", {})
    assert embedded == f"sqlite:///{REPO_ROOT / 'var' / 'rasa_tracker.db'}"
    env = {
        "TRACKER_DB_HOST": "db.internal",
        "TRACKER_DB_PORT": "5433",
        "TRACKER_DB_NAME": "rasa",
        "TRACKER_DB_USER": "rasa_user",
        "TRACKER_DB_PASSWORD": "p@ss:word",
        "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
    }
    url = make_url(retention.tracker_store_url(REPO_ROOT / "endpoints.production.yml", env) or "")
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql+psycopg",
        "db.internal",
        5433,
        "rasa",
        "rasa_user",
        "p@ss:word",
    )
    assert retention.tracker_store_url_from_env({"ENDPOINTS": "endpoints.production.yml", **env}) == str(
        url.render_as_string(hide_password=False)
    )


def test_a_missing_tracker_setting_is_named_and_no_store_means_nothing_to_purge(tmp_path: Path) -> None:
    with pytest.raises(retention.TrackerStoreError, match="TRACKER_DB_HOST"):
        retention.tracker_store_url(REPO_ROOT / "endpoints.production.yml", {})
    in_memory = tmp_path / "endpoints.yml"
    in_memory.write_text('action_endpoint:\n  url: "http://localhost:5055/webhook"\n')
    assert retention.tracker_store_url(in_memory, {}) is None


def _cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["purge", *args], env=env)
    return result.exit_code, result.output


def test_the_purge_command_prints_what_it_deleted_from_each_store(sqlite_url: str, tmp_path: Path) -> None:
    db = Database.from_url(sqlite_url)
    add_query(db, NOW - 30 * DAY, "old question about A1234BC")
    add_query(db, NOW - 2 * DAY, "new question")
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(tracker)
    _metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(EVENTS).values(sender_id="old", type_name="user", timestamp=(NOW - 30 * DAY).timestamp())
        )
    engine.dispose()

    day = (NOW - 7 * DAY).date().isoformat()
    code, output = _cli("--before", day, "--tracker-db", tracker, env={"DATABASE_URL": sqlite_url})

    assert code == 0, output
    assert re.search(r"guidance queries\s*│ 1 ", output) and re.search(r"conversations\s*│ 1 ", output)
    assert texts(db) == {"new question"}
    assert _events(tracker) == {}
    db.engine.dispose()


def test_without_a_day_the_purge_keeps_each_store_for_its_retention_period(sqlite_url: str, tmp_path: Path) -> None:
    db = Database.from_url(sqlite_url)
    add_query(db, NOW - 200 * DAY, "seven months ago")
    add_query(db, NOW - 150 * DAY, "five months ago")
    staff_id = staff_members.add_staff(db, "Practitioner", Role.practitioner)
    add_gateway_rows(db, staff_id, NOW - 40 * DAY, 1)
    add_gateway_rows(db, staff_id, NOW - 20 * DAY, 2)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tmp_path / "tracker.db"}"\n')

    code, output = _cli(env={"DATABASE_URL": sqlite_url, "ENDPOINTS": str(endpoints)})

    assert code == 0, output
    assert texts(db) == {"five months ago"}
    with db.transaction() as session:
        assert set(session.scalars(select(ButtonPayload.key))) == {"key-2"}
    db.engine.dispose()


def test_a_day_still_to_come_is_refused_and_nothing_is_deleted(sqlite_url: str) -> None:
    db = Database.from_url(sqlite_url)
    add_query(db, NOW - 2 * DAY, "kept")
    tomorrow = (dt.datetime.now(retention.LONDON) + DAY).date().isoformat()
    code, output = _cli("--before", tomorrow, "--tracker-db", "sqlite://", env={"DATABASE_URL": sqlite_url})
    assert code == 1 and "cannot be later than today" in output
    assert texts(db) == {"kept"}
    db.engine.dispose()


def test_tracker_settings_the_servers_cannot_use_stop_the_purge_before_it_deletes(sqlite_url: str) -> None:
    db = Database.from_url(sqlite_url)
    add_query(db, NOW - 400 * DAY, "old")
    code, output = _cli(
        env={"DATABASE_URL": sqlite_url, "ENDPOINTS": str(REPO_ROOT / "endpoints.production.yml")},
    )
    assert code == 1 and "TRACKER_DB_HOST" in output and "--tracker-db" in output
    assert texts(db) == {"old"}
    db.engine.dispose()


def test_a_button_shown_again_lately_still_works_after_the_purge(database: Database) -> None:
    payload = '/ask_next_steps{"prison_number":"A1234BC"}'
    key = delivery.keep_payload(database, payload)
    with database.transaction() as session:
        session.get(ButtonPayload, key).at = NOW - 40 * DAY
    assert delivery.keep_payload(database, payload) == key

    retention.purge_case_store(database, retention.Cutoffs.from_retention(NOW))

    assert delivery.payload(database, key) == payload
