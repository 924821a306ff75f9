"""The dashboard served for real by uvicorn on a free loopback port over a demo database, and a real browser.

The server runs in a background thread for the whole session; tests that mark queries or download reports
only add to what the others read, and each compares the page with the core's own figures at that moment.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select

from dashboard import session
from dashboard.app import create_app
from tests.conftest import SqliteTemplates
from throughcare.access import accounts as access
from throughcare.db.engine import Database
from throughcare.db.models import StaffMember
from throughcare.knowledge.schema import Knowledge

# A Wednesday in the second half of the year: the demo's released clients fall in both half years.
TODAY = dt.date(2026, 12, 2)
SECRET = b"dashboard-test-secret-0123456789"
CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Dashboard:
    url: str
    db: Database
    knowledge: Knowledge
    today: dt.date
    manager_id: int
    practitioner_id: int

    def link(self, staff_id: int, now: float | None = None, secret: bytes = SECRET) -> str:
        """A sign-in link as the assistant hands one out (issued at `now`, signed with `secret`)."""
        issued = dt.datetime.fromtimestamp(now, dt.timezone.utc) if now is not None else None
        return access.dashboard_link(self.db, staff_id, secret, base_url=self.url, now=issued)

    def session_id(self, staff_id: int) -> str:
        """A session opened for this staff member with a fresh link, as /login opens one."""
        url = httpx.URL(self.link(staff_id))
        opened = access.open_dashboard_session(self.db, url.params["token"], url.params["nonce"], SECRET)
        assert opened is not None
        return opened.session_id

    def client(self, staff_id: int | None = None) -> httpx.Client:
        """An HTTP client, holding the session a sign-in link gives this staff member."""
        cookies = {session.COOKIE: self.session_id(staff_id)} if staff_id is not None else {}
        return httpx.Client(base_url=self.url, cookies=cookies, timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _staff_id(db: Database, name: str) -> int:
    with db.transaction() as transaction:
        staff_id = transaction.scalar(select(StaffMember.id).where(StaffMember.display_name == name))
    assert staff_id is not None, name
    return staff_id


@pytest.fixture(scope="session")
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, sqlite_templates: SqliteTemplates, knowledge: Knowledge
) -> Iterator[Dashboard]:
    db = Database.from_url(sqlite_templates.copy(tmp_path_factory.mktemp("dashboard") / "throughcare.db", TODAY))
    port = _free_port()
    app = create_app(db, knowledge, SECRET, today=lambda: TODAY)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ws="none", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard did not start within 30 seconds")
        time.sleep(0.05)
    yield Dashboard(
        f"http://127.0.0.1:{port}",
        db,
        knowledge,
        TODAY,
        _staff_id(db, "Morgan Manager"),
        _staff_id(db, "Demo Practitioner"),
    )
    server.should_exit = True
    thread.join(10)
    db.engine.dispose()


# Playwright's sync API keeps its event loop marked as running in the main thread while it is started, so that
# asyncio.run() fails there: the browser lives for this package's tests only and stops after the last of them, also
# when pytest-xdist runs other tests after them in the same process.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} for the browser tests: apt-get install chromium to run them")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def manager_context(browser: Browser, dashboard: Dashboard) -> Iterator[BrowserContext]:
    """A browser signed in as the demo manager through a sign-in link, kept for the package's tests so that
    plotly.js is fetched and compiled once."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(dashboard.link(dashboard.manager_id))
    page.wait_for_url(f"{dashboard.url}/")
    page.close()
    yield context
    context.close()


@pytest.fixture
def manager_page(manager_context: BrowserContext) -> Iterator[Page]:
    page = manager_context.new_page()
    yield page
    page.close()
