"""Managers' reports: what staff ask, what went unanswered, what is overdue, and the commissioner's figures.

Each report is one or two SQL queries that aggregate in the database, so they stay fast on a log of a
million queries. Every report is a `Report`: a title, columns and rows, with notes saying how it was
counted and where the rule comes from, ready for a terminal table, a CSV file or a chart. Nothing in a
report names a client beyond prison number and initials; most are counts.

The query-log reports count staff queries (signed by a staff member) unless asked otherwise: anyone who can
reach the assistant's REST channel can send unsigned messages, and those must not pass for staff figures.
`unsigned_queries` shows their volume apart.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field, replace

import numpy as np
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql import ColumnElement, Select

from throughcare.db.engine import Database
from throughcare.db.models import (
    ChecklistProgress,
    ClosureReason,
    Episode,
    GuidanceQuery,
    OpenStep,
    StaffMember,
    StepStatus,
)
from throughcare.induction import aid as induction
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol.workdays import bank_holidays

HALF_YEAR = re.compile(r"^(\d{4})-?H([12])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included. The commissioner's figures are for half years: January to June
    ("2026H1") and July to December ("2026H2"); this is the one place that knows how they are named."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, label: str) -> Period:
        """A half year, "2026H1" (January to June) or "2026H2"."""
        match = HALF_YEAR.match(label.strip())
        if not match:
            raise ValueError(f"'{label}' is not a half year; write it like 2026H1 (January to June) or 2026H2.")
        return cls._half_year(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        """The half year `day` falls in."""
        return cls._half_year(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def half_years_to(cls, day: dt.date, count: int) -> list[Period]:
        """The half year of `day` and the `count` - 1 before it, newest first."""
        halves = [cls.containing(day)]
        while len(halves) < count:
            halves.append(cls.containing(halves[-1].start - dt.timedelta(days=1)))
        return halves

    @classmethod
    def _half_year(cls, year: int, half: int) -> Period:
        return (
            cls(dt.date(year, 1, 1), dt.date(year, 6, 30))
            if half == 1
            else cls(dt.date(year, 7, 1), dt.date(year, 12, 31))
        )

    @classmethod
    def weeks_to(cls, end: dt.date, weeks: int) -> Period:
        """The `weeks` whole weeks (Monday to Sunday) up to and including the week of `end`."""
        monday = end - dt.timedelta(days=end.weekday())
        return cls(monday - dt.timedelta(weeks=weeks - 1), monday + dt.timedelta(days=6))

    @property
    def label(self) -> str:
        """A short name fit for an address or a file name: "2026H1" for a half year, else the two dates."""
        if self == Period.containing(self.start):
            return f"{self.start.year}H{1 if self.start.month == 1 else 2}"
        return f"{self.start.isoformat()}-to-{self.end.isoformat()}"

    def __str__(self) -> str:
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"


@dataclass(frozen=True)
class QueryFilter:
    """Which logged guidance queries a report or review looks at; None means any.

    `signed`: True for staff queries only (the default), False for unsigned ones only, None for both."""

    period: Period
    staff_id: int | None = None
    team: str | None = None
    topic: str | None = None
    intent: str | None = None
    fell_back: bool | None = None
    signed: bool | None = True


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text that would start a formula gets a leading single quote, so it
    shows as the text it is. Numbers are left as numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(columns: list[str], rows: list[tuple]) -> str:
    """Every CSV the service writes goes through here, so no cell reaches a spreadsheet as a live formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(column) for column in columns])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


@dataclass
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[tuple]
    notes: list[str] = field(default_factory=list)

    def csv(self) -> str:
        return csv_text(self.columns, self.rows)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


def query_conditions(f: QueryFilter) -> list[ColumnElement[bool]]:
    conditions = [
        GuidanceQuery.at >= _day_start(f.period.start),
        GuidanceQuery.at < _day_start(f.period.end + dt.timedelta(days=1)),
    ]
    if f.staff_id is not None:
        conditions.append(GuidanceQuery.staff_id == f.staff_id)
    if f.team is not None:
        conditions.append(GuidanceQuery.staff_id.in_(select(StaffMember.id).where(StaffMember.team == f.team)))
    if f.topic is not None:
        conditions.append(GuidanceQuery.topic == f.topic)
    if f.intent is not None:
        conditions.append(GuidanceQuery.intent == f.intent)
    if f.fell_back is not None:
        conditions.append(GuidanceQuery.fell_back.is_(f.fell_back))
    if f.signed is not None:
        conditions.append(GuidanceQuery.staff_id.is_not(None) if f.signed else GuidanceQuery.staff_id.is_(None))
    return conditions


def asked_by(f: QueryFilter) -> str:
    return {True: "staff queries", False: "unsigned queries", None: "staff and unsigned queries"}[f.signed]


def _who_note(f: QueryFilter) -> str:
    if f.signed is True:
        return "Staff queries only: messages signed by a staff member. Unsigned messages are counted apart."
    if f.signed is False:
        return UNSIGNED_NOTE
    return "Staff queries and unsigned messages together."


UNSIGNED_NOTE = (
    "Unsigned: messages that did not come signed by a staff member, from anyone who can reach the assistant's "
    "REST channel. They get protocol answers only and are not in the staff figures."
)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _run(db: Database, query: Select) -> list:
    with db.engine.connect() as connection:
        return list(connection.execute(query))


def queries_per_topic_per_week(db: Database, f: QueryFilter) -> Report:
    week = GuidanceQuery.week.label("week")
    topic = func.coalesce(GuidanceQuery.topic, literal("(none)")).label("topic")
    rows = _run(
        db,
        select(week, topic, func.count().label("queries"))
        .where(*query_conditions(f))
        .group_by(week, topic)
        .order_by(week, func.count().desc()),
    )
    return Report(
        "topics",
        f"Guidance queries per topic per week, {asked_by(f)}, {f.period}",
        ["week", "topic", "queries"],
        [(_as_date(r.week), r.topic, r.queries) for r in rows],
        ["Topic: the knowledge item the answer came from, or the intent when no item was cited.", _who_note(f)],
    )


def _weekly_fallbacks(db: Database, f: QueryFilter) -> list:
    """Per week: the queries `f` picks and how many of them fell back."""
    week = GuidanceQuery.week.label("week")
    fell_back = func.sum(case((GuidanceQuery.fell_back.is_(True), 1), else_=0)).label("fell_back")
    return _run(
        db,
        select(week, func.count().label("queries"), fell_back)
        .where(*query_conditions(f))
        .group_by(week)
        .order_by(week),
    )


def fallback_rate(db: Database, f: QueryFilter) -> Report:
    rows = _weekly_fallbacks(db, f)
    return Report(
        "fallback",
        f"Fallback rate per week, {asked_by(f)}, {f.period}",
        ["week", "queries", "fell back", "rate %"],
        [(_as_date(r.week), r.queries, r.fell_back, round(100 * r.fell_back / r.queries, 1)) for r in rows],
        [
            "Fell back: the assistant was unsure what was asked and answered from the closest knowledge, or not "
            "at all.",
            _who_note(f),
        ],
    )


def unsigned_queries(db: Database, f: QueryFilter) -> Report:
    """The volume of unsigned messages per week, apart from the staff figures (whatever `f.signed` says)."""
    rows = _weekly_fallbacks(db, replace(f, signed=False))
    return Report(
        "unsigned",
        f"Unsigned queries per week, {f.period}",
        ["week", "unsigned queries", "fell back"],
        [(_as_date(r.week), r.queries, r.fell_back) for r in rows],
        [UNSIGNED_NOTE],
    )


def top_unanswered(db: Database, f: QueryFilter, limit: int = 20) -> Report:
    question = func.lower(func.trim(GuidanceQuery.text)).label("question")
    conditions = [*query_conditions(f), GuidanceQuery.fell_back.is_(True)]
    rows = _run(
        db,
        select(question, func.count().label("times"), func.max(GuidanceQuery.at).label("last"))
        .where(*conditions)
        .group_by(question)
        .order_by(func.count().desc(), question)
        .limit(limit),
    )
    return Report(
        "unanswered",
        f"Top unanswered questions, {asked_by(f)}, {f.period}",
        ["question", "times asked", "last asked"],
        [(r.question, r.times, _as_datetime(r.last).date()) for r in rows],
        ["Questions the assistant fell back on, grouped by their words (case and spacing ignored).", _who_note(f)],
    )


def _as_datetime(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _overdue_conditions(today: dt.date) -> list[ColumnElement[bool]]:
    return [OpenStep.due < today, Episode.closure_date.is_(None)]


def overdue_by_worker(db: Database, today: dt.date) -> Report:
    worker = func.coalesce(StaffMember.display_name, literal("(no key worker)")).label("worker")
    rows = _run(
        db,
        select(
            worker,
            StaffMember.team,
            func.count().label("steps"),
            func.count(func.distinct(OpenStep.episode_id)).label("clients"),
        )
        .select_from(OpenStep)
        .join(Episode, Episode.id == OpenStep.episode_id)
        .outerjoin(StaffMember, StaffMember.id == Episode.key_worker_id)
        .where(*_overdue_conditions(today))
        .group_by(worker, StaffMember.team)
        .order_by(func.count().desc(), worker),
    )
    return Report(
        "overdue-workers",
        f"Overdue steps per key worker on {today:%d %b %Y}",
        ["key worker", "team", "overdue steps", "clients"],
        [(r.worker, r.team or "", r.steps, r.clients) for r in rows],
        ["Steps past their due date in working days (England and Wales bank holidays), from the protocol engine."],
    )


def overdue_by_stage(db: Database, today: dt.date) -> Report:
    rows = _run(
        db,
        select(
            Episode.stage,
            OpenStep.key,
            func.count().label("steps"),
        )
        .select_from(OpenStep)
        .join(Episode, Episode.id == OpenStep.episode_id)
        .where(*_overdue_conditions(today))
        .group_by(Episode.stage, OpenStep.key)
        .order_by(Episode.stage, func.count().desc()),
    )
    return Report(
        "overdue-stages",
        f"Overdue steps per stage on {today:%d %b %Y}",
        ["stage", "step", "overdue"],
        [(r.stage.value if hasattr(r.stage, "value") else r.stage, r.key, r.steps) for r in rows],
        ["Stage: referred, assessed (awaiting triage) or in treatment."],
    )


def caseload_by_stage_and_level(db: Database) -> Report:
    level = func.coalesce(Episode.care_level, literal("(not set)")).label("level")
    rows = _run(
        db,
        select(Episode.stage, level, func.count().label("clients"))
        .where(Episode.closure_date.is_(None))
        .group_by(Episode.stage, level)
        .order_by(Episode.stage, level),
    )
    return Report(
        "caseload",
        "Open caseload by stage and care level",
        ["stage", "care level", "clients"],
        [(r.stage.value if hasattr(r.stage, "value") else r.stage, r.level, r.clients) for r in rows],
    )


def _working_days_taken(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Working days after each start up to and including each end, as `workdays.working_days_between`."""
    years = range(int(str(starts.min())[:4]), int(str(ends.max())[:4]) + 1)
    holidays = np.array(sorted(bank_holidays(years)), dtype="datetime64[D]")
    return np.busday_count(starts + 1, ends + 1, holidays=holidays)


def assessment_times(db: Database, knowledge: Knowledge, period: Period) -> Report:
    """Referral to initial assessment, and initial assessment to triage, against the service's timescales."""
    profile = knowledge.profile
    measures = (
        (
            "referral to initial assessment",
            Episode.referral_date,
            Episode.initial_assessment_date,
            knowledge.timescale(profile.initial_assessment_timescale),
        ),
        (
            "initial assessment to triage",
            Episode.initial_assessment_date,
            Episode.triage_date,
            knowledge.timescale(profile.triage_timescale),
        ),
    )
    rows, notes = [], []
    for label, start, end, timescale in measures:
        pairs = _run(db, select(start, end).where(end.is_not(None), end.between(period.start, period.end)))
        if not pairs:
            rows.append((label, f"{timescale.amount} working days", 0, "", ""))
            continue
        taken = _working_days_taken(
            np.array([p[0] for p in pairs], dtype="datetime64[D]"),
            np.array([p[1] for p in pairs], dtype="datetime64[D]"),
        )
        within = round(100 * float(np.mean(taken <= timescale.amount)), 1)
        rows.append((label, f"{timescale.amount} working days", len(pairs), float(np.median(taken)), within))
        notes.append(f"{timescale.title}: {timescale.amount} working days ({timescale.source}).")
    return Report(
        "assessment-times",
        f"Time to assessment against the timescales, {period}",
        ["measure", "timescale", "episodes", "median working days", "% within time"],
        rows,
        ["Counted for assessments done in the period, in working days (England and Wales bank holidays).", *notes],
    )


def minimum_data_set(db: Database, knowledge: Knowledge, period: Period) -> Report:
    """The figures 004 §5 asks the six-monthly report to include, counted as `knowledge/reporting.yml` defines."""

    def in_period(column: ColumnElement) -> ColumnElement[bool]:
        return column.between(period.start, period.end)

    released = and_(Episode.closure_reason == ClosureReason.release, in_period(Episode.closure_date))
    arranged = select(ChecklistProgress.episode_id).where(
        ChecklistProgress.procedure_id == "release_planning",
        ChecklistProgress.step_id == "community_referral",
        ChecklistProgress.status == StepStatus.done,
    )
    counts = _run(
        db,
        select(
            func.sum(case((in_period(Episode.referral_date), 1), else_=0)).label("referrals"),
            func.sum(case((in_period(Episode.initial_assessment_date), 1), else_=0)).label("offered"),
            func.sum(
                case((and_(in_period(Episode.initial_assessment_date), Episode.triage_date.is_not(None)), 1), else_=0)
            ).label("engaged"),
            func.sum(case((released, 1), else_=0)).label("released"),
            func.sum(case((and_(released, Episode.id.in_(arranged)), 1), else_=0)).label("arranged"),
            func.sum(case((and_(released, Episode.community_engagement_date.is_not(None)), 1), else_=0)).label(
                "community"
            ),
            func.sum(case((and_(released, Episode.community_not_engaged_date.is_not(None)), 1), else_=0)).label(
                "not_engaged"
            ),
        ),
    )[0]
    n = {
        key: int(getattr(counts, key) or 0)
        for key in ("referrals", "offered", "engaged", "released", "arranged", "community", "not_engaged")
    }
    by_route = _run(
        db,
        select(Episode.referral_route, func.count())
        .where(in_period(Episode.referral_date))
        .group_by(Episode.referral_route)
        .order_by(Episode.referral_route),
    )

    def share(part: int, whole: int) -> float | str:
        return round(100 * part / whole, 1) if whole else ""

    measures = knowledge.measures
    rows = [
        (measures["referrals"].title, n["referrals"], ""),
        (measures["offered"].title, n["offered"], ""),
        (measures["engaged"].title, n["engaged"], share(n["engaged"], n["offered"])),
        (measures["community_arrangements"].title, n["arranged"], share(n["arranged"], n["released"])),
        (measures["community_engagement"].title, n["community"], share(n["community"], n["released"])),
    ]
    routes = ", ".join(f"{route.value.replace('_', ' ')} {count}" for route, count in by_route) or "none"
    unknown = n["released"] - n["community"] - n["not_engaged"]
    notes = [
        f"Released in the period: {n['released']} (reported not engaging with community treatment: "
        f"{n['not_engaged']}; not yet known: {unknown}). Referrals by route: {routes}."
    ] + [f"{m.title}: {m.definition} ({m.source})" for m in measures.values()]
    return Report(
        "mds",
        f"Six-monthly minimum data set (004 §5), {period}",
        ["measure", "number", "%"],
        rows,
        notes,
    )


def induction_progress(db: Database, knowledge: Knowledge, today: dt.date, team: str | None = None) -> Report:
    """Each new starter's induction: tours, scenario score, subjects to revisit, glossary, training."""
    rows = []
    for member, mine in induction.everyones_progress(db, knowledge, today, team):
        done = sum(1 for t in mine.training if t.completed_on and not (t.renew_by and t.renew_by < today))
        rows.append(
            (
                member.display_name,
                member.team or "",
                f"{len(mine.tours_done)} of {len(knowledge.tours)}",
                f"{mine.scenarios_right_first_time} of {mine.scenarios_answered}",
                ", ".join(knowledge.tours[t].title for t in mine.weak),
                f"{mine.terms_known} of {len(induction.drill_terms(knowledge))}",
                f"{done} of {len(mine.training)}",
            )
        )
    return Report(
        "induction",
        f"Induction progress on {today:%d %b %Y}",
        [
            "staff member",
            "team",
            "tours done",
            "scenarios right first time",
            "to revisit",
            "glossary known",
            "training up to date",
        ],
        rows,
        [
            "Glossary known: terms answered right four times running in the spaced-repetition drill.",
            "Training up to date: courses on the training list done, and not past their renewal date.",
        ],
    )
