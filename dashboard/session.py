"""The session cookie, and the token every form carries tied to it.

The cookie holds a random session id; the database keeps its hash, its holder and when it ends
(`throughcare.access.accounts`), so signing out, revocation and deactivation end it on the server at once. The form
token is an HMAC of the session id: a page from another site cannot know it, so it cannot make a manager's
browser mark a query.
"""

from __future__ import annotations

import hashlib
import hmac

COOKIE = "throughcare_dashboard"


def form_token(session_id: str, secret: bytes) -> str:
    return hmac.new(secret, f"form.{session_id}".encode(), hashlib.sha256).hexdigest()
