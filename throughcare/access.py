"""Who may use the assistant from a chat app: requests, approval, refusal and revocation.

A chat account is known by its numeric Telegram user id, never by username, which its owner can change or
give up. Nobody reaches case data until an administrator approves them with a role; each decision is one
transaction with an audit entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from throughcare import identity, store
from throughcare.db import Database
from throughcare.models import AccessStatus, Role, StaffMember, TelegramAccount, utcnow
from throughcare.store import CaseError


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


def _audit(session: Session, by: int | None, row: TelegramAccount, action: str, before: str | None) -> None:
    session.flush()
    store.audit(
        session,
        by,
        "telegram_account",
        row.id,
        action,
        {"status": before} if before else None,
        {"status": row.status.value, "staff_id": row.staff_id},
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
        _audit(session, by, row, status.value, before)
        return _view(row)


def refuse(db: Database, telegram_user_id: int, by: int | None) -> Account:
    return _decide(db, telegram_user_id, AccessStatus.refused, by)


def revoke(db: Database, telegram_user_id: int, by: int | None) -> Account:
    """Withdraw access; it takes effect on the user's next message."""
    return _decide(db, telegram_user_id, AccessStatus.revoked, by)


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
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8050"


def dashboard_url() -> str:
    return (os.environ.get("DASHBOARD_URL") or DEFAULT_DASHBOARD_URL).rstrip("/")


def dashboard_staff(db: Database, staff_id: int | None) -> store.StaffIdentity | None:
    """The active manager or administrator with this id; None for anyone else."""
    staff = store.staff_member(db, staff_id) if staff_id is not None else None
    return staff if staff is not None and Role(staff.role) in DASHBOARD_ROLES else None


def dashboard_link(db: Database, staff_id: int, secret: bytes, base_url: str | None = None) -> str:
    """A signed link to the dashboard for a manager or administrator, valid for DASHBOARD_LINK_SECONDS."""
    if dashboard_staff(db, staff_id) is None:
        raise CaseError("The dashboard is for managers and administrators only.")
    token = identity.sign(staff_id, secret, purpose=identity.DASHBOARD_LINK)
    return f"{base_url or dashboard_url()}/login?token={token}"
