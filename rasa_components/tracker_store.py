"""Rasa's SQL tracker store, reading a conversation back without the cost Rasa pays per event.

Rasa rebuilds the conversation from the store on every message. Its SQLTrackerStore loads each row as an ORM
object and finds each event's class with `Event.resolve_by_type`, which walks the whole tree of Event subclasses
(and asks `inspect.isabstract` of each) once per event. A staff member's shift is one session (domain.yml,
480 minutes), so the conversation grows all day: under load this was a third of Rasa's time per message
(py-spy, docs/benchmarks.md). This store reads the same rows in the same order, only their data column, and
looks each class up in a table made once.

Saving is Rasa's own, except how it finds the events that are new: Rasa counts the conversation's stored
events again with one more query. A tracker this store read remembers how many events it had then, and
each save moves that on; it is the same tracker object from reading to saving, and Rasa's lock store keeps
any other server off the conversation meanwhile. A tracker that was not read here is counted as Rasa does.

A message's own work grows with the session too: the rule policy works out the dialogue state of every earlier
turn, several times a message, and the action server is sent the whole session with each call. Rasa's CPU per
message went from 24 ms at the start of a conversation to 80 ms by its 120th message (docs/benchmarks.md). So a
long session is handed to Rasa as its last `window_turns` exchanges (endpoints files; 10 unless set), after a
start of session that sets the slots and the open form as they stood before them: the shape of a new session
whose slots were carried over, which every rule already meets. The tracker's state (slots, open form, last
message and action) is worked out from the whole session as before and must come out the same from the window,
or the whole session is used. The window is only what Rasa works on: nothing in it is saved again, and
reading a conversation's whole history (Rasa's HTTP API) is unchanged.

On SQLite (the embedded default) it keeps its connection open between messages. SQLAlchemy 1.4, which Rasa pins,
opens and closes a SQLite file's connection for every session, and closing the last connection to a database in
write-ahead-log mode checkpoints the log: Rasa paid that twice a message. SQLAlchemy 2 pools SQLite files in the
same way as here.

endpoints.yml and endpoints.production.yml name it as the tracker store's `type`, with Rasa's SQL settings.
"""

import itertools
import json
from functools import cache
from typing import Any, Dict, Iterable, Iterator, List, Optional, Text, Type

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.utils.common import all_subclasses
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool


@cache
def _event_classes() -> Dict[Text, Type[Event]]:
    """Each event type name with the class `Event.resolve_by_type` gives for it (the first in its search)."""
    classes: Dict[Text, Type[Event]] = {}
    for event_class in all_subclasses(Event):
        classes.setdefault(event_class.type_name, event_class)
    return classes


def deserialise_events(rows: Iterable[Text]) -> List[Event]:
    """The events stored as JSON in `rows`, as `rasa.shared.core.events.deserialise_events` reads them."""
    classes = _event_classes()
    events = []
    for row in rows:
        parameters = json.loads(row)
        event_class = classes.get(parameters.get("event"))
        # A name outside the table takes Rasa's own path: old "topic" events are dropped, unknown ones raise.
        event = event_class._from_parameters(parameters) if event_class else Event.from_parameters(parameters)
        if event:
            events.append(event)
    return events


def session_tracker(sender_id: Text, events: List[Event], domain: Domain, turns: int) -> DialogueStateTracker:
    """The tracker of one session's `events`, on its last `turns` exchanges if that gives the same state."""
    users = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    # An exchange begins with Rasa listening, just before the message; 0 when the session is short enough to use whole.
    cut = users[-turns] - 1 if len(users) > turns else 0
    listening = events[cut]
    if not cut or not (isinstance(listening, ActionExecuted) and listening.action_name == ACTION_LISTEN_NAME):
        return DialogueStateTracker.from_events(sender_id, events, domain.slots)
    # The events before the window are replayed once: their state starts the window, then the rest make the whole.
    whole = DialogueStateTracker.from_events(sender_id, events[:cut], domain.slots)
    start: List[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    start += [SlotSet(slot.name, slot.value) for slot in whole.slots.values() if slot.value != slot.initial_value]
    if whole.active_loop_name:
        start.append(ActiveLoop(whole.active_loop_name))
    for event in start:
        event.timestamp = listening.timestamp
    for event in events[cut:]:
        whole.update(event)
    recent = DialogueStateTracker.from_events(sender_id, start + events[cut:], domain.slots)
    same = recent.current_state(EventVerbosity.NONE) == whole.current_state(EventVerbosity.NONE)
    return recent if same else whole


# How many of a tracker's events are in the store, on a tracker this store read or saved.
STORED = "_throughcare_events_stored"


class ThroughcareTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with a cheaper read of a conversation's events, and no count on saving."""

    def __init__(self, *args: Any, window_turns: int = 10, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window_turns = int(window_turns)
        if self.engine.dialect.name == "sqlite" and not isinstance(self.engine.pool, QueuePool):
            url = self.engine.url
            self.engine.dispose()
            # Rasa uses the store from its event loop's thread only; the pool may hand a connection to another.
            self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            rows = [data for (data,) in query.with_entities(self.SQLEvent.data)]
        if not self.domain or not rows:
            return None
        events = deserialise_events(rows)
        # Every session, from its start, when all of them are asked for (Rasa's HTTP API, exports).
        turns = len(events) if fetch_events_from_all_sessions else self.window_turns
        tracker = session_tracker(sender_id, events, self.domain, turns)
        setattr(tracker, STORED, len(tracker.events))
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = getattr(tracker, STORED, None)
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        events = len(tracker.events)
        await super().save(tracker)
        setattr(tracker, STORED, events)
