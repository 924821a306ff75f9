"""Staff members: adding and listing them, and who a signed-in identity is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from throughcare.cases.audit_trail import audit
from throughcare.db.engine import Database
from throughcare.db.models import (
    Role,
    StaffMember,
)


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    display_name: str
    role: str


def staff_name(session: Session, staff_id: int | None, asking_staff_id: int) -> str:
    if staff_id == asking_staff_id:
        return "you"
    staff = session.get(StaffMember, staff_id) if staff_id is not None else None
    return staff.display_name if staff else "a colleague"


def staff_member(db: Database, staff_id: int) -> StaffIdentity | None:
    """The active staff member with this id, or None (unknown or no longer active)."""
    found = db.execute_alone(
        select(StaffMember.display_name, StaffMember.role).where(StaffMember.id == staff_id, StaffMember.active)
    )
    return StaffIdentity(staff_id, found[0].display_name, found[0].role.value) if found else None


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
