"""A new starter over Rasa's REST channel: a tour, a scenario answered wrongly then rightly, and progress
that is still there in the next conversation."""

import datetime as dt
import uuid

import pytest

from throughcare.induction import aid as induction
from throughcare.knowledge.loader import default_knowledge

pytestmark = pytest.mark.rasa


def press(assistant, sender: str, reply: list[dict], title: str) -> list[dict]:  # type: ignore[no-untyped-def]
    buttons = [b for message in reply for b in message.get("buttons") or []]
    (chosen,) = [b for b in buttons if b["title"] == title]
    return assistant.say(sender, chosen["payload"])


def text(reply: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in reply)


def test_a_new_starter_takes_a_tour_and_a_quiz_and_sees_progress(assistant) -> None:  # type: ignore[no-untyped-def]
    knowledge = default_knowledge()
    sender = f"induction-{uuid.uuid4().hex[:8]}"
    welcome = assistant.say(sender, "I'm new, where do I start?")
    assert "Suggested next" in text(welcome)
    tour = next(iter(knowledge.tours.values()))
    card = press(assistant, sender, welcome, tour.title)
    assert f"{tour.title} (1 of {len(tour.cards)})" in text(card) and "Source:" in text(card)
    second = press(assistant, sender, card, "Next")
    assert f"(2 of {len(tour.cards)})" in text(second)

    quiz = assistant.say(sender, "give me a practice scenario")
    scenario = next(s for s in knowledge.scenarios.values() if s.title in text(quiz))
    letters = "ABCDE"
    wrong = letters[next(n for n, o in enumerate(scenario.options) if not o.correct)]
    right = letters[next(n for n, o in enumerate(scenario.options) if o.correct)]
    missed = press(assistant, sender, quiz, wrong)
    assert text(missed).startswith("Not quite") and f"Source: {scenario.source}" in text(missed)
    got = press(assistant, sender, quiz, right)
    assert text(got).startswith("Right.")

    stored = induction.progress(assistant.db, knowledge, assistant.staff_id, dt.date.today())
    assert tour.id in stored.tours_started and scenario.tour in stored.weak

    # A new conversation: the progress is read from the database, not the tracker.
    later = f"induction-{uuid.uuid4().hex[:8]}"
    progress = text(assistant.say(later, "how am I doing with my induction"))
    assert "Your induction so far" in progress and f'Carry on with the tour "{tour.title}"' in progress
