"""What a server says when it starts on a database nobody can use yet: `python -m throughcare.access.first_run`.

`make serve`, `make bot` and `make dashboard` migrate the case database and run; they never load the demo data
(only `make demo`, `make db` and `make demo-dashboard` do, in demo mode). On a database with no staff, nobody can
read a case or sign in to the dashboard, so the run scripts call this to print how to add the first
administrator. With `--dashboard` in demo mode it also prints a sign-in link for the demo manager, when the demo
data is there.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select

from throughcare.access import accounts as access
from throughcare.config import Settings, SettingsError
from throughcare.db.engine import Database
from throughcare.db.models import StaffMember
from throughcare.demo import caseload as demo

FIRST_ADMINISTRATOR = """\
This database has no staff yet: nobody can read a case or sign in to the dashboard until you add the first
administrator. With the same DATABASE_URL and THROUGHCARE_SECRET as the servers:
  .venv/bin/throughcare staff add "Their Name" --role administrator    (prints their staff id)
  .venv/bin/throughcare dashboard-link STAFF_ID                        (a sign-in link, once, within 15 minutes)
With Telegram, the ids in TELEGRAM_ADMIN_IDS become administrators when they send /start instead.
README, "Production profile", says more."""


def has_staff(db: Database) -> bool:
    with db.transaction() as session:
        return session.scalar(select(StaffMember.id).limit(1)) is not None


def first_run_message(db: Database) -> str | None:
    """How to add the first administrator, on a database with no staff; None once anyone has been added."""
    return None if has_staff(db) else FIRST_ADMINISTRATOR


def demo_manager_link(db: Database, settings: Settings) -> str | None:
    """A sign-in link for the demo data's manager: only in demo mode, and only where the demo data is."""
    if not settings.demo or settings.secret_bytes is None:
        return None
    manager = demo.demo_manager_id(db)
    return None if manager is None else access.dashboard_link(db, manager, settings.secret_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Say how to add the first administrator to an empty database.")
    parser.add_argument("--dashboard", action="store_true", help="in demo mode, print the demo manager's link too")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        db = Database.from_url(settings.case_database_url)
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    try:
        message = first_run_message(db)
        if message:
            print(message)
        link = demo_manager_link(db, settings) if args.dashboard else None
        if link:
            print(f"Sign in as the demo manager with this link (it works once, within 15 minutes):\n{link}")
    finally:
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
