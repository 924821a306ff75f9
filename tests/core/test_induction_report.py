"""The managers' induction report: the same figures as each person's own progress, in a fixed number of queries
however many staff have started."""

from __future__ import annotations

import datetime as dt

from tests.conftest import statements
from throughcare.cases import staff_members
from throughcare.db.engine import Database
from throughcare.db.models import Role
from throughcare.induction import aid as induction
from throughcare.knowledge.schema import Knowledge
from throughcare.reporting import reports

TODAY = dt.date(2026, 12, 2)


def start_induction(db: Database, knowledge: Knowledge, staff: int) -> None:
    """Some of everything the report counts: a tour begun, a scenario answered, a term drilled, a course done."""
    tours = list(knowledge.tours)
    induction.open_tour(db, knowledge, staff, tours[staff % len(tours)])
    scenario = list(knowledge.scenarios.values())[staff % len(knowledge.scenarios)]
    induction.answer_scenario(db, knowledge, staff, scenario.id, staff % len(scenario.options))
    term = induction.drill_terms(knowledge)[staff % 5]
    induction.answer_drill(db, knowledge, staff, term.term, term.expansions[0].text, TODAY)
    course = list(knowledge.training)[staff % len(knowledge.training)]
    induction.record_training(db, knowledge, staff, course, TODAY - dt.timedelta(days=staff), TODAY)


def add_starters(db: Database, knowledge: Knowledge, first: int, last: int) -> None:
    for n in range(first, last):
        team = f"Recovery team {'AB'[n % 2]}"
        start_induction(db, knowledge, staff_members.add_staff(db, f"Starter {n:02}", Role.practitioner, team))


def test_the_report_runs_as_many_queries_for_thirty_staff_as_for_three(
    database: Database, knowledge: Knowledge
) -> None:
    add_starters(database, knowledge, 0, 3)
    with statements(database) as few:
        three = reports.induction_progress(database, knowledge, TODAY)
    add_starters(database, knowledge, 3, 30)
    with statements(database) as many:
        thirty = reports.induction_progress(database, knowledge, TODAY)
    assert (len(three.rows), len(thirty.rows)) == (3, 30)
    assert len(many) == len(few)
    with statements(database) as one_team:
        team_a = reports.induction_progress(database, knowledge, TODAY, "Recovery team A")
    assert len(one_team) == len(few)
    assert [row for row in thirty.rows if row[1] == "Recovery team A"] == team_a.rows


def test_everyones_progress_is_each_persons_own(database: Database, knowledge: Knowledge) -> None:
    add_starters(database, knowledge, 0, 6)
    # Someone who has not started is left out.
    staff_members.add_staff(database, "Not Yet", Role.practitioner, "Recovery team A")
    everyone = induction.everyones_progress(database, knowledge, TODAY)
    assert [member.display_name for member, _ in everyone] == [f"Starter {n:02}" for n in range(6)]
    for member, mine in everyone:
        assert mine == induction.progress(database, knowledge, member.id, TODAY)
