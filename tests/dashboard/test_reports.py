"""The overview, the review list and the downloads show the core's own figures, and every download is audited."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from sqlalchemy import select

from dashboard.labels import day
from tests.dashboard.conftest import Dashboard
from throughcare import induction, reports, review, store
from throughcare.models import AuditEvent, Role
from throughcare.reports import Period, QueryFilter, Report


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
    newcomer = store.add_staff(db, "Nia Newstart", Role.practitioner, "Recovery team B")
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
