"""What staff see: replies, buttons, long answers, commands, faults and redelivered updates."""

from __future__ import annotations

import datetime as dt
import html

from bot.access_handlers import SLOW_DOWN
from bot.chat_handlers import COMMANDS, UNAVAILABLE
from bot.render import CALLBACK_LIMIT, MESSAGE_LIMIT
from tests.bot.conftest import STAFF, Harness, RunningGateway
from throughcare.access import delivery

LONG_PAYLOAD = '/ask_protocol{"knowledge_item":"topic:release_planning_for_clients_on_a_prescription"}'


def test_buttons_are_an_inline_keyboard_and_a_press_is_acknowledged(harness: Harness, gateway: RunningGateway):
    harness.approve(STAFF)
    harness.rasa.replies = lambda text: [
        {
            "text": "Which one?",
            "buttons": [
                {"title": "Short", "payload": "/step_done"},
                {"title": "A long protocol answer", "payload": LONG_PAYLOAD},
            ],
        }
    ]
    harness.say(STAFF, "which")
    keyboard = harness.telegram.replies(STAFF)[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Short", "A long protocol answer"]
    data = [row[0]["callback_data"] for row in keyboard]
    assert data[0] == "r:/step_done"
    assert len(LONG_PAYLOAD) > CALLBACK_LIMIT and len(data[1].encode()) <= CALLBACK_LIMIT

    harness.rasa.replies = lambda text: [{"text": "Answered."}]
    harness.telegram.press(STAFF, data[1])
    harness.telegram.wait_for(lambda: harness.rasa.texts()[1:])
    assert harness.rasa.texts()[1] == LONG_PAYLOAD
    assert harness.telegram.calls_to("answerCallbackQuery")
    # The keyboard goes once pressed, so the same step cannot be marked twice by a second tap.
    assert harness.telegram.wait_for(lambda: harness.telegram.calls_to("editMessageReplyMarkup"))


def test_a_long_reply_is_split_under_the_limit_and_escaped(harness: Harness, gateway: RunningGateway) -> None:
    harness.approve(STAFF)
    line = "Rule: <3 days & 'tier 4' > tier 3 for A1234BC *not* markdown_. "
    text = "\n".join(f"{n}. {line * 3}" for n in range(60)) + "\nEnd of the answer."
    assert len(text) > 2 * MESSAGE_LIMIT
    harness.rasa.replies = lambda _: [{"text": text}]
    harness.telegram.send_text(STAFF, "everything please")

    def all_pieces() -> list[dict]:
        replies = harness.telegram.replies(STAFF)
        return replies if replies and html.unescape(replies[-1]["text"]).endswith("End of the answer.") else []

    pieces = harness.telegram.wait_for(all_pieces)
    assert len(pieces) >= 3
    assert all(p["parse_mode"] == "HTML" and len(p["text"]) <= MESSAGE_LIMIT for p in pieces)
    shown = "\n".join(html.unescape(p["text"]) for p in pieces)
    assert shown.split() == text.split()


def test_the_same_update_delivered_twice_is_answered_once(harness: Harness, gateway: RunningGateway) -> None:
    harness.approve(STAFF)
    update = harness.telegram.send_text(STAFF, "mark it done")
    harness.telegram.wait_for_replies(STAFF, 1)
    harness.telegram.queue(update)
    harness.say(STAFF, "and the next")
    assert harness.rasa.texts() == ["mark it done", "and the next"]


def test_when_the_assistant_is_down_staff_are_told_and_can_send_again(harness: Harness, gateway: RunningGateway):
    harness.approve(STAFF)
    harness.rasa.down = True
    assert harness.say(STAFF, "record triage for A1234BC today") == [UNAVAILABLE]
    (retry,) = harness.telegram.replies(STAFF)[-1]["reply_markup"]["inline_keyboard"][0]
    harness.rasa.down = False
    harness.telegram.press(STAFF, retry["callback_data"])
    harness.telegram.wait_for_replies(STAFF, 2)
    assert harness.rasa.texts() == ["record triage for A1234BC today"]


def test_rasa_not_listening_at_all_is_the_same_kind_answer(harness: Harness) -> None:
    harness.approve(STAFF)
    harness.start(rasa_url="http://127.0.0.1:9/webhooks/rest/webhook")
    assert harness.say(STAFF, "hello") == [UNAVAILABLE]


def test_a_flood_of_messages_is_slowed_down(harness: Harness) -> None:
    harness.approve(STAFF)
    harness.start(rate_limit=3)
    for n in range(6):
        harness.telegram.send_text(STAFF, f"message {n}")
    harness.telegram.wait_for(lambda: delivery.messages_since(harness.db, STAFF, dt.datetime(2000, 1, 1)) == 6)
    assert harness.rasa.texts() == ["message 0", "message 1", "message 2"]
    assert harness.telegram.texts(STAFF).count(SLOW_DOWN) == 1


def test_commands_reach_the_assistant_as_intents(harness: Harness, gateway: RunningGateway) -> None:
    harness.approve(STAFF)
    harness.say(STAFF, "/next a1234bc")
    harness.say(STAFF, "/caseload")
    harness.say(STAFF, "/checklist transfer A1234BC")
    harness.say(STAFF, "/glossary TTG")
    harness.say(STAFF, "/cancel")
    harness.say(STAFF, "/learn")
    assert harness.rasa.texts() == [
        '/ask_next_steps{"prison_number":"A1234BC"}',
        "/ask_caseload",
        '/start_checklist{"checklist":"transfer","prison_number":"A1234BC"}',
        '/define_term{"term":"TTG"}',
        "/checklist_stop",
        "/induction",
    ]
    assert "not a prison number" in harness.say(STAFF, "/next 12345")[0]
    assert "/next" in harness.say(STAFF, "/help")[0]
    assert len(harness.rasa.received) == 6


def test_the_command_menu_is_set(harness: Harness, gateway: RunningGateway) -> None:
    (menu,) = harness.telegram.wait_for(lambda: harness.telegram.calls_to("setMyCommands"))
    assert [c["command"] for c in menu["commands"]] == [c.command for c in COMMANDS]
