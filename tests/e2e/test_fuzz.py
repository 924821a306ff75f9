"""A thousand hostile and messy messages over Rasa's REST channel, on both profiles (tests/fuzz.py makes them).

Blank messages go first, one at a time, so whatever the servers log meanwhile is theirs. Then half the rest from
unsigned senders (with the case tables snapshotted either side) and half signed as the demo practitioner, about
clients of the fuzz's own. Eight conversations send at once, each waiting for its reply, as staff would.
The same seed gives the same messages: `scripts/fuzz.py --seed 20261202 --messages 1000` sends them again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests import fuzz
from tests.servers import SECRET, Assistant

pytestmark = pytest.mark.rasa

SEED = 20261202
MESSAGES = 1000
WORKERS = 8
RSS_GROWTH_LIMIT_MB = 50


@dataclass
class Fuzzed:
    blank: list[fuzz.Result]
    blank_log: str
    unsigned: list[fuzz.Result]
    signed: list[fuzz.Result]
    log: str
    tables_before: dict[str, tuple[int, str]]
    tables_after: dict[str, tuple[int, str]]
    rss_before_mb: float
    rss_after_mb: float

    @property
    def results(self) -> list[fuzz.Result]:
        return self.blank + self.unsigned + self.signed

    @property
    def whole_log(self) -> str:
        return self.blank_log + self.log


@pytest.fixture(scope="module")
def fuzzed(assistant: Assistant) -> Fuzzed:
    signing = fuzz.Signing(assistant.staff_id, SECRET.encode())
    unsigned = fuzz.cases(SEED, MESSAGES // 2, signed=False, numbers=fuzz.demo_numbers(assistant.db))
    signed = fuzz.cases(
        SEED + 1, MESSAGES // 2, signed=True, numbers=fuzz.open_fuzz_clients(assistant.db, assistant.staff_id)
    )
    prefix = f"fuzz-{uuid.uuid4().hex[:8]}"
    # Rasa's memory is measured once it has answered everyday messages, so growth is the fuzz's own.
    everyday = [
        fuzz.Case("warm-up", q.format(n=fuzz.FUZZ_NUMBERS[0]), fuzz.Expect.REPLY, fuzz.Token.VALID)
        for q in fuzz.STAFF_QUESTIONS
    ]
    fuzz.run(assistant.url, everyday, f"{prefix}-warm-up", signing, WORKERS)
    rss_before = fuzz.rss_mb(assistant.rasa_pid)
    log = fuzz.LogReader(assistant.log)

    def blank_first(batch: list[fuzz.Case], sender: str) -> tuple[list[fuzz.Result], str, list[fuzz.Result]]:
        blank = fuzz.run(assistant.url, [c for c in batch if c.expect is fuzz.Expect.BLANK], sender, signing, 1)
        logged = log.new()
        rest = [c for c in batch if c.expect is not fuzz.Expect.BLANK]
        return blank, logged, fuzz.run(assistant.url, rest, sender, signing, WORKERS)

    tables_before = fuzz.case_tables(assistant.db)
    unsigned_blank, unsigned_blank_log, unsigned_results = blank_first(unsigned, f"{prefix}-unsigned")
    tables_after = fuzz.case_tables(assistant.db)
    signed_blank, signed_blank_log, signed_results = blank_first(signed, f"{prefix}-signed")
    return Fuzzed(
        unsigned_blank + signed_blank,
        unsigned_blank_log + signed_blank_log,
        unsigned_results,
        signed_results,
        log.new(),
        tables_before,
        tables_after,
        rss_before,
        fuzz.rss_mb(assistant.rasa_pid),
    )


def report(fuzzed: Fuzzed, expects: set[fuzz.Expect]) -> str:
    found = fuzz.failures([r for r in fuzzed.results if r.case.expect in expects])
    if not found:
        return ""
    errors = fuzz.log_errors(fuzzed.whole_log)
    logged = "\n".join(f"{n} × {what}" for what, n in errors.most_common(15))
    return f"{fuzz.describe(found)}\n\nIn the servers' log over the run:\n{logged or 'nothing'}"


def test_every_message_with_a_visible_character_gets_a_reply_and_none_a_5xx(fuzzed: Fuzzed) -> None:
    assert len(fuzzed.results) >= MESSAGES
    problems = report(fuzzed, {fuzz.Expect.REPLY})
    assert not problems, problems


def test_blank_messages_get_no_5xx_and_raise_nothing(fuzzed: Fuzzed) -> None:
    assert fuzzed.blank, "the seed made no blank messages"
    raised = fuzz.log_errors(fuzzed.blank_log)
    problems = report(fuzzed, {fuzz.Expect.BLANK})
    assert not problems and not raised, f"{problems}\n\nlogged while blank messages were sent:\n{raised}"


def test_malformed_requests_get_a_4xx_with_a_json_body_never_a_5xx(fuzzed: Fuzzed) -> None:
    problems = report(fuzzed, {fuzz.Expect.REFUSAL, fuzz.Expect.REPLY_OR_REFUSAL})
    assert not problems, problems


def test_no_unsigned_message_changes_a_case(fuzzed: Fuzzed) -> None:
    assert len(fuzzed.unsigned) >= MESSAGES // 3
    assert fuzz.changed(fuzzed.tables_before, fuzzed.tables_after) == {}


def test_rasa_memory_does_not_grow(fuzzed: Fuzzed) -> None:
    growth = fuzzed.rss_after_mb - fuzzed.rss_before_mb
    assert growth <= RSS_GROWTH_LIMIT_MB, f"{fuzzed.rss_before_mb:.0f} MB → {fuzzed.rss_after_mb:.0f} MB"
