"""`python -m dashboard` (or `make dashboard`): serve the managers' dashboard with uvicorn.

Settings: DATABASE_URL (the case database), THROUGHCARE_SECRET (required: it checks the sign-in links the
assistant hands out), DASHBOARD_HOST (default 127.0.0.1: this machine only) and DASHBOARD_PORT (default 8050).
"""

from __future__ import annotations

import os
import sys

import uvicorn

from dashboard.app import create_app
from dashboard.server import SettingError, server_config
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
    app = create_app(Database(default_engine()), default_knowledge(), secret)
    try:
        config = server_config(app, os.environ)
    except SettingError as err:
        print(f"The dashboard can't start: {err}", file=sys.stderr)
        return 2
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
