"""Who is asking: a staff member's id signed with HMAC by a trusted client and checked by the action server.

Rasa's REST channel has no authentication of its own, so the signature is what stands between an unknown
sender and case data. A token is `<staff id>.<unix time>.<hex signature>`; it expires after `max_age`.

The signature covers what the token is for (its purpose), whom it was issued to (its subject: for a chat
token the conversation's sender id), the staff id and the time. A chat token copied into another conversation,
or kept past its short lifetime, proves nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from throughcare.config import SECRET_ENV as SECRET_ENV
from throughcare.config import Settings

METADATA_KEY = "staff_token"
# Long enough for a message to pass from the gateway through Rasa to the action server on a busy day.
MAX_AGE_SECONDS = 120
# What a token is for: each purpose signs differently, so one kind cannot be used as another.
CHAT = "chat"
DASHBOARD_LINK = "dashboard-link"
CONVERSATION = "conversation"

TOKEN = re.compile(r"([0-9]{1,12})\.([0-9]{1,12})\.([0-9a-f]{64})", re.ASCII)


def secret_from_env() -> bytes | None:
    """THROUGHCARE_SECRET if it is strong enough (the rule is in throughcare/config.py), else None."""
    return Settings.from_env().secret_bytes


def _signature(secret: bytes, purpose: str, subject: str, staff_id: str, issued: str) -> str:
    payload = "\x1f".join((purpose, subject, staff_id, issued))
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def sign(staff_id: int, secret: bytes, now: float | None = None, purpose: str = CHAT, subject: str = "") -> str:
    """A token for `staff_id`, good for `purpose` and, for chat, only in the conversation `subject`."""
    issued = str(int(now if now is not None else time.time()))
    return f"{staff_id}.{issued}.{_signature(secret, purpose, subject, str(staff_id), issued)}"


def verify(
    token: object,
    secret: bytes | None,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
    purpose: str = CHAT,
    subject: str = "",
) -> int | None:
    """The signed staff id, or None for a missing, forged, malformed or expired token, one signed for another
    purpose (a chat token is not a dashboard link) or one issued to another subject (another conversation)."""
    if secret is None or not isinstance(token, str):
        return None
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    staff_id, issued, signature = match.groups()
    expected = _signature(secret, purpose, subject, staff_id, issued)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    age = (now if now is not None else time.time()) - int(issued)
    # A little slack for clocks that differ between the client and the action server.
    if age > max_age or age < -60:
        return None
    return int(staff_id)


def conversation_id(secret: bytes, account: str) -> str:
    """The conversation id a gateway uses for one of its accounts: stable, and unguessable without the secret,
    so nobody who learns a Telegram user id can post into that person's conversation."""
    return hmac.new(secret, f"{CONVERSATION}\x1f{account}".encode(), hashlib.sha256).hexdigest()[:32]
