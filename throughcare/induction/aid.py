"""The induction aid: guided tours, scenario quizzes, glossary drills and training records for new starters.

Tours and quizzes are built from `knowledge/` at the moment they are asked for: a tour card shows the
referenced item's own words and source, and the glossary drill draws on every glossary term, so a term
added to the glossary is drilled without any change here. Progress is stored per staff member; each
update is one transaction.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from dateutil.relativedelta import relativedelta
from sqlalchemy import or_, select

from throughcare.db.engine import Database
from throughcare.db.models import DrillCard, QuizAnswer, StaffMember, TourProgress, TrainingRecord, utcnow
from throughcare.errors import CaseError
from throughcare.knowledge.schema import GlossaryTerm, Knowledge, Scenario, Source, Tour

# Leitner boxes: a term answered right moves up a box and comes back after longer; a miss goes back to box 1.
DRILL_INTERVAL_DAYS = {1: 0, 2: 1, 3: 3, 4: 7, 5: 21}
KNOWN_BOX = 4
DRILL_CHOICES = 4
# A tour is weak when at least this share of its scenario answers were wrong.
WEAK_SHARE = 0.5


@dataclass(frozen=True)
class Card:
    tour: Tour
    index: int
    title: str
    text: str
    source: Source

    @property
    def total(self) -> int:
        return len(self.tour.cards)

    @property
    def last(self) -> bool:
        return self.index == self.total - 1


def card(knowledge: Knowledge, tour: Tour, index: int) -> Card:
    title, text, source = knowledge.item_text(tour.cards[index])  # type: ignore[misc]
    return Card(tour, index, title, text, source)


def tour(knowledge: Knowledge, tour_id: str) -> Tour:
    try:
        return knowledge.tours[tour_id]
    except KeyError:
        raise CaseError(f"There is no tour called '{tour_id}'.") from None


def _progress_row(session, staff_id: int, tour_id: str) -> TourProgress:  # type: ignore[no-untyped-def]
    row = session.scalar(select(TourProgress).where(TourProgress.staff_id == staff_id, TourProgress.tour_id == tour_id))
    if row is None:
        row = TourProgress(staff_id=staff_id, tour_id=tour_id, card=0)
        session.add(row)
    return row


def open_tour(db: Database, knowledge: Knowledge, staff_id: int, tour_id: str) -> Card:
    """The card to show: where the person left off, or the first card (again, for a finished tour)."""
    chosen = tour(knowledge, tour_id)
    with db.transaction() as session:
        row = _progress_row(session, staff_id, tour_id)
        if row.completed_at is not None or row.card >= len(chosen.cards):
            row.card = 0
        row.updated_at = utcnow()
        return card(knowledge, chosen, row.card)


def next_card(db: Database, knowledge: Knowledge, staff_id: int, tour_id: str) -> Card | None:
    """Move on one card; None when that finishes the tour (which is then recorded as completed)."""
    chosen = tour(knowledge, tour_id)
    with db.transaction() as session:
        row = _progress_row(session, staff_id, tour_id)
        row.card, row.updated_at = row.card + 1, utcnow()
        if row.card >= len(chosen.cards):
            row.completed_at = utcnow()
            return None
        return card(knowledge, chosen, row.card)


def scenario(knowledge: Knowledge, scenario_id: str) -> Scenario:
    try:
        return knowledge.scenarios[scenario_id]
    except KeyError:
        raise CaseError(f"There is no scenario called '{scenario_id}'.") from None


@dataclass(frozen=True)
class Feedback:
    correct: bool
    chosen: str
    why: str
    right_answer: str
    source: Source


def answer_scenario(db: Database, knowledge: Knowledge, staff_id: int, scenario_id: str, option: int) -> Feedback:
    chosen = scenario(knowledge, scenario_id)
    if not 0 <= option < len(chosen.options):
        raise CaseError("That isn't one of the choices. Pick one of the buttons.")
    picked = chosen.options[option]
    right = next(o for o in chosen.options if o.correct)
    with db.transaction() as session:
        session.add(
            QuizAnswer(
                staff_id=staff_id, kind="scenario", item=scenario_id, tour_id=chosen.tour, correct=picked.correct
            )
        )
    return Feedback(picked.correct, picked.text, picked.feedback, right.text, chosen.source)


def _answers(db: Database, staff_id: int, kind: str) -> list[QuizAnswer]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(QuizAnswer)
                .where(QuizAnswer.staff_id == staff_id, QuizAnswer.kind == kind)
                .order_by(QuizAnswer.id)
            )
        )


def next_scenario(db: Database, knowledge: Knowledge, staff_id: int, tour_id: str | None = None) -> Scenario | None:
    """A scenario not yet answered right, from the weakest subjects first (or from one tour's subject)."""
    answers = _answers(db, staff_id, "scenario")
    solved = {a.item for a in answers if a.correct}
    weak = set(weak_tours(answers))
    candidates = [
        s for s in knowledge.scenarios.values() if s.id not in solved and (tour_id is None or s.tour == tour_id)
    ]
    candidates.sort(key=lambda s: (s.tour not in weak, s.id in {a.item for a in answers}))
    return candidates[0] if candidates else None


def weak_tours(answers: list[QuizAnswer]) -> list[str]:
    """Tours whose scenarios were answered wrongly at least half the time."""
    by_tour: dict[str, list[bool]] = {}
    for answer in answers:
        by_tour.setdefault(answer.tour_id, []).append(answer.correct)
    return sorted(t for t, marks in by_tour.items() if t and marks.count(False) / len(marks) >= WEAK_SHARE)


@dataclass(frozen=True)
class DrillQuestion:
    term: GlossaryTerm
    choices: list[str]
    new: bool

    @property
    def answer(self) -> str:
        return self.term.expansions[0].text


def drill_terms(knowledge: Knowledge) -> list[GlossaryTerm]:
    """The glossary terms that stand for something: "what does Datix stand for?" has no answer to learn."""
    return [t for t in knowledge.glossary if t.expansions[0].text.strip().lower() != t.term.strip().lower()]


def _cards(db: Database, staff_id: int) -> dict[str, DrillCard]:
    with db.transaction() as session:
        return {c.term: c for c in session.scalars(select(DrillCard).where(DrillCard.staff_id == staff_id))}


def next_drill(db: Database, knowledge: Knowledge, staff_id: int, today: dt.date) -> DrillQuestion | None:
    """The term to ask: one due again (lowest box first), else one never asked; None when nothing is due."""
    cards = _cards(db, staff_id)
    pool = drill_terms(knowledge)
    terms = {t.term: t for t in pool}
    due = sorted((c for c in cards.values() if c.due_on <= today and c.term in terms), key=lambda c: (c.box, c.term))
    if due:
        chosen, new = terms[due[0].term], False
    else:
        unseen = [t for name, t in sorted(terms.items()) if name not in cards]
        if not unseen:
            return None
        chosen, new = random.Random(f"{staff_id}:{today}").choice(unseen), True
    rng = random.Random(f"{staff_id}:{chosen.term}")
    others = sorted({t.expansions[0].text for t in pool} - {e.text for e in chosen.expansions})
    choices = [chosen.expansions[0].text, *rng.sample(others, DRILL_CHOICES - 1)]
    rng.shuffle(choices)
    return DrillQuestion(chosen, choices, new)


def answer_drill(db: Database, knowledge: Knowledge, staff_id: int, term: str, choice: str, today: dt.date) -> bool:
    """Record an answer; a right one moves the term up a box, a wrong one back to box 1 (asked again today)."""
    entry = knowledge.find_term(term)
    if entry is None:
        raise CaseError(f"'{term}' isn't in the glossary.")
    correct = choice.strip().lower() in {e.text.lower() for e in entry.expansions}
    with db.transaction() as session:
        row = session.scalar(select(DrillCard).where(DrillCard.staff_id == staff_id, DrillCard.term == entry.term))
        if row is None:
            row = DrillCard(staff_id=staff_id, term=entry.term, box=1, due_on=today)
            session.add(row)
        row.box = min(row.box + 1, max(DRILL_INTERVAL_DAYS)) if correct else 1
        row.due_on = today + dt.timedelta(days=DRILL_INTERVAL_DAYS[row.box])
        session.add(QuizAnswer(staff_id=staff_id, kind="term", item=entry.term, correct=correct))
    return correct


def record_training(
    db: Database, knowledge: Knowledge, staff_id: int, training_id: str, completed_on: dt.date, today: dt.date
) -> None:
    if training_id not in knowledge.training:
        raise CaseError(f"There is no course called '{training_id}' on the training list.")
    if completed_on > today:
        raise CaseError(f"{completed_on:%d %B %Y} is in the future; record a course once it is done.")
    if completed_on < today - dt.timedelta(days=366 * 5):
        raise CaseError(f"{completed_on:%d %B %Y} can't be right. Please check the date.")
    with db.transaction() as session:
        session.add(TrainingRecord(staff_id=staff_id, training_id=training_id, completed_on=completed_on))


@dataclass(frozen=True)
class TrainingStatus:
    id: str
    title: str
    completed_on: dt.date | None
    renew_by: dt.date | None

    def state(self, today: dt.date) -> str:
        if self.completed_on is None:
            return "not done"
        if self.renew_by is not None and self.renew_by < today:
            return f"renewal overdue since {self.renew_by:%d %b %Y}"
        return f"done {self.completed_on:%d %b %Y}" + (f", renew by {self.renew_by:%d %b %Y}" if self.renew_by else "")


@dataclass(frozen=True)
class Progress:
    tours_done: list[str]
    tours_started: list[str]
    scenarios_answered: int
    scenarios_right_first_time: int
    weak: list[str]
    terms_known: int
    terms_seen: int
    terms_due: int
    training: list[TrainingStatus]

    @property
    def score(self) -> float | None:
        return self.scenarios_right_first_time / self.scenarios_answered if self.scenarios_answered else None


def progress(db: Database, knowledge: Knowledge, staff_id: int, today: dt.date) -> Progress:
    with db.transaction() as session:
        tours = list(session.scalars(select(TourProgress).where(TourProgress.staff_id == staff_id)))
        records = list(session.scalars(select(TrainingRecord).where(TrainingRecord.staff_id == staff_id)))
    return _progress(knowledge, today, tours, records, _answers(db, staff_id, "scenario"), _cards(db, staff_id))


def _progress(
    knowledge: Knowledge,
    today: dt.date,
    tours: list[TourProgress],
    records: list[TrainingRecord],
    answers: list[QuizAnswer],
    cards: dict[str, DrillCard],
) -> Progress:
    """One person's progress from their rows: scenario answers in the order given, drill cards by term."""
    first: dict[str, bool] = {}
    for answer in answers:
        first.setdefault(answer.item, answer.correct)
    latest: dict[str, dt.date] = {}
    for record in records:
        latest[record.training_id] = max(latest.get(record.training_id, record.completed_on), record.completed_on)
    training = [
        TrainingStatus(
            course.id,
            course.title,
            latest.get(course.id),
            latest[course.id] + relativedelta(months=course.renew_months)
            if course.id in latest and course.renew_months
            else None,
        )
        for course in knowledge.training.values()
    ]
    return Progress(
        tours_done=[t for t in knowledge.tours if any(p.tour_id == t and p.completed_at for p in tours)],
        tours_started=[t for t in knowledge.tours if any(p.tour_id == t and not p.completed_at for p in tours)],
        scenarios_answered=len(first),
        scenarios_right_first_time=sum(first.values()),
        weak=weak_tours(answers),
        terms_known=sum(1 for c in cards.values() if c.box >= KNOWN_BOX),
        terms_seen=len(cards),
        terms_due=sum(1 for c in cards.values() if c.due_on <= today),
        training=training,
    )


def suggestion(knowledge: Knowledge, mine: Progress, today: dt.date) -> tuple[str, str]:
    """What to do next, in words, and the payload of a button that does it."""
    for tour_id in mine.tours_started:
        return f'Carry on with the tour "{knowledge.tours[tour_id].title}".', f"tour:{tour_id}"
    if mine.weak:
        weakest = knowledge.tours[mine.weak[0]]
        return f'Go over "{weakest.title}" again: some answers on it were wrong.', f"tour:{weakest.id}"
    for tour_id in knowledge.tours:
        if tour_id not in mine.tours_done:
            return f'Take the tour "{knowledge.tours[tour_id].title}".', f"tour:{tour_id}"
    if mine.terms_due:
        return f"Drill the {mine.terms_due} glossary terms due again today.", "drill"
    if mine.scenarios_answered < len(knowledge.scenarios):
        return "Try a practice scenario.", "scenario"
    missing = [t for t in mine.training if t.completed_on is None or (t.renew_by and t.renew_by < today)]
    if missing:
        return f"Record your {missing[0].title} once you have done it.", "progress"
    return "You have done every tour and scenario. Keep the glossary fresh with a drill.", "drill"


def everyones_progress(
    db: Database, knowledge: Knowledge, today: dt.date, team: str | None = None
) -> list[tuple[StaffMember, Progress]]:
    """Everyone who has started any part of the induction or recorded training (in `team`, if given), by name,
    with their progress. Five queries, however many staff there are: the managers' report runs on every
    dashboard load."""
    started = or_(
        StaffMember.id.in_(select(TourProgress.staff_id)),
        StaffMember.id.in_(select(QuizAnswer.staff_id)),
        StaffMember.id.in_(select(TrainingRecord.staff_id)),
    )
    chosen = select(StaffMember.id).where(started, *([StaffMember.team == team] if team is not None else []))
    with db.transaction() as session:
        members = list(
            session.scalars(select(StaffMember).where(StaffMember.id.in_(chosen)).order_by(StaffMember.display_name))
        )
        tours = _by_staff(session.scalars(select(TourProgress).where(TourProgress.staff_id.in_(chosen))))
        records = _by_staff(session.scalars(select(TrainingRecord).where(TrainingRecord.staff_id.in_(chosen))))
        answers = _by_staff(
            session.scalars(
                select(QuizAnswer)
                .where(QuizAnswer.staff_id.in_(chosen), QuizAnswer.kind == "scenario")
                .order_by(QuizAnswer.id)
            )
        )
        cards = _by_staff(session.scalars(select(DrillCard).where(DrillCard.staff_id.in_(chosen))))
    return [
        (
            member,
            _progress(
                knowledge,
                today,
                tours.get(member.id, []),
                records.get(member.id, []),
                answers.get(member.id, []),
                {card.term: card for card in cards.get(member.id, [])},
            ),
        )
        for member in members
    ]


class _StaffRow(Protocol):
    staff_id: int


Row = TypeVar("Row", bound=_StaffRow)


def _by_staff(rows: Iterable[Row]) -> dict[int, list[Row]]:
    """Rows of several staff members, each one's in the order they came."""
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.staff_id, []).append(row)
    return grouped
