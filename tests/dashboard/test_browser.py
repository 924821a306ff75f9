"""In a real browser (Debian's Chromium): the charts draw the core's figures, a click drills down, a download
arrives and is audited, a mark persists, and the half-year choice changes the commissioner's figures."""

from __future__ import annotations

import csv
import html
import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.dashboard.conftest import Dashboard
from throughcare.db.models import AuditEvent
from throughcare.reporting import reports, review
from throughcare.reporting.reports import Period, QueryFilter


def default_filter(dashboard: Dashboard) -> QueryFilter:
    return QueryFilter(Period.weeks_to(dashboard.today, 12))


def traces(page: Page, chart: str) -> list[dict]:
    """The data plotly.js drew in a chart, once it has drawn it."""
    page.wait_for_selector(f"#chart-{chart} .main-svg")
    return page.evaluate(f"document.getElementById('chart-{chart}').data.map(t => ({{x: t.x, y: t.y, name: t.name}}))")


def test_the_charts_draw_the_cores_figures(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    # An error here would be a chart or script the content security policy or plotly.js refused.
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(dashboard.link(dashboard.manager_id))
    page.wait_for_url(f"{dashboard.url}/")
    fallback = reports.fallback_rate(dashboard.db, default_filter(dashboard))
    [line] = traces(page, "fallback")
    assert line["x"] == [row[0].isoformat() for row in fallback.rows]
    assert line["y"] == [row[3] for row in fallback.rows]
    topics = reports.queries_per_topic_per_week(dashboard.db, default_filter(dashboard))
    bars = traces(page, "topics")
    assert len(bars) == 9
    assert bars[-1]["name"] == "Other topics"
    assert sum(sum(bar["y"]) for bar in bars) == sum(row[2] for row in topics.rows)
    overdue = reports.overdue_by_worker(dashboard.db, dashboard.today)
    [workers] = traces(page, "overdue-workers")
    assert dict(zip(workers["y"], workers["x"], strict=True)) == {row[0]: row[2] for row in overdue.rows}
    caseload = reports.caseload_by_stage_and_level(dashboard.db)
    assert sum(sum(bar["y"]) for bar in traces(page, "caseload")) == sum(row[2] for row in caseload.rows)
    assert problems == []
    context.close()


def test_clicking_a_point_lists_that_weeks_questions_that_fell_back(manager_page: Page, dashboard: Dashboard) -> None:
    fallback = reports.fallback_rate(dashboard.db, default_filter(dashboard))
    manager_page.goto(f"{dashboard.url}/")
    traces(manager_page, "fallback")
    points = manager_page.locator("#chart-fallback .scatterlayer .point")
    expect(points).to_have_count(len(fallback.rows))
    box = points.nth(0).bounding_box()
    assert box is not None
    manager_page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    manager_page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    week, _asked, fell_back, _rate = fallback.rows[0]
    manager_page.wait_for_url(re.compile(rf"/queries\?from={week}&to=[0-9-]+&fell_back=yes$"))
    expect(manager_page.locator("table.queries tbody tr")).to_have_count(fell_back)


def test_a_csv_download_arrives_with_its_header_and_is_audited(manager_page: Page, dashboard: Dashboard) -> None:
    # The link is there before the charts are drawn; no need to wait for them.
    manager_page.goto(f"{dashboard.url}/", wait_until="commit")
    with manager_page.expect_download() as arrived:
        manager_page.get_by_role("link", name="Download the minimum data set (CSV)").click()
    download = arrived.value
    assert download.suggested_filename == "mds-2026H2.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    expected = reports.minimum_data_set(dashboard.db, dashboard.knowledge, Period.parse("2026H2"))
    assert rows[0] == expected.columns
    assert len(rows) == 1 + len(expected.rows)
    with dashboard.db.transaction() as transaction:
        event = transaction.scalar(
            select(AuditEvent).where(AuditEvent.entity == "export").order_by(AuditEvent.id.desc())
        )
    assert event is not None
    assert (event.staff_id, event.action, event.after["parameters"]) == (
        dashboard.manager_id,
        "mds.csv",
        {"half": "2026H2"},
    )


def test_a_question_marked_as_a_knowledge_gap_is_kept_and_listed(manager_page: Page, dashboard: Dashboard) -> None:
    manager_page.goto(f"{dashboard.url}/queries?fell_back=yes")
    row = manager_page.locator("tbody tr").first
    query_id = int((row.get_attribute("id") or "")[1:])
    question = review.logged_query(dashboard.db, query_id)
    assert question is not None and question.mark is None
    row.get_by_label("Comment").fill("Staff ask this weekly: add the chaplaincy's number")
    row.get_by_role("button", name="Knowledge gap").click()
    manager_page.wait_for_url(re.compile(rf"/queries\?.*fell_back=yes.*#q{query_id}$"))
    expect(manager_page.locator(f"#q{query_id} .mark")).to_have_text("Knowledge gap")
    [gap] = [gap for gap in review.knowledge_gaps(dashboard.db) if gap.id == query_id]
    assert gap.comment == "Staff ask this weekly: add the chaplaincy's number"
    manager_page.get_by_role("navigation", name="Pages").get_by_role("link", name="Knowledge gaps").click()
    listed = manager_page.locator(f"#gap{query_id}")
    expect(listed).to_contain_text(question.text)
    expect(listed).to_contain_text("add the chaplaincy's number")


def test_choosing_another_half_year_changes_the_minimum_data_set(manager_page: Page, dashboard: Dashboard) -> None:
    def shown() -> list[list[str]]:
        return [
            [html.unescape(cell) for cell in row.locator("td").all_inner_texts()]
            for row in manager_page.locator("#mds-table tbody tr").all()
        ]

    def expected(half: str) -> list[list[str]]:
        mds = reports.minimum_data_set(dashboard.db, dashboard.knowledge, Period.parse(half))
        return [[measure, str(number), f"{share}%" if share != "" else ""] for measure, number, share in mds.rows]

    manager_page.goto(f"{dashboard.url}/", wait_until="commit")
    expect(manager_page.locator("#mds-table tbody tr")).to_have_count(len(expected("2026H2")))
    assert shown() == expected("2026H2")
    manager_page.get_by_label("Half year").select_option("2026H1")
    manager_page.locator("#six-monthly form.choice").get_by_role("button", name="Show").click()
    manager_page.wait_for_url(re.compile(r"half=2026H1#six-monthly$"))
    assert shown() == expected("2026H1")
    assert expected("2026H1") != expected("2026H2")
    expect(manager_page.get_by_role("heading", name="Minimum data set, January to June 2026")).to_be_visible()


def test_a_link_followed_from_another_site_signs_in(browser: Browser, dashboard: Dashboard) -> None:
    """As from Telegram on the web: the browser withholds a SameSite=Strict cookie after a cross-site redirect,
    which is why signing in moves on by a page of our own instead."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content(f'<a href="{dashboard.link(dashboard.manager_id)}">Open the dashboard</a>')
    page.get_by_role("link", name="Open the dashboard").click()
    page.wait_for_url(f"{dashboard.url}/")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    context.close()
