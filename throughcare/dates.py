"""Dates as staff type them ("yesterday", "3/12", "next tuesday", "in two weeks"), read in British day/month order."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import dateparser

Prefer = Literal["past", "future"]

_WEEKDAYS = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
# The shapes of date expression worth handing to the parser when no entity marked one.
_DATE_SHAPES = re.compile(
    rf"""\b(
        \d{{1,2}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?
      | \d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?:\s+\d{{4}})?
      | {_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s+\d{{4}})?
      | (?:next|last|this|on)\s+{_WEEKDAYS} | {_WEEKDAYS}(?:\s+just\s+gone)?
      | today | yesterday | tomorrow | this\s+morning | this\s+afternoon
      | (?:in\s+)?(?:\d+|a|an|one|two|three|four|five|six)\s+(?:days?|weeks?|months?)(?:\s+ago|\s+time)?
      | next\s+(?:week|month)
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


class DateNotUnderstood(ValueError):
    """The text names a date that does not exist or cannot be read."""


def _tidy(text: str) -> str:
    cleaned = text.strip().lower()
    cleaned = re.sub(rf"^({_WEEKDAYS})\s+just\s+gone$", r"last \1", cleaned)
    return re.sub(r"\b(\d+)(st|nd|rd|th)\b", r"\1", cleaned)


def parse_date(text: str, today: dt.date, prefer: Prefer) -> dt.date:
    """Read one date expression; raise DateNotUnderstood for an impossible or unreadable one."""
    base = dt.datetime.combine(today, dt.time(12))
    settings = {"DATE_ORDER": "DMY", "RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer}
    parsed = dateparser.parse(_tidy(text), languages=["en"], settings=settings)  # type: ignore[arg-type]
    if parsed is None:
        raise DateNotUnderstood(text)
    return parsed.date()


def find_date_text(message: str) -> str | None:
    """The first date expression in a whole message, for when NLU marked none."""
    match = _DATE_SHAPES.search(message)
    return match.group(1) if match else None
