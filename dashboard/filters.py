"""What a page shows, read from its address: the query-log filter, the half year, the mark and the page.

Everything is in the address, so a link (a chart's drill-down, a CSV download, a bookmark) gives the same
view. A value that can't be read is left out rather than refused: the manager gets the default view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import select

from throughcare.db import Database
from throughcare.models import GuidanceQuery, ReviewMark, StaffMember
from throughcare.reports import Period, QueryFilter

DEFAULT_WEEKS = 12
YES_NO = {"yes": True, "no": False}
# Who asked: staff (signed messages) unless the address says otherwise, so that the figures are staff figures.
ASKED_BY = {"unsigned": False, "anyone": None}
HALF_YEARS_OFFERED = 4


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _text(value: str | None) -> str | None:
    return value.strip() or None if value else None


@dataclass(frozen=True)
class Filters:
    """The filter form of the query-log reports and the review list."""

    start: dt.date
    end: dt.date
    staff_id: int | None = None
    team: str | None = None
    topic: str | None = None
    intent: str | None = None
    fell_back: bool | None = None
    signed: bool | None = True

    @classmethod
    def read(cls, params: Mapping[str, str], today: dt.date) -> Filters:
        default = Period.weeks_to(today, DEFAULT_WEEKS)
        start = _date(params.get("from")) or default.start
        end = _date(params.get("to")) or default.end
        return cls(
            start=min(start, end),
            end=max(start, end),
            staff_id=_number(params.get("staff")),
            team=_text(params.get("team")),
            topic=_text(params.get("topic")),
            intent=_text(params.get("intent")),
            fell_back=YES_NO.get(params.get("fell_back", "")),
            signed=ASKED_BY.get(params.get("asked_by", ""), True),
        )

    def query_filter(self) -> QueryFilter:
        return QueryFilter(
            Period(self.start, self.end), self.staff_id, self.team, self.topic, self.intent, self.fell_back, self.signed
        )

    def params(self) -> dict[str, str]:
        """The filter as address parameters, leaving out what is "any"."""
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "staff": "" if self.staff_id is None else str(self.staff_id),
            "team": self.team or "",
            "topic": self.topic or "",
            "intent": self.intent or "",
            "fell_back": {True: "yes", False: "no", None: ""}[self.fell_back],
            "asked_by": {True: "", False: "unsigned", None: "anyone"}[self.signed],
        }
        return {key: value for key, value in values.items() if value}

    def week(self, monday: dt.date) -> Filters:
        """Narrowed to one week, kept within the chosen dates so a drill-down lists what the chart counted."""
        return replace(self, start=max(self.start, monday), end=min(self.end, monday + dt.timedelta(days=6)))


def half_year_label(period: Period) -> str:
    return f"{period.start.year}H{1 if period.start.month == 1 else 2}"


def current_half_year(today: dt.date) -> str:
    return f"{today.year}H{1 if today.month <= 6 else 2}"


def read_half_year(value: str | None, today: dt.date) -> str:
    try:
        return half_year_label(Period.parse(value)) if value else current_half_year(today)
    except ValueError:
        return current_half_year(today)


def half_years_offered(today: dt.date) -> list[str]:
    """This half year and the ones before it, newest first: the figures are reported six-monthly."""
    year, half = today.year, 1 if today.month <= 6 else 2
    labels = []
    for _ in range(HALF_YEARS_OFFERED):
        labels.append(f"{year}H{half}")
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return labels


def read_mark(value: str | None) -> ReviewMark | None:
    return ReviewMark(value) if value in ReviewMark.__members__ else None


def read_page(value: str | None) -> int:
    return max(1, _number(value) or 1)


def link(path: str, params: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


@dataclass(frozen=True)
class Choices:
    """What the filter form's lists offer."""

    staff: list[tuple[int, str]]
    teams: list[str]
    topics: list[str]
    intents: list[str]


def filter_choices(db: Database) -> Choices:
    with db.transaction() as session:
        staff = session.execute(select(StaffMember.id, StaffMember.display_name).order_by(StaffMember.display_name))
        teams = select(StaffMember.team).where(StaffMember.team.is_not(None)).distinct().order_by(StaffMember.team)
        topics = select(GuidanceQuery.topic).where(GuidanceQuery.topic.is_not(None)).distinct()
        intents = select(GuidanceQuery.intent).where(GuidanceQuery.intent.is_not(None)).distinct()
        return Choices(
            staff=[(row.id, row.display_name) for row in staff],
            teams=list(session.scalars(teams)),
            topics=list(session.scalars(topics)),
            intents=sorted(session.scalars(intents)),
        )
