"""The daily digest, run by the JobQueue every minute and sent once per working day per member of staff; and
the daily purge of what is past its retention period (throughcare/cases/retention.py), handled Telegram update ids
among it.

Checking every minute, rather than scheduling one run a day, is what keeps a restart from skipping a digest:
a gateway that starts after the digest time sends the day's digests it finds unsent. The claim in the
database keeps a second run, or a second gateway, from sending any of them twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import render
from bot.gateway import GatewayContext
from throughcare import clock
from throughcare.access import accounts as access
from throughcare.access import delivery
from throughcare.cases import retention
from throughcare.protocol.workdays import is_working_day
from throughcare.reporting import digest

logger = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 60
PURGE_EVERY = dt.timedelta(days=1)
# Long enough for a gateway to start and settle; a gateway restarted daily still purges, a gateway that
# restarts every few minutes would purge rarely, which a missed day only delays.
FIRST_PURGE_AFTER = dt.timedelta(minutes=10)


async def send_digests(context: GatewayContext) -> None:
    gw = context.gateway
    now = clock.now(gw.clock())  # London's, whatever zone the clock was given in
    today = now.date()
    if not is_working_day(today) or now.time() < gw.settings.digest_time:
        return
    for account in await asyncio.to_thread(access.digest_recipients, gw.db):
        try:
            await _send_digest(context, account, today)
        except SQLAlchemyError as err:
            # One person's delivery record failing is no reason to keep the day's digest from everyone after them.
            # A claim left behind lapses (delivery.STALE_CLAIM) and the digest is tried again. The type only: a
            # database error's text can carry the values of the statement.
            logger.warning(
                "Digest for staff member %s: its delivery not recorded (%s)", account.staff_id, type(err).__name__
            )


async def _send_digest(context: GatewayContext, account: access.Account, today: dt.date) -> None:
    """Claim, send and record one member of staff's digest; a digest not sent gives its claim up, to be retried."""
    gw = context.gateway
    if not await asyncio.to_thread(delivery.claim_digest, gw.db, account.staff_id, today):
        return
    try:
        text = await asyncio.to_thread(digest.staff_digest, gw.db, gw.knowledge, account.staff_id, today)
        for piece in render.split_text(text):
            await context.bot.send_message(account.telegram_user_id, piece, parse_mode=ParseMode.HTML)
    except (TelegramError, SQLAlchemyError) as err:
        logger.warning("Digest for staff member %s not sent, will retry: %s", account.staff_id, err)
        await asyncio.to_thread(delivery.digest_failed, gw.db, account.staff_id, today)
        return
    await asyncio.to_thread(delivery.digest_sent, gw.db, account.staff_id, today)


async def purge_old_records(context: GatewayContext) -> None:
    """Delete what is past its retention period in the case store and in Rasa's tracker store. Several gateways
    may run it: deleting what another already deleted deletes nothing."""
    gw = context.gateway
    try:
        tracker_url = retention.tracker_store_url_from_env()
    except retention.TrackerStoreError as err:
        logger.warning("Conversations in the tracker store not purged: %s", err)
        tracker_url = None
    try:
        deleted = await asyncio.to_thread(
            retention.purge, gw.db, retention.Cutoffs.from_retention(gw.clock()), tracker_url
        )
    except SQLAlchemyError as err:
        # The type only: a database error's text can carry the values of the statement.
        logger.warning("Purge not finished (%s); it runs again tomorrow", type(err).__name__)
        return
    logger.info("Purged what is past its retention: %s", ", ".join(f"{n} {what}" for what, n in deleted.counts.items()))
