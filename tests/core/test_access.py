"""Chat access and the gateway's bookkeeping, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pytest
from sqlalchemy import select

from throughcare.access import accounts as access
from throughcare.access import delivery
from throughcare.cases.staff_members import add_staff
from throughcare.cases.store import caseload
from throughcare.db.engine import Database
from throughcare.db.models import AccessStatus, AuditEvent, DashboardSession, Role
from throughcare.demo.caseload import demo_practitioner_id
from throughcare.errors import CaseError
from throughcare.reporting import digest


def _audit_actions(db: Database) -> list[str]:
    with db.transaction() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "telegram_account").order_by(AuditEvent.id)
        )
        return [row.action for row in rows]


def test_a_request_is_pending_until_decided_and_every_decision_is_audited(database: Database) -> None:
    account, new = access.request_access(database, 7_000_000_001, "Sam")
    assert new and account.status == AccessStatus.pending and not account.approved
    assert access.request_access(database, 7_000_000_001, "Someone else") == (account, False)

    approved = access.approve(database, 7_000_000_001, Role.practitioner, by=None)
    assert approved.approved and approved.role == Role.practitioner and approved.staff_id
    assert access.revoke(database, 7_000_000_001, by=None).status == AccessStatus.revoked
    again = access.approve(database, 7_000_000_001, Role.manager, by=None)
    assert again.staff_id == approved.staff_id and again.role == Role.manager
    assert _audit_actions(database) == ["request", "approve_practitioner", "revoked", "approve_manager"]


def test_unknown_users_and_staff_are_refused_kindly(database: Database) -> None:
    with pytest.raises(CaseError, match="has asked for access"):
        access.approve(database, 1, Role.practitioner, by=None)
    access.request_access(database, 2, "Pat")
    with pytest.raises(CaseError, match="no staff member 999"):
        access.approve(database, 2, Role.practitioner, by=None, staff_id=999)
    with pytest.raises(CaseError, match="Only approved staff"):
        access.set_digest(database, 2, True)
    assert access.account(database, 2).status == AccessStatus.pending


def test_linking_to_existing_staff_and_the_digest_list(database: Database) -> None:
    staff_id = add_staff(database, "Alex", Role.practitioner)
    access.request_access(database, 3, "Alex")
    access.approve(database, 3, Role.practitioner, by=None, staff_id=staff_id)
    access.request_access(database, 4, "Admin")
    access.approve(database, 4, Role.administrator, by=None)
    access.set_digest(database, 3, True)
    assert [a.telegram_user_id for a in access.digest_recipients(database)] == [3]
    assert [a.telegram_user_id for a in access.administrators(database)] == [4]
    access.revoke(database, 3, by=None)
    assert access.digest_recipients(database) == []


def test_an_update_is_claimed_once(database: Database) -> None:
    assert delivery.claim_update(database, 10, 3)
    assert not delivery.claim_update(database, 10, 3)
    assert delivery.claim_update(database, 11, 3)
    assert delivery.messages_since(database, 3, dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)) == 2


def test_long_payloads_are_kept_under_a_stable_key(database: Database) -> None:
    payload = '/ask_protocol{"knowledge_item":"topic:' + "x" * 200 + '"}'
    key = delivery.keep_payload(database, payload)
    assert delivery.keep_payload(database, payload) == key and len(key) <= 32
    assert delivery.payload(database, key) == payload
    assert delivery.payload(database, "unknown") is None


def test_a_digest_is_claimed_once_a_day_and_a_failed_one_is_retried(database: Database) -> None:
    staff_id = add_staff(database, "Alex", Role.practitioner)
    day = dt.date(2026, 12, 2)
    assert delivery.claim_digest(database, staff_id, day)
    assert not delivery.claim_digest(database, staff_id, day)  # being sent by someone else
    delivery.digest_failed(database, staff_id, day)
    assert delivery.claim_digest(database, staff_id, day)
    delivery.digest_sent(database, staff_id, day)
    delivery.digest_failed(database, staff_id, day)  # too late to give up a digest already sent
    assert not delivery.claim_digest(database, staff_id, day)
    assert delivery.claim_digest(database, staff_id, day + dt.timedelta(days=1))


@pytest.mark.parametrize("today", [dt.date(2026, 12, 2)], ids=["2026-12-02"])
def test_the_digest_names_due_steps_by_prison_number(demo_database: Database, today: dt.date, knowledge) -> None:  # type: ignore[no-untyped-def]
    staff_id = demo_practitioner_id(demo_database)
    text = digest.staff_digest(demo_database, knowledge, staff_id, today)
    numbers = {facts.prison_number for facts in caseload(demo_database, staff_id)}
    listed = [line for line in text.splitlines() if line.startswith("• ")]
    assert listed and all(line[2:9] in numbers for line in listed)
    assert "OVERDUE since" in text
    assert (
        digest.digest_text([], today) == "Good morning. Nothing on your caseload is overdue or due by Thu 3 Dec 2026."
    )


SECRET = b"core-test-secret-0123456789abcdef"


def _sign_in(db: Database, staff_id: int) -> tuple[str, str]:
    """A fresh link's token and nonce."""
    url = httpx.URL(access.dashboard_link(db, staff_id, SECRET, base_url="http://dashboard.test"))
    return url.params["token"], url.params["nonce"]


def test_a_dashboard_link_opens_one_session_even_when_used_twice_at_once(database: Database) -> None:
    manager = add_staff(database, "Morgan", Role.manager)
    token, nonce = _sign_in(database, manager)
    outcomes: list[object] = []

    def use() -> None:
        try:
            outcomes.append(access.open_dashboard_session(database, token, nonce, SECRET))
        except access.LinkAlreadyUsed as used:
            outcomes.append(used)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    opened = [o for o in outcomes if isinstance(o, access.OpenedSession)]
    assert len(opened) == 1 and len(outcomes) == 4
    assert all(isinstance(o, access.LinkAlreadyUsed) for o in outcomes if o not in opened)
    assert access.dashboard_session_staff(database, opened[0].session_id) == opened[0].staff
    with database.transaction() as session:
        (row,) = session.scalars(select(DashboardSession).where(DashboardSession.staff_id == manager))
        # Neither the nonce nor the session id is kept: a copy of the table signs nobody in.
        assert nonce not in (row.link_hash, row.session_hash)
        assert opened[0].session_id not in (row.link_hash, row.session_hash)


def test_revoking_ends_dashboard_sessions_and_unused_links_in_the_same_audited_step(database: Database) -> None:
    access.request_access(database, 5_000_000_001, "Robin")
    staff_id = access.approve(database, 5_000_000_001, Role.manager, by=None).staff_id
    assert staff_id is not None
    opened = access.open_dashboard_session(database, *_sign_in(database, staff_id), SECRET)
    assert opened is not None
    unused = _sign_in(database, staff_id)
    access.revoke(database, 5_000_000_001, by=None)
    assert access.dashboard_session_staff(database, opened.session_id) is None
    assert access.open_dashboard_session(database, *unused, SECRET) is None
    with database.transaction() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.action == "revoked"
        assert event.after == {"status": "revoked", "staff_id": staff_id, "dashboard_sessions_ended": 2}


def test_deactivating_staff_refuses_them_everywhere_and_is_audited(database: Database) -> None:
    staff_id = add_staff(database, "Alex", Role.administrator)
    access.request_access(database, 5_000_000_002, "Alex")
    access.approve(database, 5_000_000_002, Role.administrator, by=None, staff_id=staff_id)
    opened = access.open_dashboard_session(database, *_sign_in(database, staff_id), SECRET)
    assert opened is not None
    assert access.deactivate(database, staff_id, by=None) == 1
    assert access.dashboard_session_staff(database, opened.session_id) is None
    assert not access.account(database, 5_000_000_002).approved  # type: ignore[union-attr]
    with pytest.raises(CaseError, match="managers and administrators only"):
        access.dashboard_link(database, staff_id, SECRET)
    with database.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "staff_member", AuditEvent.action == "deactivate")
        ).one()
        assert (event.entity_id, event.before) == (staff_id, {"active": True})
        assert event.after == {"active": False, "dashboard_sessions_ended": 1}
    with pytest.raises(CaseError, match="no staff member 999"):
        access.deactivate(database, 999, by=None)


def test_a_session_ends_when_it_expires(database: Database) -> None:
    manager = add_staff(database, "Morgan", Role.manager)
    opened = access.open_dashboard_session(database, *_sign_in(database, manager), SECRET)
    assert opened is not None
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=access.DASHBOARD_SESSION_SECONDS + 1)
    assert access.dashboard_session_staff(database, opened.session_id, now=later) is None
    assert access.dashboard_session_staff(database, opened.session_id) == opened.staff
