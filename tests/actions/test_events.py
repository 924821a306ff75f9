import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from actions.events import ActionRecordEvent, ActionRecordReferral
from throughcare.cases import store
from throughcare.db.models import AuditEvent, Client, ClosureReason, Episode, ReferralRoute
from throughcare.knowledge.loader import default_knowledge
from throughcare.reporting import reports


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
        '/record_referral{"prison_number":"K7777ZZ","referral_route":"staff_referral"}',
        "record_referral",
        [{"entity": "prison_number", "value": "K7777ZZ"}, {"entity": "referral_route", "value": "staff_referral"}],
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


def referral(number: str, *routes: str) -> list[dict]:
    return [{"entity": "prison_number", "value": number}] + [{"entity": "referral_route", "value": r} for r in routes]


def episodes(db) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count(Episode.id)))


def test_an_illicit_use_referral_is_recorded_as_one_with_the_visit_in_hours(run, case_db) -> None:
    result = run(
        ActionRecordReferral(),
        "K7777ZZ found under the influence on b wing, refer him",
        "record_referral",
        referral("K7777ZZ", "illicit_use"),
    )
    assert "Recorded a new referral for K7777ZZ today, as an illicit-use referral" in result.text
    assert "Next: Visit after the illicit-use referral: due" in result.text
    assert "Rule: within 72 hours (ideally 24) after referral" in result.text
    assert "Source: 000, Clean In › Referral" in result.text
    assert store.episode_facts(case_db, "K7777ZZ").referral_route == "illicit_use"


@pytest.mark.parametrize(
    ("route", "words", "first"),
    [
        ("positive_drug_test", "a positive drug test (MDT) referral", "Visit after the positive drug test"),
        ("community_team", "a community team (CJIT) referral", "Initial assessment (IA)"),
        ("induction", "an induction referral", "Initial assessment (IA)"),
    ],
)
def test_each_route_named_is_recorded_with_its_first_step(run, case_db, route, words, first) -> None:  # type: ignore[no-untyped-def]
    result = run(ActionRecordReferral(), "new referral K7777ZZ", "record_referral", referral("K7777ZZ", route))
    assert f"as {words}." in result.text and f"Next: {first}" in result.text
    assert store.episode_facts(case_db, "K7777ZZ").referral_route == route


def route_counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    today = dt.date.today()
    note = reports.minimum_data_set(db, default_knowledge(), reports.Period(today, today)).notes[0]
    listed = note.split("Referrals by route: ")[1].rstrip(".")
    return {} if listed == "none" else {k: int(n) for k, n in (p.rsplit(" ", 1) for p in listed.split(", "))}


def test_a_self_referral_is_recorded_and_counted_as_self_in_the_reports(run, case_db) -> None:
    before = route_counts(case_db)
    result = run(
        ActionRecordReferral(), "K7777ZZ has self referred", "record_referral", referral("K7777ZZ", "self_referral")
    )
    assert "as a self-referral" in result.text
    after = route_counts(case_db)
    assert after.get("self referral", 0) == before.get("self referral", 0) + 1
    assert after.get("staff referral", 0) == before.get("staff referral", 0)


@pytest.mark.parametrize(
    ("text", "routes", "why"),
    [
        ("new referral for K7777ZZ", [], "doesn't say how the referral came in"),
        ("omu say K7777ZZ failed his mdt", ["staff_referral", "positive_drug_test"], "names more than one route"),
    ],
)
def test_an_unclear_route_is_asked_with_a_button_per_route_and_nothing_is_recorded(
    run, case_db, text, routes, why
) -> None:  # type: ignore[no-untyped-def]
    before, audits = episodes(case_db), audit_rows(case_db)
    asked = run(ActionRecordReferral(), text, "record_referral", referral("K7777ZZ", *routes))
    assert why in asked.text and "Nothing is recorded until you choose" in asked.text
    payloads = [b["payload"] for b in asked.buttons]
    assert payloads == [
        f'/record_referral{{"prison_number":"K7777ZZ","referral_route":"{r.value}"}}' for r in ReferralRoute
    ]
    assert (episodes(case_db), audit_rows(case_db)) == (before, audits)

    # Pressing a button records exactly the route it names.
    chosen = payloads[[r.value for r in ReferralRoute].index("illicit_use")]
    card = json.loads(chosen.removeprefix("/record_referral"))
    done = run(
        ActionRecordReferral(), chosen, "record_referral", referral(card["prison_number"], card["referral_route"])
    )
    assert "as an illicit-use referral" in done.text and "72 hours" in done.text
    assert store.episode_facts(case_db, "K7777ZZ").referral_route == "illicit_use"


def test_a_referral_for_the_client_named_earlier_is_confirmed_first(run, case_db) -> None:
    before = episodes(case_db)
    asked = run(
        ActionRecordReferral(),
        "hes self referred",
        "record_referral",
        [{"entity": "referral_route", "value": "self_referral"}],
        {"prison_number": "K7777ZZ"},
    )
    assert "Record a new self-referral for K7777ZZ today?" in asked.text and "named earlier" in asked.text
    assert episodes(case_db) == before
    (yes,) = [b["payload"] for b in asked.buttons if b["title"].startswith("Yes")]
    assert yes == '/record_referral{"prison_number":"K7777ZZ","referral_route":"self_referral"}'

    # An unclear route for the client named earlier is asked too, and says whose it would be.
    unclear = run(ActionRecordReferral(), "log a referral for him", "record_referral", [], {"prison_number": "K7777ZZ"})
    assert "K7777ZZ is the client named earlier" in unclear.text and len(unclear.buttons) == len(ReferralRoute)
    assert episodes(case_db) == before


def a_released_client(db) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(
            select(Client.prison_number)
            .join(Episode)
            .where(Episode.closure_reason == ClosureReason.release)
            .order_by(Episode.closure_date.desc())
            .limit(1)
        )


def engagement(db, number: str) -> tuple:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        episode = session.scalar(select(Episode).join(Client).where(Client.prison_number == number))
        return episode.community_engagement_date, episode.community_not_engaged_date


def test_community_engagement_after_release_is_recorded_and_counted(run, case_db) -> None:
    number = a_released_client(case_db)
    result = run(
        ActionRecordEvent(),
        f"{number} engaged with the community team today",
        "record_event",
        event("community_engagement", "today"),
    )
    assert f"Recorded the first community treatment appointment attended for {number}" in result.text
    assert engagement(case_db, number) == (dt.date.today(), None)

    result = run(
        ActionRecordEvent(),
        f"{number} did not engage with the community team",
        "record_event",
        event("community_non_engagement"),
    )
    assert "Recorded the report that the client did not engage" in result.text
    assert engagement(case_db, number) == (None, dt.date.today())
    with case_db.transaction() as session:
        closed = session.scalar(select(Episode.closure_date).join(Client).where(Client.prison_number == number))
    note = reports.minimum_data_set(case_db, default_knowledge(), reports.Period(closed, closed)).notes[0]
    assert "reported not engaging with community treatment: 1" in note


def test_an_engagement_with_a_negation_is_asked_about_not_recorded(run, case_db) -> None:
    number = a_released_client(case_db)
    before = engagement(case_db, number)
    asked = run(
        ActionRecordEvent(),
        f"{number} refused to engage, never engaged with the community team",
        "record_event",
        event("community_engagement"),
    )
    assert "could be read either way" in asked.text and engagement(case_db, number) == before
    payloads = [b["payload"] for b in asked.buttons]
    today = dt.date.today().isoformat()
    assert payloads[:2] == [
        f'/record_event{{"prison_number":"{number}","event":"community_engagement","date":"{today}"}}',
        f'/record_event{{"prison_number":"{number}","event":"community_non_engagement","date":"{today}"}}',
    ]
    card = json.loads(payloads[1].removeprefix("/record_event"))
    done = run(ActionRecordEvent(), payloads[1], "record_event", [{"entity": k, "value": v} for k, v in card.items()])
    assert "did not engage" in done.text and engagement(case_db, number)[1] == dt.date.today()
