"""Who looked at which client's case, and when: one audit row per client shown to a member of staff.

Access to health records must be attributable: when a client, a manager or the ICO asks who saw a record, the
answer is here. Rows go in the append-only audit trail with action "read" and the
view in `after["what"]`; the purge never deletes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from throughcare.db import Database
from throughcare.models import AuditEvent, Client

READ = "read"


def audit_read(db: Database, staff_id: int, prison_numbers: Iterable[str], what: str) -> int:
    """Record, in one transaction, that `staff_id` was shown the case of each client named, in the view `what`
    (such as "next steps", "due date", "caseload", "checklist"). Call it after reading and before showing: if
    it fails, show nothing. Numbers of no known client are skipped. Returns the rows written."""
    numbers = {number.upper() for number in prison_numbers}
    if not numbers:
        return 0
    with db.transaction() as session:
        client_ids = session.scalars(
            select(Client.id).where(Client.prison_number.in_(numbers)).order_by(Client.prison_number)
        ).all()
        session.add_all(
            AuditEvent(staff_id=staff_id, entity="client", entity_id=client_id, action=READ, after={"what": what})
            for client_id in client_ids
        )
        return len(client_ids)
