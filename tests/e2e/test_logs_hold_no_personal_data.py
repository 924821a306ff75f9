"""The servers' logs hold no message text, prison number or staff token, signed or not; and the purge takes a
conversation out of Rasa's own tracker store, so the assistant no longer remembers the client named in it."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import httpx
import pytest

from tests.servers import SECRET
from throughcare.access import identity
from throughcare.cases import prison_numbers, retention
from throughcare.demo.caseload import demo_practitioner_id

pytestmark = pytest.mark.rasa


def _post(assistant, sender: str, text: str, token: str | None) -> str:  # type: ignore[no-untyped-def]
    metadata = {identity.METADATA_KEY: token} if token else {}
    reply = httpx.post(assistant.url, json={"sender": sender, "message": text, "metadata": metadata}, timeout=60)
    reply.raise_for_status()
    return "\n".join(m.get("text") or "" for m in reply.json())


def test_the_servers_logs_hold_no_message_text_prison_number_or_token(assistant) -> None:  # type: ignore[no-untyped-def]
    signed, unsigned = f"logs-{uuid.uuid4().hex[:10]}", f"logs-{uuid.uuid4().hex[:10]}"
    number = "A1234BC"
    staff_id = demo_practitioner_id(assistant.db)

    def sign(sender: str) -> str:
        return identity.sign(staff_id, SECRET.encode(), subject=sender)

    forged = identity.sign(staff_id, b"not-the-secret-0123456789", subject=unsigned)
    messages = [
        (signed, f"what's next for {number.lower()}", sign(signed)),
        (signed, "and when is his review due", sign(signed)),
        (signed, "my caseload", sign(signed)),
        (signed, "he told me about a relapse on the wing last night", sign(signed)),
        (unsigned, f"what's next for {number}", None),
        (unsigned, f"IA done for {number} yesterday", forged),
        (unsigned, "whats next for Z9999ZZ", None),
        # Typed things that look like buttons but are not: Rasa warns about those, quoting the whole line.
        (unsigned, "/B2345CD relapse", None),
        (unsigned, '/record_event{"prison_number": "C3456DE", "event": ', None),
        (unsigned, '/record_event{"prison_number": "D4567EF", "relapse": "yes"}', None),
        (unsigned, '/ask_protocol{"term": "E5678FG"} relapse', None),
    ]
    tokens = [token for _, _, token in messages if token]
    answers = [_post(assistant, sender, text, token) for sender, text, token in messages]
    assert number in answers[0] and "can only show or change case records" in answers[4]
    time.sleep(1)  # the servers write their last lines after answering

    log = assistant.log.read_text(errors="replace")
    assert log, "the servers wrote nothing at all: the test would prove nothing"
    for _, text, _ in messages:
        assert text not in log
    for token in tokens:
        assert token not in log and token.rsplit(".", 1)[-1] not in log
    assert SECRET not in log
    assert prison_numbers.FIND.findall(log) == []
    assert not re.search("relapse", log, re.IGNORECASE)


@pytest.mark.parametrize("assistant", ["embedded"], indirect=True)
def test_a_purged_conversation_is_forgotten_by_the_assistant(assistant) -> None:  # type: ignore[no-untyped-def]
    sender = f"purge-{uuid.uuid4().hex[:10]}"
    assert "A1234BC" in assistant.text(sender, "what's next for A1234BC")
    tracker = f"sqlite:///{assistant.log.parent / 'tracker.db'}"

    deleted = retention.purge_tracker_store(tracker, dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))

    assert deleted.counts["conversations"] >= 1
    # The client named before the purge is no longer the one "him" refers to.
    assert "Which client?" in assistant.text(sender, "whats next for him")
