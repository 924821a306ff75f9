"""The case store's operations. Each public function is one transaction: all of it happens, or none of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from throughcare import clock, prison_numbers
from throughcare.answers import CONDITION_WORDS, day
from throughcare.db import Database
from throughcare.engine import EpisodeFacts, applicable_steps, next_steps
from throughcare.knowledge import Knowledge
from throughcare.models import (
    LONDON,
    AuditEvent,
    ChecklistProgress,
    Client,
    ClosureReason,
    Episode,
    GuidanceQuery,
    OpenStep,
    ReferralRoute,
    Role,
    StaffMember,
    Stage,
    StepStatus,
    utcnow,
    week_of,
)

EARLIEST_DATE = dt.date(2000, 1, 1)
# PostgreSQL's codes for a transaction that lost a race it can only lose by being rolled back: a serialisation
# failure and a deadlock. Either is worth running again.
RETRY_SQLSTATES = {"40001", "40P01"}
ATTEMPTS = 3
T = TypeVar("T")


class CaseError(Exception):
    """A request the store refuses; the message is written for the member of staff who asked."""


class UnknownClient(CaseError):
    pass


class AlreadyReferred(CaseError):
    """The client already has an open episode, often opened a moment ago by someone else."""


class AlreadyMarked(CaseError):
    """The step already has the mark asked for, often put there a moment ago by someone else."""


class NotAStep(CaseError):
    """The step is not in the procedure, or does not apply to this client's episode."""


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


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    display_name: str
    role: str


def _facts(episode: Episode) -> EpisodeFacts:
    return EpisodeFacts(
        prison_number=episode.client.prison_number,
        initials=episode.client.initials,
        referral_date=episode.referral_date,
        referral_route=episode.referral_route.value,
        stage=episode.stage.value,
        care_level=episode.care_level,
        key_worker=episode.key_worker.display_name if episode.key_worker else None,
        on_prescription=episode.on_prescription,
        parole_case=episode.parole_case,
        consent_to_share=episode.consent_to_share,
        reception_date=episode.reception_date,
        initial_assessment_date=episode.initial_assessment_date,
        triage_date=episode.triage_date,
        last_review_date=episode.last_review_date,
        joint_review_date=episode.joint_review_date,
        expected_release_date=episode.expected_release_date,
        planned_transfer_date=episode.planned_transfer_date,
        closure_reason=episode.closure_reason.value if episode.closure_reason else None,
        closure_date=episode.closure_date,
        progress={(p.procedure_id, p.step_id): p.status.value for p in episode.progress},
    )


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
    number = _normalised(prison_number)
    client = _client(session, number, for_update=for_update)
    if client is None or not client.episodes:
        raise UnknownClient(f"I can't find {number} on the caseload.")
    open_episodes = [e for e in client.episodes if e.closure_date is None]
    episode = (open_episodes or client.episodes)[-1]
    if for_update:
        # The episode's row too: the daily refresh of open steps locks episodes, not clients.
        session.scalar(
            select(Episode).where(Episode.id == episode.id).with_for_update().execution_options(populate_existing=True)
        )
    return episode


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


def _who(session: Session, staff_id: int | None, asking_staff_id: int) -> str:
    if staff_id == asking_staff_id:
        return "you"
    staff = session.get(StaffMember, staff_id) if staff_id is not None else None
    return staff.display_name if staff else "a colleague"


def _local_time(at: dt.datetime, today: dt.date) -> str:
    """When a mark was made, as staff in England read a clock: "14:05 today", "09:30 on Tue 1 Dec 2026"."""
    local = (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).astimezone(LONDON)
    return f"{local:%H:%M} today" if local.date() == today else f"{local:%H:%M} on {day(local.date())}"


def audit(session: Session, staff_id: int | None, entity: str, entity_id: int, action: str, before, after) -> None:  # type: ignore[no-untyped-def]
    """Write one audit row in the caller's transaction; every change to a record goes through here."""
    session.add(
        AuditEvent(staff_id=staff_id, entity=entity, entity_id=entity_id, action=action, before=before, after=after)
    )


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _open_step_rows(episode: Episode, knowledge: Knowledge, today: dt.date) -> list[OpenStep]:
    return [
        OpenStep(
            episode_id=episode.id,
            key=step.key[:80],
            what=step.what[:300],
            who=step.who[:80],
            due=step.due,
            computed_on=today,
        )
        for step in next_steps(_facts(episode), knowledge, today)
    ]


def _replace_open_steps(session: Session, episode: Episode, knowledge: Knowledge, today: dt.date) -> None:
    """Rewrite the episode's rows in `open_step`, in the transaction that changed the episode."""
    session.flush()
    session.execute(delete(OpenStep).where(OpenStep.episode_id == episode.id))
    session.refresh(episode)
    session.add_all(_open_step_rows(episode, knowledge, today))


def refresh_open_steps(db: Database, knowledge: Knowledge, today: dt.date, batch: int = 1000) -> int:
    """Recompute `open_step` for every open episode as of `today`. Run daily: steps open and fall due as time
    passes, not only when an episode changes. Each batch is one transaction. Returns the episodes refreshed."""
    open_episodes = select(Episode.id).where(Episode.closure_date.is_(None))
    with db.writing() as session:
        ids = session.scalars(open_episodes.order_by(Episode.id)).all()
        session.execute(delete(OpenStep).where(OpenStep.episode_id.not_in(open_episodes)))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with db.writing() as session:
            # Locked, as every change to an episode locks it, so a step marked meanwhile is not rewritten twice.
            episodes = session.scalars(
                select(Episode)
                .where(Episode.id.in_(chunk))
                .order_by(Episode.id)
                .with_for_update()
                .options(selectinload(Episode.client), selectinload(Episode.key_worker), selectinload(Episode.progress))
            ).all()
            session.execute(delete(OpenStep).where(OpenStep.episode_id.in_(chunk)))
            session.add_all(row for episode in episodes for row in _open_step_rows(episode, knowledge, today))
    return len(ids)


def open_steps_computed_on(db: Database) -> dt.date | None:
    """The oldest date the open steps were computed for: reports of what is overdue are as of then."""
    with db.transaction() as session:
        return session.scalar(select(func.min(OpenStep.computed_on)))


def episode_facts(db: Database, prison_number: str) -> EpisodeFacts:
    with db.transaction() as session:
        return _facts(_current_episode(session, prison_number))


def staff_member(db: Database, staff_id: int) -> StaffIdentity | None:
    """The active staff member with this id, or None (unknown or no longer active)."""
    with db.transaction() as session:
        staff = session.get(StaffMember, staff_id)
        if staff is None or not staff.active:
            return None
        return StaffIdentity(staff.id, staff.display_name, staff.role.value)


def caseload(db: Database, staff_id: int) -> list[EpisodeFacts]:
    """Open episodes whose key worker is this member of staff, by prison number."""
    with db.transaction() as session:
        episodes = session.scalars(
            select(Episode)
            .join(Client)
            .where(Episode.key_worker_id == staff_id, Episode.closure_date.is_(None))
            .order_by(Client.prison_number)
            # What _facts reads, in three queries whatever the caseload's size, not three per episode.
            .options(selectinload(Episode.client), selectinload(Episode.key_worker), selectinload(Episode.progress))
        ).all()
        return [_facts(e) for e in episodes]


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
        before = {event.field: _iso(getattr(episode, event.field)), "stage": episode.stage.value}
        setattr(episode, event.field, when)
        if event.replaces is not None:
            before[event.replaces] = _iso(getattr(episode, event.replaces))
            setattr(episode, event.replaces, None)
        if event.name == "initial_assessment" and episode.stage == Stage.referred:
            episode.stage = Stage.assessed
        if event.name == "triage":
            episode.stage = Stage.in_treatment
        after = {event.field: when.isoformat(), "stage": episode.stage.value}
        if event.replaces is not None:
            after[event.replaces] = None
        audit(session, staff_id, "episode", episode.id, f"record_{event.name}", before, after)
        _replace_open_steps(session, episode, knowledge, today)
        return _facts(episode)


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
        _replace_open_steps(session, episode, knowledge, clock.today())
        return _facts(episode)


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
    by = f" by {_who(session, referred_by, asking_staff_id)}" if referred_by is not None else ""
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
        row = session.scalar(
            select(ChecklistProgress).where(
                ChecklistProgress.episode_id == episode.id,
                ChecklistProgress.procedure_id == procedure_id,
                ChecklistProgress.step_id == step_id,
            )
        )
        if row is not None and row.status == status:
            raise AlreadyMarked(_already_marked(session, knowledge, row, episode, staff_id, today))
        before = {"status": row.status.value, "reason": row.reason} if row else None
        if row is None:
            row = ChecklistProgress(episode_id=episode.id, procedure_id=procedure_id, step_id=step_id, status=status)
            session.add(row)
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
        _replace_open_steps(session, episode, knowledge, today)
        return _facts(episode)


def _check_step_applies(
    knowledge: Knowledge, episode: Episode, procedure_id: str, step_id: str, today: dt.date
) -> None:
    procedure = knowledge.procedures.get(procedure_id)
    if procedure is None:
        raise NotAStep(f"There is no checklist called '{procedure_id}', so nothing was recorded.")
    step = next((s for s in procedure.steps if s.id == step_id), None)
    if step is None:
        raise NotAStep(f"The {procedure.title.lower()} checklist has no step '{step_id}', so nothing was recorded.")
    if step not in applicable_steps(procedure, _facts(episode), today):
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
        f"Already marked {row.status.value} by {_who(session, row.by_staff_id, staff_id)} at "
        f"{_local_time(row.at, today)}{why}, so nothing was changed. To carry on, say "
        f'"resume the {procedure.title.lower()} checklist for {episode.client.prison_number}".'
    )


def log_query(
    db: Database,
    *,
    staff_id: int | None,
    conversation_id: str | None,
    text: str,
    intent: str | None,
    confidence: float | None,
    entities: Iterable[dict],
    action: str,
    cited: str | None,
    fell_back: bool,
    answer: str | None = None,
    topic: str | None = None,
) -> None:
    with db.transaction() as session:
        now = utcnow()
        session.add(
            GuidanceQuery(
                at=now,
                week=week_of(now),
                staff_id=staff_id,
                conversation_id=conversation_id,
                text=text[:4000],
                intent=intent,
                confidence=confidence,
                entities=[{"entity": e.get("entity"), "value": e.get("value")} for e in entities],
                action=action,
                cited=cited[:200] if cited else None,
                fell_back=fell_back,
                answer=answer[:4000] if answer else None,
                topic=(topic or intent or "")[:80] or None,
            )
        )


def add_staff(db: Database, display_name: str, role: Role, team: str | None = None) -> int:
    with db.transaction() as session:
        staff = StaffMember(display_name=display_name, role=role, team=team, active=True)
        session.add(staff)
        session.flush()
        audit(
            session, None, "staff_member", staff.id, "create", None, {"display_name": display_name, "role": role.value}
        )
        return staff.id


@dataclass(frozen=True)
class StaffRow:
    id: int
    display_name: str
    role: str
    team: str | None
    active: bool


def list_staff(db: Database) -> list[StaffRow]:
    with db.transaction() as session:
        return [
            StaffRow(s.id, s.display_name, s.role.value, s.team, s.active)
            for s in session.scalars(select(StaffMember).order_by(StaffMember.id))
        ]
