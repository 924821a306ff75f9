"""Walking a protocol checklist one step at a time: start or resume, done, skip with a reason, back, why, stop.

Progress lives in the case store against the client's episode; the conversation only remembers which
checklist and step are on screen (slots), so any server can carry on the walk.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet

from actions.common import (
    WALK_BUTTONS,
    Answer,
    Refusal,
    ThroughcareAction,
    button,
    database,
    knowledge,
    off_loop,
    require_prison_number,
    require_staff,
    today,
)
from actions.parsing import Message, skip_reason
from actions.protocol import answer_from_hits
from throughcare import answers, store
from throughcare.engine import EpisodeFacts, applicable_steps, pending_steps
from throughcare.knowledge import Procedure, Step
from throughcare.models import StepStatus
from throughcare.search import default_search

NOTHING_OPEN = 'No checklist is open. Say, for example, "start the release checklist for A1234BC".'
CHANGED_MIND = {"stop", "cancel", "never mind", "nevermind", "no", "don't skip", "dont skip", "back"}


def _named_procedure(message: Message, tracker: Tracker) -> Procedure | None:
    named = message.entity_text("checklist")
    if named:
        found = knowledge().find_procedure(named)
        if found:
            return found
    text = f" {message.text.lower()} "
    # The longest name wins, so "release planning" is not taken for "release".
    named = [
        (len(name), procedure)
        for procedure in knowledge().procedures.values()
        for name in (n.lower() for n in procedure.names())
        if f" {name} " in text or f" {name}?" in text
    ]
    if named:
        return max(named, key=lambda pair: pair[0])[1]
    active = tracker.get_slot("checklist")
    return knowledge().procedures.get(active) if active else None


def _walk(message: Message, tracker: Tracker) -> tuple[Procedure, str]:
    """The checklist and step on screen. With none open, a sentence was more likely a question than a reply."""
    procedure = knowledge().procedures.get(tracker.get_slot("checklist") or "")
    step_id = tracker.get_slot("checklist_step")
    if procedure is None or step_id is None:
        hits = default_search().search(message.text) if len(message.text.split()) >= 3 else []
        raise Refusal(answer_from_hits(hits) if hits else Answer(NOTHING_OPEN))
    return procedure, step_id


def _overview(procedure: Procedure) -> Answer:
    """A procedure's steps when no client is named: what it involves, and how to walk it for one."""
    lines = [f"{procedure.title}: {procedure.summary}", "Steps:"]
    for n, step in enumerate(procedure.steps, start=1):
        only = f" ({answers.CONDITION_WORDS[step.condition]})" if step.condition else ""
        lines.append(f"{n}. {step.what.rstrip('.')} ({answers.whom(step.who)}){only}.")
    lines.append(answers.source_line(procedure.source))
    lines.append(f'To walk it for a client, say "start the {procedure.title.lower()} checklist for A1234BC".')
    return Answer("\n".join(lines), cited=str(procedure.source), topic=f"procedure:{procedure.id}")


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
    return Answer(
        "\n".join(lines),
        buttons=WALK_BUTTONS,
        cited=str(step.source),
        topic=f"procedure:{procedure.id}",
        events=[SlotSet("checklist", procedure.id), SlotSet("checklist_step", step.id)],
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
        events=[SlotSet("checklist", None), SlotSet("checklist_step", None)],
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
        await require_staff(tracker)
        number = require_prison_number(message)
        facts = await off_loop(store.episode_facts, database(), number)
        done = sum(1 for p, _ in facts.progress if p == procedure.id)
        intro = f"Resuming where you left off ({done} steps recorded). " if done else ""
        return _next_card(procedure, facts, intro)


class ActionStepDone(ThroughcareAction):
    def name(self) -> str:
        return "action_step_done"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff = await require_staff(tracker)
        procedure, step_id = _walk(message, tracker)
        number = require_prison_number(message)
        facts = await off_loop(store.mark_step, database(), number, procedure.id, step_id, StepStatus.done, staff.id)
        return _next_card(procedure, facts, f"Marked done: {procedure.step(step_id).what}\n")


class ActionSkipStep(ThroughcareAction):
    def name(self) -> str:
        return "action_skip_step"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        staff = await require_staff(tracker)
        procedure, step_id = _walk(message, tracker)
        number = require_prison_number(message)
        step = procedure.step(step_id)
        asked = tracker.get_slot("skip_reason")
        reason = (asked or skip_reason(message.text)).strip()
        clear = [SlotSet("skip_reason", None)]
        if asked and reason.lower() in CHANGED_MIND:
            return Answer(f"OK, not skipped. Still on: {step.what}", events=clear)
        if len(reason) < 3:
            # The form asks for the reason and takes the next message as it, whatever words it uses.
            return Answer("", events=[ActiveLoop("skip_reason_form")])
        facts = await off_loop(
            store.mark_step, database(), number, procedure.id, step_id, StepStatus.skipped, staff.id, reason
        )
        warning = " This step is mandatory, so the skip stands out in the record." if step.mandatory else ""
        answer = _next_card(procedure, facts, f'Skipped, with the reason recorded: "{reason}".{warning}\n')
        answer.events += clear
        return answer


class ActionStepBack(ThroughcareAction):
    def name(self) -> str:
        return "action_step_back"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        await require_staff(tracker)
        procedure, step_id = _walk(message, tracker)
        facts = await off_loop(store.episode_facts, database(), require_prison_number(message))
        steps = applicable_steps(procedure, facts, today())
        index = next((n for n, s in enumerate(steps) if s.id == step_id), 0)
        if index == 0:
            return _step_card(procedure, steps[0], facts, "This is the first step.\n")
        return _step_card(procedure, steps[index - 1], facts, "Back one step.\n")


class ActionStepWhy(ThroughcareAction):
    def name(self) -> str:
        return "action_step_why"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        procedure, step_id = _walk(message, tracker)
        step = procedure.step(step_id)
        text = f"Why: {step.why}"
        if step.clinical:
            text += f"\n{answers.CLINICAL_NOTE}"
        return Answer(f"{text}\n{answers.source_line(step.source)}", cited=str(step.source))


class ActionStopChecklist(ThroughcareAction):
    def name(self) -> str:
        return "action_stop_checklist"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        procedure, _ = _walk(message, tracker)
        number = message.prison_number or "the client"
        name = procedure.id.replace("_", " ")
        return Answer(
            f'Stopped. Everything marked so far is saved. Say "resume the {name} checklist for {number}" to carry on.',
            events=[SlotSet("checklist", None), SlotSet("checklist_step", None)],
        )
