"""The one clock: the time now, and which calendar day it is, in England.

Staff work to the London calendar. "Today", "yesterday", every due date, the digest's day and the day a report
runs to are London's, whatever zone the host is set to: a server on UTC is an hour behind London in summer, so
between midnight and 1 am BST its date is still yesterday and every due date it counts would be a day off.
Everything that decides a calendar day asks here (the actions, the store, the CLI, the dashboard, the gateway
and its digest). Moments stored in the database stay UTC (`throughcare.db.models.utcnow`); only the day is London's.

Tests freeze the clock with `frozen(at)`, which every caller of `now()` and `today()` sees, worker threads
included, rather than patching `datetime`; `now(at)` and `today(at)` read a given moment instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_frozen: dt.datetime | None = None


def _aware(moment: dt.datetime) -> dt.datetime:
    """A moment with its zone; one without is read as UTC, as the database stores them."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def now(at: dt.datetime | None = None) -> dt.datetime:
    """The time in London (zone-aware): now, or at the moment `at`."""
    moment = at or _frozen or dt.datetime.now(dt.timezone.utc)
    return _aware(moment).astimezone(LONDON)


def today(at: dt.datetime | None = None) -> dt.date:
    """The calendar day in London: today, or on the day of the moment `at`."""
    return now(at).date()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[dt.datetime]:
    """Stop the clock at `at` (a naive moment is UTC) until the block ends: for tests."""
    global _frozen
    before, _frozen = _frozen, _aware(at)
    try:
        yield now()
    finally:
        _frozen = before
