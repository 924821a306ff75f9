"""Every input has a size and a time budget before the expensive work: the channel's checks, and every regex and
parser that reads user text, on adversarial inputs of 100 kB (fifty times the most any of them is given).

The time bound is generous (1 s; the figures, in docs/benchmarks.md, are milliseconds): it is there to fail
when a pattern's cost grows faster than its text, as TERM_QUESTION's did (300 spaces before a line break: 15 s).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import unicodedata
from collections.abc import Callable

import pytest

from actions import events, induction, protocol, safeguarding
from actions.parsing import SKIP_WORDS, skip_reason
from actions.protocol import TERM_QUESTION, asked_phrase
from rasa_components.normaliser import Normaliser
from tests.conftest import generated_entity_data
from throughcare.access import input_limits
from throughcare.access.input_limits import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    NO_WORDS_REPLY,
    TOO_LONG_REPLY,
    Accepted,
    Answered,
    Refused,
    read_chat_request,
)
from throughcare.cases import prison_numbers
from throughcare.cases.dates import DATE_PATTERN, DateNotUnderstood, find_date_text, parse_date
from throughcare.knowledge.schema import Knowledge
from throughcare.knowledge.search import default_search

SIZE = 100_000
BOUND_SECONDS = 1.0


def fill(unit: str, tail: str = "") -> str:
    return (unit * (SIZE // len(unit) + 1))[: SIZE - len(tail)] + tail


ADVERSARIAL = {
    "spaces": fill(" "),
    "spaces before a line break": fill(" ", "x\ny"),
    "a question, spaces, a line break": "what does" + fill(" ", "x\n?"),
    "tabs and newlines": fill("\t \n"),
    "one long word": fill("a"),
    "long digit run": fill("1"),
    "letters and digits": fill("a1"),
    "prison-number near misses": fill("A1234B "),
    "repeated punctuation": fill("?!.,;:-'\"()"),
    "control characters": fill("\x00\x01\x1b[0m\x7f"),
    "emoji": fill("🙂"),
    "date near misses": fill("1/1/"),
    "ordinals": fill("1st 2nd 3rd "),
    "event-word prefixes": fill("care plan revie "),
    "question words": fill("what is the "),
    "skip words": fill("skip it "),
}


def slowest(read: Callable[[str], object]) -> tuple[str, float]:
    worst = ("", 0.0)
    for label, text in ADVERSARIAL.items():
        start = time.perf_counter()
        read(text)
        elapsed = time.perf_counter() - start
        worst = max(worst, (label, elapsed), key=lambda w: w[1])
    return worst


def entity_patterns(knowledge: Knowledge) -> dict[str, str]:
    """The regexes Rasa's RegexEntityExtractor and the intent classifier's Normaliser run on every message."""
    return {b["regex"]: b["examples"].splitlines()[0][2:] for b in generated_entity_data(knowledge) if "regex" in b}


def quietly(parse: Callable[[str], object]) -> Callable[[str], object]:
    def read(text: str) -> object:
        try:
            return parse(text)
        except DateNotUnderstood:
            return None

    return read


def readers(knowledge: Knowledge) -> dict[str, Callable[[str], object]]:
    patterns = entity_patterns(knowledge)
    return {
        "TERM_QUESTION": TERM_QUESTION.fullmatch,
        "asked_phrase": asked_phrase,
        "SKIP_WORDS": SKIP_WORDS.match,
        "skip_reason": skip_reason,
        "DATE_PATTERN": re.compile(DATE_PATTERN, re.IGNORECASE).findall,
        "find_date_text": find_date_text,
        "parse_date": quietly(lambda t: parse_date(t, dt.date(2026, 12, 2), "past")),
        "prison number FIND": prison_numbers.FIND.findall,
        "prison number LOOKS_LIKE": prison_numbers.LOOKS_LIKE.findall,
        "find_malformed": prison_numbers.find_malformed,
        "knowledge search": default_search().search,
        **{f"entities.yml {name}": re.compile(p, re.IGNORECASE).findall for name, p in patterns.items()},
        "Normaliser": Normaliser([{"name": n, "pattern": p} for n, p in patterns.items()]),
        "channel read_chat_request": lambda t: read_chat_request(json.dumps({"message": t[:10_000]}).encode()),
        "channel clean_text": input_limits.clean_text,
        "channel has_visible_character": input_limits.has_visible_character,
        "channel longest_word": input_limits.longest_word,
        "events NEGATION": events.NEGATION.search,
        "induction TRAINING_QUESTION": induction.TRAINING_QUESTION.search,
        "induction TRAINING_ASKED": induction.TRAINING_ASKED.search,
        "induction OWN_RECORD": induction.OWN_RECORD.search,
        "protocol HARMFUL": protocol.HARMFUL.search,
        "protocol ABOUT_A_PERSON": protocol.ABOUT_A_PERSON.search,
        **{f"protocol CLIENT_SUBJECTS {name}": pattern.search for pattern, name in protocol.CLIENT_SUBJECTS},
        "safeguarding ASKED_NOT_REPORTED": safeguarding.ASKED_NOT_REPORTED.search,
    }


READERS = [
    "TERM_QUESTION",
    "asked_phrase",
    "SKIP_WORDS",
    "skip_reason",
    "DATE_PATTERN",
    "find_date_text",
    "parse_date",
    "prison number FIND",
    "prison number LOOKS_LIKE",
    "find_malformed",
    "knowledge search",
    "entities.yml prison_number",
    "entities.yml event",
    "entities.yml date",
    "entities.yml referral_route",
    "events NEGATION",
    "induction TRAINING_QUESTION",
    "induction TRAINING_ASKED",
    "induction OWN_RECORD",
    "protocol HARMFUL",
    "protocol ABOUT_A_PERSON",
    "protocol CLIENT_SUBJECTS transfer",
    "protocol CLIENT_SUBJECTS release",
    "protocol CLIENT_SUBJECTS positive exit",
    "safeguarding ASKED_NOT_REPORTED",
    "Normaliser",
    "channel read_chat_request",
    "channel clean_text",
    "channel has_visible_character",
    "channel longest_word",
]


@pytest.mark.parametrize("name", READERS)
def test_no_reader_of_user_text_slows_down_faster_than_its_text(name: str, knowledge: Knowledge) -> None:
    read = readers(knowledge)[name]
    read("what's next for A1234BC yesterday")  # dateparser and the search load their data on first use
    label, seconds = slowest(read)
    assert seconds < BOUND_SECONDS, f"{name} took {seconds:.2f} s on 100 kB of {label}"


def test_the_readers_tested_are_every_one_there_is(knowledge: Knowledge) -> None:
    assert sorted(readers(knowledge)) == sorted(READERS)


def test_a_glossary_question_is_read_as_before() -> None:
    assert asked_phrase("what does TTG mean?") == "TTG"
    assert asked_phrase("What is the  CARAT   team") == "CARAT team"
    assert asked_phrase("whats an IDTS") == "IDTS"
    assert asked_phrase("define naloxone") == "naloxone"
    assert asked_phrase("TTG") == "TTG"
    assert asked_phrase("what does TTG\nstand for") == "TTG"


def test_a_skip_reason_is_read_as_before() -> None:
    assert skip_reason("skip it because he refused") == "he refused"
    assert skip_reason("  please skip this step - moved wings") == "moved wings"
    assert skip_reason("skip that one, no longer needed") == "no longer needed"
    assert skip_reason("n/a: released early") == "released early"
    assert skip_reason("he refused") == "he refused"


def test_a_long_text_is_no_date_and_says_so_briefly() -> None:
    with pytest.raises(DateNotUnderstood) as refused:
        parse_date("1/1/" * 500, dt.date(2026, 12, 2), "past")
    assert len(str(refused.value)) < 50
    assert parse_date("  the 21st   of september 2027 ", dt.date(2026, 12, 2), "past") == dt.date(2027, 9, 21)


# The channel's reading of a request, before anything reaches Rasa.


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_message_over_the_limit_gets_a_kind_reply_to_its_sender() -> None:
    read = read_chat_request(body(sender="s1", message="x " * MAX_MESSAGE_CHARS))
    assert read == Answered("s1", TOO_LONG_REPLY)
    assert read.replies() == [{"recipient_id": "s1", "text": TOO_LONG_REPLY}]
    assert f"{MAX_MESSAGE_CHARS:,} characters" in TOO_LONG_REPLY
    assert isinstance(read_chat_request(body(sender="s1", message="x " * (MAX_MESSAGE_CHARS // 2))), Accepted)


def test_a_body_over_the_byte_limit_is_refused_unread() -> None:
    read = read_chat_request(b'{"sender": "s1", "message": "' + b"x" * 1_000_000 + b'"}')
    assert read == Answered(None, TOO_LONG_REPLY, status=413)
    # The limit leaves room for a message at the character limit however it is escaped.
    escaped = json.dumps({"sender": "s" * 64, "message": "🙂" * MAX_MESSAGE_CHARS, "metadata": {"k": "v" * 300}})
    assert len(escaped.encode()) < MAX_BODY_BYTES


@pytest.mark.parametrize(
    "blank", ["", "\n\n\n", " \t ", "\x00\x00", "\u200b\u200d", "\x1b\r\n", "\ud800", "\ufffe\U000e0001", "\ue000"]
)
def test_a_message_with_nothing_visible_gets_a_kind_reply(blank: str) -> None:
    assert read_chat_request(body(sender="s1", message=blank)) == Answered("s1", NO_WORDS_REPLY)


def test_control_characters_are_removed_but_newlines_and_tabs_kept() -> None:
    read = read_chat_request(body(sender="s1", message="what\x00s next\x1b[31m for\r\nA1234BC\t?\x7f\x85\ud800"))
    assert isinstance(read, Accepted)
    assert read.text == "whats next[31m for\nA1234BC\t?"


def test_emoji_sequences_are_kept_whole() -> None:
    read = read_chat_request(body(message="thanks 👩\u200d⚕️"))
    assert isinstance(read, Accepted) and read.text == "thanks 👩\u200d⚕️"


def test_a_very_long_run_without_spaces_gets_a_kind_reply() -> None:
    read = read_chat_request(body(sender="s1", message="what " + "?!" * 200))
    assert read == Answered("s1", input_limits.LONG_WORD_REPLY)
    payload = '/ask_protocol{"knowledge_item":"topic:benzodiazepine_mental_health_and_sedation"}'
    assert isinstance(read_chat_request(body(message=payload)), Accepted)


@pytest.mark.parametrize("metadata", [[1, 2], "token", 5, None, True])
def test_metadata_that_is_not_an_object_is_no_metadata(metadata: object) -> None:
    read = read_chat_request(body(sender="s1", message="hello", metadata=metadata))
    assert isinstance(read, Accepted) and read.metadata is None
    assert read_chat_request(body(message="hello", metadata={"k": "v"})).metadata == {"k": "v"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    [b"{bad", b"", b"null", b"[1, 2]", b'"hello"', b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'{"message": 5}'],
)
def test_a_body_that_is_not_a_chat_message_is_refused_400(raw: bytes) -> None:
    read = read_chat_request(raw)
    assert isinstance(read, Refused) and read.status == 400


@pytest.mark.parametrize("sender", ["s" * 65, "a\x00b", "tab\there", "new\nline", "", "   ", 12345, ["x"], "\u200b"])
def test_a_sender_id_that_is_huge_or_odd_is_refused_400(sender: object) -> None:
    read = read_chat_request(body(sender=sender, message="hello"))
    assert isinstance(read, Refused) and read.status == 400


def test_ordinary_sender_ids_are_accepted() -> None:
    for sender in ["s" * 64, "9f2c" * 16, "tc-e2e 1", "Ünïcode-ok"]:
        assert isinstance(read_chat_request(body(sender=sender, message="hello")), Accepted)
    assert read_chat_request(body(message="hello")).sender is None  # type: ignore[union-attr]


def test_the_invisible_characters_are_exactly_unicodes_control_format_separator_and_unassigned_ones() -> None:
    invisible = {"Cc", "Cs", "Cf", "Zs", "Zl", "Zp", "Co", "Cn"}
    wrong = [
        hex(c)
        for c in range(0x110000)
        if input_limits.has_visible_character(chr(c)) == (unicodedata.category(chr(c)) in invisible)
    ]
    assert wrong == []


BUTTONS = input_limits.Buttons(frozenset({"step_done", "ask_protocol"}), frozenset({"checklist", "prison_number"}))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ('/step_done{"checklist":"transfer","prison_number":"A1234BC"}', None),
        ("/step_done", None),
        ("/A1234BC relapse", "A1234BC relapse"),
        ("/unknown_intent", "unknown_intent"),
        ('/step_done{"checklist": "transfer", ', 'step_done{"checklist": "transfer", '),
        ('/step_done{"nurse": "x"}', 'step_done{"nurse": "x"}'),
        ('/step_done{"checklist": ["a"]}', 'step_done{"checklist": ["a"]}'),
        ('/step_done{"checklist": "transfer"} and more', 'step_done{"checklist": "transfer"} and more'),
        ("/step_done@0.99", "step_done@0.99"),
        ("// what does TTG mean", "what does TTG mean"),
    ],
)
def test_a_typed_payload_that_no_button_sends_is_read_as_words(typed: str, read: str | None) -> None:
    assert input_limits.words_unless_button(typed, BUTTONS) == (read or typed)
