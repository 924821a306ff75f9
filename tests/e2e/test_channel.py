"""The REST channel's door (rasa_components/channels.py), on the real Rasa: what is too big, blank or malformed is
answered or refused before the NLU, at the URL clients have always used, and costs Rasa no memory it keeps."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from tests.fuzz import rss_mb
from tests.servers import Assistant
from throughcare import chat
from throughcare.access.input_limits import LONG_WORD_REPLY, MAX_MESSAGE_CHARS, NO_WORDS_REPLY, TOO_LONG_REPLY
from throughcare.db.models import GuidanceQuery

pytestmark = pytest.mark.rasa
# The door is the same whatever stores the conversation; only what reaches the stores differs between profiles.
EMBEDDED = pytest.mark.parametrize("assistant", ["embedded"], indirect=True)
RSS_GROWTH_LIMIT_MB = 50


def conversation() -> str:
    return f"door-{uuid.uuid4().hex[:10]}"


def post(assistant: Assistant, content: bytes) -> httpx.Response:
    return httpx.post(assistant.url, content=content, headers={"content-type": "application/json"}, timeout=60)


@EMBEDDED
def test_clients_keep_the_same_url_and_health_check(assistant: Assistant) -> None:
    assert assistant.url.endswith("/webhooks/rest/webhook")
    health = httpx.get(assistant.url.removesuffix("webhook"), timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    sender = conversation()
    replies = assistant.say(sender, "what does TTG mean?")
    assert replies[0]["recipient_id"] == sender and replies[0]["text"].startswith("TTG: Through the Gate")


@EMBEDDED
def test_too_long_or_blank_messages_are_answered_kindly_and_leave_the_conversation_as_it_was(
    assistant: Assistant,
) -> None:
    sender = conversation()
    assert assistant.text(sender, "what does TTG mean?").startswith("TTG: Through the Gate")
    log_before = assistant.log.read_text()

    assert assistant.say(sender, "x " * 25_000) == [{"recipient_id": sender, "text": TOO_LONG_REPLY}]
    assert assistant.say(sender, "what " + "?!" * 300) == [{"recipient_id": sender, "text": LONG_WORD_REPLY}]
    for blank in ["\n\n\n", "   ", "\x00\x1b\u200b"]:
        assert assistant.say(sender, blank) == [{"recipient_id": sender, "text": NO_WORDS_REPLY}]
    huge = post(assistant, json.dumps({"sender": sender, "message": "x" * 1_000_000}).encode())
    assert huge.status_code == 413 and huge.json() == [{"recipient_id": None, "text": TOO_LONG_REPLY}]

    # None of them reached the conversation: a button pressed now still stands for the question before them.
    assert assistant.text(sender, "/define_term").startswith("TTG: Through the Gate")
    logged = assistant.log.read_text()[len(log_before) :]
    assert "Exception" not in logged and "Traceback" not in logged


def test_control_characters_are_removed_before_the_assistant_reads_the_message(assistant: Assistant) -> None:
    # PostgreSQL refuses a NUL in text outright: on the production profile it would lose the turn.
    sender = conversation()
    assert assistant.text(sender, "what does\x00 TTG\x1b mean?\r").startswith("TTG: Through the Gate")
    with assistant.db.transaction() as session:
        logged = session.scalars(select(GuidanceQuery.text).where(GuidanceQuery.conversation_id == sender)).all()
    assert logged == ["what does TTG mean?"]


@EMBEDDED
@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'"hello"',
        b"\xff\xfe\x00",
        b"{" * 50_000,
        b'{"sender": "x", "message": 42}',
        b'{"sender": ["x"], "message": "hello"}',
        b'{"sender": "' + b"s" * 10_000 + b'", "message": "hello"}',
        b'{"sender": "a\\u0000b", "message": "hello"}',
    ],
)
def test_a_request_that_is_not_a_chat_message_gets_a_4xx_with_a_json_error(
    assistant: Assistant, content: bytes
) -> None:
    refused = post(assistant, content)
    assert 400 <= refused.status_code < 500
    assert "error" in refused.json()


@EMBEDDED
@pytest.mark.parametrize(
    "text",
    [
        '/ask_next_steps{"prison_number":{"nested":1}}',
        '/ask_next_steps{"prison_number":["A1234BC","B2345CD"]}',
        '/define_term{"term":null}',
        '/ask_next_steps{"staff_id":"1","requested_slot":"x"}',
        "/ask_next_steps{broken",
        "/ask_next_steps@9.9",
        "/no_such_intent",
        "/",
    ],
)
def test_typed_payloads_with_odd_entities_or_unknown_intents_get_a_kind_reply(assistant: Assistant, text: str) -> None:
    replies = assistant.say(conversation(), text)
    assert replies and all(r.get("text") for r in replies)


@EMBEDDED
def test_metadata_that_is_not_an_object_is_read_as_unsigned(assistant: Assistant) -> None:
    body = {"sender": conversation(), "message": "whats next for A1234BC", "metadata": ["staff_token", 1]}
    replied = post(assistant, json.dumps(body).encode())
    assert replied.status_code == 200 and "signed-in staff" in replied.json()[0]["text"]


@EMBEDDED
def test_huge_messages_cost_rasa_no_memory_it_keeps(assistant: Assistant) -> None:
    sender = conversation()
    assistant.say(sender, "what does TTG mean?")
    before = rss_mb(assistant.rasa_pid)
    for _ in range(5):
        start = time.perf_counter()
        huge = post(assistant, json.dumps({"sender": sender, "message": "a " * 500_000}).encode())
        assert huge.status_code == 413 and time.perf_counter() - start < 2
        start = time.perf_counter()
        long = assistant.say(sender, "care plan review " * 3_000)
        assert long[0]["text"] == TOO_LONG_REPLY and time.perf_counter() - start < 2
    assert len("care plan review " * 3_000) > 50_000 > MAX_MESSAGE_CHARS
    after = rss_mb(assistant.rasa_pid)
    assert after - before <= RSS_GROWTH_LIMIT_MB, f"Rasa grew from {before:.0f} MB to {after:.0f} MB"


@EMBEDDED
def test_the_terminal_chat_shows_the_kind_reply_to_a_message_too_big_to_read(assistant: Assistant) -> None:
    replies = chat.send(assistant.url, conversation(), "a " * 40_000, None, None)
    assert [r["text"] for r in replies] == [TOO_LONG_REPLY]
