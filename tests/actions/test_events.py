import datetime as dt
import json
import re

from sqlalchemy import func, select

from actions.events import ActionRecordEvent, ActionRecordReferral
from throughcare import store
from throughcare.models import AuditEvent, Episode


def a_referred_client(db) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        episode = session.scalars(select(Episode).where(Episode.stage == "referred").order_by(Episode.id)).first()
        return episode.client.prison_number


def event(value: str, date_text: str | None = None) -> list[dict]:
    entities = [{"entity": "event", "value": value}]
    if date_text:
        entities.append({"entity": "date", "value": date_text})
    return entities


def test_recording_an_assessment_with_a_date_updates_the_record(run, case_db) -> None:
    number = a_referred_client(case_db)
    result = run(ActionRecordEvent(), f"IA done for {number} yesterday", "record_event", event("initial_assessment"))
    yesterday = dt.date.today() - dt.timedelta(days=1)
    assert "Recorded the initial assessment" in result.text
    assert "Triage assessment" in result.text  # the next step follows
    assert store.episode_facts(case_db, number).initial_assessment_date == yesterday


def test_a_future_assessment_is_refused_and_nothing_changes(run, case_db) -> None:
    number = a_referred_client(case_db)
    result = run(ActionRecordEvent(), f"IA done for {number} in two weeks", "record_event", event("initial_assessment"))
    assert "in the future" in result.text
    assert store.episode_facts(case_db, number).initial_assessment_date is None


def test_an_impossible_date_is_refused(run, case_db) -> None:
    result = run(
        ActionRecordEvent(),
        "release date for A1234BC is 31/02/2027",
        "record_event",
        event("release_date", "31/02/2027"),
    )
    assert "couldn't read '31/02/2027'" in result.text


def test_a_release_date_needs_a_date(run) -> None:
    result = run(ActionRecordEvent(), "release date for A1234BC", "record_event", event("release_date"))
    assert "What is the date" in result.text


def test_recording_a_release_date(run, case_db) -> None:
    result = run(
        ActionRecordEvent(), "A1234BC release date is 14/01/2027", "record_event", event("release_date", "14/01/2027")
    )
    assert "Thu 14 Jan 2027" in result.text
    assert store.episode_facts(case_db, "A1234BC").expected_release_date == dt.date(2027, 1, 14)


def test_unsigned_senders_cannot_write(run, case_db) -> None:
    number = a_referred_client(case_db)
    run(ActionRecordEvent(), f"IA done for {number} today", "record_event", event("initial_assessment"), signed=False)
    assert store.episode_facts(case_db, number).initial_assessment_date is None


def test_recording_a_referral_for_a_new_client(run, case_db) -> None:
    result = run(
        ActionRecordReferral(),
        '/record_referral{"prison_number":"K7777ZZ"}',
        "record_referral",
        [{"entity": "prison_number", "value": "K7777ZZ"}],
    )
    assert "Recorded a new referral for K7777ZZ" in result.text and "Initial assessment" in result.text
    assert store.episode_facts(case_db, "K7777ZZ").stage == "referred"


def test_words_marked_around_the_event_do_not_hide_it(run, case_db) -> None:
    entities = [
        {"entity": "event", "value": "13 week"},
        {"entity": "event", "value": "joint_review"},
        {"entity": "date", "value": "today"},
    ]
    result = run(ActionRecordEvent(), "13 week joint review held for A1234BC today", "record_event", entities)
    assert "Recorded the 13-week joint review" in result.text
    assert store.episode_facts(case_db, "A1234BC").joint_review_date == dt.date.today()


def test_a_referral_question_without_a_client_is_answered_and_records_nothing(run, case_db) -> None:
    with case_db.transaction() as session:
        before = session.scalar(select(func.count(Episode.id)))
    result = run(ActionRecordReferral(), "can wing staff refer someone by email", "record_referral")
    assert re.search(r"Source: 00\d", result.text) and "give me their prison number" in result.text
    with case_db.transaction() as session:
        assert session.scalar(select(func.count(Episode.id))) == before


def audit_rows(db) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_report_with_no_client_asks_for_one_and_gives_the_protocol_in_case_it_was_a_question(run, case_db) -> None:
    before = audit_rows(case_db)
    asked = run(
        ActionRecordEvent(),
        "hes getting out on a friday and on a script",
        "record_event",
        event("release_date", "friday"),
    )
    assert asked.text.startswith("Which client?")
    assert "rather than recording it" in asked.text and "Source: 001, §9.5.2" in asked.text
    plain = run(ActionRecordEvent(), "triaged yesterday", "record_event", event("triage", "yesterday"))
    assert plain.text == "Which client? Tell me their prison number, like A1234BC."
    assert audit_rows(case_db) == before


def test_a_record_about_the_client_named_earlier_is_confirmed_before_anything_is_written(run, case_db) -> None:
    number = a_referred_client(case_db)
    asked = run(
        ActionRecordEvent(), "IA done yesterday", "record_event", event("initial_assessment"), {"prison_number": number}
    )
    yesterday = dt.date.today() - dt.timedelta(days=1)
    assert f"Record the initial assessment for {number}" in asked.text and "named earlier" in asked.text
    assert store.episode_facts(case_db, number).initial_assessment_date is None

    # The Yes button names the client, the event and the date: pressing it records exactly what was shown.
    (yes,) = [b["payload"] for b in asked.buttons if b["title"].startswith("Yes")]
    card = json.loads(yes.removeprefix("/record_event"))
    entities = [{"entity": name, "value": value} for name, value in card.items()]
    done = run(ActionRecordEvent(), yes, "record_event", entities, {"prison_number": "Z9999ZZ"})
    assert f"Recorded the initial assessment for {number}" in done.text
    assert store.episode_facts(case_db, number).initial_assessment_date == yesterday
