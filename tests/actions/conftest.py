"""Run actions as the action server would: a real Tracker, a CollectingDispatcher, a temporary database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from throughcare.access import identity
from throughcare.db.engine import Database
from throughcare.demo.caseload import demo_practitioner_id

SECRET = "test-secret-0123456789abcdef"


@dataclass
class Result:
    messages: list[dict]
    events: list[dict]

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def buttons(self) -> list[dict]:
        return [b for m in self.messages for b in (m.get("buttons") or [])]

    def slot(self, name: str) -> object:
        return next(e["value"] for e in self.events if e.get("event") == "slot" and e.get("name") == name)


@pytest.fixture
def case_db(monkeypatch, demo_sqlite_url) -> Database:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(identity.SECRET_ENV, SECRET)
    monkeypatch.setenv("DATABASE_URL", demo_sqlite_url)
    db = Database.from_url(demo_sqlite_url)
    yield db
    db.engine.dispose()


@pytest.fixture
def database_down(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(identity.SECRET_ENV, SECRET)
    # Nothing listens on port 1: every connection fails, as when the database server is down.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    yield


@pytest.fixture
def run(case_db):  # type: ignore[no-untyped-def]
    staff_id = demo_practitioner_id(case_db)
    return make_runner(staff_id)


def make_runner(staff_id: int | None):  # type: ignore[no-untyped-def]
    def run_action(
        action: Action,
        text: str,
        intent: str,
        entities: list[dict] | None = None,
        slots: dict | None = None,
        signed: bool = True,
        events: list[dict] | None = None,
        ranking: list[dict] | None = None,
    ) -> Result:
        metadata = (
            {identity.METADATA_KEY: identity.sign(staff_id, SECRET.encode(), subject="test-conversation")}
            if signed and staff_id
            else {}
        )
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
            "metadata": metadata,
        }
        user_event = {"event": "user", "text": text, "parse_data": latest, "metadata": metadata}
        tracker = Tracker(
            sender_id="test-conversation",
            slots=slots or {},
            latest_message=latest,
            events=[*(events or []), user_event],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )
        dispatcher = CollectingDispatcher()
        returned = asyncio.run(action.run(dispatcher, tracker, {}))
        return Result(dispatcher.messages, returned)

    return run_action
