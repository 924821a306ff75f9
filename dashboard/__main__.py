"""`python -m dashboard` (or `make dashboard`): serve the managers' dashboard with uvicorn.

Settings (throughcare/config.py; README, "Settings"): DATABASE_URL (the case database) and THROUGHCARE_SECRET
(it checks the sign-in links the assistant hands out), both required outside demo mode; DASHBOARD_HOST (default
THROUGHCARE_HOST, 127.0.0.1: this machine only) and DASHBOARD_PORT (default 8050).
"""

from __future__ import annotations

import sys

import uvicorn

from dashboard.app import create_app
from dashboard.server import SettingError, server_config
from throughcare.config import Settings, SettingsError
from throughcare.db.engine import Database, make_engine
from throughcare.knowledge.loader import default_knowledge


def main() -> int:
    try:
        settings = Settings.from_env().require()
    except SettingsError as err:
        print(f"The dashboard can't start: {err}", file=sys.stderr)
        return 2
    app = create_app(Database(make_engine(settings.case_database_url)), default_knowledge(), settings.secret_bytes)
    try:
        config = server_config(
            app, {"DASHBOARD_HOST": settings.dashboard_bind, "DASHBOARD_PORT": str(settings.dashboard_port)}
        )
    except SettingError as err:
        print(f"The dashboard can't start: {err}", file=sys.stderr)
        return 2
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
