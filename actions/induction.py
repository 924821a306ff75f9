"""The induction aid in chat: tours card by card, scenario quizzes, glossary drills, progress and training.

Everything after the first message is a button whose payload names what to do (`induction`), on what
(`induction_item`) and the choice made (`choice`), so the same conversation works in the terminal, over
REST and in Telegram, and the servers remember nothing between messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rasa_sdk import Tracker

from actions.common import (
    Answer,
    ThroughcareAction,
    button,
    database,
    intent_payload,
    knowledge,
    require_staff,
    signed_in_staff,
    today,
)
from actions.parsing import Message, longest_name_in, message_date
from actions.protocol import answer_from_hits, strong_matches
from throughcare.cases.dates import DateNotUnderstood
from throughcare.induction import aid as induction
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol import answers

ASK_A_QUESTION = 'Type your question in your own words, for example "what does CJIT stand for?".'
# What a typed message asks for, when it came without a button.
WORDS = [
    # Before the scenario words: "test me on acronyms" and "glossary quiz" mean the drill.
    ("drill", re.compile(r"\b(drill|acronyms?|abbreviations?|glossary|flash ?cards?|jargon|letters stand)\b", re.I)),
    ("scenario", re.compile(r"\b(quiz|scenarios?|test me|test my|practice question)\b", re.I)),
    ("progress", re.compile(r"\b(progress|how am i doing|my score|how far)\b", re.I)),
    ("training", re.compile(r"\b(completed|did|done|finished|attended|passed)\b", re.I)),
    ("tour", re.compile(r"\btour\b", re.I)),
]


def payload(what: str, item: str = "", choice: str = "") -> str:
    entities = {
        "induction": what,
        **({"induction_item": item} if item else {}),
        **({"choice": choice} if choice else {}),
    }
    return intent_payload("induction", entities)


def _tour_names(k: Knowledge) -> dict[str, list[str]]:
    return {t.id: [t.id.replace("_", " "), t.title.lower(), *t.id.split("_and_")] for t in k.tours.values()}


def _training_names(k: Knowledge) -> dict[str, list[str]]:
    return {c.id: [c.id.replace("_", " "), c.title.lower()] for c in k.training.values()}


def card_answer(card: induction.Card) -> Answer:
    header = f"{card.tour.title} ({card.index + 1} of {card.total})"
    if card.index == 0:
        header += f"\n{card.tour.intro}"
    text = f"{header}\n{card.title}\n{card.text}\n{answers.source_line(card.source)}"
    next_title = "Finish the tour" if card.last else "Next"
    return Answer(
        text,
        buttons=[
            button(next_title, payload("next", card.tour.id)),
            button("Tell me more", payload("more", f"{card.tour.id}:{card.index}")),
            button("Ask a question", payload("ask")),
        ],
        cited=str(card.source),
        topic=f"tour:{card.tour.id}",
    )


def _more(k: Knowledge, ref: str) -> Answer:
    tour_id, _, index = ref.partition(":")
    chosen = induction.tour(k, tour_id)
    if not index.isdigit() or int(index) >= len(chosen.cards):
        return Answer('That card isn\'t there any more. Say "tours" to start again.')
    kind, _, key = chosen.cards[int(index)].partition(":")
    lines: list[str] = []
    if kind == "procedure":
        procedure = k.procedures[key]
        lines = [f"{procedure.title}, step by step:"]
        lines += [f"{n}. {s.what.rstrip('.')} ({answers.whom(s.who)})." for n, s in enumerate(procedure.steps, 1)]
        lines.append(answers.source_line(procedure.source))
    elif kind == "topic":
        topic = k.topics[key]
        lines = [topic.answer, *([f"Note: {topic.notes}"] if topic.notes else []), answers.source_line(topic.source)]
        lines += answers.differences_lines(topic.differences)
        if topic.clinical:
            lines.append(answers.CLINICAL_NOTE)
    elif kind == "timescale":
        timescale = k.timescales[key]
        lines = [timescale.explanation, *([f"Note: {timescale.notes}"] if timescale.notes else [])]
        lines += [answers.source_line(timescale.source), *answers.differences_lines(timescale.differences)]
    else:
        term = k.find_term(key)
        lines = [f"{term.term}: " + "; ".join(f"{e.text} ({e.source})" for e in term.expansions), term.explanation]
    return Answer(
        "\n".join(lines),
        buttons=[button("Next", payload("next", tour_id)), button("Ask a question", payload("ask"))],
        topic=f"tour:{tour_id}",
    )


def scenario_answer(scenario) -> Answer:  # type: ignore[no-untyped-def]
    letters = "ABCDE"
    lines = [f"Scenario: {scenario.title}", scenario.situation, scenario.question]
    lines += [f"{letters[n]}. {option.text}" for n, option in enumerate(scenario.options)]
    return Answer(
        "\n".join(lines),
        buttons=[button(letters[n], payload("answer", scenario.id, str(n))) for n in range(len(scenario.options))],
        topic=f"scenario:{scenario.id}",
    )


def feedback_answer(k: Knowledge, scenario_id: str, feedback: induction.Feedback) -> Answer:
    verdict = "Right." if feedback.correct else f"Not quite. The best answer: {feedback.right_answer}"
    tour_id = k.scenarios[scenario_id].tour
    return Answer(
        f"{verdict}\n{feedback.why}\n{answers.source_line(feedback.source)}",
        buttons=[
            button("Another scenario", payload("scenario")),
            button(f"Tour: {k.tours[tour_id].title}", payload("tour", tour_id)),
            button("My progress", payload("progress")),
        ],
        cited=str(feedback.source),
        topic=f"scenario:{scenario_id}",
    )


def drill_answer(question: induction.DrillQuestion) -> Answer:
    intro = "New term." if question.new else "Again, to make it stick."
    return Answer(
        f"{intro} What does {question.term.term} stand for?",
        buttons=[button(choice, payload("drill_answer", question.term.term, choice)) for choice in question.choices],
        topic=f"term:{question.term.term}",
    )


def progress_answer(k: Knowledge, mine: induction.Progress) -> Answer:
    day = today()
    score = (
        f"{mine.scenarios_right_first_time} of {mine.scenarios_answered} right first time"
        if mine.score is not None
        else "none tried yet"
    )
    weak = ", ".join(k.tours[t].title for t in mine.weak) or "none"
    lines = [
        "Your induction so far:",
        f"• Tours: {len(mine.tours_done)} of {len(k.tours)} done",
        f"• Scenarios: {score}; subjects to revisit: {weak}",
        f"• Glossary: {mine.terms_known} of {len(induction.drill_terms(k))} terms known, "
        f"{mine.terms_due} due for a drill",
        "• Training:",
        *(f"  - {t.title}: {t.state(day)}" for t in mine.training),
    ]
    advice, action = induction.suggestion(k, mine, day)
    lines.append(f"Next: {advice}")
    kind, _, item = action.partition(":")
    return Answer("\n".join(lines), buttons=[button("Do that now", payload(kind, item))], topic="induction:progress")


def welcome(k: Knowledge, mine: induction.Progress) -> Answer:
    advice, action = induction.suggestion(k, mine, today())
    kind, _, item = action.partition(":")
    tours = [button(t.title, payload("tour", t.id)) for t in k.tours.values() if t.id not in mine.tours_done]
    return Answer(
        "Welcome. I can take you through the service one short tour at a time, quiz you on practice scenarios, "
        "drill the glossary, and keep track of your training.\n"
        f"Suggested next: {advice}",
        buttons=[
            button("Start there", payload(kind, item)),
            *tours[:4],
            button("A practice scenario", payload("scenario")),
            button("Glossary drill", payload("drill")),
            button("My progress", payload("progress")),
        ],
        topic="induction:start",
    )


# A question about training ("what training will I have to do?", "when must the RCGP be done by?") is a protocol
# question: answered to anyone, and never taken for a record that a course was done.
TRAINING_QUESTION = re.compile(
    r"\b(?:training|courses?|rcgp|level 1|induction cover|life support|gdpr|mandatory|every year|annual)\b", re.I
)
TRAINING_ASKED = re.compile(
    r"^\s*(?:what|which|when|how|do|does|is|are|will|should|must|have|can)\b|\?\s*$|"
    r"\b(?:what|which|when) (?:training|courses?|do|does|will|should|must|am|is|has|have)\b",
    re.I,
)


# About one's own record ("what training have I still got to do"): the induction aid's progress, not the protocol.
OWN_RECORD = re.compile(r"\b(?:left|still|my list|my training|have i|i've done|ive done)\b", re.I)


def training_question(message: Message) -> Answer | None:
    text = message.text
    if text.startswith("/") or OWN_RECORD.search(text):
        return None
    if not (TRAINING_QUESTION.search(text) and TRAINING_ASKED.search(text)):
        return None
    # The protocol's topic on it, not the glossary entry for a course's name.
    hits = [h for h in strong_matches(text) if h.kind != "term"]
    return answer_from_hits(hits) if hits else None


@dataclass(frozen=True)
class Request:
    """One induction request from a signed-in member of staff: what they pressed or asked, and about which item."""

    message: Message
    staff_id: int
    item: str
    choice: str
    k: Knowledge
    day: dt.date


async def _tour(r: Request) -> Answer:
    tour_id = r.item or longest_name_in(r.message.text, _tour_names(r.k)) or next(iter(r.k.tours))
    return card_answer(await asyncio.to_thread(induction.open_tour, database(), r.k, r.staff_id, tour_id))


async def _next_card(r: Request) -> Answer:
    card = await asyncio.to_thread(induction.next_card, database(), r.k, r.staff_id, r.item)
    if card is not None:
        return card_answer(card)
    mine = await asyncio.to_thread(induction.progress, database(), r.k, r.staff_id, r.day)
    return Answer(
        f'That\'s the end of the tour "{r.k.tours[r.item].title}": {len(mine.tours_done)} of {len(r.k.tours)} '
        "tours done. Try a scenario on it?",
        buttons=[button("A scenario on this", payload("scenario", r.item)), button("My progress", payload("progress"))],
    )


async def _more_on(r: Request) -> Answer:
    return _more(r.k, r.item)


async def _ask(r: Request) -> Answer:
    return Answer(ASK_A_QUESTION)


async def _scenario(r: Request) -> Answer:
    chosen = await asyncio.to_thread(induction.next_scenario, database(), r.k, r.staff_id, r.item or None)
    if chosen is None:
        return Answer(
            "You've answered every scenario here correctly.", buttons=[button("My progress", payload("progress"))]
        )
    return scenario_answer(chosen)


async def _scenario_answer(r: Request) -> Answer:
    chosen = int(r.choice) if r.choice.isdigit() else -1
    feedback = await asyncio.to_thread(induction.answer_scenario, database(), r.k, r.staff_id, r.item, chosen)
    return feedback_answer(r.k, r.item, feedback)


async def _drill(r: Request) -> Answer:
    question = await asyncio.to_thread(induction.next_drill, database(), r.k, r.staff_id, r.day)
    if question is None:
        return Answer("No glossary terms are due today. Well done; come back tomorrow.")
    return drill_answer(question)


async def _drilled(r: Request) -> Answer:
    right = await asyncio.to_thread(induction.answer_drill, database(), r.k, r.staff_id, r.item, r.choice, r.day)
    entry = r.k.find_term(r.item)
    expansion = entry.expansions[0]
    verdict = "Right" if right else f"Not quite: it's {expansion.text}"
    clinical = f"\n{answers.CLINICAL_NOTE}" if entry.clinical else ""
    return Answer(
        f"{verdict}. {entry.term}: {expansion.text}. {entry.explanation}{clinical}\n"
        f"{answers.source_line(expansion.source)}",
        buttons=[button("Next term", payload("drill")), button("My progress", payload("progress"))],
        cited=str(expansion.source),
        topic=f"term:{entry.term}",
    )


async def _training(r: Request) -> Answer:
    course = r.item or longest_name_in(r.message.text, _training_names(r.k))
    if course is None:
        names = ", ".join(c.title for c in r.k.training.values())
        return Answer(f"Which course? The training list is: {names}.")
    try:
        found = message_date(r.message, r.day, "past")
    except DateNotUnderstood as err:
        return Answer(f"I couldn't read '{err}' as a date, so nothing was recorded. Try 3/11/2026 or \"yesterday\".")
    when = found[1] if found else r.day
    await asyncio.to_thread(induction.record_training, database(), r.k, r.staff_id, course, when, r.day)
    note = "" if found else " (No date was given, so I used today.)"
    return Answer(
        f"Recorded: {r.k.training[course].title}, completed {answers.day(when)}.{note}",
        buttons=[button("My progress", payload("progress"))],
        cited=str(r.k.training[course].source),
        topic=f"training:{course}",
    )


async def _progress(r: Request) -> Answer:
    return progress_answer(r.k, await asyncio.to_thread(induction.progress, database(), r.k, r.staff_id, r.day))


async def _welcome(r: Request) -> Answer:
    return welcome(r.k, await asyncio.to_thread(induction.progress, database(), r.k, r.staff_id, r.day))


# What each request does, by the `induction` entity its button carries or the words typed (WORDS); anything else is
# the welcome.
HANDLERS: dict[str, Callable[[Request], Awaitable[Answer]]] = {
    "tour": _tour,
    "next": _next_card,
    "more": _more_on,
    "ask": _ask,
    "scenario": _scenario,
    "answer": _scenario_answer,
    "drill": _drill,
    "drill_answer": _drilled,
    "training": _training,
    "progress": _progress,
}


def _asked(message: Message, k: Knowledge) -> str:
    for what, words in WORDS:
        if words.search(message.text):
            if what == "training" and longest_name_in(message.text, _training_names(k)) is None:
                continue
            return what
    return "start"


class ActionInduction(ThroughcareAction):
    def name(self) -> str:
        return "action_induction"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        asked = training_question(message)
        if asked and await signed_in_staff(tracker) is None:
            return asked
        staff = await require_staff(tracker)
        k, day = knowledge(), today()
        if asked:
            # A new starter asking what training to do: the training list, then the induction aid.
            offer = await _welcome(Request(message, staff.id, "", "", k, day))
            asked.text += f"\n\n{offer.text}"
            asked.buttons = offer.buttons
            return asked
        what = message.entity("induction") or _asked(message, k)
        request = Request(
            message, staff.id, message.entity("induction_item") or "", message.entity("choice") or "", k, day
        )
        return await HANDLERS.get(what, _welcome)(request)
