"""Databases, logs and the signing secret are created owner-only (0600), whatever umask the caller had."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database

PERMISSIVE = 0o022  # a common default: new files readable by everyone


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def permissive_umask() -> None:
    os.umask(PERMISSIVE)


@pytest.fixture
def permissive() -> Iterator[None]:
    before = os.umask(PERMISSIVE)
    yield
    os.umask(before)


def test_a_database_made_by_the_cli_is_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "cases.db"
    subprocess.run(
        [str(REPO_ROOT / ".venv/bin/throughcare"), "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        preexec_fn=permissive_umask,
        check=True,
        capture_output=True,
    )
    assert mode(database) == 0o600


def test_a_database_any_server_opens_is_owner_only_with_its_write_ahead_log(tmp_path: Path, permissive: None) -> None:
    database = tmp_path / "var" / "cases.db"
    db = Database.from_url(f"sqlite:///{database}")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (text TEXT)")
        connection.exec_driver_sql("INSERT INTO note VALUES ('A1234BC')")
    written = [database, database.with_name("cases.db-wal"), database.with_name("cases.db-shm")]
    assert {path.name: mode(path) for path in written if path.exists()} == {path.name: 0o600 for path in written}
    assert mode(database.parent) == 0o700
    db.engine.dispose()


def test_logs_secret_and_databases_under_the_run_scripts_are_owner_only(tmp_path: Path) -> None:
    # A checkout made before the scripts set a umask: its database was readable by everyone.
    (tmp_path / "var").mkdir()
    older = tmp_path / "var" / "throughcare.db"
    older.write_bytes(b"")
    older.chmod(0o644)
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv")
    # Demo mode: the scripts make the checkout's secret and use its SQLite file.
    env = {k: v for k, v in os.environ.items() if k not in ("THROUGHCARE_SECRET", "DATABASE_URL")}
    env["THROUGHCARE_DEMO"] = "1"
    subprocess.run(
        ["bash", "-c", f"source {REPO_ROOT / 'scripts/env.sh'} && echo started > var/log/serve.log"],
        cwd=tmp_path,
        env=env,
        preexec_fn=permissive_umask,
        check=True,
    )
    var = tmp_path / "var"
    assert mode(var / "log" / "serve.log") == 0o600
    assert mode(var / "secret") == 0o600
    assert mode(older) == 0o600
    assert (mode(var), mode(var / "log")) == (0o700, 0o700)
