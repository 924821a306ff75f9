"""A thousand hostile and messy messages over Rasa's REST channel, on both profiles (tests/fuzz.py makes them).

Half come from unsigned senders (the case tables snapshotted either side), half signed as the demo practitioner
about clients of the fuzz's own, so the demo caseload other tests read is left as it was. In each half the blank
messages go first, one at a time, so whatever the servers log meanwhile is theirs; then eight conversations send
at once, each waiting for its reply, as staff would.
The same seed gives the same messages: `scripts/fuzz.py --seed 20261202 --messages 1000` sends them again.
"""

from __future__ import annotations

import pytest

from tests import fuzz
from tests.servers import SECRET, Assistant

pytestmark = pytest.mark.rasa

SEED = 20261202
MESSAGES = 1000
WORKERS = 8
RSS_GROWTH_LIMIT_MB = 50


@pytest.fixture(scope="module")
def fuzzed(assistant: Assistant) -> fuzz.Run:
    signing = fuzz.Signing(assistant.staff_id, SECRET.encode())
    served = fuzz.Served(assistant.url, assistant.db, signing, assistant.log, assistant.rasa_pid)
    return fuzz.run(served, SEED, MESSAGES, WORKERS)


def report(fuzzed: fuzz.Run, expects: set[fuzz.Expect]) -> str:
    found = fuzz.failures([r for r in fuzzed.results if r.case.expect in expects])
    if not found:
        return ""
    errors = fuzz.log_errors(fuzzed.whole_log)
    logged = "\n".join(f"{n} × {what}" for what, n in errors.most_common(15))
    return f"{fuzz.describe(found)}\n\nIn the servers' log over the run:\n{logged or 'nothing'}"


def test_every_message_with_a_visible_character_gets_a_reply_and_none_a_5xx(fuzzed: fuzz.Run) -> None:
    assert len(fuzzed.results) >= MESSAGES
    problems = report(fuzzed, {fuzz.Expect.REPLY})
    assert not problems, problems


def test_blank_messages_get_no_5xx_and_raise_nothing(fuzzed: fuzz.Run) -> None:
    assert fuzzed.blank, "the seed made no blank messages"
    raised = fuzz.log_errors(fuzzed.blank_log)
    problems = report(fuzzed, {fuzz.Expect.BLANK})
    assert not problems and not raised, f"{problems}\n\nlogged while blank messages were sent:\n{raised}"


def test_malformed_requests_get_a_4xx_with_a_json_body_never_a_5xx(fuzzed: fuzz.Run) -> None:
    problems = report(fuzzed, {fuzz.Expect.REFUSAL, fuzz.Expect.REPLY_OR_REFUSAL})
    assert not problems, problems


def test_no_unsigned_message_changes_a_case(fuzzed: fuzz.Run) -> None:
    assert len(fuzzed.unsigned) >= MESSAGES // 3
    assert fuzzed.unsigned_writes == {}


def test_rasa_memory_does_not_grow(fuzzed: fuzz.Run) -> None:
    growth = fuzzed.rss_after_mb - fuzzed.rss_before_mb
    assert growth <= RSS_GROWTH_LIMIT_MB, f"{fuzzed.rss_before_mb:.0f} MB → {fuzzed.rss_after_mb:.0f} MB"
