"""Realistic staff questions (tests/conversations/*.yml), asked of the served assistant, with the facts each
answer must contain.

A fact is a phrase the reply must contain (case does not matter); a list of phrases means any one of them.
`before` messages are sent first in the same conversation, for example to put a client in context.
A `known_failure` names why the assistant still gets a question wrong; it is expected to fail, and
the test fails as soon as it passes, so the note is removed when the cause is fixed.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from throughcare.config import REPO_ROOT

FILES = sorted((REPO_ROOT / "tests" / "conversations").glob("*.yml"))


def load_conversations(files: list[Path]) -> list[dict]:
    conversations = []
    for path in files:
        for n, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"], start=1):
            conversations.append({"id": f"{path.stem}-{n}", **item})
    return conversations


CONVERSATIONS = load_conversations(FILES)


def missing_facts(reply: str, expected: list[str | list[str]]) -> list[str | list[str]]:
    said = reply.lower()
    return [
        fact
        for fact in expected
        if not any(alternative.lower() in said for alternative in ([fact] if isinstance(fact, str) else fact))
    ]


def test_there_are_at_least_150_questions_across_all_areas() -> None:
    assert len(CONVERSATIONS) >= 150
    assert len({c["id"].rsplit("-", 1)[0] for c in CONVERSATIONS}) >= 10


# Once, on the embedded profile: the profiles share all answer code.
@pytest.mark.rasa
@pytest.mark.parametrize("assistant", ["embedded"], indirect=True)
@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["id"] for c in CONVERSATIONS])
def test_the_answer_contains_the_facts(assistant, conversation: dict, request) -> None:  # type: ignore[no-untyped-def]
    if "known_failure" in conversation:
        request.applymarker(pytest.mark.xfail(strict=True, reason=conversation["known_failure"]))
    sender = f"conv-{uuid.uuid4().hex[:8]}"
    signed = conversation.get("signed", True)
    for message in conversation.get("before", []):
        assistant.text(sender, message, signed)
    reply = assistant.text(sender, conversation["ask"], signed)
    assert missing_facts(reply, conversation["expect"]) == [], f"asked: {conversation['ask']}\nreply:\n{reply}"
    for phrase in conversation.get("not", []):
        assert phrase.lower() not in reply.lower(), f"asked: {conversation['ask']}\nreply:\n{reply}"
