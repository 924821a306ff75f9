"""The gateway's settings are the core's (throughcare/config.py) plus its own, read, defaulted, checked and refused
the same way: no second copy of the machinery in bot/settings.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys

import pytest

from bot.settings import Settings
from tests.bot.conftest import SECRET
from throughcare.config import REPO_ROOT, SettingsError

ENV = {"TELEGRAM_BOT_TOKEN": " 123:abc ", "DATABASE_URL": "sqlite://", "THROUGHCARE_SECRET": SECRET.decode()}


def test_each_default_is_declared_once_in_the_environment_the_gateway_reads() -> None:
    assert [f.name for f in dataclasses.fields(Settings) if f.default is not dataclasses.MISSING] == []
    settings = Settings.from_env({**ENV, "THROUGHCARE_HOST": "10.0.0.5", "TELEGRAM_ADMIN_IDS": "12; 13"})
    assert (settings.token, settings.secret, settings.admin_ids) == ("123:abc", SECRET, frozenset({12, 13}))
    assert (settings.digest_time, settings.rate_limit, settings.webhook_url) == (dt.time(8, 30), 20, None)
    assert (settings.webhook_listen, settings.webhook_port) == ("10.0.0.5", 8443)
    assert "123:abc" not in repr(settings) and SECRET.decode() not in repr(settings)


def test_malformed_administrator_ids_are_named_as_every_malformed_setting_is() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**ENV, "TELEGRAM_ADMIN_IDS": "12, alice"})
    (problem,) = refused.value.problems
    assert problem.startswith("TELEGRAM_ADMIN_IDS is not valid (") and "'12, alice'" in problem


def test_the_gateway_and_its_check_refuse_to_start_in_the_same_words() -> None:
    bare = {"PATH": os.environ["PATH"]}
    said = [
        subprocess.run([sys.executable, "-m", module], env=bare, cwd=REPO_ROOT, capture_output=True, text=True)
        for module in ("bot", "bot.settings")
    ]
    assert [run.returncode for run in said] == [2, 2]
    assert said[0].stderr == said[1].stderr
    assert said[0].stderr.startswith("The Telegram gateway can't start:\n- Set TELEGRAM_BOT_TOKEN")
