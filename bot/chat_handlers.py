"""Approved staff talking to the assistant: messages, buttons and commands, each passed to Rasa."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode

from bot import render
from bot.access_handlers import for_staff
from bot.gateway import GatewayContext
from bot.rasa import AssistantUnavailable
from throughcare import labels
from throughcare.access import accounts as access
from throughcare.access import delivery, input_limits
from throughcare.cases import prison_numbers
from throughcare.errors import CaseError

logger = logging.getLogger(__name__)

UNAVAILABLE = f"{labels.NOT_ANSWERED} Press Send again, or type it again, in a moment."
EXPIRED_BUTTON = "That button is from an old message and no longer works. Please ask again."
COMMANDS = [
    BotCommand("next", "What's next for a client: /next A1234BC"),
    BotCommand("caseload", "Your clients, most urgent first"),
    BotCommand("checklist", "Walk a checklist: /checklist transfer A1234BC"),
    BotCommand("glossary", "What a term means: /glossary TTG"),
    BotCommand("cancel", "Stop the checklist you are walking"),
    BotCommand("learn", "New here? Tours, practice scenarios and your progress"),
    BotCommand("digest", "Daily digest of what is due: /digest on or /digest off"),
    BotCommand("dashboard", "Managers: a link to the dashboard, valid 15 minutes"),
    BotCommand("help", "What I can do"),
    BotCommand("start", "Ask for access, or say hello"),
]
HELP = "\n".join(
    ["Ask in your own words, or use a command:"]
    + [f"/{c.command} - {c.description}" for c in COMMANDS]
    + ["Clients are named by prison number only. Every protocol answer shows its source."]
)


async def ask(update: Update, context: GatewayContext, account: access.Account, text: str) -> None:
    """Send `text` to Rasa as this staff member and show the replies; if Rasa is down, say so and keep the text."""
    gw, chat = context.gateway, update.effective_chat
    await chat.send_action(ChatAction.TYPING)
    try:
        replies = await gw.rasa.send(update.effective_user.id, text, account.staff_id)
    except AssistantUnavailable as err:
        logger.warning("Assistant unavailable for update %s: %s", update.update_id, err)
        key = await asyncio.to_thread(delivery.keep_payload, gw.db, text)
        retry = InlineKeyboardMarkup([[InlineKeyboardButton("Send again", callback_data=render.KEY_PREFIX + key)]])
        await chat.send_message(UNAVAILABLE, reply_markup=retry)
        return
    keep = functools.partial(delivery.keep_payload, gw.db)
    for message in await asyncio.to_thread(render.messages, replies, keep):
        await chat.send_message(message.html, parse_mode=ParseMode.HTML, reply_markup=message.keyboard)


def _payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


@for_staff
async def message(update: Update, context: GatewayContext, account: access.Account) -> None:
    text = update.effective_message.text
    # Told here, at once, rather than after a round trip to Rasa, which refuses it unread.
    if len(text) > input_limits.MAX_MESSAGE_CHARS:
        await update.effective_chat.send_message(input_limits.TOO_LONG_REPLY)
        return
    await ask(update, context, account, text)


@for_staff
async def button(update: Update, context: GatewayContext, account: access.Account) -> None:
    """A pressed button: acknowledged at once, its keyboard removed so it cannot be pressed twice, then asked."""
    query = update.callback_query
    await query.answer()
    data = query.data or ""
    if data.startswith(render.KEY_PREFIX):
        payload = await asyncio.to_thread(delivery.payload, context.gateway.db, data.removeprefix(render.KEY_PREFIX))
    else:
        payload = data.removeprefix(render.PAYLOAD_PREFIX)
    await query.edit_message_reply_markup(None)
    if not payload:
        await update.effective_chat.send_message(EXPIRED_BUTTON)
        return
    await ask(update, context, account, payload)


@for_staff
async def help_command(update: Update, context: GatewayContext, account: access.Account) -> None:
    await update.effective_chat.send_message(HELP)


@for_staff
async def next_command(update: Update, context: GatewayContext, account: access.Account) -> None:
    given = " ".join(context.args or [])
    number = prison_numbers.normalise(given)
    if number is None:
        await update.effective_chat.send_message(
            f"Which client? Send /next with a prison number, for example /next A1234BC ({prison_numbers.FORMAT_HELP})."
            if not given
            else f"'{given}' is not a prison number: {prison_numbers.FORMAT_HELP}."
        )
        return
    await ask(update, context, account, _payload("ask_next_steps", prison_number=number))


def _asking(intent: str) -> Callable[[Update, GatewayContext], Awaitable[None]]:
    """A command that is the intent alone, with nothing to read from its words."""

    @for_staff
    async def command(update: Update, context: GatewayContext, account: access.Account) -> None:
        await ask(update, context, account, _payload(intent))

    return command


caseload_command = _asking("ask_caseload")
learn_command = _asking("induction")
cancel_command = _asking("checklist_stop")


@for_staff
async def checklist_command(update: Update, context: GatewayContext, account: access.Account) -> None:
    """`/checklist`, `/checklist transfer` or `/checklist transfer A1234BC`, in any order."""
    words = context.args or []
    numbers = [n for n in (prison_numbers.normalise(w) for w in words) if n]
    name = " ".join(w for w in words if prison_numbers.normalise(w) is None)
    entities = {"checklist": name} if name else {}
    if numbers:
        entities["prison_number"] = numbers[0]
    await ask(update, context, account, _payload("start_checklist", **entities))


@for_staff
async def glossary_command(update: Update, context: GatewayContext, account: access.Account) -> None:
    term = " ".join(context.args or [])
    if not term:
        await update.effective_chat.send_message("Which term? For example /glossary TTG")
        return
    await ask(update, context, account, _payload("define_term", term=term))


@for_staff
async def digest_command(update: Update, context: GatewayContext, account: access.Account) -> None:
    choice = (context.args or [""])[0].lower()
    if choice not in ("on", "off"):
        state = "on" if account.digest else "off"
        await update.effective_chat.send_message(
            f"Your daily digest is {state}. Send /digest on or /digest off. It comes on working days only, "
            "with what is overdue or due on your caseload."
        )
        return
    try:
        await asyncio.to_thread(access.set_digest, context.gateway.db, update.effective_user.id, choice == "on")
    except CaseError as err:
        await update.effective_chat.send_message(str(err))
        return
    when = context.gateway.settings.digest_time.strftime("%H:%M")
    await update.effective_chat.send_message(
        f"Daily digest on: each working day at {when}." if choice == "on" else "Daily digest off."
    )


@for_staff
async def dashboard_command(update: Update, context: GatewayContext, account: access.Account) -> None:
    """A manager's signed link to the dashboard; it works for a few minutes, so it is safe in a chat history."""
    gw = context.gateway
    try:
        link = await asyncio.to_thread(access.dashboard_link, gw.db, account.staff_id, gw.settings.secret)
    except CaseError as err:
        await update.effective_chat.send_message(str(err))
        return
    minutes = access.DASHBOARD_LINK_SECONDS // 60
    await update.effective_chat.send_message(
        f"Your dashboard link, valid for {minutes} minutes and only for you:\n{link}", disable_web_page_preview=True
    )
