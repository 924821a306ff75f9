"""What a page shows, read from its address: the query-log filter, the half year, a team, the mark and the page.

Everything is in the address, so a link (a chart's drill-down, a CSV download, a bookmark) gives the same
view. A value that can't be read is left out rather than refused: the manager gets the default view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import select

from dashboard.labels import intent_label, topic_label
from throughcare.db.engine import Database
from throughcare.db.models import GuidanceQuery, ReviewMark, StaffMember
from throughcare.knowledge.schema import Knowledge
from throughcare.reporting.reports import Period, QueryFilter

DEFAULT_WEEKS = 12
YES_NO = {"yes": True, "no": False}
# Who asked: staff (signed messages) unless the address says otherwise, so that the figures are staff figures.
ASKED_BY = {"unsigned": False, "anyone": None}
# The figures are reported six-monthly: this half year and the ones before it.
HALF_YEARS_OFFERED = 4


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def read_text(value: str | None) -> str | None:
    return value.strip() or None if value else None


class Filters(QueryFilter):
    """The query-log filter as the reports and the review list read it from their address, and write it back."""

    @classmethod
    def read(cls, params: Mapping[str, str], today: dt.date) -> Filters:
        default = Period.weeks_to(today, DEFAULT_WEEKS)
        start = _date(params.get("from")) or default.start
        end = _date(params.get("to")) or default.end
        return cls(
            Period(min(start, end), max(start, end)),
            staff_id=_number(params.get("staff")),
            team=read_text(params.get("team")),
            topic=read_text(params.get("topic")),
            intent=read_text(params.get("intent")),
            fell_back=YES_NO.get(params.get("fell_back", "")),
            signed=ASKED_BY.get(params.get("asked_by", ""), True),
        )

    def params(self) -> dict[str, str]:
        """The filter as address parameters, leaving out what is "any"."""
        values = {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
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
        sunday = monday + dt.timedelta(days=6)
        return replace(self, period=Period(max(self.period.start, monday), min(self.period.end, sunday)))


def read_half_year(value: str | None, today: dt.date) -> Period:
    """The half year the address names; this one when it names none, or none that can be read."""
    try:
        return Period.parse(value) if value else Period.containing(today)
    except ValueError:
        return Period.containing(today)


def read_mark(value: str | None) -> ReviewMark | None:
    return ReviewMark(value) if value in ReviewMark.__members__ else None


def read_page(value: str | None) -> int:
    return max(1, _number(value) or 1)


def link(path: str, params: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


# A list's choices: the value the address carries and the words shown for it.
Options = list[tuple[str, str]]


@dataclass(frozen=True)
class Choices:
    """What the filter form's lists offer, each in the order its words are shown."""

    staff: Options
    teams: Options
    topics: Options
    intents: Options


def filter_choices(db: Database, knowledge: Knowledge) -> Choices:
    with db.transaction() as session:
        staff = session.execute(select(StaffMember.id, StaffMember.display_name).order_by(StaffMember.display_name))
        teams = select(StaffMember.team).where(StaffMember.team.is_not(None)).distinct().order_by(StaffMember.team)
        topics = select(GuidanceQuery.topic).where(GuidanceQuery.topic.is_not(None)).distinct()
        intents = select(GuidanceQuery.intent).where(GuidanceQuery.intent.is_not(None)).distinct()
        return Choices(
            staff=[(str(row.id), row.display_name) for row in staff],
            teams=[(team, team) for team in session.scalars(teams)],
            topics=sorted(((t, topic_label(knowledge, t)) for t in session.scalars(topics)), key=lambda o: o[1]),
            intents=[(intent, intent_label(intent)) for intent in sorted(session.scalars(intents))],
        )
