"""The whole way through, with the real Rasa and action servers: from /start, through approval, to answers
read from and written to the case database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.access_handlers import NO_ACCESS
from bot.app import build_application
from tests.bot.conftest import ADMIN, STAFF, RunningGateway, gateway_settings
from tests.bot.fake_telegram import FakeTelegram
from tests.servers import SECRET
from throughcare.cases import store
from throughcare.db.models import AccessStatus, Client, Episode
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol import answers
from throughcare.protocol.engine import next_steps

pytestmark = pytest.mark.rasa


def _client_awaiting_triage(assistant) -> str:  # type: ignore[no-untyped-def]
    with assistant.db.transaction() as session:
        return session.scalars(
            select(Client.prison_number)
            .join(Episode)
            .where(Episode.stage == "assessed")
            .order_by(Client.prison_number.desc())
        ).first()


# Once, on the embedded profile's servers: the gateway is the same whichever database is behind them.
@pytest.mark.parametrize("assistant", ["embedded"], indirect=True)
def test_a_new_member_of_staff_is_approved_and_gets_answers_from_the_database(assistant, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    with FakeTelegram() as telegram:
        settings = gateway_settings(
            assistant.db.engine.url.render_as_string(hide_password=False),
            SECRET.encode(),
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_ADMIN_IDS=str(ADMIN),
            TELEGRAM_API_URL=telegram.base_url,
            RASA_URL=assistant.url,
        )
        gateway = RunningGateway(build_application(settings, assistant.db, knowledge)).start()
        try:
            _converse(telegram, assistant, knowledge)
        finally:
            gateway.stop()


def _converse(telegram: FakeTelegram, assistant, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    def say(user: int, text: str) -> str:
        before = len(telegram.replies(user))
        telegram.send_text(user, text)
        return telegram.wait_for_replies(user, before + 1, timeout=60)[before]["text"]

    number = _client_awaiting_triage(assistant)
    assert "administrator" in say(ADMIN, "/start")
    assert "asked an administrator" in say(STAFF, "/start")
    assert say(STAFF, f"what's next for {number}?") == NO_ACCESS[AccessStatus.pending]

    telegram.wait_for_replies(ADMIN, 2)
    telegram.press(ADMIN, f"access:{STAFF}:practitioner")
    assert "signed in as practitioner" in telegram.wait_for_replies(STAFF, 3)[-1]["text"]

    today = dt.date.today()
    facts = store.episode_facts(assistant.db, number)
    expected = answers.next_steps_answer(facts, next_steps(facts, knowledge, today), today)
    reply = say(STAFF, f"what's next for {number}?")
    assert expected.splitlines()[:2] == reply.splitlines()[:2]

    card = say(STAFF, f"/checklist triage {number}")
    assert "Source:" in card
    buttons = telegram.replies(STAFF)[-1]["reply_markup"]["inline_keyboard"]
    (done,) = [b for row in buttons for b in row if b["text"] == "Done"]
    before = len(telegram.replies(STAFF))
    telegram.press(STAFF, done["callback_data"])
    telegram.wait_for_replies(STAFF, before + 1, timeout=60)
    recorded = store.episode_facts(assistant.db, number).progress
    assert [status for (procedure, _), status in recorded.items() if procedure == "triage"] == ["done"]
