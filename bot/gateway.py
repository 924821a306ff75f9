"""What every handler and job shares (settings, database, Rasa client, knowledge and clock), and the typed context
that hands it to them as `context.gateway`. bot/app.py builds the one `Gateway` and the `Application` holding it.

Handlers run database work with `asyncio.to_thread`, so one slow query never holds up other staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.rasa import RasaClient
from bot.settings import Settings
from throughcare.clock import now as london_now
from throughcare.db.engine import Database
from throughcare.knowledge.schema import Knowledge


@dataclass
class Gateway:
    settings: Settings
    db: Database
    rasa: RasaClient
    knowledge: Knowledge
    # London time (throughcare/clock.py): the digest's day and the purge's cut-offs; tests pass a frozen one.
    clock: Callable[[], dt.datetime] = london_now


class GatewayContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The `context` every handler, job and error handler is given (ContextTypes in bot/app.py)."""

    @property
    def gateway(self) -> Gateway:
        # bot/app.py builds every Application this context serves as a GatewayApplication.
        return cast(GatewayApplication, self.application).gateway


class GatewayApplication(
    Application[
        ExtBot[None],
        GatewayContext,
        dict[Any, Any],
        dict[Any, Any],
        dict[Any, Any],
        JobQueue[GatewayContext],
    ]
):
    """The Application with the gateway on it, set when it is built: bot_data would have to start empty (ContextTypes
    instantiates it without arguments) and be filled in afterwards, and reads from it are untyped."""

    def __init__(self, *, gateway: Gateway, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gateway = gateway
