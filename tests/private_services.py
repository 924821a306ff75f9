"""A PostgreSQL and a Redis of a test's own, on spare loopback ports, that the test may stop, kill and start
again mid-run (tests/e2e/test_chaos.py): the shared servers on 5432 and 6379 are never touched.

PostgreSQL refuses to run as root, so as root its programs run as the `postgres` user, on a data directory
outside pytest's temporary folders (which only root may enter).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.servers import free_port

UP_WITHIN = 30.0


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class PrivatePostgres:
    data: Path
    port: int
    log: Path
    user: str | None  # the account its programs run as when we are root

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/chaos"

    def pg_ctl(self, *args: str) -> None:
        command = [str(_postgres_bin("pg_ctl")), "-D", str(self.data), "-w", "-t", str(int(UP_WITHIN)), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=UP_WITHIN + 30)
        if done.returncode != 0:
            pytest.fail(f"pg_ctl {' '.join(args)} failed: {done.stderr}\n{self.log.read_text()[-2000:]}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
        self.pg_ctl("-l", str(self.log), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: what an operator's restart does (open transactions rolled back, clients disconnected);
        `immediate`: as if the server had crashed."""
        self.pg_ctl("-m", mode, "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    initdb = _postgres_bin("initdb")
    if initdb is None or _postgres_bin("pg_ctl") is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    user = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="tc-chaos-pg-"))
    data, log = folder / "data", folder / "postgres.log"
    if user:
        account = pwd.getpwnam(user)
        os.chown(folder, account.pw_uid, account.pw_gid)
    command = [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
    if user:
        command = ["runuser", "-u", user, "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    server = PrivatePostgres(data=data, port=free_port(), log=log, user=user)
    server.start()
    try:
        admin = create_engine(server.url.replace("/chaos", "/postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE chaos"))
        admin.dispose()
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        # Nothing saved to disk: a restarted Redis starts empty, as one that lost its memory would.
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + UP_WITHIN
        while not _accepts_connections(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: as if the kernel had ended it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = PrivateRedis(port=free_port())
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()
