"""One settings object (throughcare/config.py): servers refuse to start without what they need and say what it is;
one rule for the signing secret; no silent fallback to a database file in the repository."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings as GatewaySettings
from dashboard.__main__ import main as dashboard_main
from throughcare import config
from throughcare.access import accounts as access
from throughcare.access import identity
from throughcare.config import REPO_ROOT, Settings, SettingsError
from throughcare.db import engine as db
from throughcare.knowledge.loader import KnowledgeError, load_knowledge

STRONG = "s" * config.MIN_SECRET_LENGTH
SETTINGS_NAMES = (
    "DATABASE_URL",
    "THROUGHCARE_SECRET",
    "THROUGHCARE_DEMO",
    "TELEGRAM_BOT_TOKEN",
    "DASHBOARD_URL",
    "DASHBOARD_HOST",
    "DASHBOARD_PORT",
    "THROUGHCARE_HOST",
    "ENDPOINTS",
)


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process's environment with none of the settings a server needs."""
    for name in SETTINGS_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SETTINGS_NAMES}


def test_outside_demo_mode_the_servers_refuse_to_start_and_name_each_missing_setting(tmp_path: Path) -> None:
    check = subprocess.run(
        [sys.executable, "-m", "throughcare.config"], env=_without_settings(), capture_output=True, text=True
    )
    assert check.returncode == 2
    problems = [line for line in check.stderr.splitlines() if line.startswith("- ")]
    assert len(problems) == 2
    assert problems[0].startswith("- Set DATABASE_URL") and 'README, "Settings"' in problems[0]
    assert problems[1].startswith("- Set THROUGHCARE_SECRET") and 'README, "Settings"' in problems[1]

    # The one that is set is not asked for.
    only_secret = {**_without_settings(), "DATABASE_URL": f"sqlite:///{tmp_path / 'cases.db'}"}
    check = subprocess.run(
        [sys.executable, "-m", "throughcare.config"], env=only_secret, capture_output=True, text=True
    )
    assert check.returncode == 2
    assert "THROUGHCARE_SECRET" in check.stderr and "DATABASE_URL" not in check.stderr

    ready = {**only_secret, "THROUGHCARE_SECRET": STRONG}
    assert subprocess.run([sys.executable, "-m", "throughcare.config"], env=ready).returncode == 0

    # Rasa and the action server also need to be told where conversations go: not the checkout's SQLite file.
    serving = subprocess.run(
        [sys.executable, "-m", "throughcare.config", "--serve"],
        env={k: v for k, v in ready.items() if k != "ENDPOINTS"},
        capture_output=True,
        text=True,
    )
    assert serving.returncode == 2 and serving.stderr.count("\n- ") == 1 and "- Set ENDPOINTS" in serving.stderr
    demo = {**_without_settings(), "THROUGHCARE_DEMO": "1", "THROUGHCARE_SECRET": STRONG}
    assert subprocess.run([sys.executable, "-m", "throughcare.config", "--serve"], env=demo).returncode == 0


def test_the_dashboard_and_the_gateway_refuse_to_start_without_them_too(
    bare: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dashboard_main() == 2
    said = capsys.readouterr().err
    assert "Set DATABASE_URL" in said and "Set THROUGHCARE_SECRET" in said

    with pytest.raises(SettingsError) as refused:
        GatewaySettings.from_env({"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert [p.split(" ")[1] for p in refused.value.problems] == ["DATABASE_URL", "THROUGHCARE_SECRET"]

    gateway = subprocess.run([sys.executable, "-m", "bot.settings"], env=_without_settings(), capture_output=True)
    assert gateway.returncode == 2
    assert b"TELEGRAM_BOT_TOKEN" in gateway.stderr and b"DATABASE_URL" in gateway.stderr


def test_no_silent_fallback_to_a_database_file_in_the_repository(bare: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="Set DATABASE_URL"):
        db.database_url()
    # The CLI says so too, in a line rather than a traceback.
    cli = subprocess.run(
        [str(REPO_ROOT / ".venv/bin/throughcare"), "db", "upgrade"],
        env=_without_settings(),
        capture_output=True,
        text=True,
    )
    said = cli.stdout + cli.stderr
    assert cli.returncode == 2 and said.startswith("Set DATABASE_URL") and "Traceback" not in said

    bare.setenv("THROUGHCARE_DEMO", "1")
    assert db.database_url() == f"sqlite:///{REPO_ROOT / 'var' / 'throughcare.db'}"
    bare.setenv("DATABASE_URL", "postgresql+psycopg://x@db/throughcare")
    assert db.database_url() == "postgresql+psycopg://x@db/throughcare"


@pytest.mark.parametrize(
    ("secret", "strong"),
    [("", False), ("s" * (config.MIN_SECRET_LENGTH - 1), False), (STRONG, True), (STRONG + "more", True)],
)
def test_the_secret_length_rule_is_one_rule_for_every_consumer(
    bare: pytest.MonkeyPatch, secret: str, strong: bool
) -> None:
    bare.setenv("THROUGHCARE_SECRET", secret)
    bare.setenv("DATABASE_URL", "sqlite://")
    # The action server and the CLI (identity), the gateway and the dashboard's start all take it or refuse it.
    assert (identity.secret_from_env() is not None) == strong
    assert (config.secret_problem(secret) is None) == strong
    assert (Settings.from_env().problems() == []) == strong
    try:
        gateway = GatewaySettings.from_env({**os.environ, "TELEGRAM_BOT_TOKEN": "123:abc"})
        assert strong and gateway.secret == secret.encode()
    except SettingsError as refused:
        assert not strong
        assert refused.problems == [config.secret_problem(secret)]


def test_a_malformed_setting_is_named_and_a_secret_is_never_echoed(bare: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"DASHBOARD_PORT": "eighty"})
    assert refused.value.problems[0].startswith("DASHBOARD_PORT is not valid") and "'eighty'" in str(refused.value)
    with pytest.raises(SettingsError) as refused:
        GatewaySettings.from_env({"TELEGRAM_BOT_TOKEN": "t", "DATABASE_URL": "sqlite://", "DIGEST_TIME": "25:99"})
    assert "DIGEST_TIME" in str(refused.value)
    assert "s3cret" not in repr(Settings.from_env({"THROUGHCARE_SECRET": "s3cret" * 4}))


def test_the_knowledge_directory_is_a_setting(bare: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bare.setenv("THROUGHCARE_KNOWLEDGE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(KnowledgeError):  # the checkout's knowledge/ loads; an empty directory does not
        load_knowledge()


def test_sign_in_links_point_where_the_settings_say(bare: pytest.MonkeyPatch) -> None:
    assert access.dashboard_url() == "http://127.0.0.1:8050"
    bare.setenv("DASHBOARD_PORT", "8060")
    assert access.dashboard_url() == "http://127.0.0.1:8060"
    bare.setenv("DASHBOARD_URL", "https://dashboard.example/")
    assert access.dashboard_url() == "https://dashboard.example"


# Reads of the environment allowed outside throughcare/config.py: Rasa's ${VARIABLES} in the endpoints file, as
# Rasa reads them, and the location of the protocol documents for the grounding test.
ALLOWED = {"throughcare/cases/retention.py", "throughcare/knowledge/grounding.py"}


def test_settings_are_read_from_the_environment_in_one_place() -> None:
    readers = []
    for folder in ("throughcare", "actions", "bot", "dashboard"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            name = str(path.relative_to(REPO_ROOT))
            if name in ALLOWED or name == "throughcare/config.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                    readers.append(f"{name}:{node.lineno}")
    assert readers == []
