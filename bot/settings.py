"""The gateway's settings: the shared settings of throughcare/config.py (case database, signing secret and its one
rule, where servers listen, demo mode) plus the gateway's own, all from the environment so the same code runs a
small service and production. README.md, "Settings", lists every one."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import Field, SecretStr

from throughcare import config

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_RASA_URL = "http://localhost:5005/webhooks/rest/webhook"
# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
SECTION = 'README, "Settings"'


# A missing or malformed setting, named so that whoever runs the bot can fix it.
SettingsError = config.SettingsError


class GatewayEnvironment(config.Settings):
    """The environment the gateway reads: the shared settings and the TELEGRAM_* ones."""

    token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    admin_ids: str = Field("", alias="TELEGRAM_ADMIN_IDS")
    api_url: str = Field(DEFAULT_API_URL, alias="TELEGRAM_API_URL")
    rasa_url: str = Field(DEFAULT_RASA_URL, alias="RASA_URL")
    digest_time: dt.time = Field(dt.time(8, 30), alias="DIGEST_TIME")
    rate_limit: int = Field(20, alias="TELEGRAM_RATE_LIMIT", ge=1)
    webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    webhook_listen: str | None = Field(None, alias="TELEGRAM_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="TELEGRAM_WEBHOOK_PORT", ge=1, le=65535)

    def problems(self, serving: bool = False) -> list[str]:
        problems = []
        if not (self.token and self.token.get_secret_value().strip()):
            problems.append(f"Set TELEGRAM_BOT_TOKEN to the token BotFather gave you ({SECTION}).")
        problems += super().problems(serving)
        hook_secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if self.webhook_url and not WEBHOOK_SECRET.match(hook_secret):
            problems.append(
                "A webhook needs TELEGRAM_WEBHOOK_SECRET: 16 to 256 characters of letters, digits, _ and - "
                f"({SECTION})."
            )
        return problems


@dataclass(frozen=True)
class Settings:
    # Kept out of the repr, so a settings object in a log or a traceback shows neither.
    token: str = field(repr=False)
    secret: bytes = field(repr=False)
    admin_ids: frozenset[int] = frozenset()
    api_url: str = DEFAULT_API_URL
    rasa_url: str = DEFAULT_RASA_URL
    digest_time: dt.time = dt.time(8, 30)
    # Messages a minute one person may send before the gateway asks them to slow down.
    rate_limit: int = 20
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The gateway's settings, or SettingsError naming, one sentence each, every one missing or malformed."""
        read = GatewayEnvironment.from_env(env)
        try:
            admin_ids = _ids(read.admin_ids)
        except SettingsError as err:
            raise SettingsError([*err.problems, *read.problems()]) from None
        read.require()
        return cls(
            token=read.token.get_secret_value().strip(),  # type: ignore[union-attr]
            secret=read.secret_bytes,  # type: ignore[arg-type]
            admin_ids=admin_ids,
            api_url=read.api_url,
            rasa_url=read.rasa_url,
            digest_time=read.digest_time,
            rate_limit=read.rate_limit,
            webhook_url=read.webhook_url,
            webhook_secret=read.webhook_secret.get_secret_value() if read.webhook_secret else None,
            webhook_listen=read.webhook_listen or read.host,
            webhook_port=read.webhook_port,
        )


def _ids(value: str) -> frozenset[int]:
    parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise SettingsError([f"TELEGRAM_ADMIN_IDS takes numeric Telegram user ids, separated by commas ({SECTION})."])
    return frozenset(int(p) for p in parts)


def main() -> int:
    """`python -m bot.settings`: exit 0 if the gateway can start with this environment, else say why (exit 2)."""
    try:
        Settings.from_env()
    except SettingsError as err:
        print("The Telegram gateway can't start:", file=sys.stderr)
        for problem in err.problems:
            print(f"- {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
