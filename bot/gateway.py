"""What every handler shares: settings, database, Rasa client, knowledge and clock, kept in `bot_data`."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.ext import ContextTypes

from bot.rasa import RasaClient
from bot.settings import Settings
from throughcare.clock import now as london_now
from throughcare.db import Database
from throughcare.knowledge import Knowledge

T = TypeVar("T")


@dataclass
class Gateway:
    settings: Settings
    db: Database
    rasa: RasaClient
    knowledge: Knowledge
    # London time (throughcare/clock.py): the digest's day and the purge's cut-offs; tests pass a frozen one.
    clock: Callable[[], dt.datetime] = london_now


def gateway(context: ContextTypes.DEFAULT_TYPE) -> Gateway:
    return context.bot_data["gateway"]


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """Database work in a worker thread, so one slow query never holds up other staff."""
    return await asyncio.to_thread(function, *args)
