"""Recording what happened: assessments, reviews, release and transfer dates, new referrals."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from rasa_sdk import Tracker

from actions.common import (
    Answer,
    ThroughcareAction,
    button,
    database,
    intent_payload,
    knowledge,
    require_prison_number,
    require_staff,
    today,
)
from actions.parsing import DateNotUnderstood, Message, message_date
from actions.protocol import client_for_record, staff_and_client
from throughcare.cases import store
from throughcare.db.models import ReferralRoute
from throughcare.protocol import answers
from throughcare.protocol.engine import NextStep, next_steps

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
        if event_name == "community_engagement" and _engagement_unclear(message):
            return _ask_engagement(number, when, dated=found is not None)
        if not message.prison_number_is_new:
            return _confirm(number, event_name, when, dated=found is not None)
        facts = await asyncio.to_thread(
            store.record_event, database(), knowledge(), number, event_name, when, staff.id, day
        )
        steps = next_steps(facts, knowledge(), day)
        reply = f"Recorded the {event.label} for {answers.client_label(facts)}: {answers.day(when)}."
        if found is None:
            reply += " (No date was given, so I used today.)"
        if steps:
            reply += f"\nNext: {answers.describe_step(steps[0], day)}"
        return Answer(reply, cited=str(steps[0].source) if steps else None)


def _event_card(number: str, event_name: str, when: dt.date) -> str:
    """A button that records exactly this: client, event and date."""
    return intent_payload("record_event", {"prison_number": number, "event": event_name, "date": when.isoformat()})


def _confirm(number: str, event_name: str, when: dt.date, dated: bool) -> Answer:
    """A record about the client named earlier is confirmed first: that client may have been named for another
    question, and a write on the wrong client is worse than one more press."""
    label = store.EVENTS[event_name].label
    return Answer(
        f"Record the {label} for {number} on {answers.day(when)}?"
        + ("" if dated else " (No date was given, so that is today.)")
        + f" {number} is the client named earlier in this conversation.",
        buttons=[
            button(f"Yes, record it for {number}", _event_card(number, event_name, when)),
            button("No", "/deny"),
        ],
    )


# A word that may turn "engaged with the community team" into its opposite ("refused to engage with the
# community team", "not really engaged with cjit"): the engagement is then asked about, not recorded.
NEGATION = re.compile(
    r"\b(?:not|never|no|nor|refus\w*|declin\w*|fail\w*|dna\w*|miss\w*|disengag\w*|stopped|avoid\w*)\b|n'?t\b",
    re.IGNORECASE,
)


def _engagement_unclear(message: Message) -> bool:
    if "community_non_engagement" in message.entity_values("event"):
        return True
    return not message.text.startswith("/") and NEGATION.search(message.text) is not None


def _ask_engagement(number: str, when: dt.date, dated: bool) -> Answer:
    """Engaged or not is the figure 004 asks for: a message that may say either is asked about, not guessed."""

    return Answer(
        f"Did {number} engage with community treatment after release? Your message could be read either way, "
        "so nothing was recorded yet. Choose one"
        + (f" (for {answers.day(when)})." if dated else " (no date was given, so that is today)."),
        buttons=[
            button(
                f"Engaged: first appointment attended ({number})",
                _event_card(number, "community_engagement", when),
            ),
            button(f"Did not engage ({number})", _event_card(number, "community_non_engagement", when)),
            button("Neither: record nothing", "/deny"),
        ],
    )


# How each referral route reads in a reply, and on its button.
ROUTE_WORDS = {
    ReferralRoute.induction: "induction referral",
    ReferralRoute.self_referral: "self-referral",
    ReferralRoute.staff_referral: "staff or agency referral",
    ReferralRoute.illicit_use: "illicit-use referral (under the influence or suspected use)",
    ReferralRoute.positive_drug_test: "positive drug test (MDT) referral",
    ReferralRoute.community_team: "community team (CJIT) referral",
}
ROUTE_BUTTONS = {
    ReferralRoute.induction: "Induction or reception",
    ReferralRoute.self_referral: "Self-referral",
    ReferralRoute.staff_referral: "Staff or agency",
    ReferralRoute.illicit_use: "Illicit use (under the influence)",
    ReferralRoute.positive_drug_test: "Positive drug test (MDT)",
    ReferralRoute.community_team: "Community team (CJIT)",
}


def _a(words: str) -> str:
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


def referral_routes_named(message: Message) -> list[ReferralRoute]:
    """The routes the message names, each once, in the order named; values that are no route are left out."""
    known = {r.value: r for r in ReferralRoute}
    named = [known[v] for v in message.entity_values("referral_route") if v in known]
    return list(dict.fromkeys(named))


def _referral_card(number: str, route: ReferralRoute) -> str:
    return intent_payload("record_referral", {"prison_number": number, "referral_route": route.value})


def _ask_route(number: str, named: list[ReferralRoute], said_now: bool) -> Answer:
    """The route sets the first step and its timescale, so an unclear one is asked, never guessed."""
    if named:
        which = " and ".join(ROUTE_WORDS[r] for r in named)
        why = f"Your message names more than one route ({which})."
    else:
        why = "Your message doesn't say how the referral came in."
    earlier = "" if said_now else f" {number} is the client named earlier in this conversation."
    return Answer(
        f"{why} Which route is the referral for {number}? It decides the first step: an illicit-use or "
        f"positive-test referral is visited within hours, the others have an initial assessment within days. "
        f"Nothing is recorded until you choose.{earlier}",
        buttons=[button(f"{ROUTE_BUTTONS[r]} ({number})", _referral_card(number, r)) for r in ReferralRoute],
    )


def _confirm_referral(number: str, route: ReferralRoute) -> Answer:
    """As `_confirm`: a referral for the client named earlier is confirmed before anything is written."""
    return Answer(
        f"Record {_a('new ' + ROUTE_WORDS[route])} for {number} today? {number} is the client named earlier in this "
        "conversation.",
        buttons=[button(f"Yes, record it for {number}", _referral_card(number, route)), button("No", "/deny")],
    )


def referral_recorded(number: str, route: ReferralRoute, steps: list[NextStep], day: dt.date) -> str:
    reply = f"Recorded a new referral for {number} today, as {_a(ROUTE_WORDS[route])}."
    reply += " Add them to the SystmOne waiting list too."
    if steps:
        reply += f"\nNext: {answers.describe_step(steps[0], day)}"
    return reply


class ActionRecordReferral(ThroughcareAction):
    def name(self) -> str:
        return "action_record_referral"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        # Without a client this is usually a question about referrals ("can wing staff refer by email?").
        staff, number = await staff_and_client(message, tracker)
        named = referral_routes_named(message)
        if len(named) != 1:
            return _ask_route(number, named, message.prison_number_is_new)
        route = named[0]
        if not message.prison_number_is_new:
            return _confirm_referral(number, route)
        day = today()
        facts = await asyncio.to_thread(store.record_referral, database(), knowledge(), number, route, day, staff.id)
        steps = next_steps(facts, knowledge(), day)
        return Answer(
            referral_recorded(answers.client_label(facts), route, steps, day),
            cited=str(steps[0].source) if steps else None,
        )
