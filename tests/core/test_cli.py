import csv
import datetime as dt
import io
import re

import httpx
from sqlalchemy import insert, select
from typer.testing import CliRunner

from throughcare.access import accounts as access
from throughcare.cases import staff_members, store
from throughcare.cli import app
from throughcare.db.engine import Database
from throughcare.db.models import AuditEvent, GuidanceQuery, Role, week_of
from throughcare.demo.caseload import demo_practitioner_id
from throughcare.protocol import answers
from throughcare.protocol.engine import next_steps


def run(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"DATABASE_URL": url, "COLUMNS": "400"})


def test_demo_data_then_next_gives_the_chat_answer(sqlite_url, knowledge) -> None:
    demo_mode = {"DATABASE_URL": sqlite_url, "THROUGHCARE_DEMO": "1"}
    refused = CliRunner().invoke(app, ["demo-data"], env={"DATABASE_URL": sqlite_url, "THROUGHCARE_DEMO": ""})
    assert refused.exit_code == 2 and "demo mode only" in refused.output
    assert "Loaded" in CliRunner().invoke(app, ["demo-data"], env=demo_mode).output
    assert "already present" in CliRunner().invoke(app, ["demo-data"], env=demo_mode).output
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


SECRET = b"cli-test-secret-0123456789abcdef"


def test_staff_deactivate_ends_dashboard_sessions_and_links_and_is_audited(sqlite_url) -> None:  # type: ignore[no-untyped-def]
    db = Database.from_url(sqlite_url)
    manager = staff_members.add_staff(db, "Morgan", Role.manager)
    url = httpx.URL(access.dashboard_link(db, manager, SECRET))
    opened = access.open_dashboard_session(db, url.params["token"], url.params["nonce"], SECRET)
    assert opened is not None
    unused = httpx.URL(access.dashboard_link(db, manager, SECRET))
    result = run(sqlite_url, "staff", "deactivate", str(manager))
    assert result.exit_code == 0
    assert result.output.strip() == f"Staff member {manager} is inactive; 2 dashboard sessions or links ended."
    assert access.dashboard_session_staff(db, opened.session_id) is None
    assert access.open_dashboard_session(db, unused.params["token"], unused.params["nonce"], SECRET) is None
    listed = run(sqlite_url, "staff", "list").output
    assert re.search(rf"│ {manager} +│ Morgan +│ manager +│ +│ no +│", listed)
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and (event.entity, event.entity_id, event.action) == (
            "staff_member",
            manager,
            "deactivate",
        )
    unknown = run(sqlite_url, "staff", "deactivate", "999")
    assert unknown.exit_code == 1 and "There is no staff member 999." in unknown.output


def test_report_csv_counts_staff_and_unsigned_apart_and_neutralises_formulas(sqlite_url) -> None:  # type: ignore[no-untyped-def]
    db = Database.from_url(sqlite_url)
    staff_id = staff_members.add_staff(db, "Ash", Role.practitioner)
    now = dt.datetime.now(dt.timezone.utc)
    with db.transaction() as session:
        session.execute(
            insert(GuidanceQuery),
            [
                dict(at=now, week=week_of(now), staff_id=who, text=text, fell_back=True, action="a")
                for who, text in [(staff_id, "+staff asked"), (None, '=HYPERLINK("http://x.example","y")')] * 2
            ],
        )
    staff = list(csv.reader(io.StringIO(run(sqlite_url, "report", "unanswered", "--csv").output)))
    assert staff == [["question", "times asked", "last asked"], ["'+staff asked", "2", now.date().isoformat()]]
    unsigned = list(csv.reader(io.StringIO(run(sqlite_url, "report", "unsigned", "--csv").output)))
    assert unsigned == [["week", "unsigned queries", "fell back"], [week_of(now).isoformat(), "2", "2"]]
    fallback = list(csv.reader(io.StringIO(run(sqlite_url, "report", "fallback", "--csv").output)))
    assert fallback[1:] == [[week_of(now).isoformat(), "2", "2", "100.0"]]


def test_an_impossible_day_or_unknown_choice_is_a_usage_error_naming_the_option_not_a_traceback(
    demo_sqlite_url,
) -> None:
    for args, option in [
        (["next", "A1234BC", "--today", "2026-02-30"], "--today"),
        (["report", "topics", "--start", "3/12/2026"], "--start"),
        (["purge", "--before", "yesterday"], "--before"),
        (["report", "overdue", "--by", "team"], "--by"),
    ]:
        result = run(demo_sqlite_url, *args)
        assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output, (args, result.output)
        assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)
    assert run(demo_sqlite_url, "report", "overdue", "--by", "stage", "--today", "2026-12-01").exit_code == 0


def test_a_command_on_a_database_never_migrated_says_to_upgrade_it_first(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run(url, "report", "overdue")
    assert result.exit_code == 2 and "run `throughcare db upgrade` first" in result.output
    assert run(url, "db", "upgrade").exit_code == 0
    assert run(url, "report", "overdue").exit_code == 0
