"""The gateway running for real in a background thread, against the fake Bot API and a temporary database."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.settings import Settings
from tests.bot.fake_rasa import FakeRasa
from tests.bot.fake_telegram import FakeTelegram
from throughcare.access import accounts as access
from throughcare.clock import LONDON
from throughcare.db.engine import Database
from throughcare.db.models import Role
from throughcare.demo.caseload import demo_practitioner_id
from throughcare.knowledge.schema import Knowledge

SECRET = b"gateway-test-secret-0123456789"
ADMIN = 1001
STAFF = 2002
# A Wednesday, a working day, after the default digest time.
WORKING_DAY_MORNING = dt.datetime(2026, 12, 2, 9, 0, tzinfo=LONDON)


def gateway_settings(database_url: str, secret: bytes = SECRET, **env: str) -> Settings:
    """Read as `python -m bot` reads them, from environment variables: the database, the secret and `env`."""
    return Settings.from_env({"DATABASE_URL": database_url, "THROUGHCARE_SECRET": secret.decode(), **env})


@dataclass
class Clock:
    now: dt.datetime = WORKING_DAY_MORNING

    def __call__(self) -> dt.datetime:
        return self.now


class RunningGateway:
    """`Application.run_polling` in its own thread and event loop, as `python -m bot` runs it."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.application.run_polling(poll_interval=0.05, timeout=1, stop_signals=None, close_loop=False)

    def start(self) -> RunningGateway:
        self._thread.start()
        self._ready.wait(10)
        return self

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def run_digest(self) -> None:
        """Run the digest job now, as the JobQueue does each minute."""
        (job,) = self.application.job_queue.get_jobs_by_name("digest")
        self.call(job.run(self.application))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.application.stop_running)
        self._thread.join(30)


@dataclass
class Harness:
    telegram: FakeTelegram
    rasa: FakeRasa
    db: Database
    knowledge: Knowledge
    settings: Settings
    clock: Clock = field(default_factory=Clock)
    running: list[RunningGateway] = field(default_factory=list)

    def start(self, **changes: Any) -> RunningGateway:
        """Start a gateway (again, after a restart); `changes` override settings such as the rate limit."""
        application = build_application(replace(self.settings, **changes), self.db, self.knowledge, self.clock)
        gateway = RunningGateway(application).start()
        self.running.append(gateway)
        self.telegram.wait_for(lambda: self.telegram.calls_to("getUpdates"), timeout=20)
        return gateway

    def stop(self) -> None:
        while self.running:
            self.running.pop().stop()

    def approve(self, user_id: int, role: Role = Role.practitioner, staff_id: int | None = None) -> access.Account:
        access.request_access(self.db, user_id, f"User{user_id}")
        return access.approve(self.db, user_id, role, by=None, staff_id=staff_id)

    def say(self, user_id: int, text: str, count: int = 1) -> list[str]:
        """Send a message and return the texts of the next `count` replies to it."""
        before = len(self.telegram.replies(user_id))
        self.telegram.send_text(user_id, text)
        return [r["text"] for r in self.telegram.wait_for_replies(user_id, before + count)[before:]]


@pytest.fixture
def today() -> dt.date:
    """The gateway's clock starts on WORKING_DAY_MORNING, so the demo caseload is dated from that day."""
    return WORKING_DAY_MORNING.date()


@pytest.fixture
def harness(demo_sqlite_url: str, knowledge: Knowledge) -> Iterator[Harness]:
    db = Database.from_url(demo_sqlite_url)
    with FakeTelegram() as telegram, FakeRasa() as rasa:
        settings = gateway_settings(
            demo_sqlite_url,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_ADMIN_IDS=str(ADMIN),
            TELEGRAM_API_URL=telegram.base_url,
            RASA_URL=rasa.url,
        )
        harness = Harness(telegram, rasa, db, knowledge, settings)
        try:
            yield harness
        finally:
            harness.stop()
            db.engine.dispose()


@pytest.fixture
def gateway(harness: Harness) -> RunningGateway:
    return harness.start()


@pytest.fixture
def practitioner(harness: Harness) -> int:
    """STAFF approved and linked to the demo practitioner, whose caseload the demo data fills."""
    harness.approve(STAFF, staff_id=demo_practitioner_id(harness.db))
    return STAFF
