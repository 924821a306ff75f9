"""Recording what happened: assessments, reviews, release and transfer dates, new referrals."""

from __future__ import annotations

import datetime as dt
import json

from rasa_sdk import Tracker

from actions.common import (
    Answer,
    ThroughcareAction,
    button,
    database,
    knowledge,
    off_loop,
    require_prison_number,
    require_staff,
    today,
)
from actions.parsing import DateNotUnderstood, Message, message_date
from actions.protocol import client_for_record, question_without_client
from throughcare import answers, store
from throughcare.engine import next_steps
from throughcare.models import ReferralRoute

ASK_EVENT = (
    'What would you like to record? For example: "IA done for A1234BC today", "triage held yesterday", '
    '"review done 3/12", "release date 14/01/2027" or "transfer planned for next tuesday".'
)


class ActionRecordEvent(ThroughcareAction):
    def name(self) -> str:
        return "action_record_event"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff = await require_staff(tracker)
        no_client = client_for_record(message)
        if no_client:
            return no_client
        number = require_prison_number(message)
        # One message records one event: the first one named.
        event_name = next((v for v in message.entity_values("event") if v in store.EVENTS), None)
        if event_name is None:
            return Answer(ASK_EVENT)
        event = store.EVENTS[event_name]
        day = today()
        try:
            found = message_date(message, day, "future" if event.may_be_future else "past")
        except DateNotUnderstood as err:
            return Answer(
                f"I couldn't read '{err}' as a date, so nothing was recorded. Try 3/12/2026 or \"yesterday\"."
            )
        if found is None and event.may_be_future:
            return Answer(
                f'What is the date of the {event.label} for {number}? For example "{event.label} 14/01/2027".'
            )
        when = found[1] if found else day
        if not message.prison_number_is_new:
            return _confirm(number, event_name, when, dated=found is not None)
        facts = await off_loop(store.record_event, database(), number, event_name, when, staff.id, day)
        steps = next_steps(facts, knowledge(), day)
        reply = f"Recorded the {event.label} for {answers.client_label(facts)}: {answers.day(when)}."
        if found is None:
            reply += " (No date was given, so I used today.)"
        if steps:
            reply += f"\nNext: {answers.describe_step(steps[0], day)}"
        return Answer(reply, cited=str(steps[0].source) if steps else None)


def _confirm(number: str, event_name: str, when: dt.date, dated: bool) -> Answer:
    """A record about the client named earlier is confirmed first: that client may have been named for another
    question, and a write on the wrong client is worse than one more press."""
    label = store.EVENTS[event_name].label
    record = json.dumps({"prison_number": number, "event": event_name, "date": when.isoformat()}, separators=(",", ":"))
    return Answer(
        f"Record the {label} for {number} on {answers.day(when)}?"
        + ("" if dated else " (No date was given, so that is today.)")
        + f" {number} is the client named earlier in this conversation.",
        buttons=[button(f"Yes, record it for {number}", f"/record_event{record}"), button("No", "/deny")],
    )


class ActionRecordReferral(ThroughcareAction):
    def name(self) -> str:
        return "action_record_referral"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        # Without a client this is usually a question about referrals ("can wing staff refer by email?").
        general = question_without_client(message)
        if general:
            return general
        staff = await require_staff(tracker)
        number = require_prison_number(message)
        day = today()
        facts = await off_loop(store.record_referral, database(), number, ReferralRoute.staff_referral, day, staff.id)
        steps = next_steps(facts, knowledge(), day)
        return Answer(
            f"Recorded a new referral for {number} today. Add them to the SystmOne waiting list too.\n"
            f"Next: {answers.describe_step(steps[0], day)}",
            cited=str(steps[0].source),
        )
