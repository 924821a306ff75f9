"""The case store's tables, as SQLAlchemy 2 typed ORM models.

Clients are held by prison number and initials only: never a name.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from throughcare.clock import LONDON


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def week_of(at: dt.datetime) -> dt.date:
    """The Monday of the week, in UK time, that a moment falls in (stored times without a zone are UTC)."""
    local = (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).astimezone(LONDON).date()
    return local - dt.timedelta(days=local.weekday())


class Base(DeclarativeBase):
    pass


class Role(str, enum.Enum):
    practitioner = "practitioner"
    administrator = "administrator"
    manager = "manager"
    clinical_lead = "clinical_lead"


class Stage(str, enum.Enum):
    referred = "referred"
    assessed = "assessed"  # initial assessment done, awaiting triage
    in_treatment = "in_treatment"  # triaged, care plan reviews running
    closed = "closed"


class ReferralRoute(str, enum.Enum):
    induction = "induction"
    self_referral = "self_referral"
    staff_referral = "staff_referral"
    illicit_use = "illicit_use"
    positive_drug_test = "positive_drug_test"
    # Referred in by a community team (CJIT) through the prison's single point of contact (001 §5.4.1).
    # Stored as a plain string (see _enum), so a new route needs no migration.
    community_team = "community_team"


class ClosureReason(str, enum.Enum):
    transfer = "transfer"
    release = "release"
    positive_exit = "positive_exit"
    withdrawal = "withdrawal"
    declined = "declined"


class StepStatus(str, enum.Enum):
    done = "done"
    skipped = "skipped"


class ReviewMark(str, enum.Enum):
    answered_well = "answered_well"
    wrong_answer = "wrong_answer"
    knowledge_gap = "knowledge_gap"


class AccessStatus(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    refused = "refused"
    revoked = "revoked"


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as plain strings so the same migration runs on SQLite and PostgreSQL.
    return Enum(kind, native_enum=False, length=32, validate_strings=True)


class StaffMember(Base):
    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(_enum(Role))
    team: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Client(Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    prison_number: Mapped[str] = mapped_column(String(7), unique=True, index=True)
    initials: Mapped[str | None] = mapped_column(String(3))
    episodes: Mapped[list[Episode]] = relationship(back_populates="client", order_by="Episode.referral_date")


class Episode(Base):
    """One spell with the service, from referral to closure."""

    __tablename__ = "episode"
    __table_args__ = (
        # A client has one record of their current treatment: two staff referring them at once must not open two.
        Index(
            "uq_episode_open_per_client",
            "client_id",
            unique=True,
            sqlite_where=text("closure_date IS NULL"),
            postgresql_where=text("closure_date IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    referral_date: Mapped[dt.date] = mapped_column(Date)
    referral_route: Mapped[ReferralRoute] = mapped_column(_enum(ReferralRoute))
    reception_date: Mapped[dt.date | None] = mapped_column(Date)
    stage: Mapped[Stage] = mapped_column(_enum(Stage), default=Stage.referred, index=True)
    care_level: Mapped[str | None] = mapped_column(String(32))
    key_worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    on_prescription: Mapped[bool] = mapped_column(Boolean, default=False)
    parole_case: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_to_share: Mapped[bool | None] = mapped_column(Boolean)
    ndtms_consent: Mapped[bool | None] = mapped_column(Boolean)
    initial_assessment_date: Mapped[dt.date | None] = mapped_column(Date)
    triage_date: Mapped[dt.date | None] = mapped_column(Date)
    last_review_date: Mapped[dt.date | None] = mapped_column(Date)
    joint_review_date: Mapped[dt.date | None] = mapped_column(Date)
    expected_release_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_transfer_date: Mapped[dt.date | None] = mapped_column(Date)
    transfer_destination: Mapped[str | None] = mapped_column(String(80))
    closure_reason: Mapped[ClosureReason | None] = mapped_column(_enum(ClosureReason))
    closure_date: Mapped[dt.date | None] = mapped_column(Date)
    # The first community treatment appointment attended after release (004 asks how many engage).
    community_engagement_date: Mapped[dt.date | None] = mapped_column(Date)
    # When the community service reported that the client had not engaged; cleared if they later engage.
    community_not_engaged_date: Mapped[dt.date | None] = mapped_column(Date)

    client: Mapped[Client] = relationship(back_populates="episodes")
    key_worker: Mapped[StaffMember | None] = relationship()
    progress: Mapped[list[ChecklistProgress]] = relationship(back_populates="episode")


class ChecklistProgress(Base):
    __tablename__ = "checklist_progress"
    __table_args__ = (UniqueConstraint("episode_id", "procedure_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    procedure_id: Mapped[str] = mapped_column(String(48))
    step_id: Mapped[str] = mapped_column(String(48))
    status: Mapped[StepStatus] = mapped_column(_enum(StepStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    episode: Mapped[Episode] = relationship(back_populates="progress")


class AuditEvent(Base):
    """Append-only: rows are only ever inserted (the store has no update or delete for them)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class GuidanceQuery(Base):
    __tablename__ = "guidance_query"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(48), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[list | None] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(64))
    cited: Mapped[str | None] = mapped_column(String(200))
    fell_back: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # The reply as staff saw it, and the knowledge item it came from ("topic:…", "procedure:…") or the intent.
    answer: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(80), index=True)
    # Stored rather than computed in each report, so that weekly reports over a million queries read one index.
    week: Mapped[dt.date | None] = mapped_column(Date)

    review: Mapped[QueryReview | None] = relationship(back_populates="query")

    __table_args__ = (
        # Covers the weekly reports and their filters, and the fallback list, without reading the table.
        Index("ix_guidance_query_report", "at", "week", "topic", "fell_back", "staff_id", "intent"),
        Index("ix_guidance_query_fell_back_at", "fell_back", "at"),
    )


class QueryReview(Base):
    """A manager's mark on one logged query; marking again replaces it (the audit trail keeps the history)."""

    __tablename__ = "query_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("guidance_query.id"), unique=True)
    mark: Mapped[ReviewMark] = mapped_column(_enum(ReviewMark), index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    query: Mapped[GuidanceQuery] = relationship(back_populates="review")


class OpenStep(Base):
    """The protocol engine's open steps for each open episode, kept so that reports over tens of thousands
    of clients are one SQL query. Rewritten with every change to the episode and by the daily refresh."""

    __tablename__ = "open_step"
    # A step counted twice would show twice in the overdue reports.
    __table_args__ = (Index("uq_open_step_episode_key", "episode_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    what: Mapped[str] = mapped_column(String(300))
    who: Mapped[str] = mapped_column(String(80))
    due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    computed_on: Mapped[dt.date] = mapped_column(Date)


class TelegramAccount(Base):
    """A Telegram user who asked to use the assistant, known by the numeric user id (usernames can change hands)."""

    __tablename__ = "telegram_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    # Only so that an administrator recognises who is asking; Telegram's first name, nothing more.
    first_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[AccessStatus] = mapped_column(_enum(AccessStatus), default=AccessStatus.pending)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))

    staff: Mapped[StaffMember | None] = relationship(foreign_keys=[staff_id])


class TelegramUpdate(Base):
    """Updates already handled: Telegram redelivers after a timeout, and the same update must act once."""

    __tablename__ = "telegram_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class ButtonPayload(Base):
    """Rasa button payloads too long for Telegram's 64-byte callback data, keyed by their hash."""

    __tablename__ = "button_payload"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DigestDelivery(Base):
    """One row per staff member and day, claimed before sending, so no digest goes twice or is skipped."""

    __tablename__ = "digest_delivery"
    __table_args__ = (UniqueConstraint("staff_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TourProgress(Base):
    """How far a member of staff is through a guided tour; finished when `completed_at` is set."""

    __tablename__ = "tour_progress"
    __table_args__ = (UniqueConstraint("staff_id", "tour_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    tour_id: Mapped[str] = mapped_column(String(48))
    card: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuizAnswer(Base):
    """Every answer to a scenario or a glossary drill, kept for scores and weak topics."""

    __tablename__ = "quiz_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "scenario" or "term"
    item: Mapped[str] = mapped_column(String(80))
    # The tour whose subject the item belongs to ("" for glossary terms), for weak topics.
    tour_id: Mapped[str] = mapped_column(String(48), default="")
    correct: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DrillCard(Base):
    """A glossary term in one person's spaced-repetition drill: the box says how well it is known."""

    __tablename__ = "drill_card"
    __table_args__ = (UniqueConstraint("staff_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    term: Mapped[str] = mapped_column(String(80))
    box: Mapped[int] = mapped_column(Integer, default=1)
    due_on: Mapped[dt.date] = mapped_column(Date)


class TrainingRecord(Base):
    """A course a member of staff completed, on a date."""

    __tablename__ = "training_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    training_id: Mapped[str] = mapped_column(String(48))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DashboardSession(Base):
    """A sign-in link to the dashboard and the session it opens: one row from the link's issue to the end.

    Only hashes of the link's nonce and of the session id are kept, so reading this table signs nobody in.
    A link is used at most once (`used_at`); revocation, deactivation and signing out set `ended_at`.
    """

    __tablename__ = "dashboard_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))
