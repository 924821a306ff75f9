"""The induction aid through the action, with a real Tracker: typed first messages, then buttons."""

from __future__ import annotations

import json
import re

from actions.common import NOT_SIGNED_IN
from actions.induction import ActionInduction
from throughcare.demo.caseload import demo_practitioner_id
from throughcare.induction import aid as induction


def press(run, button_payload: str):  # type: ignore[no-untyped-def]
    """Run the action as Rasa does for a button: the payload's entities, with the JSON's span."""
    body = button_payload.split("{", 1)[1]
    entities = [{"entity": k, "value": v, "start": 10, "end": 20} for k, v in json.loads("{" + body).items()]
    return run(ActionInduction(), button_payload, "induction", entities)


def payload_of(result, title: str) -> str:  # type: ignore[no-untyped-def]
    return next(b["payload"] for b in result.buttons if b["title"] == title)


def test_a_new_starter_is_welcomed_and_taken_through_a_tour(run, case_db, knowledge) -> None:  # type: ignore[no-untyped-def]
    welcome = run(ActionInduction(), "I'm new, where do I start?", "induction")
    assert "Suggested next: Take the tour" in welcome.text
    first_tour = next(iter(knowledge.tours.values()))
    card = press(run, payload_of(welcome, "Start there"))
    assert f"{first_tour.title} (1 of {len(first_tour.cards)})" in card.text and first_tour.intro in card.text
    title, text, source = knowledge.item_text(first_tour.cards[0])
    assert title in card.text
    assert text in card.text and f"Source: {source}" in card.text
    assert [b["title"] for b in card.buttons] == ["Next", "Tell me more", "Ask a question"]
    more = press(run, payload_of(card, "Tell me more"))
    assert "Source:" in more.text
    second = press(run, payload_of(card, "Next"))
    assert f"(2 of {len(first_tour.cards)})" in second.text
    staff = demo_practitioner_id(case_db)
    assert induction.progress(case_db, knowledge, staff, induction.dt.date.today()).tours_started == [first_tour.id]


def test_a_scenario_answered_wrongly_then_rightly_with_feedback_and_source(run, knowledge) -> None:  # type: ignore[no-untyped-def]
    question = run(ActionInduction(), "quiz me", "induction")
    scenario = next(s for s in knowledge.scenarios.values() if s.title in question.text)
    letters = [b["title"] for b in question.buttons]
    assert letters == list("ABCDE")[: len(scenario.options)]
    right = next(n for n, o in enumerate(scenario.options) if o.correct)
    wrong = next(n for n, o in enumerate(scenario.options) if not o.correct)
    missed = press(run, question.buttons[wrong]["payload"])
    assert missed.text.startswith("Not quite") and scenario.options[wrong].feedback in missed.text
    assert f"Source: {scenario.source}" in missed.text
    got = press(run, question.buttons[right]["payload"])
    assert got.text.startswith("Right.") and scenario.options[right].feedback in got.text
    progress = run(ActionInduction(), "how am I doing", "induction")
    assert "0 of 1 right first time" in progress.text and knowledge.tours[scenario.tour].title in progress.text


def test_a_glossary_drill_question_and_answer(run, knowledge) -> None:  # type: ignore[no-untyped-def]
    question = run(ActionInduction(), "test me on acronyms", "induction")
    term = re.search(r"What does (.+) stand for\?", question.text)[1]
    entry = knowledge.find_term(term)
    right = next(b for b in question.buttons if b["title"] == entry.expansions[0].text)
    answered = press(run, right["payload"])
    assert answered.text.startswith("Right.") and f"Source: {entry.expansions[0].source}" in answered.text


def test_training_is_recorded_from_a_sentence(run, knowledge) -> None:  # type: ignore[no-untyped-def]
    course = next(c for c in knowledge.training.values() if "rcgp" in c.id)
    recorded = run(ActionInduction(), f"I completed my {course.title} on 3/11/2026", "induction")
    assert recorded.text.startswith(f"Recorded: {course.title}, completed Tue 3 Nov 2026")
    assert "done 03 Nov 2026" in run(ActionInduction(), "my progress", "induction").text


def test_unsigned_senders_get_no_induction_records(run) -> None:  # type: ignore[no-untyped-def]
    assert run(ActionInduction(), "quiz me", "induction", signed=False).text == NOT_SIGNED_IN


def test_a_training_question_is_answered_from_the_protocol_to_anyone_and_never_recorded(run) -> None:  # type: ignore[no-untyped-def]
    unsigned = run(ActionInduction(), "what training do new starters have to complete", "induction", signed=False)
    assert "RCGP" in unsigned.text and "Source: 000" in unsigned.text
    assert NOT_SIGNED_IN not in unsigned.text
    signed = run(ActionInduction(), "by when must I have finished the rcgp level 1?", "induction")
    assert "probation" in signed.text
    assert "Recorded" not in signed.text
    assert "Welcome" in signed.text
