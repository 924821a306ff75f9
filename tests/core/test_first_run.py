"""Production never touches demo data: the run scripts migrate and run, and on a database with no staff they say
how to add the first administrator (throughcare/access/first_run.py). Only demo mode loads the demo caseload."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.servers import free_port
from throughcare.access.first_run import FIRST_ADMINISTRATOR, first_run_message, main
from throughcare.cli import app
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import Client, GuidanceQuery, StaffMember

SECRET = "first-run-secret-0123456789"
RUN_SCRIPTS = ("serve", "bot", "dashboard", "background-servers.sh", "env.sh")


def _counts(url: str) -> tuple[int, int, int]:
    db = Database.from_url(url)
    with db.transaction() as session:
        counted = tuple(
            session.scalar(select(func.count()).select_from(table)) for table in (StaffMember, Client, GuidanceQuery)
        )
    db.engine.dispose()
    return counted  # type: ignore[return-value]


def test_the_dashboard_script_on_an_empty_database_adds_no_demo_staff_and_says_how_to_add_the_first_administrator(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"  # not even migrated: the script does that
    env = {
        **{k: v for k, v in os.environ.items() if k != "THROUGHCARE_DEMO"},
        "DATABASE_URL": url,
        "THROUGHCARE_SECRET": SECRET,
        "DASHBOARD_PORT": str(free_port()),
    }
    out = tmp_path / "dashboard.log"
    with out.open("w") as log:
        dashboard = subprocess.Popen(
            [str(REPO_ROOT / "scripts" / "dashboard")], env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while "dashboard-link" not in out.read_text() and dashboard.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        said = out.read_text()
    finally:
        os.killpg(dashboard.pid, signal.SIGTERM)
        dashboard.wait(timeout=30)
    assert FIRST_ADMINISTRATOR in said, said
    assert "demo manager" not in said
    assert _counts(url) == (0, 0, 0)


def test_the_first_administrator_instructions_are_commands_that_work(sqlite_url: str) -> None:
    """The two commands the message prints, run as printed against an empty database, give a sign-in link."""
    commands = [shlex.split(line.split("(")[0]) for line in FIRST_ADMINISTRATOR.splitlines() if "throughcare" in line]
    add, link = (command[1:] for command in commands)
    assert add[:2] == ["staff", "add"] and link[0] == "dashboard-link"
    env = {"DATABASE_URL": sqlite_url, "THROUGHCARE_SECRET": SECRET}
    added = CliRunner().invoke(app, add, env=env)
    assert added.exit_code == 0, added.output
    staff_id = re.search(r"\d+", added.output).group()  # type: ignore[union-attr]
    linked = CliRunner().invoke(app, [staff_id if part == "STAFF_ID" else part for part in link], env=env)
    assert linked.exit_code == 0 and "/login?token=" in linked.output
    # Once there is staff, the servers say nothing more.
    assert first_run_message(Database.from_url(sqlite_url)) is None


def test_in_demo_mode_only_the_dashboard_offers_the_demo_managers_link(
    demo_sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_sqlite_url)
    monkeypatch.setenv("THROUGHCARE_SECRET", SECRET)
    monkeypatch.delenv("THROUGHCARE_DEMO", raising=False)
    assert main(["--dashboard"]) == 0
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("THROUGHCARE_DEMO", "1")
    assert main([]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--dashboard"]) == 0
    assert "demo manager" in capsys.readouterr().out


def _recipes(*targets: str) -> str:
    """Every command `make TARGETS` would run, with every prerequisite taken as out of date (nothing is run)."""
    made = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", *targets],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout


def test_demo_data_is_loaded_only_by_the_demo_targets_never_by_serve_bot_or_dashboard() -> None:
    recipes = _recipes("serve", "bot", "dashboard")
    assert all(f"scripts/{target}" in recipes for target in ("serve", "bot", "dashboard"))
    assert "demo-data" not in recipes and "THROUGHCARE_DEMO" not in recipes
    for script in RUN_SCRIPTS:
        text = (REPO_ROOT / "scripts" / script).read_text()
        commands = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert "demo-data" not in commands and "--demo-manager" not in commands, script
        assert "THROUGHCARE_DEMO=1" not in commands and "export THROUGHCARE_DEMO" not in commands, script
    for target in ("demo", "demo-dashboard"):
        recipes = _recipes(target)
        assert "demo-data" in recipes and "THROUGHCARE_DEMO=1" in recipes, target
