"""The gateway's `Application`, built in this one place: handlers, the access gate, the digest job."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import access_handlers, chat_handlers, digest_job
from bot.gateway import Gateway, GatewayApplication, GatewayContext
from bot.rasa import RasaClient
from bot.settings import Settings
from bot.update_order import PerUserUpdateProcessor
from throughcare.clock import now as london_now
from throughcare.db.engine import Database
from throughcare.knowledge.schema import Knowledge

logger = logging.getLogger(__name__)
# How many members of staff are served at once; more wait their turn. Each waits mostly on Rasa (which answers about
# ten messages a second per server), and Rasa's client keeps up to 100 connections. A constant, not a setting,
# until the settings object has a place for it.
CONCURRENT_STAFF = 64
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side and that was not answered. Please try again."


async def _on_start(application: GatewayApplication) -> None:
    await application.bot.set_my_commands(chat_handlers.COMMANDS)


async def _on_stop(application: GatewayApplication) -> None:
    await application.gateway.rasa.close()


async def _on_error(update: object, context: GatewayContext) -> None:
    logger.error("Update %s failed", getattr(update, "update_id", None), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        # If Telegram itself is failing, the log has the error.
        with contextlib.suppress(TelegramError):
            await update.effective_chat.send_message(SOMETHING_WENT_WRONG)


def build_application(
    settings: Settings, db: Database, knowledge: Knowledge, clock: Callable[[], dt.datetime] = london_now
) -> GatewayApplication:
    gateway = Gateway(settings, db, RasaClient(settings.rasa_url, settings.secret), knowledge, clock)
    application = (
        Application.builder()
        # Handlers and jobs read what they share from `context.gateway` (bot/gateway.py).
        .application_class(GatewayApplication, {"gateway": gateway})
        .context_types(ContextTypes(context=GatewayContext))
        .token(settings.token)
        .base_url(settings.api_url)
        .post_init(_on_start)
        .post_shutdown(_on_stop)
        # Staff concurrently, each person's messages in order (bot/update_order.py).
        .concurrent_updates(PerUserUpdateProcessor(CONCURRENT_STAFF))
        .build()
    )
    application.add_handler(TypeHandler(Update, access_handlers.gate), group=-1)
    application.add_handler(CommandHandler("start", access_handlers.start))
    application.add_handler(CallbackQueryHandler(access_handlers.decide, pattern=r"^access:"))
    for command, handler in (
        ("help", chat_handlers.help_command),
        ("next", chat_handlers.next_command),
        ("caseload", chat_handlers.caseload_command),
        ("checklist", chat_handlers.checklist_command),
        ("glossary", chat_handlers.glossary_command),
        ("cancel", chat_handlers.cancel_command),
        ("learn", chat_handlers.learn_command),
        ("digest", chat_handlers.digest_command),
        ("dashboard", chat_handlers.dashboard_command),
    ):
        application.add_handler(CommandHandler(command, handler))
    application.add_handler(CallbackQueryHandler(chat_handlers.button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, chat_handlers.message))
    application.add_error_handler(_on_error)
    application.job_queue.run_repeating(
        digest_job.send_digests, interval=digest_job.CHECK_EVERY_SECONDS, first=1, name="digest"
    )
    application.job_queue.run_repeating(
        digest_job.purge_old_records, interval=digest_job.PURGE_EVERY, first=digest_job.FIRST_PURGE_AFTER, name="purge"
    )
    return application
