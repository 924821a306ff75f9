"""Walking a protocol checklist one step at a time: start or resume, done, skip with a reason, back, why, stop.

Progress lives in the case store against the client's episode; the conversation only remembers which
checklist, step and client are on screen (slots), so any server can carry on the walk.

A walk owns its client and its step. Writes go to the walk's client, never to whoever the conversation last
asked about; a button names the card it was on, so a stale or repeated press changes nothing and says so.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    WALK_SLOTS,
    Answer,
    Refusal,
    ThroughcareAction,
    Walk,
    button,
    database,
    knowledge,
    open_walk,
    require_prison_number,
    require_staff,
    today,
)
from actions.parsing import Message, longest_name_in, skip_reason
from actions.protocol import answer_from_hits
from throughcare.cases import store
from throughcare.db.models import StepStatus
from throughcare.knowledge.schema import Procedure, Step
from throughcare.knowledge.search import default_search
from throughcare.protocol import answers
from throughcare.protocol.engine import EpisodeFacts, applicable_steps, pending_steps

NOTHING_OPEN = 'No checklist is open. Say, for example, "start the release checklist for A1234BC".'
CHANGED_MIND = {"stop", "cancel", "never mind", "nevermind", "no", "don't skip", "dont skip", "back"}
STALE_CARD = "That button is from an earlier card, so nothing was changed."
CLOSED_CARD = "That checklist is no longer open, so nothing was changed."
# Buttons that move or change the walk must name their card; Stop and Why change no record, so a bare
# "/checklist_stop" (the gateway's /cancel) still works.
NEEDS_CARD = {"step_done", "step_skip", "step_back"}
CHECKLIST_VIEW = "checklist"


def _named_procedure(message: Message, tracker: Tracker) -> Procedure | None:
    named = message.entity_text("checklist")
    if named:
        found = knowledge().find_procedure(named)
        if found:
            return found
    procedures = knowledge().procedures
    named = longest_name_in(message.text, {key: procedure.names() for key, procedure in procedures.items()})
    active = named or tracker.get_slot("checklist")
    return procedures.get(active) if active else None


def _pressed_card(message: Message) -> dict[str, str] | None:
    """The card a button was on, from its payload; None for typed words."""
    if not message.text.startswith("/"):
        return None
    card = {name: message.entity(name) for name in ("checklist", "step", "prison_number")}
    return {name: value for name, value in card.items() if value}


def _still_on(walk: Walk, intro: str) -> Answer:
    return Answer(f"{intro}\n{walk.reminder()}", buttons=walk.buttons())


def _walk(message: Message, tracker: Tracker, reply: bool = False) -> Walk:
    """The walk on screen, checked against what the message says it is about.

    With none open, a sentence was more likely a question than a reply. `reply` is for the skip reason, whose
    free text may mention anything, so it is not read for a client.
    """
    walk = open_walk(tracker)
    card = _pressed_card(message)
    if walk is None:
        if card:
            raise Refusal(Answer(f'{CLOSED_CARD} Say "start the checklist for A1234BC" to carry on with a walk.'))
        hits = default_search().search(message.text) if len(message.text.split()) >= 3 else []
        raise Refusal(answer_from_hits(hits) if hits else Answer(NOTHING_OPEN))
    if card is not None and not reply:
        if (not card and message.intent in NEEDS_CARD) or (card and card != walk.card()):
            raise Refusal(_still_on(walk, STALE_CARD))
    elif message.prison_number_is_new and message.prison_number != walk.client and not reply:
        raise Refusal(
            _still_on(
                walk, f"The checklist open is for {walk.client}, not {message.prison_number}, so nothing was changed."
            )
        )
    return walk


def _overview(procedure: Procedure) -> Answer:
    """A procedure's steps when no client is named: what it involves, and how to walk it for one."""
    lines = [f"{procedure.title}: {procedure.summary}", "Steps:"]
    for n, step in enumerate(procedure.steps, start=1):
        only = f" ({answers.CONDITION_WORDS[step.condition]})" if step.condition else ""
        lines.append(f"{n}. {step.what.rstrip('.')} ({answers.whom(step.who)}){only}.")
    lines.append(answers.source_line(procedure.source))
    lines.append(f'To walk it for a client, say "start the {procedure.title.lower()} checklist for A1234BC".')
    return Answer("\n".join(lines), cited=str(procedure.source), topic=f"procedure:{procedure.id}")


def _walk_slots(walk: Walk | None) -> list[SlotSet]:
    values = (walk.procedure.id, walk.step.id, walk.client) if walk else (None, None, None)
    return [SlotSet(slot, value) for slot, value in zip(WALK_SLOTS, values, strict=True)]


def _step_card(procedure: Procedure, step: Step, facts: EpisodeFacts, intro: str = "") -> Answer:
    steps = applicable_steps(procedure, facts, today())
    position = next(n for n, s in enumerate(steps, start=1) if s.id == step.id)
    status = facts.progress.get((procedure.id, step.id))
    lines = [
        f"{intro}{procedure.title} for {answers.client_label(facts)}, step {position} of {len(steps)}"
        + (f" (already {status})" if status else "")
        + ":",
        step.what,
        f"Who: {answers.whom(step.who)}."
        + (f" When: {step.when}." if step.when else "")
        + ("" if step.mandatory else " Optional."),
    ]
    if step.clinical:
        lines.append(answers.CLINICAL_NOTE)
    lines.append(answers.source_line(step.source))
    walk = Walk(procedure, step, facts.prison_number)
    return Answer(
        "\n".join(lines),
        buttons=walk.buttons(),
        cited=str(step.source),
        topic=f"procedure:{procedure.id}",
        events=_walk_slots(walk),
    )


def _next_card(procedure: Procedure, facts: EpisodeFacts, intro: str) -> Answer:
    pending = pending_steps(procedure, facts, today())
    if pending:
        return _step_card(procedure, pending[0], facts, intro)
    total = len(applicable_steps(procedure, facts, today()))
    skipped = sum(1 for (p, _), status in facts.progress.items() if p == procedure.id and status == "skipped")
    return Answer(
        f"{intro}That's the whole {procedure.title.lower()} for {answers.client_label(facts)}: "
        f"{total - skipped} of {total} steps done, {skipped} skipped with reasons. "
        f"{answers.source_line(procedure.source)}",
        cited=str(procedure.source),
        topic=f"procedure:{procedure.id}",
        events=_walk_slots(None),
    )


class ActionStartChecklist(ThroughcareAction):
    def name(self) -> str:
        return "action_start_checklist"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        procedure = _named_procedure(message, tracker)
        if procedure is None:
            procedures = knowledge().procedures.values()
            return Answer(
                "Which checklist?",
                buttons=[button(p.title, f'/start_checklist{{"checklist":"{p.id}"}}') for p in procedures],
            )
        if message.prison_number is None and not message.malformed_prison_number:
            return _overview(procedure)
        staff = await require_staff(tracker)
        number = require_prison_number(message)
        facts = await asyncio.to_thread(store.episode_facts_shown, database(), number, staff.id, CHECKLIST_VIEW)
        done = sum(1 for p, _ in facts.progress if p == procedure.id)
        intro = f"Resuming where you left off ({done} step{'' if done == 1 else 's'} recorded). " if done else ""
        return _next_card(procedure, facts, intro)


async def _mark(walk: Walk, status: StepStatus, staff_id: int, reason: str | None = None) -> EpisodeFacts:
    """The walk's own step marked, on the walk's own client."""
    return await asyncio.to_thread(
        store.mark_step, database(), knowledge(), walk.client, walk.procedure.id, walk.step.id, status, staff_id, reason
    )


class ActionStepDone(ThroughcareAction):
    def name(self) -> str:
        return "action_step_done"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff = await require_staff(tracker)
        walk = _walk(message, tracker)
        facts = await _mark(walk, StepStatus.done, staff.id)
        return _next_card(walk.procedure, facts, f"Marked done: {walk.step.what}\n")


class ActionSkipStep(ThroughcareAction):
    def name(self) -> str:
        return "action_skip_step"

    # The reason the form took is good for this one answer only, whatever the outcome.
    clears_slots = ("skip_reason",)

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff = await require_staff(tracker)
        asked = tracker.get_slot("skip_reason")
        walk = _walk(message, tracker, reply=bool(asked))
        if asked and message.text.startswith("/"):
            # A button or command pressed while the reason was asked is not a reason: nothing is skipped.
            if message.intent == "checklist_stop":
                return _stopped(walk)
            return _still_on(walk, "OK, not skipped.")
        # A Skip button carries no reason: only typed words ("skip, he was in court") can.
        typed = "" if message.text.startswith("/") else skip_reason(message.text)
        reason = (asked or typed).strip()
        if asked and reason.lower() in CHANGED_MIND:
            return _still_on(walk, "OK, not skipped.")
        if len(reason) < 3:
            # The form asks for the reason and takes the next message as it, whatever words it uses.
            return Answer("", events=[ActiveLoop("skip_reason_form")])
        facts = await _mark(walk, StepStatus.skipped, staff.id, reason)
        warning = " This step is mandatory, so the skip stands out in the record." if walk.step.mandatory else ""
        return _next_card(walk.procedure, facts, f'Skipped, with the reason recorded: "{reason}".{warning}\n')


class ValidateSkipReasonForm(FormValidationAction):
    """The reason the form asks for: the words without "skip" itself, asked again when nothing is left. A button,
    a command or a change of mind goes through as typed, for action_skip_step to skip nothing."""

    def name(self) -> str:
        return "validate_skip_reason_form"

    def validate_skip_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if text.startswith("/") or text.lower() in CHANGED_MIND:
            return {"skip_reason": text}
        reason = skip_reason(text)
        return {"skip_reason": reason if len(reason) >= 3 else None}


class ActionStepBack(ThroughcareAction):
    def name(self) -> str:
        return "action_step_back"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff = await require_staff(tracker)
        walk = _walk(message, tracker)
        facts = await asyncio.to_thread(store.episode_facts_shown, database(), walk.client, staff.id, CHECKLIST_VIEW)
        steps = applicable_steps(walk.procedure, facts, today())
        index = next((n for n, s in enumerate(steps) if s.id == walk.step.id), 0)
        if index == 0:
            return _step_card(walk.procedure, steps[0], facts, "This is the first step.\n")
        return _step_card(walk.procedure, steps[index - 1], facts, "Back one step.\n")


class ActionStepWhy(ThroughcareAction):
    def name(self) -> str:
        return "action_step_why"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        await require_staff(tracker)
        step = _walk(message, tracker).step
        text = f"Why: {step.why}"
        if step.clinical:
            text += f"\n{answers.CLINICAL_NOTE}"
        return Answer(f"{text}\n{answers.source_line(step.source)}", cited=str(step.source))


class ActionStopChecklist(ThroughcareAction):
    def name(self) -> str:
        return "action_stop_checklist"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        await require_staff(tracker)
        return _stopped(_walk(message, tracker))


def _stopped(walk: Walk) -> Answer:
    name = walk.procedure.id.replace("_", " ")
    return Answer(
        f'Stopped. Everything marked so far is saved. Say "resume the {name} checklist for {walk.client}" to carry on.',
        events=_walk_slots(None),
    )
