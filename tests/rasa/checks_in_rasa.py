"""Checks of rasa_components/ that must run in Rasa's environment, for tests/rasa/test_tracker_store.py and
tests/rasa/test_server.py.

    .venv-rasa/bin/python tests/rasa/checks_in_rasa.py <check> [argument]

Each check prints what the test compares and exits non-zero when an assertion fails.
"""

import asyncio
import os
import sys
from typing import Any

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import read_endpoint_config

from rasa_components.server import check_replies_against_a_schema_checked_once
from rasa_components.tracker_store import ThroughcareTrackerStore, _event_classes


def turn(text: str, intent: str, action: str, reply: str, *extra: Event, at: float) -> list[Event]:
    """One exchange as Rasa records it: the message with an entity and metadata, the action, its reply, the rest."""
    events: list[Event] = [
        UserUttered(
            text,
            {"name": intent, "confidence": 0.9},
            [{"entity": "prison_number", "value": "A1234BC", "start": 0, "end": 7}],
            metadata={"staff_token": "signed"},
        ),
        ActionExecuted(action),
        BotUttered(reply, {"buttons": [{"title": "Done", "payload": "/step_done"}]}),
        *extra,
        ActionExecuted("action_listen"),
    ]
    for event in events:
        event.timestamp = at
    return events


def session(at: float) -> list[Event]:
    started: list[Event] = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("session_started_metadata", {"channel": "rest"}),
        ActionExecuted("action_listen"),
    ]
    for event in started:
        event.timestamp = at
    return started


def same_events(db: str) -> None:
    """A conversation of two sessions, saved by Rasa's store, read back by both stores."""
    domain = Domain.load("domain.yml")
    rasas, ours = SQLTrackerStore(domain, db=db), ThroughcareTrackerStore(domain, db=db)
    earlier = session(1e9) + turn("hello", "greet", "action_greet", "Hello", at=1e9)
    latest = session(2e9)
    latest += turn(
        "next for A1234BC", "ask_next_steps", "action_next_steps", "Next", SlotSet("prison_number", "A1234BC"), at=2e9
    )
    latest += turn(
        "transfer checklist",
        "start_checklist",
        "action_start_checklist",
        "Step 1",
        SlotSet("checklist", "transfer"),
        SlotSet("checklist_step", 1),
        at=2e9,
    )
    latest += turn("skip", "skip_step", "skip_reason_form", "Why?", ActiveLoop("skip_reason_form"), at=2e9)
    # A question in the middle of the form, which the form rejects.
    latest += [UserUttered("what is ttg", timestamp=2e9), LoopInterrupted(True, 2e9)]
    latest += [ActionExecutionRejected("skip_reason_form", timestamp=2e9)]

    async def compare() -> None:
        await rasas.save(DialogueStateTracker.from_events("conversation-1", earlier + latest, domain.slots))
        for all_sessions in (False, True):
            expected = await rasas._retrieve("conversation-1", fetch_events_from_all_sessions=all_sessions)
            got = await ours._retrieve("conversation-1", fetch_events_from_all_sessions=all_sessions)
            assert got is not None and expected is not None
            assert list(got.events) == list(expected.events)
            assert got.current_state() == expected.current_state()
            print(len(got.events), got.get_slot("checklist"), got.active_loop_name)
        assert await ours.retrieve("nobody") is None

    asyncio.run(compare())


def saves(db: str) -> None:
    """Messages handled as Rasa does: read the tracker, add events, save; twice on one tracker; a new one too."""
    domain = Domain.load("domain.yml")
    rasas, ours = SQLTrackerStore(domain, db=db), ThroughcareTrackerStore(domain, db=db)

    async def handle() -> None:
        first = DialogueStateTracker.from_events("conversation-1", session(1e9), domain.slots)
        await ours.save(first)  # never read: counted as Rasa counts
        tracker = await ours.retrieve("conversation-1")
        assert tracker is not None
        for event in turn("hello", "greet", "action_greet", "Hello", at=1e9 + 1):
            tracker.update(event)
        await ours.save(tracker)
        for event in turn("whats next", "ask_next_steps", "action_next_steps", "Next", at=1e9 + 2):
            tracker.update(event)
        await ours.save(tracker)
        await ours.save(tracker)  # nothing new: nothing written
        again = await ours.retrieve("conversation-1")
        assert again is not None
        for event in turn("thanks", "thank", "action_acknowledge", "You're welcome", at=1e9 + 3):
            again.update(event)
        await ours.save(again)
        stored = await rasas.retrieve("conversation-1")
        assert stored is not None
        expected = session(1e9) + turn("hello", "greet", "action_greet", "Hello", at=1e9 + 1)
        expected += turn("whats next", "ask_next_steps", "action_next_steps", "Next", at=1e9 + 2)
        expected += turn("thanks", "thank", "action_acknowledge", "You're welcome", at=1e9 + 3)
        assert list(stored.events) == expected, list(stored.events)
        # On SQLite one connection served every read and save (Rasa's own store opens one for each).
        assert ours.engine.pool.checkedin() == 1, ours.engine.pool.status()
        print(len(stored.events))

    asyncio.run(handle())


def window(db: str) -> None:
    """A long session read for a message: its last 3 exchanges, the same state, and saved as Rasa would."""
    domain = Domain.load("domain.yml")
    rasas, ours = SQLTrackerStore(domain, db=db), ThroughcareTrackerStore(domain, db=db, window_turns=3)
    # The client and the walk are set early on; twelve questions follow.
    events = session(1e9)
    events += turn("next for A1234BC", "ask_next_steps", "action_next_steps", "Next", at=1e9 + 1)
    events += [SlotSet("prison_number", "A1234BC", timestamp=1e9 + 1)]
    events += turn(
        "transfer checklist",
        "start_checklist",
        "action_start_checklist",
        "Step 1",
        SlotSet("checklist", "transfer"),
        SlotSet("checklist_step", "t1"),
        SlotSet("checklist_client", "A1234BC"),
        at=1e9 + 2,
    )
    for minute in range(12):
        events += turn("what is ttg", "define_term", "action_define_term", "TTG is", at=1e9 + 60 * (minute + 3))
    # The same session with a form opened before its last 3 exchanges and still open.
    with_form = events[:-8] + turn(
        "skip", "step_skip", "skip_reason_form", "Why?", ActiveLoop("skip_reason_form"), at=2e9
    )
    with_form += turn("what is ttg", "define_term", "action_define_term", "TTG is", at=2e9 + 1)
    with_form += turn("what is ttg", "define_term", "action_define_term", "TTG is", at=2e9 + 2)
    with_form += turn("what is ttg", "define_term", "action_define_term", "TTG is", at=2e9 + 3)

    async def read_and_save(conversation: str, stored: list[Event]) -> None:
        await rasas.save(DialogueStateTracker.from_events(conversation, stored, domain.slots))
        whole = await rasas.retrieve(conversation)
        tracker = await ours.retrieve(conversation)
        assert tracker is not None and whole is not None
        assert tracker.current_state() == {**whole.current_state(), "events": None}
        user_events = [e for e in tracker.events if isinstance(e, UserUttered)]
        print(conversation, len(user_events), tracker.get_slot("checklist_client"), tracker.active_loop_name)
        new = turn("thanks", "thank", "action_acknowledge", "You're welcome", at=3e9)
        for event in new:
            tracker.update(event)
        await ours.save(tracker)
        again = await rasas.retrieve(conversation)
        assert again is not None and list(again.events) == stored + new, "saved other than the new events"

    asyncio.run(read_and_save("without-form", events))
    asyncio.run(read_and_save("with-form", with_form))


def event_classes() -> None:
    names = {event_class.type_name for event_class in all_subclasses(Event)}
    assert all(_event_classes()[name] is Event.resolve_by_type(name) for name in names)
    print(len(names))


def loaded_store() -> None:
    """The store Rasa makes from each endpoints file (the production one with its variables set)."""
    settings: dict[str, Any] = {"TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": "test"}
    os.environ.update(settings, TRACKER_DB_USER="postgres", TRACKER_DB_PASSWORD="", ACTION_ENDPOINT_URL="http://x")
    os.environ.update(REDIS_HOST="127.0.0.1", REDIS_PORT="6379", REDIS_DB="0")
    for endpoints in ("endpoints.yml", "endpoints.production.yml"):
        config = read_endpoint_config(endpoints, "tracker_store")
        if "production" not in endpoints:
            config.kwargs["db"] = ":memory:"
        store = create_tracker_store(config, Domain.empty())
        print(type(getattr(store, "_tracker_store", store)).__name__)


ACTION_REPLIES: list[Any] = [
    {"events": [{"event": "slot", "name": "prison_number", "value": "A1234BC"}], "responses": [{"text": "Done."}]},
    {"events": [], "responses": []},
    {},
    {"events": {"event": "slot"}},
    {"events": [{"name": "no event type"}]},
    {"events": [{"event": "not_an_event"}]},
    {"responses": "Done."},
    {"responses": [["Done."]]},
    [],
]


def reply_validation() -> None:
    """Each action server reply, valid or not, judged by Rasa's validation and by the corrected one."""
    action = RemoteAction("action_next_steps", None)

    def judge() -> list[str]:
        outcomes = []
        for reply in ACTION_REPLIES:
            try:
                outcomes.append(str(action._validate_action_result(reply)))
            except ValidationError as error:
                outcomes.append(f"invalid at {list(error.absolute_path)}: {error.validator}")
        return outcomes

    rasas = judge()
    check_replies_against_a_schema_checked_once()
    assert judge() == rasas, (judge(), rasas)
    print("\n".join(rasas))


if __name__ == "__main__":
    check, *arguments = sys.argv[1:]
    checks = {
        "same_events": same_events,
        "saves": saves,
        "window": window,
        "event_classes": event_classes,
        "loaded_store": loaded_store,
        "reply_validation": reply_validation,
    }
    checks[check](*arguments)
