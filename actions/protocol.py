"""Questions about the protocol and the glossary, answered from knowledge/ with their sources."""

from __future__ import annotations

import asyncio
import re

from rasa_sdk import Tracker

from actions.common import (
    ASK_CLIENT,
    Answer,
    Refusal,
    ThroughcareAction,
    button,
    database,
    knowledge,
    require_prison_number,
    require_staff,
    signed_in_staff,
    today,
)
from actions.parsing import Message, question_text
from throughcare import errors
from throughcare.access.input_limits import MAX_MESSAGE_CHARS
from throughcare.cases import staff_members, store
from throughcare.knowledge.schema import Expansion, GlossaryTerm
from throughcare.knowledge.search import Hit, default_search
from throughcare.protocol import answers
from throughcare.protocol.engine import RELEASE_CHECKLISTS

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


# Requests to make or smuggle drugs, bring in contraband or hurt someone: refused plainly, never answered from the
# protocol (its nearest topic would read as advice). Each pattern needs the harmful act, not just a topic word,
# so "he was found with spice" or "a client says he wants to hurt someone" are not caught here.
DRUG_WORDS = r"(?:spice|hooch|mamba|crack|meth|fent\w*|heroin|smack|subs|subutex|bupe|drugs?|gear|pills|tablets)"
HARMFUL = re.compile(
    rf"\b(?:make|cook|brew|mix|recipe for)(?:ing)? (?:\w+ ){{0,2}}?{DRUG_WORDS}\b(?!\s+(?:test|referral|service|team))"
    # Asking how to get something past security: a request form, then the act.
    r"|\b(?:how (?:do|would|can|could|to|should) (?:\w+ )?|(?:best|easiest|safest) way to |help me |me to )"
    rf"(?:(?:sneak|smuggle|plug|conceal)(?:ing)? (?:\w+ ){{0,4}}?|(?:get|bring|slip|pass|hide)(?:ing)? (?:\w+ ){{0,2}}?"
    rf"(?:{DRUG_WORDS}|phones?|mobiles?|sims?|sim cards?|contraband|weapons?|blades?) (?:\w+ )?)"
    r"(?:in|into|past|through|inside)\b"
    r"|\bso (?:the )?(?:dogs?|staff|officers?|security|screws) (?:do ?n.?t|wo ?n.?t|can.?t) (?:find|smell|see|notice)"
    r"(?! (?:the )?records)"
    r"|\bwo ?n.?t (?:smell|be found|get found|show up on)\b"
    r"|\b(?:give|gave) (?:\w+ ){0,4}?(?:a )?(?:proper )?(?:kicking|beating|battering)\b"
    r"|\bhow (?:do|would|can|could|to) (?:i |we |u |you )?(?:kill|hurt|batter|beat up|stab|poison|overdose) "
    r"(?:someone|somebody|him|her|them)\b"
    r"|\bput (?:someone|somebody|him|her|them) (?:in the ground|six feet under)\b"
    r"|\bhow much \w+ (?:would it take|does it take) to (?:kill|put|finish|drop)",
    re.IGNORECASE,
)
REFUSAL = (
    "Sorry, I can't help with that: it could put people at risk. If you're worried about a client, a threat or "
    "something coming into the prison, tell your line manager or security today. "
    "I can help with the service's own work: clients, the protocol and your caseload."
)


def harmful_request(text: str) -> Answer | None:
    """A plain, kind refusal for a request to make or smuggle drugs or to hurt someone; no protocol citation."""
    if HARMFUL.search(" ".join(text[:MAX_MESSAGE_CHARS].split())):
        return Answer(REFUSAL, fell_back=True)
    return None


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


async def staff_and_client(message: Message, tracker: Tracker) -> tuple[staff_members.StaffIdentity, str]:
    """Who asks a case question, and about which client. Named without a client, it is often a general question:
    then the protocol's answer to it is given instead (a Refusal carries it)."""
    general = question_without_client(message)
    if general:
        raise Refusal(general)
    return await require_staff(tracker), require_prison_number(message)


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
    """The best-matching knowledge item as the answer, the next ones as buttons.

    A glossary term that names a procedure's own section gives way to the procedure: "client wants to withdraw
    from the service" is answered with the steps, not the one-line definition of service withdrawal."""
    hits = _procedure_over_its_term(hits)
    best, others = hits[0], hits[1:]
    return Answer(
        intro + hit_answer(best),
        buttons=[hit_button(h, "Or: ") for h in others],
        cited=str(best.source),
        topic=f"{best.kind}:{best.id}",
    )


def _procedure_over_its_term(hits: list[Hit]) -> list[Hit]:
    if hits[0].kind != "term":
        return hits
    procedure = next((h for h in hits[1:] if h.kind == "procedure" and h.source == hits[0].source), None)
    return [procedure, *(h for h in hits if h is not procedure)] if procedure else hits


async def client_timescale_line(hit: Hit, message: Message, tracker: Tracker) -> str | None:
    """For a timescale question with a client in context, the date worked out from their record."""
    if hit.timescale is None or message.prison_number is None:
        return None
    staff = await signed_in_staff(tracker)
    if staff is None:
        return None
    try:
        facts = await asyncio.to_thread(
            store.episode_facts_shown, database(), message.prison_number, staff.id, "timescale for a client"
        )
    except errors.UnknownClient:
        return None
    return answers.timescale_for_client(knowledge().timescale(hit.timescale), facts, today())


def expansion_source(expansion: Expansion) -> str:
    """Where an expansion comes from; one in common usage claims only that the document uses the term."""
    if expansion.common_usage:
        usual = "it uses the term without spelling it out; the expansion is the usual one"
        return f"{answers.source_line(expansion.source)} ({usual})"
    return answers.source_line(expansion.source)


def term_answer(term: GlossaryTerm) -> Answer:
    sources = [expansion_source(e) for e in term.expansions]
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


# A question about one client's move or release ("A1234BC is being moved next week, what do I do?") names the
# subject in everyday words the protocol does not use; these add the protocol's own word to the search.
CLIENT_SUBJECTS = (
    (re.compile(r"\b(?:mov(?:e|ed|es|ing)|ship(?:ped|ping)?|transfer\w*|new (?:jail|prison))\b", re.I), "transfer"),
    (re.compile(r"\b(?:releas\w*|gets? out|getting out|due out|leav(?:e|es|ing)|goes)\b", re.I), "release"),
    (
        re.compile(r"\b(?:positive exit|clos(?:e|ing) (?:him|her)|finish with us|met (?:all )?his goals)\b", re.I),
        "positive exit",
    ),
)
# A follow-up about the client in context ("what's left to do before he leaves?") speaks of them like this.
ABOUT_A_PERSON = re.compile(r"\b(?:he|him|his|hes|he's|she|her|hers|shes|she's|client|them|they)\b", re.I)


def _last_recorded_subject(tracker: Tracker) -> str:
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return ""
    entities = (users[-2].get("parse_data") or {}).get("entities") or []
    # A follow-up after recording a release or transfer date is about that checklist's subject.
    return " ".join(store.checklist_of(e.get("value")) or "" for e in entities if e.get("entity") == "event").strip()


def client_question(message: Message, tracker: Tracker) -> str | None:
    """The client a protocol question is about: one named in it, or the one in context when it speaks of them."""
    if message.prison_number is None or message.text.startswith("/"):
        return None
    if message.prison_number_is_new or ABOUT_A_PERSON.search(message.text):
        return message.prison_number
    return None


async def client_protocol_answer(number: str, text: str, message: Message, tracker: Tracker) -> Answer | None:
    """A protocol question about one client: the procedure (or topic) it is about, for that client, with their open
    steps on it when a signed member of staff asks, and the checklist for them."""
    subjects = [word for pattern, word in CLIENT_SUBJECTS if pattern.search(text)]
    query = " ".join([text, *subjects, *([] if subjects else [_last_recorded_subject(tracker)])])
    hits = [h for h in default_search().search(query, limit=6) if h.kind != "term"]
    if not hits:
        return None
    procedures = [h for h in hits if h.kind == "procedure" and h.score >= hits[0].score * 0.6]
    if procedures:
        hits = [procedures[0], *[h for h in hits if h is not procedures[0]]][:3]
    answer = answer_from_hits(hits[:3], f"For {number}:\n")
    procedure = procedures[0] if procedures else None
    if procedure is None:
        return answer
    answer.buttons.insert(
        0,
        button(
            f"Start the {procedure.title.lower()} checklist for {number}",
            f'/start_checklist{{"checklist":"{procedure.id}","prison_number":"{number}"}}',
        ),
    )
    staff = await signed_in_staff(tracker)
    if staff is None:
        return answer
    try:
        facts = await asyncio.to_thread(
            store.episode_facts_shown, database(), number, staff.id, "protocol for a client"
        )
    except errors.UnknownClient:
        return answer
    if knowledge().procedures[procedure.id].kind in ("checklist", "escalation"):
        # What is left of it for this client, their conditions applied, each step with its own source.
        subject = "release" if procedure.id in RELEASE_CHECKLISTS else procedure.id
        answer.text, steps = answers.subject_plan_answer(facts, knowledge(), today(), subject, [])
        answer.cited = answers.cited(steps) or answer.cited
    return answer


class ActionAnswerProtocol(ThroughcareAction):
    answers_during_walk = True

    def name(self) -> str:
        return "action_answer_protocol"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        text = question_text(message, tracker)
        refused = harmful_request(text)
        if refused:
            return refused
        chosen = default_search().item(message.entity("knowledge_item") or "")
        number = None if chosen else client_question(message, tracker)
        if number:
            for_client = await client_protocol_answer(number, text, message, tracker)
            if for_client:
                return for_client
        hits = [chosen] if chosen else default_search().search(text)
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
        refused = harmful_request(text)
        if refused:
            return refused
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
