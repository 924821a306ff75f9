import datetime as dt

from typer.testing import CliRunner

from throughcare import answers, store
from throughcare.cli import app
from throughcare.db import Database
from throughcare.demo import demo_practitioner_id
from throughcare.engine import next_steps


def run(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"DATABASE_URL": url, "COLUMNS": "400"})


def test_demo_data_then_next_gives_the_chat_answer(sqlite_url, knowledge) -> None:
    assert "Loaded" in run(sqlite_url, "demo-data").output
    assert "already present" in run(sqlite_url, "demo-data").output
    result = run(sqlite_url, "next", "a1234bc")
    assert result.exit_code == 0
    db = Database.from_url(sqlite_url)
    facts = store.episode_facts(db, "A1234BC")
    today = dt.date.today()
    assert result.output.strip() == answers.next_steps_answer(facts, next_steps(facts, knowledge, today), today)


def test_next_for_a_bad_or_unknown_number_says_so_and_fails(demo_sqlite_url) -> None:
    malformed = run(demo_sqlite_url, "next", "A12BC")
    assert malformed.exit_code == 1 and "one letter, four digits and two letters" in malformed.output
    unknown = run(demo_sqlite_url, "next", "Z9999ZZ")
    assert unknown.exit_code == 1 and "can't find Z9999ZZ" in unknown.output


def test_caseload_for_the_demo_practitioner(demo_sqlite_url) -> None:
    staff_id = demo_practitioner_id(Database.from_url(demo_sqlite_url))
    result = run(demo_sqlite_url, "caseload", str(staff_id))
    assert result.output.startswith("Your caseload:") and "OVERDUE" in result.output
