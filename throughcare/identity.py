"""Who is asking: a staff member's id signed with HMAC by a trusted client and checked by the action server.

Rasa's REST channel has no authentication of its own, so the signature is what stands between an unknown
sender and case data. A token is `<staff id>.<unix time>.<hex signature>`; it expires after `max_age`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

SECRET_ENV = "THROUGHCARE_SECRET"
METADATA_KEY = "staff_token"
MAX_AGE_SECONDS = 300
# What a token is for: each purpose signs differently, so one kind cannot be used as another.
CHAT = "chat"
DASHBOARD_LINK = "dashboard-link"
DASHBOARD_SESSION = "dashboard-session"


def secret_from_env() -> bytes | None:
    value = os.environ.get(SECRET_ENV, "")
    return value.encode() if len(value) >= 16 else None


def _signature(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def sign(staff_id: int, secret: bytes, now: float | None = None, purpose: str = CHAT) -> str:
    payload = f"{staff_id}.{int(now if now is not None else time.time())}"
    return f"{payload}.{_signature(secret, f'{purpose}.{payload}')}"


def verify(
    token: object,
    secret: bytes | None,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
    purpose: str = CHAT,
) -> int | None:
    """The signed staff id, or None for a missing, forged, malformed or expired token, or one signed for
    another purpose (a chat token is not a dashboard link)."""
    if secret is None or not isinstance(token, str) or token.count(".") != 2:
        return None
    staff_id, issued, signature = token.split(".")
    if not (staff_id.isdigit() and issued.isdigit()):
        return None
    if not hmac.compare_digest(signature, _signature(secret, f"{purpose}.{staff_id}.{issued}")):
        return None
    age = (now if now is not None else time.time()) - int(issued)
    # A little slack for clocks that differ between the client and the action server.
    if age > max_age or age < -60:
        return None
    return int(staff_id)
