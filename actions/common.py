"""What every Throughcare action shares: who is asking, the database, the query log.

Every database call runs in a worker thread (asyncio.to_thread), so one slow query never stalls other conversations
on the action server's event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.parsing import Message, read_message, signed_staff_id
from throughcare import clock, errors
from throughcare.access import input_limits
from throughcare.cases import prison_numbers, query_log, staff_members
from throughcare.db.engine import Database, default_database
from throughcare.knowledge.loader import default_knowledge
from throughcare.knowledge.schema import Knowledge, Procedure, Step

logger = logging.getLogger(__name__)

DATABASE_DOWN = (
    "I can't reach the case records just now, so nothing was read or changed. Please try again in a minute. "
    "Questions about the protocol still work."
)
NOT_SIGNED_IN = (
    "I can only show or change case records for approved, signed-in staff. "
    "I can still answer questions about the protocol."
)
# In the same words as the channel's replies at the door (throughcare/access/input_limits.py).
TOO_LONG = input_limits.TOO_LONG_REPLY
NO_WORDS = input_limits.NO_WORDS_REPLY
MAX_MESSAGE_LENGTH = input_limits.MAX_MESSAGE_CHARS


WALK_ACTIONS = [
    ("Done", "step_done"),
    ("Skip", "step_skip"),
    ("Why?", "step_why"),
    ("Back", "step_back"),
    ("Stop", "checklist_stop"),
]
# The conversation remembers the walk on screen in these slots; only signed checklist actions set them.
WALK_SLOTS = ("checklist", "checklist_step", "checklist_client")


@dataclass
class Answer:
    text: str
    buttons: list[dict] = field(default_factory=list)
    cited: str | None = None
    # The knowledge item answered from ("topic:…", "procedure:…", "term:…"), for managers' reports by topic.
    topic: str | None = None
    fell_back: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)


def database() -> Database:
    return default_database()


def knowledge() -> Knowledge:
    return default_knowledge()


def today() -> dt.date:
    """The day in London, whatever the server's zone (throughcare/clock.py)."""
    return clock.today()


async def signed_in_staff(tracker: Tracker) -> staff_members.StaffIdentity | None:
    """The staff member behind a valid signature who is still active; None for anyone else."""
    staff_id = signed_staff_id(tracker)
    if staff_id is None:
        return None
    return await asyncio.to_thread(staff_members.staff_member, database(), staff_id)


def button(title: str, payload: str) -> dict:
    return {"title": title, "payload": payload}


def intent_payload(intent: str, entities: dict[str, object] | None = None) -> str:
    """A button's payload as Rasa reads it: the intent, then its entities as compact JSON."""
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


class Refusal(Exception):
    """Stops an action with a kind answer and no change made."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.text)
        self.answer = answer


async def require_staff(tracker: Tracker) -> staff_members.StaffIdentity:
    staff = await signed_in_staff(tracker)
    if staff is None:
        raise Refusal(Answer(NOT_SIGNED_IN))
    return staff


ASK_CLIENT = "Which client? Tell me their prison number, like A1234BC."


def require_prison_number(message: Message) -> str:
    if message.malformed_prison_number:
        raise Refusal(
            Answer(f"'{message.malformed_prison_number}' isn't a prison number: {prison_numbers.FORMAT_HELP}.")
        )
    if message.prison_number is None:
        raise Refusal(Answer(ASK_CLIENT))
    return message.prison_number


def unknown_client_answer(prison_number: str, error: errors.UnknownClient) -> Answer:
    return Answer(
        f"{error} Check the number, or record a new referral for {prison_number}.",
        buttons=[
            button(f"Record a referral for {prison_number}", f'/record_referral{{"prison_number":"{prison_number}"}}')
        ],
    )


@dataclass(frozen=True)
class Walk:
    """The checklist walk on screen: which procedure, which step, for which client.

    The walk owns its client: a question about another client in the middle of it changes nothing here.
    """

    procedure: Procedure
    step: Step
    client: str

    def card(self) -> dict[str, str]:
        return {"checklist": self.procedure.id, "step": self.step.id, "prison_number": self.client}

    def buttons(self) -> list[dict]:
        """A card's buttons name the card, so a stale or repeated press can be told from a fresh one."""
        return [button(title, intent_payload(intent, self.card())) for title, intent in WALK_ACTIONS]

    def reminder(self) -> str:
        return (
            f"Still on the {self.procedure.title.lower()} checklist for {self.client}: {self.step.what}\n"
            "Say done, skip, why, back or stop."
        )


def open_walk(tracker: Tracker) -> Walk | None:
    procedure = default_knowledge().procedures.get(tracker.get_slot("checklist") or "")
    step_id = tracker.get_slot("checklist_step")
    step = next((s for s in procedure.steps if s.id == step_id), None) if procedure else None
    client = tracker.get_slot("checklist_client")
    if procedure is None or step is None or not client:
        return None
    return Walk(procedure, step, client)


class ThroughcareAction(Action, ABC):
    """Answers one kind of request, turns a database fault into a kind reply, and logs the query."""

    # A question asked in the middle of a checklist walk is answered, then the walk carries on.
    answers_during_walk = False
    # Slots cleared however the action ends, refusals included, so nothing lingers for a later write.
    clears_slots: tuple[str, ...] = ()

    @abstractmethod
    async def answer(self, message: Message, tracker: Tracker) -> Answer: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        message = read_message(tracker)
        signed = signed_staff_id(tracker) is not None
        if len(message.text) > MAX_MESSAGE_LENGTH:
            answer = Answer(TOO_LONG, fell_back=True)
        elif message.text and not any(ch.isalnum() for ch in message.text):
            answer = Answer(NO_WORDS, fell_back=True)
        else:
            try:
                answer = await self.answer(message, tracker)
                # Only a signed message may set the client that later signed questions and writes fall back on.
                if message.prison_number_is_new and signed:
                    answer.events.append(SlotSet("prison_number", message.prison_number))
            except Refusal as refusal:
                answer = refusal.answer
            except errors.UnknownClient as err:
                answer = unknown_client_answer(message.prison_number or "", err)
            except errors.CaseError as err:
                answer = Answer(str(err))
            except SQLAlchemyError:
                logger.exception("database error in %s", self.name())
                answer = Answer(DATABASE_DOWN)
        # The walk on screen is case context: only its signed owner sees it.
        walk = open_walk(tracker) if self.answers_during_walk and answer.text and signed else None
        if walk:
            answer.text += f"\n\n{walk.reminder()}"
            answer.buttons = answer.buttons + walk.buttons()
        answer.events += [SlotSet(slot, None) for slot in self.clears_slots]
        if answer.text:
            dispatcher.utter_message(text=answer.text, buttons=answer.buttons or None)
        await self._log(tracker, message, answer)
        return answer.events

    async def _log(self, tracker: Tracker, message: Message, answer: Answer) -> None:
        try:
            await asyncio.to_thread(
                query_log.log_query,
                database(),
                staff_id=signed_staff_id(tracker),
                conversation_id=tracker.sender_id,
                text=message.text,
                intent=message.intent,
                confidence=message.confidence,
                entities=message.entities,
                action=self.name(),
                cited=answer.cited,
                fell_back=answer.fell_back,
                answer=answer.text,
                topic=answer.topic,
            )
        except SQLAlchemyError:
            # The answer has been given; a log that cannot be written must not turn it into an error.
            logger.warning("could not log the guidance query answered by %s", self.name())
