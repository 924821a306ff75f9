"""The case store's operations. Each public function is one transaction: all of it happens, or none of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from throughcare import clock
from throughcare.cases import prison_numbers
from throughcare.cases.audit_trail import audit, audit_value, record_reads
from throughcare.cases.facts import facts_of
from throughcare.cases.open_steps import replace_open_steps
from throughcare.cases.staff_members import staff_name
from throughcare.db.engine import Database
from throughcare.db.models import (
    LONDON,
    AuditEvent,
    ChecklistProgress,
    Client,
    ClosureReason,
    Episode,
    ReferralRoute,
    Stage,
    StepStatus,
)
from throughcare.errors import AlreadyMarked, AlreadyReferred, CaseError, NotAStep, UnknownClient
from throughcare.knowledge.schema import Knowledge
from throughcare.protocol.answers import CONDITION_WORDS, day
from throughcare.protocol.engine import EpisodeFacts, applicable_steps

EARLIEST_DATE = dt.date(2000, 1, 1)
# PostgreSQL's codes for a transaction that lost a race it can only lose by being rolled back: a serialisation
# failure and a deadlock. Either is worth running again.
RETRY_SQLSTATES = {"40001", "40P01"}
ATTEMPTS = 3
T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    """An episode event that staff record, with the rules for its date: the one definition of each event, by the
    name the NLU gives it (knowledge/vocabulary.yml holds the words for each name)."""

    name: str
    field: str
    label: str
    may_be_future: bool
    may_be_past: bool
    # The next steps a question about this event asks after (step keys starting with these).
    steps: tuple[str, ...] = ()
    # The service profile's timescale for the event, quoted once it is done (ServiceProfile.<timescale>_timescale).
    timescale: str | None = None
    # The checklist a question about this event asks for as a whole ("when is his release?").
    checklist: str | None = None
    # Recorded on the episode that release closed, as the community service reports back.
    after_release: bool = False
    # A field this event contradicts, cleared when it is recorded: the latest report back wins.
    replaces: str | None = None


EVENTS = {
    e.name: e
    for e in (
        Event(
            "initial_assessment",
            "initial_assessment_date",
            "initial assessment",
            False,
            True,
            steps=("initial_assessment", "illicit_use_visit"),
            timescale="initial_assessment",
        ),
        Event("triage", "triage_date", "triage assessment", False, True, steps=("triage",), timescale="triage"),
        Event("review", "last_review_date", "care plan review", False, True, steps=("care_plan_review",)),
        Event(
            "joint_review",
            "joint_review_date",
            "13-week joint review",
            False,
            True,
            steps=("joint_review",),
            timescale="joint_review",
        ),
        Event("release_date", "expected_release_date", "expected release date", True, False, checklist="release"),
        Event("transfer", "planned_transfer_date", "planned transfer", True, False, checklist="transfer"),
        Event(
            "community_engagement",
            "community_engagement_date",
            "first community treatment appointment attended",
            False,
            True,
            after_release=True,
            replaces="community_not_engaged_date",
        ),
        Event(
            "community_non_engagement",
            "community_not_engaged_date",
            "report that the client did not engage with community treatment",
            False,
            True,
            after_release=True,
            replaces="community_engagement_date",
        ),
    )
}


def checklist_of(event_name: object) -> str | None:
    """The checklist a question about this event asks for ("release", "transfer"); None for any other event."""
    event = EVENTS.get(str(event_name))
    return event.checklist if event else None


def _normalised(prison_number: str) -> str:
    number = prison_numbers.normalise(prison_number)
    if number is None:
        raise CaseError(f"'{prison_number}' is not a prison number: {prison_numbers.FORMAT_HELP}.")
    return number


def _client(session: Session, number: str, *, for_update: bool = False) -> Client | None:
    query = select(Client).where(Client.prison_number == number)
    if for_update:
        # Every change to a client's record locks the client's row first, so two staff changing one record at once
        # take turns and the second reads what the first wrote (PostgreSQL; SQLite locks the whole database).
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def _current_episode(session: Session, prison_number: str, *, for_update: bool = False) -> Episode:
    """The client's open episode, or their latest; with what facts_of reads (client, key worker, progress) loaded
    in the same query, so a case read is one query and not five."""
    number = _normalised(prison_number)
    query = (
        select(Episode)
        .join(Episode.client)
        .where(Client.prison_number == number)
        .order_by(Episode.referral_date, Episode.id)
        .options(contains_eager(Episode.client), joinedload(Episode.key_worker), joinedload(Episode.progress))
    )
    if for_update:
        # The client's row first (see _client), then their episodes: the daily refresh of open steps locks
        # episodes, not clients.
        _client(session, number, for_update=True)
        query = query.with_for_update(of=Episode).execution_options(populate_existing=True)
    episodes = session.scalars(query).unique().all()
    if not episodes:
        raise UnknownClient(f"I can't find {number} on the caseload.")
    return ([e for e in episodes if e.closure_date is None] or episodes)[-1]


def _retrying(write: Callable[[], T]) -> T:
    """Run a write, and run it again if it lost a race that locks cannot prevent: two referrals of a client new
    to the service both insert them, and one insert fails. Run again, it reads what the winner wrote, so it either
    refuses with a CaseError that says what happened or goes ahead; staff never see the database fault."""
    for _ in range(ATTEMPTS - 1):
        try:
            return write()
        except DBAPIError as err:
            if not (isinstance(err, IntegrityError) or getattr(err.orig, "sqlstate", None) in RETRY_SQLSTATES):
                raise
    return write()


def _local_time(at: dt.datetime, today: dt.date) -> str:
    """When a mark was made, as staff in England read a clock: "14:05 today", "09:30 on Tue 1 Dec 2026"."""
    local = (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).astimezone(LONDON)
    return f"{local:%H:%M} today" if local.date() == today else f"{local:%H:%M} on {day(local.date())}"


def episode_facts(db: Database, prison_number: str) -> EpisodeFacts:
    with db.transaction() as session:
        return facts_of(_current_episode(session, prison_number))


def episode_facts_shown(db: Database, prison_number: str, staff_id: int, view: str) -> EpisodeFacts:
    """A client's case to show a member of staff, their reading of it recorded in the audit trail in the same
    transaction (the view `what` as in `audit_trail.audit_read`): if the record cannot be written, nothing is read
    to show."""
    with db.transaction() as session:
        episode = _current_episode(session, prison_number)
        record_reads(session, staff_id, [episode.client_id], view)
        return facts_of(episode)


def caseload(db: Database, staff_id: int) -> list[EpisodeFacts]:
    """Open episodes whose key worker is this member of staff, by prison number."""
    with db.transaction() as session:
        episodes = session.scalars(
            select(Episode)
            .join(Client)
            .where(Episode.key_worker_id == staff_id, Episode.closure_date.is_(None))
            .order_by(Client.prison_number)
            # What facts_of reads, in three queries whatever the caseload's size, not three per episode.
            .options(selectinload(Episode.client), selectinload(Episode.key_worker), selectinload(Episode.progress))
        ).all()
        return [facts_of(e) for e in episodes]


def _check_event_date(event: Event, when: dt.date, episode: Episode, today: dt.date) -> None:
    if when < EARLIEST_DATE or when > today + dt.timedelta(days=5 * 366):
        raise CaseError(f"{when:%d %B %Y} can't be right for the {event.label}. Please check the date.")
    if when > today and not event.may_be_future:
        raise CaseError(f"{when:%d %B %Y} is in the future. A {event.label} can only be recorded once it has happened.")
    if when < today and not event.may_be_past:
        raise CaseError(f"{when:%d %B %Y} has already passed; a {event.label} has to be a future date.")
    if not event.may_be_future and when < episode.referral_date:
        raise CaseError(
            f"{when:%d %B %Y} is before the referral on {episode.referral_date:%d %B %Y}. Please check the date."
        )
    if event.name == "triage" and episode.initial_assessment_date is None:
        raise CaseError("The initial assessment isn't recorded yet; record it before the triage.")
    if event.name == "triage" and when < episode.initial_assessment_date:  # type: ignore[operator]
        raise CaseError("The triage can't be before the initial assessment. Please check the date.")
    if event.name in ("review", "joint_review") and episode.triage_date is None:
        raise CaseError("Reviews start after the triage assessment, which isn't recorded yet.")


def record_event(
    db: Database,
    knowledge: Knowledge,
    prison_number: str,
    event_name: str,
    when: dt.date,
    staff_id: int,
    today: dt.date,
) -> EpisodeFacts:
    """Record an assessment, review, release or transfer date on the client's open episode, with an audit entry."""
    return _retrying(lambda: _record_event(db, knowledge, prison_number, event_name, when, staff_id, today))


def _record_event(
    db: Database,
    knowledge: Knowledge,
    prison_number: str,
    event_name: str,
    when: dt.date,
    staff_id: int,
    today: dt.date,
) -> EpisodeFacts:
    event = EVENTS[event_name]
    with db.writing() as session:
        # Locked before the previous value is read, so the audit's "before" is what this change replaced.
        episode = _current_episode(session, prison_number, for_update=True)
        released = episode.closure_reason == ClosureReason.release
        if event.after_release and not released:
            raise CaseError(
                f"The {event.label} is recorded after release; {episode.client.prison_number} isn't released."
            )
        if event.after_release and when < episode.closure_date:  # type: ignore[operator]
            raise CaseError(f"{when:%d %B %Y} is before the release on {episode.closure_date:%d %B %Y}.")
        if episode.closure_date is not None and not event.after_release:
            raise CaseError(f"{episode.client.prison_number}'s episode was closed on {episode.closure_date:%d %B %Y}.")
        _check_event_date(event, when, episode, today)
        before = {event.field: audit_value(getattr(episode, event.field)), "stage": episode.stage.value}
        setattr(episode, event.field, when)
        if event.replaces is not None:
            before[event.replaces] = audit_value(getattr(episode, event.replaces))
            setattr(episode, event.replaces, None)
        if event.name == "initial_assessment" and episode.stage == Stage.referred:
            episode.stage = Stage.assessed
        if event.name == "triage":
            episode.stage = Stage.in_treatment
        after = {event.field: when.isoformat(), "stage": episode.stage.value}
        if event.replaces is not None:
            after[event.replaces] = None
        audit(session, staff_id, "episode", episode.id, f"record_{event.name}", before, after)
        replace_open_steps(session, episode, knowledge, today)
        return facts_of(episode)


def record_referral(
    db: Database,
    knowledge: Knowledge,
    prison_number: str,
    route: ReferralRoute,
    when: dt.date,
    staff_id: int,
    initials: str | None = None,
) -> EpisodeFacts:
    """Open a new episode at referral, creating the client if the service has not seen them before."""
    number = _normalised(prison_number)
    return _retrying(lambda: _record_referral(db, knowledge, number, route, when, staff_id, initials))


def _record_referral(
    db: Database,
    knowledge: Knowledge,
    number: str,
    route: ReferralRoute,
    when: dt.date,
    staff_id: int,
    initials: str | None,
) -> EpisodeFacts:
    with db.writing() as session:
        client = _client(session, number, for_update=True)
        if client is None:
            client = Client(prison_number=number, initials=initials)
            session.add(client)
        else:
            current = next((e for e in client.episodes if e.closure_date is None), None)
            if current is not None:
                raise AlreadyReferred(_already_referred(session, current, staff_id))
        episode = Episode(client=client, referral_date=when, referral_route=route, stage=Stage.referred)
        session.add(episode)
        session.flush()
        audit(
            session,
            staff_id,
            "episode",
            episode.id,
            "record_referral",
            None,
            {"prison_number": number, "referral_date": when.isoformat(), "referral_route": route.value},
        )
        replace_open_steps(session, episode, knowledge, clock.today())
        return facts_of(episode)


def _already_referred(session: Session, episode: Episode, asking_staff_id: int) -> str:
    number = episode.client.prison_number
    referred_by = session.scalar(
        select(AuditEvent.staff_id)
        .where(
            AuditEvent.entity == "episode", AuditEvent.entity_id == episode.id, AuditEvent.action == "record_referral"
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )
    # Episodes loaded from elsewhere have no referral in the audit trail, so no one to name.
    by = f" by {staff_name(session, referred_by, asking_staff_id)}" if referred_by is not None else ""
    return (
        f"{number} already has an open episode (referred{by} on {day(episode.referral_date)}), so no new "
        f'referral was recorded. Ask "what\'s next for {number}" to see where it stands.'
    )


def mark_step(
    db: Database,
    knowledge: Knowledge,
    prison_number: str,
    procedure_id: str,
    step_id: str,
    status: StepStatus,
    staff_id: int,
    reason: str | None = None,
) -> EpisodeFacts:
    """Mark a checklist step done or skipped (a skip needs a reason). Another mark replaces the earlier one, audited;
    the mark it already has is refused, saying who made it and when (often a colleague a moment before)."""
    if status == StepStatus.skipped and not (reason and reason.strip()):
        raise CaseError("A skipped step needs a reason, so the record shows why.")
    return _retrying(lambda: _mark_step(db, knowledge, prison_number, procedure_id, step_id, status, staff_id, reason))


def _mark_step(
    db: Database,
    knowledge: Knowledge,
    prison_number: str,
    procedure_id: str,
    step_id: str,
    status: StepStatus,
    staff_id: int,
    reason: str | None,
) -> EpisodeFacts:
    today = clock.today()
    with db.writing() as session:
        episode = _current_episode(session, prison_number, for_update=True)
        _check_step_applies(knowledge, episode, procedure_id, step_id, today)
        row = next((p for p in episode.progress if (p.procedure_id, p.step_id) == (procedure_id, step_id)), None)
        if row is not None and row.status == status:
            raise AlreadyMarked(_already_marked(session, knowledge, row, episode, staff_id, today))
        before = {"status": row.status.value, "reason": row.reason} if row else None
        if row is None:
            # Added to the episode as loaded, which then holds every mark: its open steps are worked out from it.
            row = ChecklistProgress(procedure_id=procedure_id, step_id=step_id, status=status)
            episode.progress.append(row)
        row.status, row.reason, row.by_staff_id, row.at = status, reason, staff_id, dt.datetime.now(dt.timezone.utc)
        session.flush()
        audit(
            session,
            staff_id,
            "checklist_progress",
            row.id,
            f"{procedure_id}.{step_id}",
            before,
            {"status": status.value, "reason": reason},
        )
        replace_open_steps(session, episode, knowledge, today)
        return facts_of(episode)


def _check_step_applies(
    knowledge: Knowledge, episode: Episode, procedure_id: str, step_id: str, today: dt.date
) -> None:
    procedure = knowledge.procedures.get(procedure_id)
    if procedure is None:
        raise NotAStep(f"There is no checklist called '{procedure_id}', so nothing was recorded.")
    step = next((s for s in procedure.steps if s.id == step_id), None)
    if step is None:
        raise NotAStep(f"The {procedure.title.lower()} checklist has no step '{step_id}', so nothing was recorded.")
    if step not in applicable_steps(procedure, facts_of(episode), today):
        only = CONDITION_WORDS.get(step.condition or "", "not for this client")
        raise NotAStep(
            f"\"{step.what.rstrip('.')}\" is {only}, which isn't what {episode.client.prison_number}'s record "
            "shows, so nothing was recorded."
        )


def _already_marked(
    session: Session, knowledge: Knowledge, row: ChecklistProgress, episode: Episode, staff_id: int, today: dt.date
) -> str:
    why = f' (reason: "{row.reason}")' if row.reason else ""
    procedure = knowledge.procedures[row.procedure_id]
    return (
        f"Already marked {row.status.value} by {staff_name(session, row.by_staff_id, staff_id)} at "
        f"{_local_time(row.at, today)}{why}, so nothing was changed. To carry on, say "
        f'"resume the {procedure.title.lower()} checklist for {episode.client.prison_number}".'
    )
