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
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
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


# How many of a tracker's events are in the store, on a tracker this store read or saved.
STORED = "_throughcare_events_stored"


class ThroughcareTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with a cheaper read of a conversation's events, and no count on saving."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        tracker = DialogueStateTracker.from_events(sender_id, deserialise_events(rows), self.domain.slots)
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
