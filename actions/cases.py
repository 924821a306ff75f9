"""What's next for a client, my caseload, and when one step is due."""

from __future__ import annotations

import asyncio
import datetime as dt

from rasa_sdk import Tracker

from actions.common import (
    Answer,
    ThroughcareAction,
    database,
    knowledge,
    require_staff,
    signed_in_staff,
    today,
)
from actions.parsing import Message
from actions.protocol import CLIENT_SUBJECTS, question_without_client, staff_and_client
from throughcare.cases import prison_numbers, store
from throughcare.cases.audit_trail import audit_read
from throughcare.protocol import answers
from throughcare.protocol.engine import EpisodeFacts, describe_rule, next_steps


def release_planning_lines(facts: EpisodeFacts, day: dt.date) -> list[str]:
    """When release preparation starts for this client, by the local rule, and what other documents say."""
    planning = knowledge().timescale(knowledge().profile.release_planning_timescale)
    when = answers.timescale_for_client(planning, facts, day)
    return [
        f"Release preparation ({describe_rule(planning)}). {when} {answers.source_line(planning.source)}",
        *answers.differences_lines(planning.differences),
    ]


# A question about one subject ("what's left before he leaves?") asks for that subject's whole checklist: the
# subject as the question words it (actions.protocol.CLIENT_SUBJECTS), or the checklist of an event recorded or
# asked after (store.Event.checklist).
SUBJECT_OF_WORDS = {"transfer": "transfer", "release": "release", "positive exit": "positive_exit"}


def _subject(message: Message, tracker: Tracker) -> str | None:
    """The subject the question is about: named in it ("before he leaves"), or else the release or transfer the
    message before it recorded ("he's getting out on 3/3", then "what still needs doing before then")."""
    named = next((words for pattern, words in CLIENT_SUBJECTS if pattern.search(message.text)), None)
    if named:
        return SUBJECT_OF_WORDS[named]
    typed = [e for e in tracker.events if e.get("event") == "user"]
    earlier = (typed[-2].get("parse_data") or {}).get("entities") or [] if len(typed) > 1 else []
    named = (store.checklist_of(e["value"]) for e in earlier if e.get("entity") == "event")
    return next((checklist for checklist in named if checklist), None)


def subject_answer(facts: EpisodeFacts, subject: str, day: dt.date, notes: list[str] | None = None) -> Answer:
    text, steps = answers.subject_plan_answer(facts, knowledge(), day, subject, notes or [])
    return Answer(text, cited=answers.cited(steps))


class ActionNextSteps(ThroughcareAction):
    def name(self) -> str:
        return "action_next_steps"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff, number = await staff_and_client(message, tracker)
        facts = await asyncio.to_thread(store.episode_facts_shown, database(), number, staff.id, "next steps")
        day = today()
        subject = _subject(message, tracker)
        if subject:
            return subject_answer(facts, subject, day)
        steps = next_steps(facts, knowledge(), day)
        return Answer(answers.next_steps_answer(facts, steps, day), cited=answers.cited(steps))


class ActionCaseload(ThroughcareAction):
    def name(self) -> str:
        return "action_caseload"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        # From someone not signed in, a message in the protocol's own words ("whats my part in a clients parole")
        # is a protocol question: answered, not refused as a case question.
        general = None if await signed_in_staff(tracker) else question_without_client(message)
        if general:
            return general
        staff = await require_staff(tracker)
        episodes = await asyncio.to_thread(store.caseload, database(), staff.id)
        day = today()
        text = answers.caseload_answer([(f, next_steps(f, knowledge(), day)) for f in episodes], day)
        # The answer lists the most urgent clients only: those it names are the cases this member of staff sees.
        await asyncio.to_thread(audit_read, database(), staff.id, prison_numbers.FIND.findall(text), "caseload")
        return Answer(text)


class ActionDueDate(ThroughcareAction):
    answers_during_walk = True

    def name(self) -> str:
        return "action_due_date"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff, number = await staff_and_client(message, tracker)
        event = next((store.EVENTS[v] for v in message.entity_values("event") if v in store.EVENTS), None)
        facts = await asyncio.to_thread(store.episode_facts_shown, database(), number, staff.id, "due date")
        day = today()
        if event and event.checklist:
            # Asked when about release: when preparation begins by each document's rule, then the list.
            notes = release_planning_lines(facts, day) if event.checklist == "release" else []
            return subject_answer(facts, event.checklist, day, notes)
        steps = next_steps(facts, knowledge(), day)
        if not event or not event.steps:
            return Answer(answers.next_steps_answer(facts, steps, day), cited=answers.cited(steps))
        wanted = [s for s in steps if s.key.startswith(event.steps)]
        if wanted:
            lines = [f"{answers.client_label(facts)}:"] + [answers.describe_step(s, day) for s in wanted[:6]]
            return Answer("\n".join(lines), cited=answers.cited(wanted))
        done_on = getattr(facts, event.field)
        if event.timescale and done_on:
            timescale = knowledge().timescale(getattr(knowledge().profile, f"{event.timescale}_timescale"))
            return Answer(
                f"{answers.client_label(facts)}: the {event.label} was done on {answers.day(done_on)}; nothing more "
                f"is due for it. Rule: {describe_rule(timescale)}. {answers.source_line(timescale.source)}",
                cited=str(timescale.source),
            )
        return Answer(
            f"{answers.client_label(facts)}: nothing of that kind is due. "
            + answers.next_steps_answer(facts, steps, day).split(". ", 1)[-1],
            cited=answers.cited(steps),
        )
