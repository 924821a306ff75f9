"""The real action server and Rasa, trained model and all, on free loopback ports (the `assistant` fixture).

Two profiles: the embedded default (SQLite for cases and conversations) and production (PostgreSQL for
cases and conversations, Redis for Rasa's lock store), the latter skipped with a reason when no server runs.
A test runs on both unless it names one: `@pytest.mark.parametrize("assistant", ["embedded"], indirect=True)`.
Every test that uses the fixture is marked `rasa`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL, postgres_unavailable_reason
from tests.embedded import embedded_endpoints, free_port
from throughcare.access import identity
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.migrate import upgrade
from throughcare.demo.caseload import demo_practitioner_id, load_demo_data

MODEL = REPO_ROOT / "models" / "throughcare.tar.gz"
SECRET = "e2e-secret-0123456789abcdef"
REDIS = ("127.0.0.1", 6379)
START_TIMEOUT = 300


def redis_unavailable_reason(redis: tuple[str, int] = REDIS) -> str | None:
    try:
        with socket.create_connection(redis, timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                return f"Redis at {redis[0]}:{redis[1]} did not answer PING"
    except OSError as err:
        return f"no Redis at {redis[0]}:{redis[1]} ({err})"
    return None


@dataclass
class Assistant:
    profile: str
    url: str
    db: Database
    staff_id: int
    # Both servers write here; with the Rasa process id, for tests that read errors or memory from outside.
    log: Path
    rasa_pid: int

    def say(self, sender: str, text: str, signed: bool = True) -> list[dict]:
        metadata = (
            {identity.METADATA_KEY: identity.sign(self.staff_id, SECRET.encode(), subject=sender)} if signed else {}
        )
        reply = httpx.post(self.url, json={"sender": sender, "message": text, "metadata": metadata}, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def text(self, sender: str, text: str, signed: bool = True) -> str:
        return "\n".join(m.get("text") or "" for m in self.say(sender, text, signed))


def wait_until_up(urls: list[str], processes: list[subprocess.Popen], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            pytest.fail(f"a server stopped while starting:\n{log.read_text()[-3000:]}")
        try:
            if all(httpx.get(u, timeout=2).status_code == 200 for u in urls):
                return
        except httpx.HTTPError:
            pass  # not listening yet: Rasa only opens its port once the model is loaded
        time.sleep(1)
    pytest.fail(f"servers not up within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def _drop_schema(schema: str, postgres_url: str = POSTGRES_URL) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _production_settings(
    tmp_path: Path, *, postgres_url: str = POSTGRES_URL, redis: tuple[str, int] = REDIS
) -> tuple[dict[str, str], Path]:
    """Settings for the production profile on a fresh case schema of `postgres_url` (conversations in the same
    database), with Rasa's locks in `redis`; skipped when the shared test servers are not running. A caller that
    names its own servers started them, so one that does not answer is an error, not a skip."""
    if postgres_url == POSTGRES_URL:
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(f"production profile needs PostgreSQL and Redis: {reason}")
    if redis == REDIS:
        reason = redis_unavailable_reason()
        if reason:
            pytest.skip(f"production profile needs PostgreSQL and Redis: {reason}")
    schema = f"tc_e2e_{uuid.uuid4().hex[:8]}"
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = httpx.URL(postgres_url.replace("postgresql+psycopg", "http"))
    env = {
        "DATABASE_URL": f"{postgres_url}?options=-csearch_path%3D{schema}",
        "TRACKER_DB_HOST": url.host,
        "TRACKER_DB_PORT": str(url.port or 5432),
        "TRACKER_DB_NAME": url.path.strip("/"),
        "TRACKER_DB_USER": url.username or "postgres",
        "TRACKER_DB_PASSWORD": url.password or "",
        "REDIS_HOST": redis[0],
        "REDIS_PORT": str(redis[1]),
        "REDIS_DB": "1",
        "CASE_SCHEMA": schema,
    }
    return env, REPO_ROOT / "endpoints.production.yml"


@pytest.fixture(scope="session", params=["embedded", "production"])
def assistant(request, tmp_path_factory) -> Iterator[Assistant]:  # type: ignore[no-untyped-def]
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make test` (it trains the model first).")
    tmp_path = tmp_path_factory.mktemp(request.param)
    action_port, rasa_port = free_port(), free_port()
    if request.param == "embedded":
        settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cases.db'}"}
        endpoints = embedded_endpoints(tmp_path, action_port)
    else:
        settings, endpoints = _production_settings(tmp_path)
        settings["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{action_port}/webhook"
    upgrade(settings["DATABASE_URL"])
    db = Database.from_url(settings["DATABASE_URL"])
    load_demo_data(db, dt.date.today())
    env = {
        **os.environ,
        **settings,
        identity.SECRET_ENV: SECRET,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "SANIC_HOST": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
    }
    log = tmp_path / "servers.log"
    with log.open("w") as out:
        processes = [
            subprocess.Popen(
                [
                    str(REPO_ROOT / ".venv/bin/python"),
                    "-m",
                    "rasa_sdk",
                    "--actions",
                    "actions",
                    "--port",
                    str(action_port),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=out,
            ),
            subprocess.Popen(
                [
                    str(REPO_ROOT / ".venv-rasa/bin/python"),
                    "-m",
                    "rasa_components.server",
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(rasa_port),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    "credentials.yml",
                    "--model",
                    str(MODEL),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=out,
            ),
        ]
        try:
            wait_until_up([f"http://127.0.0.1:{action_port}/health", f"http://127.0.0.1:{rasa_port}/"], processes, log)
            url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
            yield Assistant(request.param, url, db, demo_practitioner_id(db), log, processes[1].pid)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            db.engine.dispose()
            if "CASE_SCHEMA" in settings:
                _drop_schema(settings["CASE_SCHEMA"])


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free loopback ports (for scripts that number their servers from a port)."""
    for _ in range(200):
        first = free_port()
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    pytest.fail(f"no {count} consecutive free ports")
