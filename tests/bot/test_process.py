"""`python -m bot` as it runs in production: the webhook's secret token, and a token that never reaches the logs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bot.conftest import ADMIN, SECRET, STAFF
from tests.bot.fake_telegram import FakeTelegram
from tests.servers import free_port
from throughcare.access import accounts as access
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import Role

WEBHOOK_SECRET = "webhook-secret-0123456789"
# Starting the gateway is imports and a database check: seconds, but a minute on a loaded CI machine. What the tests
# time is what it does once up.
STARTED_WITHIN = 120


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def _start(telegram: FakeTelegram, sqlite_url: str, log: Path, **settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_ADMIN_IDS": str(ADMIN),
        "THROUGHCARE_SECRET": SECRET.decode(),
        "DATABASE_URL": sqlite_url,
        "RASA_URL": f"http://127.0.0.1:{free_port()}/webhooks/rest/webhook",  # nothing listens: Rasa is down
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def test_the_webhook_answers_only_requests_with_telegram_s_secret_token(
    telegram: FakeTelegram, sqlite_url: str, tmp_path: Path
) -> None:
    port = free_port()
    process = _start(
        telegram,
        sqlite_url,
        tmp_path / "bot.log",
        TELEGRAM_WEBHOOK_URL="https://throughcare.example/telegram-hook",
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_WEBHOOK_PORT=str(port),
    )
    try:
        registered = telegram.wait_for(lambda: telegram.webhook, STARTED_WITHIN)
        assert registered["url"] == "https://throughcare.example/telegram-hook"
        assert registered["secret_token"] == WEBHOOK_SECRET
        url = f"http://127.0.0.1:{port}/telegram-hook"
        telegram.wait_for(lambda: _listening(url))
        update = telegram.send_text(ADMIN, "/start")
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed-0123456789"}):
            assert httpx.post(url, json=update, headers=headers).status_code == 403
        answer = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
        assert answer.status_code == 200
        (welcome,) = telegram.wait_for_replies(ADMIN, 1)
        assert "signed in as administrator" in welcome["text"]
    finally:
        _stop(process)


def _listening(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


def test_the_bot_token_never_appears_in_the_logs(telegram: FakeTelegram, sqlite_url: str, tmp_path: Path) -> None:
    db = Database.from_url(sqlite_url)
    access.request_access(db, STAFF, "Sam")
    access.approve(db, STAFF, Role.practitioner, by=None)
    telegram.fail("getUpdates", 502, "Bad Gateway", times=2)
    log = tmp_path / "bot.log"
    process = _start(telegram, sqlite_url, log)
    try:
        telegram.wait_for(lambda: telegram.calls_to("getUpdates"), STARTED_WITHIN)
        telegram.send_text(STAFF, "what's next for A1234BC?")
        (reply,) = telegram.wait_for_replies(STAFF, 1)
        assert "didn't answer" in reply["text"] and "Sending it again is safe" in reply["text"]
    finally:
        _stop(process)
    output = log.read_text()
    assert "Assistant unavailable" in output and "Bad Gateway" in output
    assert telegram.token not in output and SECRET.decode() not in output


def test_a_wrong_token_stops_the_gateway_without_printing_it(
    telegram: FakeTelegram, sqlite_url: str, tmp_path: Path
) -> None:
    wrong = "654321:WRONG-token-zyxwvutsrqponml"
    log = tmp_path / "bot.log"
    process = _start(telegram, sqlite_url, log, TELEGRAM_BOT_TOKEN=wrong)
    assert process.wait(timeout=60) == 1
    output = log.read_text()
    assert "The Telegram gateway stopped" in output and wrong not in output


def test_missing_settings_are_named(tmp_path: Path, sqlite_url: str, telegram: FakeTelegram) -> None:
    log = tmp_path / "bot.log"
    process = _start(telegram, sqlite_url, log, TELEGRAM_BOT_TOKEN="")
    assert process.wait(timeout=60) == 2
    assert "Set TELEGRAM_BOT_TOKEN" in log.read_text()
