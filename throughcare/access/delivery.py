"""What a chat gateway must remember between messages, kept in the database so gateways hold no state.

Several gateway processes may run behind one webhook, and any may restart at any time: the updates already
handled, the button payloads behind Telegram's 64-byte callback data and the digests already sent live here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from throughcare.db.engine import Database
from throughcare.db.models import ButtonPayload, DigestDelivery, TelegramUpdate, utcnow

# A "sending" claim older than this is taken to belong to a gateway that died mid-send, and is retried.
STALE_CLAIM = dt.timedelta(minutes=10)


def claim_update(db: Database, update_id: int, telegram_user_id: int | None) -> bool:
    """True the first time an update is seen, False for a redelivery of one already handled."""
    try:
        with db.transaction() as session:
            session.add(TelegramUpdate(update_id=update_id, telegram_user_id=telegram_user_id))
        return True
    except IntegrityError:
        return False


def messages_since(db: Database, telegram_user_id: int, since: dt.datetime) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(TelegramUpdate)
            .where(TelegramUpdate.telegram_user_id == telegram_user_id, TelegramUpdate.at >= since)
        )


def payload_key(payload: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()[:18]).decode()


def keep_payload(db: Database, payload: str) -> str:
    """Store a payload under its hash (the same payload always gets the same key) and return the key."""
    key = payload_key(payload)
    try:
        with db.transaction() as session:
            row = session.get(ButtonPayload, key)
            if row is None:
                session.add(ButtonPayload(key=key, payload=payload))
            else:
                # Shown again on a new keyboard: kept for the retention period from now, not from its first showing.
                row.at = utcnow()
    except IntegrityError:
        pass  # another gateway stored the same payload at the same moment
    return key


def payload(db: Database, key: str) -> str | None:
    with db.transaction() as session:
        row = session.get(ButtonPayload, key)
        return row.payload if row else None


def claim_digest(db: Database, staff_id: int, day: dt.date) -> bool:
    """Claim today's digest for one member of staff; False if it was sent, or another gateway is sending it."""
    try:
        with db.transaction() as session:
            row = session.scalar(
                select(DigestDelivery).where(DigestDelivery.staff_id == staff_id, DigestDelivery.day == day)
            )
            if row is None:
                session.add(DigestDelivery(staff_id=staff_id, day=day))
                return True
            at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.timezone.utc)
            if row.sent or utcnow() - at < STALE_CLAIM:
                return False
            row.at = utcnow()
            return True
    except IntegrityError:
        return False


def digest_sent(db: Database, staff_id: int, day: dt.date) -> None:
    with db.transaction() as session:
        row = session.scalar(
            select(DigestDelivery).where(DigestDelivery.staff_id == staff_id, DigestDelivery.day == day)
        )
        if row is not None:
            row.sent = True


def digest_failed(db: Database, staff_id: int, day: dt.date) -> None:
    """Give the claim up so the next run tries again: a digest that could not be sent is not skipped."""
    with db.transaction() as session:
        session.execute(
            delete(DigestDelivery).where(
                DigestDelivery.staff_id == staff_id, DigestDelivery.day == day, DigestDelivery.sent.is_(False)
            )
        )
