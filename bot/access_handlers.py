"""Who gets through: private chats only, each update once, a fair rate, and approved staff only.

`/start` asks for access; administrators decide with inline buttons. Every other handler is wrapped in
`for_staff`, which looks the sender up on each update, so a revocation takes effect on the next message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.gateway import GatewayContext
from throughcare.access import accounts as access
from throughcare.access import delivery
from throughcare.db.models import AccessStatus, Role, utcnow
from throughcare.errors import CaseError

logger = logging.getLogger(__name__)

PRIVATE_ONLY = "I only work in a private chat with each member of staff, so that client details stay private."
SLOW_DOWN = "That's a lot of messages at once. Please wait a minute, then carry on."
NO_ACCESS = {
    None: "This assistant is for the recovery team's approved staff. Send /start to ask an administrator for access.",
    AccessStatus.pending: "Your request is waiting for an administrator. I'll message you here once it's decided.",
    AccessStatus.refused: "Your request for access was refused. If that's a mistake, speak to your team's "
    "administrator.",
    AccessStatus.revoked: "Your access to the assistant has been withdrawn. Speak to your team's administrator "
    "if you need it back.",
}
WELCOME = (
    "Hello {name}, you're signed in as {role}. Ask me things like \"what's next for A1234BC?\", "
    '"my caseload" or "start the transfer checklist for A1234BC". /help lists the commands.'
)
ROLE_BUTTONS = (Role.practitioner, Role.manager, Role.administrator)

StaffHandler = Callable[[Update, GatewayContext, access.Account], Awaitable[None]]


async def gate(update: Update, context: GatewayContext) -> None:
    """Runs before every handler: drops redelivered updates, refuses group chats, limits the rate."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        raise ApplicationHandlerStop
    gw = context.gateway
    if not await asyncio.to_thread(delivery.claim_update, gw.db, update.update_id, user.id):
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE:
        if update.effective_message and update.effective_message.text:
            await update.effective_message.reply_text(PRIVATE_ONLY)
        raise ApplicationHandlerStop
    # A moment compared with the stored (UTC) times of their updates, not a calendar day: no London clock needed.
    since = utcnow() - dt.timedelta(minutes=1)
    count = await asyncio.to_thread(delivery.messages_since, gw.db, user.id, since)
    if count > gw.settings.rate_limit:
        # Said once per burst; later messages in the same minute are dropped quietly.
        if count == gw.settings.rate_limit + 1:
            await chat.send_message(SLOW_DOWN)
        if update.callback_query:
            await update.callback_query.answer()
        raise ApplicationHandlerStop


def for_staff(handler: StaffHandler) -> Callable[[Update, GatewayContext], Awaitable[None]]:
    """Call `handler` with the sender's account if they are approved; otherwise tell them where they stand."""

    @functools.wraps(handler)
    async def checked(update: Update, context: GatewayContext) -> None:
        account = await asyncio.to_thread(access.account, context.gateway.db, update.effective_user.id)
        if account is not None and account.approved:
            await handler(update, context, account)
            return
        refusal = NO_ACCESS[account.status if account else None]
        if update.callback_query:
            await update.callback_query.answer(refusal, show_alert=True)
        else:
            await update.effective_chat.send_message(refusal)

    return checked


def _role_words(role: Role | None) -> str:
    return (role.value if role else "staff").replace("_", " ")


async def start(update: Update, context: GatewayContext) -> None:
    gw, user = context.gateway, update.effective_user
    account, new = await asyncio.to_thread(access.request_access, gw.db, user.id, user.first_name or "")
    if not account.approved and user.id in gw.settings.admin_ids:
        # The administrators named in the settings are how a new service gets its first approver.
        account = await asyncio.to_thread(access.approve, gw.db, user.id, Role.administrator, None)
    if account.approved:
        await update.effective_chat.send_message(
            WELCOME.format(name=user.first_name or "there", role=_role_words(account.role))
        )
        return
    if new:
        await update.effective_chat.send_message(
            "Thanks. I've asked an administrator to approve you; I'll message you here once they decide."
        )
        await _ask_administrators(context, account)
        return
    await update.effective_chat.send_message(NO_ACCESS[account.status])


async def _ask_administrators(context: GatewayContext, account: access.Account) -> None:
    gw = context.gateway
    admins = {a.telegram_user_id for a in await asyncio.to_thread(access.administrators, gw.db)} | gw.settings.admin_ids
    who = account.telegram_user_id
    buttons = [
        InlineKeyboardButton(f"Approve as {_role_words(r)}", callback_data=f"access:{who}:{r.value}")
        for r in ROLE_BUTTONS
    ]
    markup = InlineKeyboardMarkup(
        [[b] for b in buttons] + [[InlineKeyboardButton("Refuse", callback_data=f"access:{who}:refuse")]]
    )
    text = (
        f"<b>Access request</b> from {html.escape(account.first_name)} (Telegram id {who}). "
        "Approve with a role, or refuse."
    )
    for admin in admins:
        try:
            await context.bot.send_message(admin, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except TelegramError as err:
            # An administrator who never opened a chat with the bot cannot be messaged; the others still are.
            logger.warning("Could not tell administrator %s about a request: %s", admin, err)


@for_staff
async def decide(update: Update, context: GatewayContext, admin: access.Account) -> None:
    """An administrator's Approve or Refuse button under an access request."""
    query = update.callback_query
    if not admin.is_administrator:
        await query.answer("Only administrators can decide on access.", show_alert=True)
        return
    _, who, choice = query.data.split(":")
    gw = context.gateway
    try:
        if choice == "refuse":
            decided = await asyncio.to_thread(access.refuse, gw.db, int(who), admin.staff_id)
        else:
            decided = await asyncio.to_thread(access.approve, gw.db, int(who), Role(choice), admin.staff_id)
    except CaseError as err:
        await query.answer(str(err), show_alert=True)
        return
    await query.answer()
    outcome = f"approved as {_role_words(decided.role)}" if decided.approved else "refused"
    await query.edit_message_text(f"{decided.first_name} (Telegram id {who}): {outcome}.")
    message = (
        WELCOME.format(name=decided.first_name, role=_role_words(decided.role))
        if decided.approved
        else NO_ACCESS[AccessStatus.refused]
    )
    try:
        await context.bot.send_message(int(who), message)
    except TelegramError as err:
        logger.warning("Could not tell %s about the decision: %s", who, err)
