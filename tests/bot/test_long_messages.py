"""A message too long for the assistant is answered kindly by the gateway, and never sent to Rasa."""

from __future__ import annotations

from tests.bot.conftest import STAFF, Harness, RunningGateway
from throughcare.access.input_limits import MAX_MESSAGE_CHARS, TOO_LONG_REPLY


def test_an_over_long_message_gets_a_kind_reply_without_rasa(harness: Harness, gateway: RunningGateway) -> None:
    harness.approve(STAFF)
    pasted = "He said he was fine and then " * (MAX_MESSAGE_CHARS // 29 + 1)
    assert MAX_MESSAGE_CHARS < len(pasted) < 4096  # Telegram would deliver it

    assert harness.say(STAFF, pasted) == [TOO_LONG_REPLY]
    assert harness.rasa.texts() == []

    # The next message, short enough, goes through as usual.
    harness.rasa.replies = lambda text: [{"text": "Answered."}]
    assert harness.say(STAFF, pasted[:MAX_MESSAGE_CHARS]) == ["Answered."]
    assert harness.rasa.texts() == [pasted[:MAX_MESSAGE_CHARS]]
