"""Working days in England and Wales: Monday to Friday, less bank holidays (subdivision England)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import holidays


@functools.cache
def _bank_holidays(year: int) -> frozenset[dt.date]:
    # Without subdiv="ENG" the library leaves out Easter Monday and the summer bank holiday.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    return frozenset().union(*(_bank_holidays(year) for year in years))


def is_bank_holiday(day: dt.date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The date `count` working days after (or, if negative, before) `start`; `start` itself never counts."""
    step = 1 if count >= 0 else -1
    day, remaining = start, abs(count)
    while remaining:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + dt.timedelta(days=n)))
