"""Every setting, read from the environment in one place: the core, the action server, the Telegram gateway and
the dashboard all read this object (README.md, "Settings", documents each one).

Two modes. **Demo** (`THROUGHCARE_DEMO=1`, set by `make demo`, `make db` and `make demo-dashboard`): with no
DATABASE_URL the case database is the SQLite file `var/throughcare.db` in the checkout, and the run scripts make
a signing secret once per checkout in `var/secret`. **Otherwise** (production, and `make serve`, `make bot`,
`make dashboard` unless told): nothing falls back. A server refuses to start until DATABASE_URL and a strong
THROUGHCARE_SECRET are set, and says, one sentence each, what is missing (`python -m throughcare.config` is the
check the run scripts make before they start anything).

No Rasa or Telegram import: Rasa's environment never loads this module.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'throughcare.db'}"
SECRET_ENV = "THROUGHCARE_SECRET"
# The secret signs staff tokens and dashboard links (HMAC-SHA256): shorter than this is guessable.
MIN_SECRET_LENGTH = 16
SETTINGS_SECTION = 'README, "Settings"'
S = TypeVar("S")

# The environment a `from_env(mapping)` call reads instead of os.environ (tests, and callers that were given one).
_environ: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("environ", default=None)


class SettingsError(ValueError):
    """A missing or malformed setting; the message says which, one sentence each, so whoever runs the service can
    fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


def secret_problem(value: str | None) -> str | None:
    """The one rule for the signing secret, as a sentence naming what is wrong; None when the secret is strong."""
    if not value:
        return (
            f"Set {SECRET_ENV} to a random string of at least {MIN_SECRET_LENGTH} characters, the same for every "
            f"server and trusted client ({SETTINGS_SECTION})."
        )
    if len(value) < MIN_SECRET_LENGTH:
        return (
            f"{SECRET_ENV} is {len(value)} characters long; it must be at least {MIN_SECRET_LENGTH}, the same for "
            f"every server and trusted client ({SETTINGS_SECTION})."
        )
    return None


MISSING_DATABASE = (
    "Set DATABASE_URL to the case database (for example "
    "postgresql+psycopg://throughcare:PASSWORD@db.example:5432/throughcare; "
    f"{SETTINGS_SECTION}), or THROUGHCARE_DEMO=1 to run the demo on a SQLite file in the checkout."
)

# The demo's endpoints keep conversations in a SQLite file in the checkout.
DEMO_ENDPOINTS = "endpoints.yml"
MISSING_ENDPOINTS = (
    "Set ENDPOINTS to Rasa's endpoints file, endpoints.production.yml for conversations in PostgreSQL and locks in "
    f"Redis ({SETTINGS_SECTION}); the default, {DEMO_ENDPOINTS}, keeps them in a SQLite file in the checkout, for "
    "the demo."
)


class _Mapping(EnvSettingsSource):
    """The environment source, reading a given mapping rather than os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class Settings(BaseSettings):
    """What every part of Throughcare reads. Build it with `Settings.from_env()`; `problems()` says what a server
    cannot start without."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    database_url: str | None = Field(None, alias="DATABASE_URL")
    secret: SecretStr | None = Field(None, alias=SECRET_ENV)
    demo: bool = Field(False, alias="THROUGHCARE_DEMO")
    # Where every server listens (Rasa, the action server, the dashboard, the Telegram webhook): this machine only.
    host: str = Field("127.0.0.1", alias="THROUGHCARE_HOST")
    knowledge_dir: Path | None = Field(None, alias="THROUGHCARE_KNOWLEDGE_DIR")
    dashboard_host: str | None = Field(None, alias="DASHBOARD_HOST")
    dashboard_port: int = Field(8050, alias="DASHBOARD_PORT", ge=1, le=65535)
    dashboard_url: str | None = Field(None, alias="DASHBOARD_URL")
    # Rasa's endpoints file (tracker store, lock store, action server); the purge reads its tracker store too.
    endpoints: str | None = Field(None, alias="ENDPOINTS")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment only: no .env file or secrets directory is read behind the operator's back.
        environ = _environ.get()
        return (init_settings, env_settings if environ is None else _Mapping(settings_cls, environ))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **values: Any) -> Settings:
        """The settings in `env` (default: this process's environment). A malformed value raises SettingsError."""
        if env is None and not values:
            # The action server reads its settings several times a message: read once per state of the variables
            # they come from (a key made of the whole environment took a tenth of the action server's time).
            names = (field.alias or name for name, field in cls.model_fields.items())
            return _from_process_environment(cls, tuple((name, os.environ.get(name)) for name in names))
        return cls._read(env, **values)

    @classmethod
    def _read(cls, env: Mapping[str, str] | None = None, **values: Any) -> Settings:
        token = _environ.set(env)
        try:
            return cls(**values)
        except ValidationError as err:
            raise SettingsError([_sentence(cls, error) for error in err.errors()]) from None
        finally:
            _environ.reset(token)

    def problems(self, serving: bool = False) -> list[str]:
        """What a server cannot start without, one sentence each (empty when it can start). `serving`: Rasa and
        the action server, whose conversations must not land in the checkout's SQLite file outside demo mode."""
        problems = [] if self.database_url or self.demo else [MISSING_DATABASE]
        if serving and not (self.endpoints or self.demo):
            problems.append(MISSING_ENDPOINTS)
        secret = secret_problem(self.secret.get_secret_value() if self.secret else None)
        return [*problems, secret] if secret else problems

    def require(self, serving: bool = False) -> Settings:
        """These settings, or SettingsError naming everything missing."""
        problems = self.problems(serving)
        if problems:
            raise SettingsError(problems)
        return self

    @property
    def case_database_url(self) -> str:
        """DATABASE_URL; in demo mode, without one, the demo's SQLite file. Never a silent fallback otherwise."""
        if self.database_url:
            return self.database_url
        if self.demo:
            return DEMO_DATABASE_URL
        raise SettingsError([MISSING_DATABASE])

    @property
    def secret_bytes(self) -> bytes | None:
        """The signing secret, or None when it is missing or too short (then nothing signed is trusted)."""
        value = self.secret.get_secret_value() if self.secret else None
        return None if secret_problem(value) else value.encode()  # type: ignore[union-attr]

    @property
    def endpoints_file(self) -> str:
        return self.endpoints or DEMO_ENDPOINTS

    @property
    def dashboard_bind(self) -> str:
        return self.dashboard_host or self.host

    @property
    def dashboard_address(self) -> str:
        """The address sign-in links point at: DASHBOARD_URL (behind a proxy), else where the dashboard listens."""
        return (self.dashboard_url or f"http://{self.dashboard_bind}:{self.dashboard_port}").rstrip("/")


@functools.lru_cache(maxsize=16)
def _from_process_environment(cls: type[S], variables: tuple[tuple[str, str | None], ...]) -> S:
    return cls._read({name: value for name, value in variables if value is not None})


def _sentence(cls: type[BaseSettings], error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    info = cls.model_fields.get(field)
    name = (info.alias if info and info.alias else field) or "a setting"
    shown = "" if "SECRET" in name or "TOKEN" in name else f", not {error.get('input')!r}"
    return f"{name} is not valid ({error['msg'].lower()}{shown}; {SETTINGS_SECTION})."


def read_settings(read: Callable[[], S], who: str) -> S | None:
    """The settings `read()` returns; None, once stderr is told that `who` can't start and why (one problem a
    line), when it raises SettingsError: how a server's start, and the check the run scripts make first, refuse."""
    try:
        return read()
    except SettingsError as err:
        print(f"{who} can't start:", file=sys.stderr)
        for problem in err.problems:
            print(f"- {problem}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    """`python -m throughcare.config [--serve]`: exit 0 if a server (with --serve: Rasa and the action server) can
    start with this environment, else say why (exit 2)."""
    serving = "--serve" in (sys.argv[1:] if argv is None else argv)
    return 0 if read_settings(lambda: Settings.from_env().require(serving), "Throughcare") is not None else 2


if __name__ == "__main__":
    sys.exit(main())
