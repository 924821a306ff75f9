"""`make serve`'s script as an operator runs it: servers on this machine only, and no demo data."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.servers import MODEL, SECRET, embedded_endpoints, free_port, wait_until_up
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import StaffMember

pytestmark = pytest.mark.rasa
LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port`, read from the kernel's tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_served_assistant_listens_on_loopback_only_and_loads_no_demo_data(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make test` (it trains the model first).")
    rasa_port, action_port = free_port(), free_port()
    endpoints = embedded_endpoints(tmp_path, action_port)
    database_url = f"sqlite:///{tmp_path / 'cases.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "THROUGHCARE_HOST"},
        "DATABASE_URL": database_url,
        "ENDPOINTS": str(endpoints),
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "THROUGHCARE_SECRET": SECRET,
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [str(REPO_ROOT / "scripts" / "serve")], env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        wait_until_up([f"http://127.0.0.1:{action_port}/health", f"http://127.0.0.1:{rasa_port}/"], [serve], log)
        assert listening_addresses(rasa_port) == {LOOPBACK}
        assert listening_addresses(action_port) == {LOOPBACK}
        reply = httpx.post(
            f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            json={"sender": "operator", "message": "what does TTG mean?"},
            timeout=60,
        )
        assert "Source:" in reply.json()[0]["text"]
        db = Database.from_url(database_url)
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(StaffMember)) == 0
        db.engine.dispose()
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)
