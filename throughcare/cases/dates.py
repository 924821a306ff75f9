"""Dates as staff type them ("yesterday", "3/12", "next tuesday", "in two weeks"), read in British day/month order.

`DATE_PATTERN` is the one definition of what a date looks like in a message: the NLU's regex entity
extractor is generated from it (throughcare/knowledge/nlu_patterns.py) and `find_date_text` uses it directly.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

import dateparser

from throughcare.access.input_limits import MAX_MESSAGE_CHARS

Prefer = Literal["past", "future"]

_WEEKDAYS = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
# A weekday named alone; "sat", "sun" and "wed" are English words ("sat in on his review"), so they count only
# spelt out or after next/last/this.
_WEEKDAY_ALONE = r"(?:mon|tues?|thu(?:rs?)?|fri)(?:day)?|wednesday|saturday|sunday"
_TEXT_SPEAK = {"2day": "today", "2moro": "tomorrow", "2morrow": "tomorrow", "tmrw": "tomorrow", "yday": "yesterday"}
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_ORDINAL_DAY = r"\d{1,2}(?:st|nd|rd|th)"
_COUNT_WORDS = r"\d+|a|an|one|two|three|four|five|six"
_COUNT = rf"(?:{_COUNT_WORDS})"
_SPAN = r"(?:days?|weeks?|wks?|months?)"
_SHAPES = (
    r"\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?",
    rf"(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?:\s+\d{{4}})?",
    rf"{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s+\d{{4}})?",
    rf"(?:the\s+)?{_ORDINAL_DAY}",
    rf"(?:next|last|this)\s+{_WEEKDAYS}",
    rf"(?:{_WEEKDAY_ALONE})(?:\s+just\s+gone)?",
    r"today|yesterday|tomorrow|this\s+morning|this\s+afternoon|this\s+evening|last\s+night|tonight",
    "|".join(_TEXT_SPEAK),
    rf"in\s+{_COUNT}\s+{_SPAN}(?:\s+time)?",
    rf"{_COUNT}\s+{_SPAN}\s+(?:ago|time)",
    r"(?:next|last|this)\s+(?:week|month)",
)
# Longer shapes first, so that "the 3rd of march" is read whole rather than as "the 3rd".
DATE_PATTERN = r"\b(" + "|".join(_SHAPES) + r")\b"
_DATE = re.compile(DATE_PATTERN, re.IGNORECASE)
# The longest shape above is about 30 characters ("the 21st of september 2027"). A longer text, typed into a
# button payload ("/record_event{\"date\":...}"), is no date, and dateparser took 0.6 s over 2,000 characters.
MAX_DATE_CHARS = 40
_DAY_ONLY = re.compile(r"^(?:the\s+)?(\d{1,2})$")
_NEAR_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1}


class DateNotUnderstood(ValueError):
    """The text names a date that does not exist or cannot be read."""


def _tidy(text: str) -> str:
    cleaned = " ".join(text.strip().lower().split())
    cleaned = _TEXT_SPEAK.get(cleaned, cleaned)
    cleaned = re.sub(rf"^({_WEEKDAYS})\s+just\s+gone$", r"last \1", cleaned)
    cleaned = re.sub(rf"^(?:in\s+)?({_COUNT_WORDS})\s+({_SPAN})\s+time$", r"in \1 \2", cleaned)
    cleaned = re.sub(r"\bwks?\b", "weeks", cleaned)
    # A two-digit year is this century: "14.1.27" is 2027, never 1927.
    cleaned = re.sub(r"^(\d{1,2}[/.-]\d{1,2}[/.-])(\d{2})$", r"\g<1>20\2", cleaned)
    return re.sub(r"\b(\d+)(st|nd|rd|th)\b", r"\1", cleaned)


def _day_of_month(day: int, today: dt.date, prefer: Prefer) -> dt.date:
    """ "The 14th": this month's, or the nearest month's on the preferred side of today."""
    year, month = today.year, today.month
    if prefer == "past" and day > today.day:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    if prefer == "future" and day < today.day:
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise DateNotUnderstood(f"the {day}")
    return dt.date(year, month, day)


def parse_date(text: str, today: dt.date, prefer: Prefer) -> dt.date:
    """Read one date expression; raise DateNotUnderstood for an impossible or unreadable one."""
    if len(" ".join(text.split())) > MAX_DATE_CHARS:
        raise DateNotUnderstood(text[:MAX_DATE_CHARS] + "…")
    tidy = _tidy(text)
    if tidy in _NEAR_DAYS:
        # Said often, and read here without dateparser's half a millisecond.
        return today + dt.timedelta(days=_NEAR_DAYS[tidy])
    day_only = _DAY_ONLY.match(tidy)
    if day_only:
        return _day_of_month(int(day_only.group(1)), today, prefer)
    base = dt.datetime.combine(today, dt.time(12))
    settings = {"DATE_ORDER": "DMY", "RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer}
    parsed = dateparser.parse(tidy, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if parsed is None:
        raise DateNotUnderstood(text)
    return parsed.date()


def find_date_text(message: str) -> str | None:
    """The first date expression in a message, for when NLU marked none (read no further than a message may go)."""
    match = _DATE.search(message[:MAX_MESSAGE_CHARS])
    return match.group(1) if match else None
