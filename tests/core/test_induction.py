"""Tours, scenarios and glossary drills come from the knowledge base; progress is stored and resumed."""

from __future__ import annotations

import datetime as dt

import pytest

from throughcare.cases import staff_members
from throughcare.db.engine import Database
from throughcare.db.models import Role
from throughcare.errors import CaseError
from throughcare.induction import aid as induction
from throughcare.knowledge.schema import Expansion, GlossaryTerm, Knowledge, Source

TODAY = dt.date(2026, 12, 2)


@pytest.fixture
def newcomer(database: Database) -> tuple[Database, int]:
    return database, staff_members.add_staff(database, "New Starter", Role.practitioner, "Recovery team A")


def test_a_tour_shows_each_referenced_item_in_its_own_words_and_resumes(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    tour = knowledge.tours["client_journey"]
    first = induction.open_tour(db, knowledge, staff, tour.id)
    assert (first.index, first.total) == (0, len(tour.cards))
    assert (first.title, first.text, first.source) == knowledge.item_text(tour.cards[0])
    second = induction.next_card(db, knowledge, staff, tour.id)
    assert second.index == 1
    # Another conversation, another day: the tour picks up where it was left.
    assert induction.open_tour(db, knowledge, staff, tour.id).index == 1
    for _ in range(len(tour.cards) - 2):
        assert induction.next_card(db, knowledge, staff, tour.id) is not None
    assert induction.next_card(db, knowledge, staff, tour.id) is None
    mine = induction.progress(db, knowledge, staff, TODAY)
    assert mine.tours_done == ["client_journey"] and mine.tours_started == []
    with pytest.raises(CaseError, match="no tour"):
        induction.open_tour(db, knowledge, staff, "no_such_tour")


def test_scenario_scores_and_weak_subjects(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    first = induction.next_scenario(db, knowledge, staff)
    wrong = next(n for n, o in enumerate(first.options) if not o.correct)
    right = next(n for n, o in enumerate(first.options) if o.correct)
    feedback = induction.answer_scenario(db, knowledge, staff, first.id, wrong)
    assert not feedback.correct and feedback.why == first.options[wrong].feedback
    assert feedback.right_answer == first.options[right].text and feedback.source == first.source
    assert induction.progress(db, knowledge, staff, TODAY).weak == [first.tour]
    # A subject answered wrongly comes back first, and the missed scenario is offered again.
    assert induction.next_scenario(db, knowledge, staff).tour == first.tour
    assert induction.answer_scenario(db, knowledge, staff, first.id, right).correct
    mine = induction.progress(db, knowledge, staff, TODAY)
    assert (mine.scenarios_answered, mine.scenarios_right_first_time) == (1, 0)
    assert induction.next_scenario(db, knowledge, staff).id != first.id
    with pytest.raises(CaseError, match="isn't one of the choices"):
        induction.answer_scenario(db, knowledge, staff, first.id, 9)


def test_the_glossary_drill_repeats_missed_terms_and_spaces_known_ones(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    question = induction.next_drill(db, knowledge, staff, TODAY)
    assert question.new and question.answer in question.choices and len(set(question.choices)) == 4
    wrong = next(c for c in question.choices if c != question.answer)
    assert not induction.answer_drill(db, knowledge, staff, question.term.term, wrong, TODAY)
    # Missed: asked again the same day, before any new term.
    again = induction.next_drill(db, knowledge, staff, TODAY)
    assert again.term == question.term and not again.new
    assert induction.answer_drill(db, knowledge, staff, question.term.term, question.answer, TODAY)
    # Right: box 2, not due again until tomorrow, so a new term comes next.
    assert induction.next_drill(db, knowledge, staff, TODAY).term != question.term
    assert induction.next_drill(db, knowledge, staff, TODAY + dt.timedelta(days=1)).term == question.term
    for days in (1, 4, 11):
        assert induction.answer_drill(
            db, knowledge, staff, question.term.term, question.answer, TODAY + dt.timedelta(days=days)
        )
    assert induction.progress(db, knowledge, staff, TODAY + dt.timedelta(days=12)).terms_known == 1


def test_a_term_added_to_the_glossary_is_drilled_without_code_changes(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    source = Source(document="001", section="Glossary")
    added = GlossaryTerm(term="ZZQ", expansions=[Expansion(text="Zebra Zone Quota", source=source)], explanation="x")
    extended = knowledge.model_copy(update={"glossary": [*knowledge.glossary, added]})
    asked: set[str] = set()
    for _ in range(len(induction.drill_terms(extended))):
        question = induction.next_drill(db, extended, staff, TODAY)
        asked.add(question.term.term)
        induction.answer_drill(db, extended, staff, question.term.term, question.answer, TODAY)
    assert "ZZQ" in asked and asked == {t.term for t in induction.drill_terms(extended)}
    assert "Datix" not in asked  # its "expansion" is the word itself: nothing to learn
    assert induction.next_drill(db, extended, staff, TODAY) is None


def test_training_is_recorded_with_renewal_dates(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    annual = next(c for c in knowledge.training.values() if c.renew_months == 12)
    once = next(c for c in knowledge.training.values() if c.renew_months is None)
    induction.record_training(db, knowledge, staff, annual.id, dt.date(2025, 11, 1), TODAY)
    induction.record_training(db, knowledge, staff, once.id, dt.date(2026, 11, 30), TODAY)
    status = {t.id: t for t in induction.progress(db, knowledge, staff, TODAY).training}
    assert status[annual.id].renew_by == dt.date(2026, 11, 1)
    assert status[annual.id].state(TODAY).startswith("renewal overdue")
    assert status[once.id].state(TODAY) == "done 30 Nov 2026"
    with pytest.raises(CaseError, match="future"):
        induction.record_training(db, knowledge, staff, once.id, TODAY + dt.timedelta(days=1), TODAY)
    with pytest.raises(CaseError, match="training list"):
        induction.record_training(db, knowledge, staff, "juggling", TODAY, TODAY)


def test_an_annual_course_is_due_on_the_same_day_a_year_on_not_earlier(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    annual = next(c for c in knowledge.training.values() if c.renew_months == 12)
    # A day after the 28th: the renewal date must keep it (it used to move to the 28th, so showed overdue early).
    induction.record_training(db, knowledge, staff, annual.id, dt.date(2026, 3, 30), TODAY)
    status = {t.id: t for t in induction.progress(db, knowledge, staff, TODAY).training}
    assert status[annual.id].renew_by == dt.date(2027, 3, 30)
    assert not status[annual.id].state(dt.date(2027, 3, 29)).startswith("renewal overdue")


def test_the_suggestion_follows_progress(newcomer, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    db, staff = newcomer
    first_tour = next(iter(knowledge.tours))
    advice, action = induction.suggestion(knowledge, induction.progress(db, knowledge, staff, TODAY), TODAY)
    assert action == f"tour:{first_tour}" and knowledge.tours[first_tour].title in advice
    induction.open_tour(db, knowledge, staff, "transfer")
    advice, action = induction.suggestion(knowledge, induction.progress(db, knowledge, staff, TODAY), TODAY)
    assert action == "tour:transfer" and "Carry on" in advice
