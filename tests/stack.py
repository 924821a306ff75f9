"""`make production` (scripts/production) started for a test or a benchmark: N Rasa and M action servers behind
HAProxy under supervisord, on free ports, with a fresh case schema holding the demo caseload (never a production
database), conversations in the same PostgreSQL database and Rasa's locks in Redis.

    with production_stack(tmp_path, rasa_servers=2, action_servers=2) as stack:
        stack.say("conversation-1", "what's next for A1234BC?")

The PostgreSQL URL and the Redis host and port can name servers of the caller's own (to restart them mid-test,
say); by default the shared test servers, and a test is skipped when those do not run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import POSTGRES_URL
from tests.servers import (
    MODEL,
    REDIS,
    SECRET,
    START_TIMEOUT,
    _drop_schema,
    _production_settings,
    free_port,
    free_port_block,
)
from throughcare import clock
from throughcare.access import identity
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.migrate import upgrade
from throughcare.demo.caseload import demo_practitioner_id, load_demo_data

HEADER = "X-Conversation-Id"


@dataclass
class Stack:
    url: str
    stats: str
    ready: str
    conf: Path
    log: Path
    staff_id: int
    rasa_servers: tuple[str, ...]
    action_servers: tuple[str, ...]
    # The settings scripts/production was started with (DATABASE_URL, RASA_BACKEND_PORT, ...).
    env: dict[str, str] = field(repr=False)
    tracker: Engine = field(repr=False)

    def say(self, sender: str, message: str, timeout: float = 90, client: httpx.Client | None = None) -> httpx.Response:
        """Sends `message` signed as the demo practitioner, through HAProxy, as our clients do."""
        metadata = {identity.METADATA_KEY: identity.sign(self.staff_id, SECRET.encode(), subject=sender)}
        body = {"sender": sender, "message": message, "metadata": metadata}
        post = client.post if client is not None else httpx.post
        return post(self.url, json=body, headers={HEADER: sender}, timeout=timeout)

    def supervisorctl(self, *args: str) -> str:
        command = [str(REPO_ROOT / ".venv/bin/supervisorctl"), "-c", str(self.conf), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()

    def pid(self, program: str) -> int:
        return int(self.supervisorctl("pid", program))

    def states(self) -> dict[str, str]:
        """Each server's state as HAProxy's health checks see it (UP, DOWN, ...)."""
        rows = httpx.get(f"{self.stats};csv", timeout=5).text.splitlines()
        return {row.split(",")[1]: row.split(",")[17] for row in rows[1:] if row and row.split(",")[1][-1].isdigit()}

    def events(self, sender: str) -> list[tuple[str, str | None]]:
        """The conversation's events in the tracker store, in the order Rasa stored them: (type, user's text)."""
        with self.tracker.connect() as conn:
            rows = conn.execute(
                text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
            )
            return [(kind, json.loads(data).get("text") if kind == "user" else None) for kind, data in rows]


def wait_for(check: Callable[[], bool], timeout: float, what: str, log: Path) -> float:
    """Seconds until `check()` holds; fails with every program's log tail if it does not within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except (httpx.HTTPError, ValueError, IndexError):
            pass  # HAProxy or supervisord not answering yet
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(log.glob("*.log")))
    pytest.fail(f"{what} not within {timeout:.0f}s:\n{logs}")


@contextmanager
def production_stack(
    tmp_path: Path,
    *,
    rasa_servers: int = 2,
    action_servers: int = 2,
    postgres_url: str = POSTGRES_URL,
    redis: tuple[str, int] = REDIS,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """scripts/production on free ports, yielded once every server is UP in HAProxy; on exit everything is
    stopped and the case schema dropped."""
    if shutil.which("haproxy") is None:
        pytest.skip("HAProxy is not installed (apt-get install haproxy): the production stack runs behind it")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make test` (it trains the model first).")
    settings, endpoints = _production_settings(tmp_path, postgres_url=postgres_url, redis=redis)
    try:
        upgrade(settings["DATABASE_URL"])
        db = Database.from_url(settings["DATABASE_URL"])
        load_demo_data(db, clock.today())
        staff_id = demo_practitioner_id(db)
        db.engine.dispose()
        run = tmp_path / "run"
        rasa_port, stats_port = free_port(), free_port()
        # Only the settings given here: none of the caller's own Telegram, dashboard, Rasa or action settings.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "THROUGHCARE_", "DASHBOARD_", "RASA_", "ACTION_"))
        }
        env.update(
            settings,
            THROUGHCARE_SECRET=SECRET,
            ENDPOINTS=str(endpoints),
            RASA_SERVERS=str(rasa_servers),
            ACTION_SERVERS=str(action_servers),
            RASA_PORT=str(rasa_port),
            ACTION_PORT=str(free_port()),
            STATS_PORT=str(stats_port),
            RASA_BACKEND_PORT=str(free_port_block(rasa_servers)),
            ACTION_BACKEND_PORT=str(free_port_block(action_servers)),
            DASHBOARD_PORT=str(free_port()),
            PRODUCTION_DIR=str(run),
        )
        env.update(extra_env or {})
        out = tmp_path / "production.log"
        with out.open("w") as log:
            process = subprocess.Popen(
                [str(REPO_ROOT / "scripts/production")], cwd=REPO_ROOT, env=env, stdout=log, stderr=log
            )
        stack = Stack(
            url=f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            stats=f"http://127.0.0.1:{stats_port}/stats",
            ready=f"http://127.0.0.1:{stats_port}/ready",
            conf=run / "supervisord.conf",
            log=run / "log",
            staff_id=staff_id,
            rasa_servers=tuple(f"rasa{i}" for i in range(1, rasa_servers + 1)),
            action_servers=tuple(f"actions{i}" for i in range(1, action_servers + 1)),
            env=env,
            tracker=create_engine(postgres_url),
        )
        try:

            def all_up() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"scripts/production stopped while starting:\n{out.read_text()[-3000:]}")
                states = stack.states()
                return all(states.get(name) == "UP" for name in stack.rasa_servers + stack.action_servers)

            wait_for(all_up, START_TIMEOUT, "every server up behind HAProxy", run / "log")
            yield stack
        finally:
            process.send_signal(signal.SIGTERM)  # supervisord (the script execs it) stops every program
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
            stack.tracker.dispose()
    finally:
        _drop_schema(settings["CASE_SCHEMA"], postgres_url)
