"""`python -m dashboard` (or `make dashboard`): serve the managers' dashboard with uvicorn.

Settings: DATABASE_URL (the case database), THROUGHCARE_SECRET (required: it checks the sign-in links the
assistant hands out), DASHBOARD_HOST (default 127.0.0.1) and DASHBOARD_PORT (default 8050).
"""

from __future__ import annotations

import os
import sys

import uvicorn

from dashboard.app import create_app
from throughcare.db import Database, default_engine
from throughcare.identity import SECRET_ENV, secret_from_env
from throughcare.knowledge import default_knowledge


def main() -> int:
    secret = secret_from_env()
    if secret is None:
        print(
            f"The dashboard can't start: set {SECRET_ENV} (at least 16 characters), the same secret the assistant "
            "signs dashboard links with. `make dashboard` uses the checkout's var/secret.",
            file=sys.stderr,
        )
        return 2
    port = os.environ.get("DASHBOARD_PORT", "8050")
    if not port.isdigit():
        print(f"The dashboard can't start: DASHBOARD_PORT must be a port number, not '{port}'.", file=sys.stderr)
        return 2
    app = create_app(Database(default_engine()), default_knowledge(), secret)
    # ws="none": the dashboard has no websockets, and the websockets library pinned for the action server is
    # older than the one uvicorn's auto-detection imports.
    uvicorn.run(app, host=os.environ.get("DASHBOARD_HOST", "127.0.0.1"), port=int(port), ws="none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
