"""The gateway's settings: the shared settings of throughcare/config.py (case database, signing secret and its one
rule, where servers listen, demo mode) plus the gateway's own, all from the environment so the same code runs a
small service and production. README.md, "Settings", lists every one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from throughcare import config
from throughcare.config import SETTINGS_SECTION

GATEWAY = "The Telegram gateway"
# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")

# A missing or malformed setting, named so that whoever runs the bot can fix it.
SettingsError = config.SettingsError


class GatewayEnvironment(config.Settings):
    """The environment the gateway reads: the shared settings and the TELEGRAM_* ones, each named, defaulted and
    checked here only."""

    # Out of the repr, like the signing secret; throughcare/config.py keeps TOKEN and SECRET values out of errors.
    token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN", repr=False)
    # Not JSON, as pydantic-settings would read a set: ids separated by commas (or semicolons).
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(frozenset(), alias="TELEGRAM_ADMIN_IDS")
    api_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    rasa_url: str = Field("http://localhost:5005/webhooks/rest/webhook", alias="RASA_URL")
    digest_time: dt.time = Field(dt.time(8, 30), alias="DIGEST_TIME")
    # Messages a minute one person may send before the gateway asks them to slow down.
    rate_limit: int = Field(20, alias="TELEGRAM_RATE_LIMIT", ge=1)
    webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: str | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET", repr=False)
    # Unset: where every server listens (THROUGHCARE_HOST).
    webhook_listen: str | None = Field(None, alias="TELEGRAM_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="TELEGRAM_WEBHOOK_PORT", ge=1, le=65535)

    @field_validator("token")
    @classmethod
    def _stripped(cls, token: str | None) -> str | None:
        return token.strip() if token else token

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise ValueError("it takes numeric user ids, separated by commas")
        return frozenset(int(p) for p in parts)

    def problems(self, serving: bool = False) -> list[str]:
        problems = (
            [] if self.token else [f"Set TELEGRAM_BOT_TOKEN to the token BotFather gave you ({SETTINGS_SECTION})."]
        )
        problems += super().problems(serving)
        if self.webhook_url and not WEBHOOK_SECRET.match(self.webhook_secret or ""):
            problems.append(
                "A webhook needs TELEGRAM_WEBHOOK_SECRET: 16 to 256 characters of letters, digits, _ and - "
                f"({SETTINGS_SECTION})."
            )
        return problems


@dataclass(frozen=True)
class Settings:
    """The gateway's settings as it uses them, every one present: the signing secret as the bytes it signs with,
    the webhook's address resolved. Read them with `from_env`."""

    # Kept out of the repr, so a settings object in a log or a traceback shows neither.
    token: str = field(repr=False)
    secret: bytes = field(repr=False)
    admin_ids: frozenset[int]
    api_url: str
    rasa_url: str
    digest_time: dt.time
    rate_limit: int
    webhook_url: str | None
    webhook_secret: str | None = field(repr=False)
    webhook_listen: str
    webhook_port: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The gateway's settings, or SettingsError naming, one sentence each, every one missing or malformed."""
        read = GatewayEnvironment.from_env(env).require()
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(
            **{
                **read.model_dump(include=names),
                "secret": read.secret_bytes,
                "webhook_listen": read.webhook_listen or read.host,
            }
        )


def main() -> int:
    """`python -m bot.settings`: exit 0 if the gateway can start with this environment, else say why (exit 2)."""
    return 0 if config.read_settings(Settings.from_env, GATEWAY) is not None else 2


if __name__ == "__main__":
    sys.exit(main())
