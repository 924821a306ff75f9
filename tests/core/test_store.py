"""The case store on SQLite and, where a server is reachable, PostgreSQL."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from throughcare import store
from throughcare.demo import demo_practitioner_id, load_demo_data
from throughcare.models import AuditEvent, ChecklistProgress, Episode, GuidanceQuery, StepStatus, week_of


def first_referred(db) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        episode = session.scalars(select(Episode).where(Episode.stage == "referred").order_by(Episode.id)).first()
        return episode.client.prison_number


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_demo_data_is_loaded_once_and_spans_every_stage(database, today) -> None:
    assert load_demo_data(database, today) >= 30
    assert load_demo_data(database, today) == 0
    with database.transaction() as session:
        stages = set(session.scalars(select(Episode.stage)))
    assert {s.value for s in stages} == {"referred", "assessed", "in_treatment", "closed"}
    assert store.caseload(database, demo_practitioner_id(database))


def test_prison_numbers_are_found_whatever_their_case(demo_database) -> None:
    assert store.episode_facts(demo_database, "a1234bc").prison_number == "A1234BC"


def test_unknown_and_malformed_prison_numbers_are_refused_kindly(demo_database) -> None:
    with pytest.raises(store.UnknownClient, match="can't find Z9999ZZ"):
        store.episode_facts(demo_database, "Z9999ZZ")
    with pytest.raises(store.CaseError, match="one letter, four digits and two letters"):
        store.episode_facts(demo_database, "A123BC")


def test_recording_an_assessment_moves_the_stage_and_writes_an_audit_entry(demo_database, today) -> None:
    number, staff = first_referred(demo_database), demo_practitioner_id(demo_database)
    audits = count(demo_database, AuditEvent)
    facts = store.record_event(demo_database, number, "initial_assessment", today, staff, today)
    assert facts.initial_assessment_date == today and facts.stage == "assessed"
    with demo_database.transaction() as session:
        entry = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert count(demo_database, AuditEvent) == audits + 1
    assert (entry.action, entry.staff_id) == ("record_initial_assessment", staff)
    assert entry.before["initial_assessment_date"] is None
    assert entry.after == {"initial_assessment_date": today.isoformat(), "stage": "assessed"}


@pytest.mark.parametrize(
    ("event", "days", "message"),
    [
        ("initial_assessment", 3, "in the future"),
        ("initial_assessment", -4000, "before the referral"),
        ("triage", 0, "initial assessment isn't recorded"),
        ("release_date", -1, "has already passed"),
        ("transfer", 9000, "can't be right"),
    ],
)
def test_impossible_dates_change_nothing(demo_database, today, event, days, message) -> None:
    number = first_referred(demo_database)
    audits = count(demo_database, AuditEvent)
    before = store.episode_facts(demo_database, number)
    with pytest.raises(store.CaseError, match=message):
        store.record_event(
            demo_database, number, event, today + dt.timedelta(days=days), demo_practitioner_id(demo_database), today
        )
    assert store.episode_facts(demo_database, number) == before
    assert count(demo_database, AuditEvent) == audits


def test_checklist_marks_are_recorded_replaced_and_audited(demo_database) -> None:
    staff = demo_practitioner_id(demo_database)
    marks = count(demo_database, ChecklistProgress)
    facts = store.mark_step(
        demo_database, "A1234BC", "transfer", "ndtms_form", StepStatus.skipped, staff, "no NDTMS consent"
    )
    assert facts.progress[("transfer", "ndtms_form")] == "skipped"
    facts = store.mark_step(demo_database, "A1234BC", "transfer", "ndtms_form", StepStatus.done, staff)
    assert facts.progress[("transfer", "ndtms_form")] == "done"
    assert count(demo_database, ChecklistProgress) == marks + 1  # replaced, not duplicated
    with demo_database.transaction() as session:
        entries = session.scalars(select(AuditEvent).where(AuditEvent.action == "transfer.ndtms_form")).all()
    assert [e.after["status"] for e in entries] == ["skipped", "done"]
    assert entries[1].before == {"status": "skipped", "reason": "no NDTMS consent"}


def test_a_skip_needs_a_reason(demo_database) -> None:
    with pytest.raises(store.CaseError, match="needs a reason"):
        store.mark_step(demo_database, "A1234BC", "transfer", "ndtms_form", StepStatus.skipped, 1, "  ")
    assert ("transfer", "ndtms_form") not in store.episode_facts(demo_database, "A1234BC").progress


def test_a_failed_update_leaves_nothing_half_written(demo_database, today) -> None:
    number = first_referred(demo_database)
    audits = count(demo_database, AuditEvent)
    with pytest.raises(store.CaseError):
        # The date check fails after the episode is demo_database: the whole transaction must roll back.
        store.record_event(demo_database, number, "review", today, demo_practitioner_id(demo_database), today)
    assert count(demo_database, AuditEvent) == audits


def test_referral_opens_an_episode_once(demo_database, today) -> None:
    staff = demo_practitioner_id(demo_database)
    facts = store.record_referral(demo_database, "k7777zz", store.ReferralRoute.staff_referral, today, staff)
    assert (facts.prison_number, facts.stage) == ("K7777ZZ", "referred")
    with pytest.raises(store.CaseError, match="already has an open referral"):
        store.record_referral(demo_database, "K7777ZZ", store.ReferralRoute.staff_referral, today, staff)


def test_every_query_is_logged(demo_database) -> None:
    store.log_query(
        demo_database,
        staff_id=None,
        conversation_id="c1",
        text="x" * 10_000,
        intent="ask_protocol",
        confidence=0.9,
        entities=[{"entity": "term", "value": "TTG", "start": 0}],
        action="action_answer_protocol",
        cited="000, Closure",
        fell_back=False,
        answer="TTG: Through the Gate.",
        topic="term:TTG",
    )
    with demo_database.transaction() as session:
        row = session.scalars(select(GuidanceQuery).where(GuidanceQuery.conversation_id == "c1")).one()
    assert len(row.text) == 4000 and row.entities == [{"entity": "term", "value": "TTG"}]
    assert (row.answer, row.topic, row.week) == ("TTG: Through the Gate.", "term:TTG", week_of(row.at))


def test_inactive_staff_are_not_recognised(demo_database) -> None:
    staff = demo_practitioner_id(demo_database)
    assert store.staff_member(demo_database, staff).display_name == "Demo Practitioner"
    with demo_database.transaction() as session:
        session.get(store.StaffMember, staff).active = False
    assert store.staff_member(demo_database, staff) is None
