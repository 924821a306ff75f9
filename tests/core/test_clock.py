"""One clock: the calendar day is London's, whatever the host's zone (throughcare/clock.py)."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from typer.testing import CliRunner

from actions.cases import ActionNextSteps
from tests.actions.conftest import SECRET, make_runner
from throughcare import clock
from throughcare.access import identity
from throughcare.cases import staff_members, store
from throughcare.cli import app
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import ReferralRoute, Role
from throughcare.knowledge.loader import default_knowledge
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol import answers
from throughcare.protocol.engine import next_steps

UTC = dt.timezone.utc
# 23:30 UTC on Monday 15 June 2026 is 00:30 BST on Tuesday 16 June: the hour in which a UTC host's date is a day
# behind London's.
SUMMER_NIGHT = dt.datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
LONDON_DAY = dt.date(2026, 6, 16)
HOST_DAY = dt.date(2026, 6, 15)


def test_at_half_past_midnight_bst_today_is_londons_date() -> None:
    assert clock.today(SUMMER_NIGHT) == LONDON_DAY
    assert clock.now(SUMMER_NIGHT).hour == 0
    assert clock.now(SUMMER_NIGHT).utcoffset() == dt.timedelta(hours=1)
    # A moment without a zone is UTC, as the database stores them.
    assert clock.today(SUMMER_NIGHT.replace(tzinfo=None)) == LONDON_DAY
    # In winter London is on UTC: the same hour is the same day.
    assert clock.today(dt.datetime(2026, 12, 15, 23, 30, tzinfo=UTC)) == dt.date(2026, 12, 15)


@pytest.mark.parametrize(
    ("utc", "london_day", "offset_hours"),
    [
        # Clocks go forward at 01:00 UTC on the last Sunday of March.
        (dt.datetime(2026, 3, 28, 23, 30), dt.date(2026, 3, 28), 0),
        (dt.datetime(2026, 3, 29, 0, 30), dt.date(2026, 3, 29), 0),
        (dt.datetime(2026, 3, 29, 1, 30), dt.date(2026, 3, 29), 1),
        (dt.datetime(2026, 3, 29, 23, 30), dt.date(2026, 3, 30), 1),
        (dt.datetime(2027, 3, 27, 23, 30), dt.date(2027, 3, 27), 0),
        (dt.datetime(2027, 3, 28, 0, 30), dt.date(2027, 3, 28), 0),
        (dt.datetime(2027, 3, 28, 1, 30), dt.date(2027, 3, 28), 1),
        (dt.datetime(2027, 3, 28, 23, 30), dt.date(2027, 3, 29), 1),
        # And back at 01:00 UTC on the last Sunday of October.
        (dt.datetime(2026, 10, 24, 23, 30), dt.date(2026, 10, 25), 1),
        (dt.datetime(2026, 10, 25, 0, 30), dt.date(2026, 10, 25), 1),
        (dt.datetime(2026, 10, 25, 1, 30), dt.date(2026, 10, 25), 0),
        (dt.datetime(2026, 10, 25, 23, 30), dt.date(2026, 10, 25), 0),
        (dt.datetime(2027, 10, 30, 23, 30), dt.date(2027, 10, 31), 1),
        (dt.datetime(2027, 10, 31, 0, 30), dt.date(2027, 10, 31), 1),
        (dt.datetime(2027, 10, 31, 1, 30), dt.date(2027, 10, 31), 0),
        (dt.datetime(2027, 10, 31, 23, 30), dt.date(2027, 10, 31), 0),
    ],
)
def test_today_across_the_clock_changes(utc: dt.datetime, london_day: dt.date, offset_hours: int) -> None:
    moment = utc.replace(tzinfo=UTC)
    with clock.frozen(moment):
        assert clock.today() == london_day
        assert clock.now().utcoffset() == dt.timedelta(hours=offset_hours)
        assert clock.now().timestamp() == moment.timestamp()


def test_a_frozen_clock_is_seen_from_worker_threads_and_released_after() -> None:
    seen: list[dt.date] = []
    with clock.frozen(SUMMER_NIGHT):
        worker = threading.Thread(target=lambda: seen.append(clock.today()))
        worker.start()
        worker.join()
    assert seen == [LONDON_DAY]
    assert abs(clock.now() - dt.datetime.now(UTC)) < dt.timedelta(minutes=1)


def _summer_night_client(url: str) -> int:
    """A client whose initial assessment is due on Monday 15 June (so overdue on the 16th), and a staff id."""
    db = Database.from_url(url)
    staff_id = staff_members.add_staff(db, "Sam", Role.practitioner)
    store.record_referral(
        db, default_knowledge(), "A1234BC", ReferralRoute.self_referral, dt.date(2026, 6, 8), staff_id
    )
    db.engine.dispose()
    return staff_id


def _answer_on(url: str, knowledge: Knowledge, day: dt.date) -> str:
    facts = store.episode_facts(Database.from_url(url), "A1234BC")
    return answers.next_steps_answer(facts, next_steps(facts, knowledge, day), day)


def test_at_2330_utc_in_summer_the_cli_and_the_chat_count_due_dates_from_londons_day(
    sqlite_url: str, knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen(SUMMER_NIGHT):
        staff_id = _summer_night_client(sqlite_url)
        london, host = _answer_on(sqlite_url, knowledge, LONDON_DAY), _answer_on(sqlite_url, knowledge, HOST_DAY)
        assert london != host  # the test would not notice a day off otherwise

        cli = CliRunner().invoke(app, ["next", "A1234BC"], env={"DATABASE_URL": sqlite_url, "COLUMNS": "400"})
        assert cli.exit_code == 0, cli.output
        assert cli.output.strip() == london

        monkeypatch.setenv(identity.SECRET_ENV, SECRET)
        monkeypatch.setenv("DATABASE_URL", sqlite_url)
        entities = [{"entity": "prison_number", "value": "A1234BC", "start": 15, "end": 22}]
        chat = make_runner(staff_id)(ActionNextSteps(), "what's next for A1234BC", "ask_next_steps", entities)
        assert chat.text == london


# Where a calendar day or the London zone may be decided: only throughcare/clock.py. Moments in UTC
# (`datetime.now(dt.timezone.utc)`, `utcnow()`) are timestamps, not days, and are allowed.
PACKAGES = ("throughcare", "actions", "bot", "dashboard", "rasa_components")
LOCAL_DAY = re.compile(r"date\.today\(|datetime\.now\((?!\s*(dt\.)?timezone\.utc)|ZoneInfo\(|\.localtime\(")


def test_no_calendar_day_is_decided_outside_the_clock() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path == REPO_ROOT / "throughcare" / "clock.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if LOCAL_DAY.search(line):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert found == []
