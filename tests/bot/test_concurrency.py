"""Staff are served at once, each person's messages in order (bot/update_order.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from telegram import Chat, Message, Update, User

from bot.update_order import PerUserUpdateProcessor
from tests.bot.conftest import STAFF, Harness, RunningGateway

OTHER = 3003
# Rasa's client gives up after 30 s: a reply held this long is as slow as one can be.
HELD = 20


@pytest.fixture
def slow_rasa(harness: Harness) -> Iterator[threading.Event]:
    """Rasa answers "slow …" only once the event is set; anything else at once."""
    release = threading.Event()

    def replies(text: str) -> list[dict]:
        if text.startswith("slow"):
            release.wait(HELD)
        return [{"recipient_id": "x", "text": f"You said: {text}"}]

    harness.rasa.replies = replies
    yield release
    release.set()


def test_one_slow_reply_does_not_hold_up_another_member_of_staff(
    harness: Harness, gateway: RunningGateway, slow_rasa: threading.Event
) -> None:
    harness.approve(STAFF)
    harness.approve(OTHER)
    harness.telegram.send_text(STAFF, "slow question")
    harness.telegram.wait_for(lambda: "slow question" in harness.rasa.texts())

    started = time.monotonic()
    assert harness.say(OTHER, "quick question") == ["You said: quick question"]
    assert time.monotonic() - started < 5
    assert harness.telegram.texts(STAFF) == []  # still waiting for Rasa

    slow_rasa.set()
    harness.telegram.wait_for_replies(STAFF, 1)
    assert harness.telegram.texts(STAFF) == ["You said: slow question"]


def test_one_persons_messages_are_answered_in_the_order_sent(
    harness: Harness, gateway: RunningGateway, slow_rasa: threading.Event
) -> None:
    harness.approve(STAFF)
    harness.approve(OTHER)
    harness.telegram.send_text(STAFF, "slow first")
    harness.telegram.wait_for(lambda: "slow first" in harness.rasa.texts())
    harness.telegram.send_text(STAFF, "second")
    harness.telegram.send_text(STAFF, "third")
    # Sent after them, so once it is answered the gateway has the two behind the slow one too.
    assert harness.say(OTHER, "meanwhile") == ["You said: meanwhile"]
    assert "second" not in harness.rasa.texts() and "third" not in harness.rasa.texts()

    slow_rasa.set()
    harness.telegram.wait_for_replies(STAFF, 3)
    assert harness.telegram.texts(STAFF) == ["You said: slow first", "You said: second", "You said: third"]
    mine = [text for text in harness.rasa.texts() if text != "meanwhile"]
    assert mine == ["slow first", "second", "third"]


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"User{user_id}", is_bot=False)
    when = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)
    message = Message(update_id, when, Chat(user_id, Chat.PRIVATE), from_user=user, text=f"message {update_id}")
    return Update(update_id, message=message)


def test_a_person_waiting_on_a_slow_reply_holds_one_slot_however_many_messages_they_send() -> None:
    """Two slots; one person sends five messages behind a slow one; another person is still served at once."""

    async def scenario() -> tuple[list[str], list[str]]:
        processor = PerUserUpdateProcessor(2)
        release, handled = asyncio.Event(), []

        async def handle(name: str, slow: bool = False) -> None:
            if slow:
                await release.wait()
            handled.append(name)

        async def process(update_id: int, user_id: int, name: str, slow: bool = False) -> None:
            await processor.process_update(_update(update_id, user_id), handle(name, slow))

        tasks = [asyncio.create_task(process(1, STAFF, "a1", slow=True))]
        tasks += [asyncio.create_task(process(n, STAFF, f"a{n}")) for n in range(2, 7)]
        tasks.append(asyncio.create_task(process(7, OTHER, "b1")))
        await asyncio.wait_for(asyncio.gather(*tasks[1:]), 5)  # all return: the five wait in the queue, b1 ran
        before = list(handled)
        release.set()
        await asyncio.wait_for(tasks[0], 5)
        assert processor.current_concurrent_updates == 0
        return before, handled

    before, handled = asyncio.run(scenario())
    assert before == ["b1"]
    assert handled == ["b1", "a1", "a2", "a3", "a4", "a5", "a6"]
