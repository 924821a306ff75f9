"""Many members of staff served at once, each one's messages one at a time, in the order they were sent.

python-telegram-bot hands every update to its `BaseUpdateProcessor` (see `ApplicationBuilder.concurrent_updates`).
Its default handles one update at a time, so one slow reply from Rasa (up to the 30 s timeout) kept every other
member of staff waiting; its concurrent processor handles each update as it comes, so someone's second message
could overtake their first ("done" before "start the transfer checklist"). This processor does both: updates from
different people run concurrently, and a person's updates run in turn, in the order Telegram delivered them.

A person with an update running has a queue here; their next update joins it and returns at once, and the update
running takes it up when it finishes. So each person holds at most one of the processor's slots, however many
messages they send while waiting (the access gate's rate limit drops a flood when its turn comes), and one person
cannot use up the slots others need. The queues live in this process: with several gateways behind one webhook,
two messages of one person that reach different gateways are not ordered by them.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)


def sender(update: object) -> int | None:
    """Whose update this is: the Telegram user (or, with no user, the chat); None for anything else."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Up to `max_concurrent_updates` people served at once; each person's updates one after another."""

    __slots__ = ("_waiting",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        # Per person with an update running: the updates waiting behind it, oldest first.
        self._waiting: dict[int, collections.deque[Awaitable[Any]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        who = sender(update)
        if who is None:
            await coroutine
            return
        waiting = self._waiting.get(who)
        if waiting is not None:
            # Their earlier update is running: this one goes after it (and after any already waiting).
            waiting.append(coroutine)
            return
        waiting = self._waiting[who] = collections.deque()
        try:
            await self._run(coroutine)
            while waiting:
                await self._run(waiting.popleft())
        finally:
            # Only if cancelled (the application stopping) can any be left: close them, never half-run.
            del self._waiting[who]
            for left in waiting:
                close = getattr(left, "close", None)
                if close is not None:
                    close()

    @staticmethod
    async def _run(coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        except Exception:
            # The application reports a handler's failure to the error handler itself; anything reaching here
            # is a fault in handling the update, and must not stop this person's later updates.
            logger.exception("An update failed outside its handlers")

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: the application waits for the updates still running, which run those waiting."""
