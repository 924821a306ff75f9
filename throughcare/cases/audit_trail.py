"""The audit trail, append-only: every change to a case with its values before and after (`audit`), and every
client's case shown to a member of staff (`audit_read`, action "read", the view in `after["what"]`).

Access to health records must be attributable: when a client, a manager or the ICO asks who saw or changed a
record, the answer is here; the purge never deletes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from throughcare.db.engine import Database
from throughcare.db.models import (
    AuditEvent,
    Client,
)

READ = "read"


def audit_read(db: Database, staff_id: int, prison_numbers: Iterable[str], what: str) -> int:
    """Record, in one transaction, that `staff_id` was shown the case of each client named, in the view `what`
    (such as "caseload"). Call it after reading and before showing: if it fails, show nothing. Numbers of no
    known client are skipped. Returns the rows written. A single client's case is read and recorded in one
    transaction by `store.episode_facts_shown`."""
    numbers = {number.upper() for number in prison_numbers}
    if not numbers:
        return 0
    with db.transaction() as session:
        client_ids = session.scalars(
            select(Client.id).where(Client.prison_number.in_(numbers)).order_by(Client.prison_number)
        ).all()
        record_reads(session, staff_id, client_ids, what)
        return len(client_ids)


def record_reads(session: Session, staff_id: int, client_ids: Iterable[int], what: str) -> None:
    """Write a read row for each client in the caller's transaction."""
    session.add_all(
        AuditEvent(staff_id=staff_id, entity="client", entity_id=client_id, action=READ, after={"what": what})
        for client_id in client_ids
    )


def audit(session: Session, staff_id: int | None, entity: str, entity_id: int, action: str, before, after) -> None:  # type: ignore[no-untyped-def]
    """Write one audit row in the caller's transaction; every change to a record goes through here."""
    session.add(
        AuditEvent(staff_id=staff_id, entity=entity, entity_id=entity_id, action=action, before=before, after=after)
    )


def audit_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value
