"""The gateway's daily purge: what is past its retention goes from the case store and Rasa's tracker store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, insert, select

from tests.bot.conftest import WORKING_DAY_MORNING, Harness
from throughcare.db.models import ButtonPayload, GuidanceQuery, TelegramUpdate, week_of

DAY = dt.timedelta(days=1)
EVENTS = Table("events", MetaData(), Column("sender_id", String(255)), Column("timestamp", Float))


def _run_purge(harness: Harness) -> None:
    gateway = harness.start()
    (job,) = gateway.application.job_queue.get_jobs_by_name("purge")
    gateway.call(job.run(gateway.application))


def test_the_daily_purge_deletes_what_is_past_its_retention_and_keeps_the_rest(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = WORKING_DAY_MORNING
    with harness.db.transaction() as session:
        for age, text in ((200 * DAY, "old question about A1234BC"), (10 * DAY, "recent question")):
            session.add(GuidanceQuery(at=now - age, week=week_of(now - age), text=text, action="action_next_steps"))
        session.add(ButtonPayload(key="old", payload='/ask_next_steps{"prison_number":"A1234BC"}', at=now - 40 * DAY))
        session.add(ButtonPayload(key="new", payload='/ask_next_steps{"prison_number":"B2345CD"}', at=now - DAY))
        # Handled update ids: Telegram redelivers for a day at most.
        session.add_all([TelegramUpdate(update_id=1, at=now - 3 * DAY), TelegramUpdate(update_id=2, at=now - DAY)])
    tracker = tmp_path / "tracker.db"
    engine = create_engine(f"sqlite:///{tracker}")
    EVENTS.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(EVENTS), [{"sender_id": "idle", "timestamp": (now - 200 * DAY).timestamp()}])
        connection.execute(insert(EVENTS), [{"sender_id": "live", "timestamp": (now - DAY).timestamp()}])
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tracker}"\n')
    monkeypatch.setenv("ENDPOINTS", str(endpoints))

    _run_purge(harness)

    with harness.db.transaction() as session:
        texts = set(session.scalars(select(GuidanceQuery.text)))
        assert "recent question" in texts and "old question about A1234BC" not in texts
        assert set(session.scalars(select(ButtonPayload.key))) == {"new"}
        assert set(session.scalars(select(TelegramUpdate.update_id))) == {2}
    with engine.connect() as connection:
        assert set(connection.scalars(select(EVENTS.c.sender_id))) == {"live"}
    engine.dispose()


def test_tracker_settings_it_cannot_read_still_let_the_case_store_be_purged(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    with harness.db.transaction() as session:
        at = WORKING_DAY_MORNING - 200 * DAY
        session.add(GuidanceQuery(at=at, week=week_of(at), text="an old question", action="action_next_steps"))
    monkeypatch.setenv("ENDPOINTS", "endpoints.production.yml")
    monkeypatch.delenv("TRACKER_DB_HOST", raising=False)

    _run_purge(harness)

    with harness.db.transaction() as session:
        assert "an old question" not in set(session.scalars(select(GuidanceQuery.text)))
