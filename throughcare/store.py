"""The case store's operations. Each public function is one transaction: all of it happens, or none of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from throughcare import prison_numbers
from throughcare.db import Database
from throughcare.engine import EpisodeFacts, next_steps
from throughcare.knowledge import Knowledge, default_knowledge
from throughcare.models import (
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


class CaseError(Exception):
    """A request the store refuses; the message is written for the member of staff who asked."""


class UnknownClient(CaseError):
    pass


@dataclass(frozen=True)
class Event:
    """An episode event that staff record, with the rules for its date."""

    name: str
    field: str
    label: str
    may_be_future: bool
    may_be_past: bool
    # Recorded on the episode that release closed, as the community service reports back.
    after_release: bool = False


EVENTS = {
    e.name: e
    for e in (
        Event("initial_assessment", "initial_assessment_date", "initial assessment", False, True),
        Event("triage", "triage_date", "triage assessment", False, True),
        Event("review", "last_review_date", "care plan review", False, True),
        Event("joint_review", "joint_review_date", "13-week joint review", False, True),
        Event("release_date", "expected_release_date", "expected release date", True, False),
        Event("transfer", "planned_transfer_date", "planned transfer", True, False),
        Event(
            "community_engagement",
            "community_engagement_date",
            "first community treatment appointment attended",
            False,
            True,
            after_release=True,
        ),
    )
}


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


def _current_episode(session: Session, prison_number: str) -> Episode:
    number = prison_numbers.normalise(prison_number)
    if number is None:
        raise CaseError(f"'{prison_number}' is not a prison number: {prison_numbers.FORMAT_HELP}.")
    client = session.scalar(select(Client).where(Client.prison_number == number))
    if client is None or not client.episodes:
        raise UnknownClient(f"I can't find {number} on the caseload.")
    open_episodes = [e for e in client.episodes if e.closure_date is None]
    return (open_episodes or client.episodes)[-1]


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


def _replace_open_steps(session: Session, episode: Episode, today: dt.date) -> None:
    """Rewrite the episode's rows in `open_step`, in the transaction that changed the episode."""
    session.flush()
    session.execute(delete(OpenStep).where(OpenStep.episode_id == episode.id))
    session.refresh(episode)
    session.add_all(_open_step_rows(episode, default_knowledge(), today))


def refresh_open_steps(db: Database, knowledge: Knowledge, today: dt.date, batch: int = 1000) -> int:
    """Recompute `open_step` for every open episode as of `today`. Run daily: steps open and fall due as time
    passes, not only when an episode changes. Each batch is one transaction. Returns the episodes refreshed."""
    open_episodes = select(Episode.id).where(Episode.closure_date.is_(None))
    with db.transaction() as session:
        ids = session.scalars(open_episodes.order_by(Episode.id)).all()
        session.execute(delete(OpenStep).where(OpenStep.episode_id.not_in(open_episodes)))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with db.transaction() as session:
            episodes = session.scalars(
                select(Episode)
                .where(Episode.id.in_(chunk))
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
    db: Database, prison_number: str, event_name: str, when: dt.date, staff_id: int, today: dt.date
) -> EpisodeFacts:
    """Record an assessment, review, release or transfer date on the client's open episode, with an audit entry."""
    event = EVENTS[event_name]
    with db.transaction() as session:
        episode = _current_episode(session, prison_number)
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
        if event.name == "initial_assessment" and episode.stage == Stage.referred:
            episode.stage = Stage.assessed
        if event.name == "triage":
            episode.stage = Stage.in_treatment
        after = {event.field: when.isoformat(), "stage": episode.stage.value}
        audit(session, staff_id, "episode", episode.id, f"record_{event.name}", before, after)
        _replace_open_steps(session, episode, today)
        return _facts(episode)


def record_referral(
    db: Database, prison_number: str, route: ReferralRoute, when: dt.date, staff_id: int, initials: str | None = None
) -> EpisodeFacts:
    """Open a new episode at referral, creating the client if the service has not seen them before."""
    number = prison_numbers.normalise(prison_number)
    if number is None:
        raise CaseError(f"'{prison_number}' is not a prison number: {prison_numbers.FORMAT_HELP}.")
    with db.transaction() as session:
        client = session.scalar(select(Client).where(Client.prison_number == number))
        if client is None:
            client = Client(prison_number=number, initials=initials)
            session.add(client)
        elif any(e.closure_date is None for e in client.episodes):
            raise CaseError(f'{number} already has an open referral; ask "what\'s next for {number}".')
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
        _replace_open_steps(session, episode, dt.date.today())
        return _facts(episode)


def mark_step(
    db: Database,
    prison_number: str,
    procedure_id: str,
    step_id: str,
    status: StepStatus,
    staff_id: int,
    reason: str | None = None,
) -> EpisodeFacts:
    """Mark a checklist step done or skipped (a skip needs a reason); marking again replaces the earlier mark."""
    if status == StepStatus.skipped and not (reason and reason.strip()):
        raise CaseError("A skipped step needs a reason, so the record shows why.")
    with db.transaction() as session:
        episode = _current_episode(session, prison_number)
        row = session.scalar(
            select(ChecklistProgress).where(
                ChecklistProgress.episode_id == episode.id,
                ChecklistProgress.procedure_id == procedure_id,
                ChecklistProgress.step_id == step_id,
            )
        )
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
        _replace_open_steps(session, episode, dt.date.today())
        return _facts(episode)


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
