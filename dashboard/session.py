"""Signing in: a link from the assistant becomes a session cookie, and every form carries a token tied to it.

Both the link and the session are signed staff ids (`throughcare.identity`), each for its own purpose, so a
chat token or a link cannot stand in for a session. The form token is an HMAC of the session token: a page
from another site cannot know it, so it cannot make a manager's browser mark a query.
"""

from __future__ import annotations

import hashlib
import hmac

from throughcare import identity
from throughcare.access import DASHBOARD_LINK_SECONDS, DASHBOARD_SESSION_SECONDS

COOKIE = "throughcare_dashboard"


def staff_from_link(token: str, secret: bytes) -> int | None:
    return identity.verify(token, secret, max_age=DASHBOARD_LINK_SECONDS, purpose=identity.DASHBOARD_LINK)


def new_session(staff_id: int, secret: bytes) -> str:
    return identity.sign(staff_id, secret, purpose=identity.DASHBOARD_SESSION)


def staff_from_session(token: str, secret: bytes) -> int | None:
    return identity.verify(token, secret, max_age=DASHBOARD_SESSION_SECONDS, purpose=identity.DASHBOARD_SESSION)


def form_token(session_token: str, secret: bytes) -> str:
    return hmac.new(secret, f"form.{session_token}".encode(), hashlib.sha256).hexdigest()
