"""The gateway's settings, all from the environment so the same code runs a small service and production."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

from throughcare import identity

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_RASA_URL = "http://localhost:5005/webhooks/rest/webhook"
# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


class SettingsError(ValueError):
    """A missing or malformed setting, named so that whoever runs the bot can fix it."""


@dataclass(frozen=True)
class Settings:
    token: str
    secret: bytes
    admin_ids: frozenset[int] = frozenset()
    api_url: str = DEFAULT_API_URL
    rasa_url: str = DEFAULT_RASA_URL
    digest_time: dt.time = dt.time(8, 30)
    # Messages a minute one person may send before the gateway asks them to slow down.
    rate_limit: int = 20
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise SettingsError("Set TELEGRAM_BOT_TOKEN to the token BotFather gave you.")
        secret = env.get(identity.SECRET_ENV, "")
        if len(secret) < 16:
            raise SettingsError(f"Set {identity.SECRET_ENV} (16 characters or more), the same as the action server's.")
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL") or None
        webhook_secret = env.get("TELEGRAM_WEBHOOK_SECRET") or None
        if webhook_url and not (webhook_secret and WEBHOOK_SECRET.match(webhook_secret)):
            raise SettingsError(
                "A webhook needs TELEGRAM_WEBHOOK_SECRET: 16 to 256 characters of letters, digits, _ and -."
            )
        return cls(
            token=token,
            secret=secret.encode(),
            admin_ids=_ids(env.get("TELEGRAM_ADMIN_IDS", "")),
            api_url=env.get("TELEGRAM_API_URL") or DEFAULT_API_URL,
            rasa_url=env.get("RASA_URL") or DEFAULT_RASA_URL,
            digest_time=_time(env.get("DIGEST_TIME") or "08:30"),
            rate_limit=_int(env, "TELEGRAM_RATE_LIMIT", 20),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN") or env.get("THROUGHCARE_HOST") or "127.0.0.1",
            webhook_port=_int(env, "TELEGRAM_WEBHOOK_PORT", 8443),
        )


def _ids(value: str) -> frozenset[int]:
    parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise SettingsError("TELEGRAM_ADMIN_IDS takes numeric Telegram user ids, separated by commas.")
    return frozenset(int(p) for p in parts)


def _time(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as err:
        raise SettingsError(f"DIGEST_TIME must be a time of day such as 08:30, not {value!r}.") from err


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if not value:
        return default
    if not value.isdigit():
        raise SettingsError(f"{name} must be a whole number, not {value!r}.")
    return int(value)
