"""Questions about the protocol and the glossary, answered from knowledge/ with their sources."""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.common import (
    ASK_CLIENT,
    Answer,
    ThroughcareAction,
    button,
    database,
    knowledge,
    off_loop,
    signed_in_staff,
    today,
)
from actions.parsing import Message, question_text
from throughcare import answers, store
from throughcare.input_limits import MAX_MESSAGE_CHARS
from throughcare.knowledge import GlossaryTerm
from throughcare.search import Hit, default_search

NO_ANSWER = (
    "I couldn't find that in the protocol. Please check with your line manager or the service's policies on Calico. "
    "I've logged the question so the team can add it."
)
WHICH_TERM = "Which word or letters do you mean? For example: what does TTG mean?"
# Matched against the question with its whitespace collapsed (`asked_phrase`), so each gap is one optional space:
# with `\s*` on both sides of the lazy term, a run of spaces could be split three ways, and 300 spaces before a
# line break took 15 s on the action server's event loop.
TERM_QUESTION = re.compile(
    r"(?:what(?:'s|s| is| are| does)?|define|meaning of|explain|stand for)? ?(?:an? |the )?"
    r"(?P<term>.+?) ?(?:mean|stand for|stands for|means)? ?\??",
    re.IGNORECASE,
)


def asked_phrase(text: str) -> str:
    """The words a "what does X mean" question asks about (read no further than a message may go)."""
    words = " ".join(text[:MAX_MESSAGE_CHARS].split())
    match = TERM_QUESTION.fullmatch(words)
    return match.group("term") if match else words


def hit_answer(hit: Hit) -> str:
    lines = [hit.title, hit.answer]
    if hit.clinical:
        lines.append(answers.CLINICAL_NOTE)
    lines.append(answers.source_line(hit.source))
    lines += answers.differences_lines(hit.differences)
    return "\n".join(lines)


def hit_button(hit: Hit, prefix: str = "") -> dict:
    return button(f"{prefix}{hit.title} ({hit.source})", f'/ask_protocol{{"knowledge_item":"{hit.kind}:{hit.id}"}}')


# A BM25 score this high means the message shares the protocol's own words, not just a stray one
# ("order more naloxone kits" 6.9, "whos on shift today" 2.0, "when is my annual leave" 2.9).
STRONG_MATCH = 3.5


def strong_matches(text: str) -> list[Hit]:
    return default_search().search(text, min_score=STRONG_MATCH)


GIVE_A_CLIENT = "For a client's own dates and steps, give me their prison number, like A1234BC."


def question_without_client(message: Message) -> Answer | None:
    """A case question that names no client is often a general one: answer it from the protocol if it can be."""
    if message.prison_number or message.malformed_prison_number:
        return None
    hits = strong_matches(message.text)
    if not hits:
        return None
    answer = answer_from_hits(hits)
    answer.text += f"\n{GIVE_A_CLIENT}"
    return answer


def client_for_record(message: Message) -> Answer | None:
    """A report to record that names no client, with none in context, is not recorded: the prison number is asked
    for, and as "hes getting out on a friday and on a script" may be a question, so is the protocol item it
    plainly matches."""
    if message.prison_number or message.malformed_prison_number:
        return None
    hits = strong_matches(message.text)
    if not hits:
        return Answer(ASK_CLIENT)
    return answer_from_hits(hits, f"{ASK_CLIENT}\nIf you were asking about this rather than recording it:\n")


def answer_from_hits(hits: list[Hit], intro: str = "") -> Answer:
    """The best-matching knowledge item as the answer, the next ones as buttons."""
    best, others = hits[0], hits[1:]
    return Answer(
        intro + hit_answer(best),
        buttons=[hit_button(h, "Or: ") for h in others],
        cited=str(best.source),
        topic=f"{best.kind}:{best.id}",
    )


async def client_timescale_line(hit: Hit, message: Message, tracker: Tracker) -> str | None:
    """For a timescale question with a client in context, the date worked out from their record."""
    if hit.timescale is None or message.prison_number is None or await signed_in_staff(tracker) is None:
        return None
    try:
        facts = await off_loop(store.episode_facts, database(), message.prison_number)
    except store.UnknownClient:
        return None
    return answers.timescale_for_client(knowledge().timescale(hit.timescale), facts, today())


def term_answer(term: GlossaryTerm) -> Answer:
    sources = [answers.source_line(e.source) for e in term.expansions]
    if len(term.expansions) == 1:
        lines = [f"{term.term}: {term.expansions[0].text}. {term.explanation}"]
    else:
        lines = [f"{term.term} is expanded in more than one way in the documents:"]
        lines += [f"• {e.text} ({source})" for e, source in zip(term.expansions, sources, strict=True)]
        lines.append(term.explanation)
    if term.notes:
        lines.append(f"Note: {term.notes}")
    if term.clinical:
        lines.append(answers.CLINICAL_NOTE)
    if len(term.expansions) == 1:
        lines.append(sources[0])
    return Answer("\n".join(lines), cited="; ".join(str(e.source) for e in term.expansions), topic=f"term:{term.term}")


def wider_subject(text: str, phrase: str, asked: str | None) -> Answer | None:
    """A subject that holds a glossary word ("inpatient detox" holds "detox") is answered by the protocol item
    on the whole subject, when one matches the question better than the word alone does."""
    if not asked or phrase.strip().lower() == asked.lower() or knowledge().find_term(phrase) is not None:
        return None
    hits = strong_matches(text)
    if not hits or hits[0].kind == "term":
        return None
    return answer_from_hits(hits)


class ActionAnswerProtocol(ThroughcareAction):
    answers_during_walk = True

    def name(self) -> str:
        return "action_answer_protocol"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        chosen = default_search().item(message.entity("knowledge_item") or "")
        hits = [chosen] if chosen else default_search().search(question_text(message, tracker))
        if not hits:
            return Answer(NO_ANSWER, fell_back=True)
        answer = answer_from_hits(hits)
        for_client = await client_timescale_line(hits[0], message, tracker)
        if for_client:
            answer.text += f"\n{for_client}"
        return answer


class ActionDefineTerm(ThroughcareAction):
    answers_during_walk = True

    def name(self) -> str:
        return "action_define_term"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        asked = message.entity_text("term")
        text = question_text(message, tracker)
        phrase = asked_phrase(text)
        wider = wider_subject(text, phrase, asked)
        if wider:
            return wider
        candidate = asked or phrase
        if not candidate:
            return Answer(WHICH_TERM, fell_back=True)
        term = knowledge().find_term(candidate)
        if term is None:
            hits = [h for h in default_search().search(candidate) if h.kind == "term"]
            if hits:
                term = knowledge().find_term(hits[0].id)
        if term is not None:
            return term_answer(term)
        # Not a glossary word, but perhaps a protocol subject ("what's clean through"); logged as a gap either way.
        missing = f"\"{candidate}\" isn't in the glossary yet. I've logged it so the team can add it."
        hits = default_search().search(text)
        answer = answer_from_hits(hits, f"{missing} The closest in the protocol:\n") if hits else Answer(missing)
        answer.fell_back = True
        return answer
