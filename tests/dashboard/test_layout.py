"""Every page reads at a desktop width and on a phone: nothing is wider than the window, and the review buttons
can be pressed where they are, without scrolling sideways. A screenshot of each page at each width is kept in
the test's temporary folder for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.dashboard.conftest import Dashboard
from throughcare.db.models import ReviewMark
from throughcare.reporting import review
from throughcare.reporting.reports import Period, QueryFilter

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
PAGES = {"overview": "/", "queries": "/queries", "fell-back": "/queries?fell_back=yes", "gaps": "/gaps"}


@pytest.fixture(scope="module")
def a_gap(dashboard: Dashboard) -> None:
    """A knowledge gap with a long comment, so that the gaps page has a table to lay out."""
    [first], _total = review.logged_queries(dashboard.db, QueryFilter(Period.weeks_to(dashboard.today, 12)), limit=1)
    comment = "Staff ask this every week; the answer should name the chaplaincy's extension and the hours it is open."
    review.mark_query(dashboard.db, first.id, ReviewMark.knowledge_gap, comment, dashboard.manager_id)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(params=list(WIDTHS), scope="module")
def sized(request: pytest.FixtureRequest, browser: Browser, dashboard: Dashboard) -> Iterator[tuple[str, Page]]:
    """A page signed in as the demo manager, in a window of one of the widths."""
    width, height = WIDTHS[request.param]
    context: BrowserContext = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(dashboard.link(dashboard.manager_id))
    page.wait_for_url(f"{dashboard.url}/")
    yield request.param, page
    context.close()


def page_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window: what a reader would have to scroll sideways to see."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def unreachable(page: Page, selector: str) -> list[str]:
    """The elements matching `selector` that lie, as the page is drawn and without scrolling sideways, outside
    the window or under something else (cut off by a container that scrolls, for one)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].flatMap((element) => {
            element.scrollIntoView({block: "center", inline: "nearest"});
            window.scrollTo(0, window.scrollY);
            document.querySelectorAll(".scroll").forEach((box) => { box.scrollLeft = 0; });
            const box = element.getBoundingClientRect();
            const x = box.left + box.width / 2, y = box.top + box.height / 2;
            const hit = document.elementFromPoint(x, y);
            const inside = box.left >= 0 && box.right <= window.innerWidth && box.width > 0;
            return inside && (hit === element || element.contains(hit)) ? [] : [element.textContent.trim()];
        })""",
        selector,
    )


@pytest.mark.usefixtures("a_gap")
@pytest.mark.parametrize("name", list(PAGES))
def test_no_page_is_wider_than_the_window(
    sized: tuple[str, Page], dashboard: Dashboard, screenshots: Path, name: str
) -> None:
    width, page = sized
    page.goto(f"{dashboard.url}{PAGES[name]}")
    if name == "overview":
        page.wait_for_selector("#chart-fallback .main-svg")
    page.screenshot(path=screenshots / f"{name}-{width}.png", full_page=True)
    assert page_overflow(page) <= 0


def test_the_refusal_page_fits_a_phone(browser: Browser, dashboard: Dashboard, screenshots: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{dashboard.url}/")
    page.screenshot(path=screenshots / "refused-phone.png", full_page=True)
    assert page_overflow(page) <= 0
    context.close()


@pytest.mark.parametrize("name", ["queries", "fell-back"])
def test_the_review_buttons_are_in_reach(sized: tuple[str, Page], dashboard: Dashboard, name: str) -> None:
    _width, page = sized
    page.goto(f"{dashboard.url}{PAGES[name]}")
    first = page.locator("table.queries tbody tr").first
    buttons = first.locator(".mark-buttons button")
    assert buttons.count() == 3
    assert unreachable(page, "table.queries tbody tr:first-child .mark-buttons button") == []
    assert unreachable(page, "table.queries tbody tr:first-child input[name=comment]") == []
    for n in range(buttons.count()):
        buttons.nth(n).click(trial=True)
