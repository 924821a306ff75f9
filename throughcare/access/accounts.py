"""Who may use the assistant and the dashboard: requests, approval, refusal, revocation, deactivation, and
the dashboard's sign-in links and sessions.

A chat account is known by its numeric Telegram user id, never by username, which its owner can change or
give up. Nobody reaches case data until an administrator approves them with a role; each decision is one
transaction with an audit entry. Withdrawing someone's access (refusal, revocation, deactivation) ends their
dashboard sessions and unused sign-in links in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from throughcare.access import identity
from throughcare.cases import audit_trail, staff_members
from throughcare.config import Settings
from throughcare.db.engine import Database
from throughcare.db.models import AccessStatus, DashboardSession, Role, StaffMember, TelegramAccount, utcnow
from throughcare.errors import CaseError


@dataclass(frozen=True)
class Account:
    telegram_user_id: int
    first_name: str
    status: AccessStatus
    staff_id: int | None
    role: Role | None
    digest: bool

    @property
    def approved(self) -> bool:
        return self.status == AccessStatus.approved and self.staff_id is not None

    @property
    def is_administrator(self) -> bool:
        return self.approved and self.role == Role.administrator


def _view(row: TelegramAccount) -> Account:
    staff = row.staff
    # An approved account whose staff member was made inactive has no access either.
    status = row.status if staff is None or staff.active else AccessStatus.revoked
    return Account(
        row.telegram_user_id, row.first_name, status, row.staff_id, staff.role if staff else None, row.digest
    )


def _row(session: Session, telegram_user_id: int) -> TelegramAccount:
    row = session.scalar(select(TelegramAccount).where(TelegramAccount.telegram_user_id == telegram_user_id))
    if row is None:
        raise CaseError(f"No one with Telegram id {telegram_user_id} has asked for access.")
    return row


def _audit(
    session: Session, by: int | None, row: TelegramAccount, action: str, before: str | None, **after: object
) -> None:
    session.flush()
    audit_trail.audit(
        session,
        by,
        "telegram_account",
        row.id,
        action,
        {"status": before} if before else None,
        {"status": row.status.value, "staff_id": row.staff_id, **after},
    )


def account(db: Database, telegram_user_id: int) -> Account | None:
    with db.transaction() as session:
        row = session.scalar(select(TelegramAccount).where(TelegramAccount.telegram_user_id == telegram_user_id))
        return _view(row) if row else None


def request_access(db: Database, telegram_user_id: int, first_name: str) -> tuple[Account, bool]:
    """The account for this user, created as a pending request if new; the flag says whether it was new."""
    with db.transaction() as session:
        row = session.scalar(select(TelegramAccount).where(TelegramAccount.telegram_user_id == telegram_user_id))
        if row is not None:
            return _view(row), False
        row = TelegramAccount(telegram_user_id=telegram_user_id, first_name=first_name[:64] or "?")
        session.add(row)
        _audit(session, None, row, "request", None)
        return _view(row), True


def approve(db: Database, telegram_user_id: int, role: Role, by: int | None, staff_id: int | None = None) -> Account:
    """Approve a request with a role, as a new staff member or linked to an existing one (`staff_id`).

    `by` is the deciding administrator's staff id (None for the command line and the configured administrators).
    """
    with db.transaction() as session:
        row = _row(session, telegram_user_id)
        before = row.status.value
        staff = session.get(StaffMember, staff_id) if staff_id is not None else row.staff
        if staff_id is not None and staff is None:
            raise CaseError(f"There is no staff member {staff_id}.")
        if staff is None:
            staff = StaffMember(display_name=row.first_name, role=role, active=True)
            session.add(staff)
        staff.role, staff.active = role, True
        row.staff, row.status = staff, AccessStatus.approved
        row.decided_at, row.decided_by_staff_id = utcnow(), by
        _audit(session, by, row, f"approve_{role.value}", before)
        return _view(row)


def _decide(db: Database, telegram_user_id: int, status: AccessStatus, by: int | None) -> Account:
    with db.transaction() as session:
        row = _row(session, telegram_user_id)
        before = row.status.value
        row.status, row.decided_at, row.decided_by_staff_id = status, utcnow(), by
        row.digest = False
        ended = _end_dashboard_sessions(session, row.staff_id, status.value) if row.staff_id is not None else 0
        _audit(session, by, row, status.value, before, dashboard_sessions_ended=ended)
        return _view(row)


def refuse(db: Database, telegram_user_id: int, by: int | None) -> Account:
    return _decide(db, telegram_user_id, AccessStatus.refused, by)


def revoke(db: Database, telegram_user_id: int, by: int | None) -> Account:
    """Withdraw access: from the user's next message in chat, and at once on the dashboard."""
    return _decide(db, telegram_user_id, AccessStatus.revoked, by)


def deactivate(db: Database, staff_id: int, by: int | None) -> int:
    """Make a staff member inactive (they have left, or must stop for now): the assistant refuses their next
    message and their dashboard sessions and sign-in links end at once. Returns how many sessions and links
    ended. Deactivating someone already inactive still ends anything left open."""
    with db.transaction() as session:
        staff = session.get(StaffMember, staff_id)
        if staff is None:
            raise CaseError(f"There is no staff member {staff_id}.")
        before = staff.active
        staff.active = False
        ended = _end_dashboard_sessions(session, staff_id, "deactivated")
        audit_trail.audit(
            session,
            by,
            "staff_member",
            staff_id,
            "deactivate",
            {"active": before},
            {"active": False, "dashboard_sessions_ended": ended},
        )
        return ended


def set_digest(db: Database, telegram_user_id: int, on: bool) -> Account:
    with db.transaction() as session:
        row = _row(session, telegram_user_id)
        if not _view(row).approved:
            raise CaseError("Only approved staff can have the daily digest.")
        row.digest = on
        _audit(session, row.staff_id, row, "digest_on" if on else "digest_off", row.status.value)
        return _view(row)


def accounts(db: Database, status: AccessStatus | None = None) -> list[Account]:
    with db.transaction() as session:
        query = select(TelegramAccount).order_by(TelegramAccount.requested_at)
        if status is not None:
            query = query.where(TelegramAccount.status == status)
        return [_view(row) for row in session.scalars(query)]


def administrators(db: Database) -> list[Account]:
    return [a for a in accounts(db, AccessStatus.approved) if a.is_administrator]


def digest_recipients(db: Database) -> list[Account]:
    return [a for a in accounts(db, AccessStatus.approved) if a.approved and a.digest]


# Managers and administrators see the dashboard; a link is good for minutes, the session it opens for hours.
DASHBOARD_ROLES = (Role.manager, Role.administrator)
DASHBOARD_LINK_SECONDS = 15 * 60
DASHBOARD_SESSION_SECONDS = 2 * 60 * 60


def dashboard_url() -> str:
    """Where sign-in links point: DASHBOARD_URL, else where the dashboard listens (throughcare/config.py)."""
    return Settings.from_env().dashboard_address


def _dashboard_member(session: Session, staff_id: int) -> staff_members.StaffIdentity | None:
    staff = session.get(StaffMember, staff_id)
    if staff is None or not staff.active or staff.role not in DASHBOARD_ROLES:
        return None
    return staff_members.StaffIdentity(staff.id, staff.display_name, staff.role.value)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _end_dashboard_sessions(session: Session, staff_id: int, reason: str) -> int:
    """End, in the caller's transaction, every unused link and live session of this staff member."""
    now = utcnow()
    live = or_(
        and_(DashboardSession.used_at.is_(None), DashboardSession.link_expires_at > now),
        DashboardSession.expires_at > now,
    )
    ended = session.execute(
        update(DashboardSession)
        .where(DashboardSession.staff_id == staff_id, DashboardSession.ended_at.is_(None), live)
        .values(ended_at=now, end_reason=reason)
    )
    return ended.rowcount


def dashboard_link(
    db: Database, staff_id: int, secret: bytes, base_url: str | None = None, now: dt.datetime | None = None
) -> str:
    """A link to the dashboard for a manager or administrator: good once, for DASHBOARD_LINK_SECONDS.

    The token is the signed staff id; the nonce beside it makes each link its own, so it can be used once, and
    is kept only as a hash."""
    issued = now or utcnow()
    nonce = secrets.token_urlsafe(24)
    with db.transaction() as session:
        if _dashboard_member(session, staff_id) is None:
            raise CaseError("The dashboard is for managers and administrators only.")
        session.add(
            DashboardSession(
                staff_id=staff_id,
                link_hash=_digest(nonce),
                link_expires_at=issued + dt.timedelta(seconds=DASHBOARD_LINK_SECONDS),
                created_at=issued,
            )
        )
    token = identity.sign(staff_id, secret, now=issued.timestamp(), purpose=identity.DASHBOARD_LINK)
    return f"{base_url or dashboard_url()}/login?token={token}&nonce={nonce}"


class LinkAlreadyUsed(Exception):
    """A sign-in link that has opened a session already."""

    def __init__(self, staff_id: int) -> None:
        super().__init__(staff_id)
        self.staff_id = staff_id


@dataclass(frozen=True)
class OpenedSession:
    staff: staff_members.StaffIdentity
    # The session id for the browser's cookie; the database keeps only its hash.
    session_id: str


def open_dashboard_session(
    db: Database, token: str, nonce: str, secret: bytes, now: dt.datetime | None = None
) -> OpenedSession | None:
    """Exchange a sign-in link for a session, once. None for a link that is forged, expired, ended (its holder's
    access was withdrawn) or whose holder is no longer an active manager or administrator; LinkAlreadyUsed for
    a link that opened a session before."""
    at = now or utcnow()
    staff_id = identity.verify(
        token, secret, now=at.timestamp(), max_age=DASHBOARD_LINK_SECONDS, purpose=identity.DASHBOARD_LINK
    )
    if staff_id is None or not nonce:
        return None
    with db.transaction() as session:
        row = session.scalar(select(DashboardSession).where(DashboardSession.link_hash == _digest(nonce)))
        if row is None or row.staff_id != staff_id:
            return None
        if row.used_at is not None:
            raise LinkAlreadyUsed(staff_id)
        staff = _dashboard_member(session, staff_id)
        if staff is None:
            return None
        session_id = secrets.token_urlsafe(32)
        expires = at + dt.timedelta(seconds=DASHBOARD_SESSION_SECONDS)
        # Conditional, so that of two requests racing with one link only one opens a session.
        opened = session.execute(
            update(DashboardSession)
            .where(
                DashboardSession.id == row.id,
                DashboardSession.used_at.is_(None),
                DashboardSession.ended_at.is_(None),
                DashboardSession.link_expires_at > at,
            )
            .values(used_at=at, session_hash=_digest(session_id), expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if opened.rowcount != 1:
            if session.scalar(select(DashboardSession.used_at).where(DashboardSession.id == row.id)) is not None:
                raise LinkAlreadyUsed(staff_id)
            return None
        audit_trail.audit(
            session, staff_id, "dashboard_session", row.id, "sign_in", None, {"until": expires.isoformat()}
        )
        return OpenedSession(staff, session_id)


def dashboard_session_staff(
    db: Database, session_id: str, now: dt.datetime | None = None
) -> staff_members.StaffIdentity | None:
    """The manager or administrator whose live session this is; None for an unknown, expired or ended one.

    Checked on every request: a session whose holder is no longer an active manager or administrator ends here,
    so it cannot come back to life if they are made active again."""
    if not session_id:
        return None
    at = now or utcnow()
    with db.transaction() as session:
        row = session.scalar(
            select(DashboardSession).where(
                DashboardSession.session_hash == _digest(session_id),
                DashboardSession.ended_at.is_(None),
                DashboardSession.expires_at > at,
            )
        )
        if row is None:
            return None
        staff = _dashboard_member(session, row.staff_id)
        if staff is None:
            row.ended_at, row.end_reason = at, "access withdrawn"
        return staff


def end_dashboard_session(db: Database, session_id: str) -> None:
    """Sign out: the session ends on the server, so a copy of the cookie is worth nothing."""
    with db.transaction() as session:
        row = session.scalar(
            select(DashboardSession).where(
                DashboardSession.session_hash == _digest(session_id), DashboardSession.ended_at.is_(None)
            )
        )
        if row is None:
            return
        row.ended_at, row.end_reason = utcnow(), "signed out"
        audit_trail.audit(session, row.staff_id, "dashboard_session", row.id, "sign_out", None, None)
