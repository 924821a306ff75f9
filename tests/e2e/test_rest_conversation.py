"""Whole conversations over Rasa's REST channel, through the trained model and the action server."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from throughcare.cases import store
from throughcare.db.models import Episode, GuidanceQuery, ReferralRoute
from throughcare.knowledge.loader import default_knowledge

pytestmark = pytest.mark.rasa


def conversation() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def a_referred_client(assistant) -> str:  # type: ignore[no-untyped-def]
    with assistant.db.transaction() as session:
        episode = session.scalars(select(Episode).where(Episode.stage == "referred").order_by(Episode.id)).first()
        return episode.client.prison_number


def test_recorded_event_reaches_the_database_and_the_next_answer(assistant) -> None:
    sender = conversation()
    number = a_referred_client(assistant)
    first = assistant.text(sender, f"whats next for {number.lower()}")
    assert number in first and "Initial assessment" in first and "Source: 000" in first

    recorded = assistant.text(sender, f"IA done for {number} yesterday")
    assert "Recorded the initial assessment" in recorded
    yesterday = dt.date.today() - dt.timedelta(days=1)
    assert store.episode_facts(assistant.db, number).initial_assessment_date == yesterday

    # The prison number said earlier carries over.
    after = assistant.text(sender, "whats next for him")
    assert number in after and "Triage assessment" in after and "Initial assessment" not in after


def test_unsigned_senders_get_protocol_answers_but_no_case_data(assistant) -> None:
    sender = conversation()
    refused = assistant.text(sender, "whats next for A1234BC", signed=False)
    assert "signed-in staff" in refused and "Care plan review" not in refused
    protocol = assistant.text(sender, "how often do high risk clients get reviewed", signed=False)
    assert "Source: 000" in protocol


def test_a_checklist_walk_with_a_skip_reason_is_stored(assistant) -> None:
    sender = conversation()
    started = assistant.text(sender, "start the transfer checklist for A1234BC")
    assert "step 1 of" in started
    assistant.text(sender, "done")
    asked = assistant.text(sender, "skip")
    assert "reason" in asked
    assistant.text(sender, "receiving prison has no email address")
    progress = store.episode_facts(assistant.db, "A1234BC").progress
    assert progress[("transfer", "support_known_transfer")] == "done"
    assert progress[("transfer", "ndtms_form")] == "skipped"
    term = assistant.text(sender, "what does ACCT mean")
    assert "ACCT" in term and "Source: 001" in term


def test_every_message_is_logged_for_managers(assistant) -> None:
    sender = conversation()
    assistant.text(sender, "what does TTG mean")
    with assistant.db.transaction() as session:
        rows = session.scalars(select(GuidanceQuery).where(GuidanceQuery.conversation_id == sender)).all()
    assert [(r.text, r.action) for r in rows] == [("what does TTG mean", "action_define_term")]
    assert rows[0].cited and rows[0].intent == "define_term"


def a_new_client(assistant, prefix: str) -> str:  # type: ignore[no-untyped-def]
    """A client referred just now, so the test owns their record whatever else the session has done."""
    number = f"{prefix}{uuid.uuid4().int % 10_000:04d}ZZ"
    store.record_referral(
        assistant.db, default_knowledge(), number, ReferralRoute.staff_referral, dt.date.today(), assistant.staff_id
    )
    return number


def buttons(replies: list[dict]) -> dict[str, str]:
    return {b["title"]: b["payload"] for r in replies for b in r.get("buttons") or []}


def test_done_pressed_after_a_question_about_another_client_lands_on_the_walks_client(assistant) -> None:
    sender = conversation()
    walked, other = a_new_client(assistant, "W"), a_new_client(assistant, "X")
    card = buttons(assistant.say(sender, f"start the initial assessment checklist for {walked}"))
    asked = assistant.text(sender, f"when is {other}'s triage due?")
    assert other in asked and f"checklist for {walked}" in asked

    done = assistant.text(sender, card["Done"])
    assert "Marked done" in done and walked in done
    assert store.episode_facts(assistant.db, walked).progress
    assert store.episode_facts(assistant.db, other).progress == {}

    # Pressing the same Done again (a double press) changes nothing and says so.
    again = assistant.text(sender, card["Done"])
    assert "nothing was changed" in again
    assert len(store.episode_facts(assistant.db, walked).progress) == 1


def test_stop_while_the_skip_reason_is_asked_skips_nothing(assistant) -> None:
    sender = conversation()
    walked = a_new_client(assistant, "Y")
    card = buttons(assistant.say(sender, f"start the initial assessment checklist for {walked}"))
    assert "reason" in assistant.text(sender, card["Skip"])
    stopped = assistant.text(sender, "/checklist_stop")
    assert "Stopped" in stopped and "Skipped" not in stopped
    assert store.episode_facts(assistant.db, walked).progress == {}
    # The conversation is not left waiting for a reason: the next words are read as a question.
    assert "Source:" in assistant.text(sender, "what does TTG mean")


def test_an_unsigned_sender_cannot_steer_a_signed_walk(assistant) -> None:
    sender = conversation()
    walked, other = a_new_client(assistant, "V"), a_new_client(assistant, "U")
    card = buttons(assistant.say(sender, f"start the initial assessment checklist for {walked}"))
    peek = assistant.say(sender, "what does TTG mean", signed=False)
    assert walked not in str(peek)
    assistant.text(sender, f"whats next for {other}", signed=False)
    assert "reason" in assistant.text(sender, card["Skip"])
    assert "signed-in staff" in assistant.text(sender, "because I say so", signed=False)
    # The signed owner carries on: their Done lands on their walk's client, and no reason lingers.
    assert walked in assistant.text(sender, "done")
    progress = store.episode_facts(assistant.db, walked).progress
    assert list(progress.values()) == ["done"]
    assert store.episode_facts(assistant.db, other).progress == {}
