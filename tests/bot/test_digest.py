"""The daily digest: working days only, once a day across restarts, never skipped, private."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.bot.conftest import STAFF, WORKING_DAY_MORNING, Harness
from throughcare.access import accounts as access
from throughcare.access import delivery
from throughcare.cases.store import caseload
from throughcare.db.models import TelegramUpdate
from throughcare.demo.caseload import demo_practitioner_id

BANK_HOLIDAY = dt.datetime(2026, 12, 25, 9, 0, tzinfo=WORKING_DAY_MORNING.tzinfo)  # Christmas Day, a Friday
SUBSTITUTE_HOLIDAY = dt.datetime(2026, 12, 28, 9, 0, tzinfo=WORKING_DAY_MORNING.tzinfo)  # for Boxing Day
PRISON_NUMBER_AND_INITIALS = re.compile(r"^• [A-Z]\d{4}[A-Z]{2}( \([A-Z]{1,3}\))?: ")


def _opted_in(harness: Harness) -> None:
    harness.approve(STAFF, staff_id=demo_practitioner_id(harness.db))
    access.set_digest(harness.db, STAFF, True)


def _digests(harness: Harness, user: int = STAFF) -> list[str]:
    return [t for t in harness.telegram.texts(user) if t.startswith("Good morning")]


def test_a_working_day_digest_lists_what_is_due_by_prison_number_only(harness: Harness) -> None:
    _opted_in(harness)
    gateway = harness.start()
    gateway.run_digest()
    (digest,) = harness.telegram.wait_for(lambda: _digests(harness))
    lines = digest.splitlines()
    assert "overdue" in lines[0]
    items = [line for line in lines if line.startswith("• ")]
    assert items and all(PRISON_NUMBER_AND_INITIALS.match(line) for line in items)
    mine = {facts.prison_number for facts in caseload(harness.db, demo_practitioner_id(harness.db))}
    assert {line[2:9] for line in items} <= mine
    # Nothing about substances, prescriptions or care levels: only the step that is due.
    assert not re.search(r"heroin|alcohol|methadone|buprenorphine|DARS|care level", digest, re.IGNORECASE)


def test_no_digest_at_weekends_on_bank_holidays_or_before_the_time(harness: Harness) -> None:
    _opted_in(harness)
    harness.clock.now = BANK_HOLIDAY
    gateway = harness.start()
    for moment in (
        BANK_HOLIDAY,
        SUBSTITUTE_HOLIDAY,
        dt.datetime(2026, 12, 5, 9, 0, tzinfo=BANK_HOLIDAY.tzinfo),
        WORKING_DAY_MORNING.replace(hour=8, minute=0),
    ):
        harness.clock.now = moment
        gateway.run_digest()
    assert _digests(harness) == []
    harness.clock.now = WORKING_DAY_MORNING
    gateway.run_digest()
    assert len(_digests(harness)) == 1


def test_a_restart_neither_repeats_nor_skips_the_day_s_digest(harness: Harness) -> None:
    _opted_in(harness)
    harness.clock.now = WORKING_DAY_MORNING.replace(hour=7)
    harness.start().run_digest()
    harness.stop()
    assert _digests(harness) == []
    # Started again after the digest time: the job's first run sends the day's digest it finds unsent.
    harness.clock.now = WORKING_DAY_MORNING.replace(hour=11)
    gateway = harness.start()
    harness.telegram.wait_for(lambda: _digests(harness))
    gateway.run_digest()
    harness.stop()
    harness.start().run_digest()
    assert len(_digests(harness)) == 1


def test_a_digest_telegram_refused_is_sent_on_the_next_run(harness: Harness) -> None:
    _opted_in(harness)
    harness.clock.now = WORKING_DAY_MORNING.replace(hour=7)
    gateway = harness.start()
    harness.clock.now = WORKING_DAY_MORNING
    harness.telegram.fail("sendMessage")
    gateway.run_digest()
    gateway.run_digest()
    attempts = [c for c in harness.telegram.calls_to("sendMessage") if c["chat_id"] == STAFF]
    assert len(attempts) == 2
    assert len(_digests(harness)) == 1


def test_a_database_error_recording_one_failed_digest_still_lets_the_others_have_theirs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = STAFF + 1
    _opted_in(harness)
    harness.approve(other)
    access.set_digest(harness.db, other, True)
    harness.clock.now = WORKING_DAY_MORNING.replace(hour=7)
    gateway = harness.start()
    harness.clock.now = WORKING_DAY_MORNING

    def locked(*_: object) -> None:
        raise OperationalError("DELETE FROM digest_delivery", {}, Exception("database is locked"))

    monkeypatch.setattr(delivery, "digest_failed", locked)
    harness.telegram.fail("sendMessage")  # the first recipient's digest, whoever comes first
    gateway.run_digest()
    assert sorted(len(_digests(harness, user)) for user in (STAFF, other)) == [0, 1]


def test_the_digest_job_leaves_handled_update_ids_to_the_daily_purge(harness: Harness) -> None:
    with harness.db.transaction() as session:
        session.add(TelegramUpdate(update_id=1, telegram_user_id=STAFF, at=WORKING_DAY_MORNING - dt.timedelta(days=3)))
    harness.start().run_digest()
    with harness.db.transaction() as session:
        assert list(session.scalars(select(TelegramUpdate.update_id))) == [1]


def test_staff_turn_the_digest_on_and_off_in_chat(harness: Harness) -> None:
    harness.approve(STAFF)
    harness.start()
    assert "each working day at 08:30" in harness.say(STAFF, "/digest on")[0]
    assert access.account(harness.db, STAFF).digest
    assert harness.say(STAFF, "/digest off") == ["Daily digest off."]
    assert not access.account(harness.db, STAFF).digest
