"""The case store on SQLite and, where a server is reachable, PostgreSQL."""

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import statements
from throughcare import clock, errors
from throughcare.cases import query_log, staff_members, store
from throughcare.db import models
from throughcare.db.models import (
    AuditEvent,
    ChecklistProgress,
    Client,
    ClosureReason,
    Episode,
    GuidanceQuery,
    OpenStep,
    Role,
    StepStatus,
    week_of,
)
from throughcare.demo.caseload import demo_practitioner_id, load_demo_data
from throughcare.knowledge.loader import default_knowledge
from throughcare.protocol.engine import next_steps


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
    with pytest.raises(errors.UnknownClient, match="can't find Z9999ZZ"):
        store.episode_facts(demo_database, "Z9999ZZ")
    with pytest.raises(errors.CaseError, match="one letter, four digits and two letters"):
        store.episode_facts(demo_database, "A123BC")


def test_recording_an_assessment_moves_the_stage_and_writes_an_audit_entry(demo_database, today) -> None:
    number, staff = first_referred(demo_database), demo_practitioner_id(demo_database)
    audits = count(demo_database, AuditEvent)
    facts = store.record_event(demo_database, default_knowledge(), number, "initial_assessment", today, staff, today)
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
    with pytest.raises(errors.CaseError, match=message):
        store.record_event(
            demo_database,
            default_knowledge(),
            number,
            event,
            today + dt.timedelta(days=days),
            demo_practitioner_id(demo_database),
            today,
        )
    assert store.episode_facts(demo_database, number) == before
    assert count(demo_database, AuditEvent) == audits


def test_checklist_marks_are_recorded_replaced_and_audited(demo_database) -> None:
    staff = demo_practitioner_id(demo_database)
    marks = count(demo_database, ChecklistProgress)
    facts = store.mark_step(
        demo_database,
        default_knowledge(),
        "A1234BC",
        "transfer",
        "ndtms_form",
        StepStatus.skipped,
        staff,
        "no NDTMS consent",
    )
    assert facts.progress[("transfer", "ndtms_form")] == "skipped"
    facts = store.mark_step(
        demo_database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.done, staff
    )
    assert facts.progress[("transfer", "ndtms_form")] == "done"
    assert count(demo_database, ChecklistProgress) == marks + 1  # replaced, not duplicated
    with demo_database.transaction() as session:
        entries = session.scalars(select(AuditEvent).where(AuditEvent.action == "transfer.ndtms_form")).all()
    assert [e.after["status"] for e in entries] == ["skipped", "done"]
    assert entries[1].before == {"status": "skipped", "reason": "no NDTMS consent"}


def test_a_skip_needs_a_reason(demo_database) -> None:
    with pytest.raises(errors.CaseError, match="needs a reason"):
        store.mark_step(
            demo_database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.skipped, 1, "  "
        )
    assert ("transfer", "ndtms_form") not in store.episode_facts(demo_database, "A1234BC").progress


def test_a_failed_update_leaves_nothing_half_written(demo_database, today) -> None:
    number = first_referred(demo_database)
    audits = count(demo_database, AuditEvent)
    with pytest.raises(errors.CaseError):
        # The date check fails after the episode is demo_database: the whole transaction must roll back.
        store.record_event(
            demo_database, default_knowledge(), number, "review", today, demo_practitioner_id(demo_database), today
        )
    assert count(demo_database, AuditEvent) == audits


def test_referral_opens_an_episode_once_and_a_second_referral_is_told_whose_it_is(demo_database, today) -> None:
    staff = demo_practitioner_id(demo_database)
    colleague = staff_members.add_staff(demo_database, "Sam Okafor", Role.practitioner)
    facts = store.record_referral(
        demo_database, default_knowledge(), "k7777zz", models.ReferralRoute.staff_referral, today, staff
    )
    assert (facts.prison_number, facts.stage) == ("K7777ZZ", "referred")
    with pytest.raises(errors.AlreadyReferred) as again:
        store.record_referral(
            demo_database, default_knowledge(), "K7777ZZ", models.ReferralRoute.staff_referral, today, colleague
        )
    assert str(again.value).startswith(
        f"K7777ZZ already has an open episode (referred by Demo Practitioner on {today:%a} {today.day} {today:%b %Y})"
    )
    with pytest.raises(errors.AlreadyReferred, match=r"\(referred by you on"):
        store.record_referral(
            demo_database, default_knowledge(), "K7777ZZ", models.ReferralRoute.staff_referral, today, staff
        )
    with demo_database.transaction() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Episode).join(Client).where(Client.prison_number == "K7777ZZ")
            )
            == 1
        )


def test_marking_a_step_as_it_already_is_says_who_did_it_and_when_and_changes_nothing(demo_database) -> None:
    staff = demo_practitioner_id(demo_database)
    colleague = staff_members.add_staff(demo_database, "Sam Okafor", Role.practitioner)
    store.mark_step(demo_database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.done, staff)
    audits, steps = count(demo_database, AuditEvent), count(demo_database, OpenStep)
    with demo_database.transaction() as session:
        marked = session.scalars(select(ChecklistProgress).where(ChecklistProgress.step_id == "ndtms_form")).one()
        at = (marked.at if marked.at.tzinfo else marked.at.replace(tzinfo=dt.timezone.utc)).astimezone(clock.LONDON)

    with pytest.raises(errors.AlreadyMarked) as again:
        store.mark_step(
            demo_database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.done, colleague
        )
    assert str(again.value).startswith(f"Already marked done by Demo Practitioner at {at:%H:%M}")
    assert 'say "resume the transfer to another prison checklist for A1234BC"' in str(again.value)
    assert (count(demo_database, AuditEvent), count(demo_database, OpenStep)) == (audits, steps)

    facts = store.mark_step(
        demo_database, default_knowledge(), "A1234BC", "transfer", "ndtms_form", StepStatus.skipped, colleague, "moved"
    )
    assert facts.progress[("transfer", "ndtms_form")] == "skipped"
    with pytest.raises(errors.AlreadyMarked, match=r'^Already marked skipped by you at .* \(reason: "moved"\)'):
        store.mark_step(
            demo_database,
            default_knowledge(),
            "A1234BC",
            "transfer",
            "ndtms_form",
            StepStatus.skipped,
            colleague,
            "other",
        )


def not_on_a_prescription(db) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        episode = session.scalars(
            select(Episode)
            .where(Episode.closure_date.is_(None), Episode.on_prescription.is_(False))
            .order_by(Episode.id)
        ).first()
        return episode.client.prison_number


@pytest.mark.parametrize(
    ("procedure", "step", "message"),
    [
        ("transfers", "ndtms_form", "There is no checklist called 'transfers', so nothing was recorded."),
        ("transfer", "ndtms", "The transfer to another prison checklist has no step 'ndtms', so nothing was recorded."),
        ("transfer", "prescription_record", "is only for clients on a prescription, which isn't what"),
    ],
)
def test_a_step_not_in_the_checklist_or_not_for_this_client_is_refused_and_changes_nothing(
    demo_database, procedure, step, message
) -> None:
    number = not_on_a_prescription(demo_database)
    before = store.episode_facts(demo_database, number)
    audits, steps = count(demo_database, AuditEvent), count(demo_database, OpenStep)
    with pytest.raises(errors.NotAStep, match=message):
        store.mark_step(
            demo_database,
            default_knowledge(),
            number,
            procedure,
            step,
            StepStatus.done,
            demo_practitioner_id(demo_database),
        )
    assert store.episode_facts(demo_database, number) == before
    assert (count(demo_database, AuditEvent), count(demo_database, OpenStep)) == (audits, steps)


def test_a_failing_statement_puts_no_client_details_in_its_error_or_the_log(database, today, caplog) -> None:
    staff = staff_members.add_staff(database, "Sam Okafor", Role.practitioner)
    store.record_referral(database, default_knowledge(), "A1234BC", models.ReferralRoute.staff_referral, today, staff)
    # What the engine logs of each statement when its logging is turned up, as an operator might to find a fault.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with pytest.raises(IntegrityError) as failed, database.transaction() as session:
        session.add(Client(prison_number="A1234BC", initials="QX"))
    logging.getLogger("actions").error("database error", exc_info=failed.value)
    assert "INSERT INTO client" in caplog.text and "parameters hidden" in caplog.text
    for detail in ("A1234BC", "QX"):
        assert detail not in str(failed.value) and detail not in caplog.text


def test_every_query_is_logged(demo_database) -> None:
    query_log.log_query(
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
    assert staff_members.staff_member(demo_database, staff).display_name == "Demo Practitioner"
    with demo_database.transaction() as session:
        session.get(models.StaffMember, staff).active = False
    assert staff_members.staff_member(demo_database, staff) is None


@pytest.mark.parametrize(
    ("route", "first", "within_days"),
    [
        (models.ReferralRoute.illicit_use, "illicit_use_visit", 3),  # 72 hours: by the end of the third day
        (models.ReferralRoute.positive_drug_test, "illicit_use_visit", 3),
        (models.ReferralRoute.community_team, "initial_assessment", 9),  # 5 working days, with a weekend or two
    ],
)
def test_a_referral_keeps_its_route_and_opens_that_routes_first_step(demo_database, today, route, first, within_days):  # type: ignore[no-untyped-def]
    staff = demo_practitioner_id(demo_database)
    facts = store.record_referral(demo_database, default_knowledge(), "K7777ZZ", route, today, staff)
    assert facts.referral_route == route.value
    with demo_database.transaction() as session:
        episode = session.scalar(select(Episode).join(Client).where(Client.prison_number == "K7777ZZ"))
        assert episode.referral_route == route
        steps = session.scalars(select(OpenStep).where(OpenStep.episode_id == episode.id).order_by(OpenStep.due))
        soonest = next(iter(steps))
        audit = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "record_referral").order_by(AuditEvent.id.desc())
        )
    assert soonest.key == first and soonest.due <= today + dt.timedelta(days=within_days)
    assert audit.after["referral_route"] == route.value


def test_the_open_steps_kept_for_reports_are_the_protocol_engines_after_every_change(demo_database, today) -> None:
    """The overdue reports read `open_step`; only the rows a change moved are rewritten, so after each change,
    on the day it was made, the rows must be exactly what the protocol engine says now."""
    knowledge, staff = default_knowledge(), demo_practitioner_id(demo_database)
    tomorrow = today + dt.timedelta(days=1)

    def kept() -> set[tuple]:
        with demo_database.transaction() as session:
            episode = session.scalar(select(Episode).join(Client).where(Client.prison_number == "K7777ZZ"))
            rows = session.scalars(select(OpenStep).where(OpenStep.episode_id == episode.id))
            return {(r.key, r.what, r.who, r.due, r.computed_on) for r in rows}

    def expected(facts, day: dt.date) -> set[tuple]:  # type: ignore[no-untyped-def]
        return {(s.key, s.what, s.who, s.due, day) for s in next_steps(facts, knowledge, day)}

    facts = store.record_referral(demo_database, knowledge, "K7777ZZ", models.ReferralRoute.illicit_use, today, staff)
    assert kept() == expected(facts, today)
    facts = store.record_event(demo_database, knowledge, "K7777ZZ", "initial_assessment", today, staff, today)
    assert kept() == expected(facts, today)
    facts = store.record_event(demo_database, knowledge, "K7777ZZ", "triage", tomorrow, staff, tomorrow)
    assert kept() == expected(facts, tomorrow)
    facts = store.mark_step(
        demo_database, knowledge, "K7777ZZ", "safeguarding", "tell_line_manager", StepStatus.done, staff
    )
    assert kept() == expected(facts, clock.today())


def test_engagement_and_non_engagement_after_release_replace_each_other(demo_database, today) -> None:
    with demo_database.transaction() as session:
        number = session.scalar(
            select(Client.prison_number).join(Episode).where(Episode.closure_reason == ClosureReason.release).limit(1)
        )
    staff = demo_practitioner_id(demo_database)
    store.record_event(demo_database, default_knowledge(), number, "community_non_engagement", today, staff, today)
    store.record_event(demo_database, default_knowledge(), number, "community_engagement", today, staff, today)
    with demo_database.transaction() as session:
        episode = session.scalar(select(Episode).join(Client).where(Client.prison_number == number))
        assert (episode.community_engagement_date, episode.community_not_engaged_date) == (today, None)
        audit = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert audit.action == "record_community_engagement"
    assert audit.before["community_not_engaged_date"] == today.isoformat()
    assert audit.after == {
        "community_engagement_date": today.isoformat(),
        "community_not_engaged_date": None,
        "stage": "closed",
    }


def test_a_caseload_is_read_in_a_fixed_number_of_statements_whatever_its_size(demo_database) -> None:
    staff = demo_practitioner_id(demo_database)
    with statements(demo_database) as seen:
        episodes = store.caseload(demo_database, staff)
    assert len(episodes) >= 10 and len(seen) <= 4, seen
