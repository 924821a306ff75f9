"""Every client case shown to a member of staff leaves one read row in the audit trail: who, which client, what."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from actions.cases import ActionCaseload, ActionDueDate, ActionNextSteps
from actions.common import DATABASE_DOWN, NOT_SIGNED_IN
from actions.protocol import ActionAnswerProtocol
from throughcare.cases import store
from throughcare.cases.audit_trail import audit_read
from throughcare.db.engine import Database
from throughcare.db.models import AuditEvent, Client
from throughcare.demo.caseload import demo_practitioner_id

NUMBER = [{"entity": "prison_number", "value": "a1234bc", "start": 15, "end": 22}]
CLIENT = {"prison_number": "A1234BC"}


def reads(db: Database) -> list[tuple[int | None, str, str]]:
    """(staff id, prison number, what) for every read row, in order."""
    with db.transaction() as session:
        rows = session.execute(
            select(AuditEvent.staff_id, Client.prison_number, AuditEvent.after)
            .join(Client, Client.id == AuditEvent.entity_id)
            .where(AuditEvent.entity == "client", AuditEvent.action == "read")
            .order_by(AuditEvent.id)
        ).all()
    return [(staff_id, number, after["what"]) for staff_id, number, after in rows]


def test_viewing_a_client_s_next_steps_records_who_saw_which_client(run, case_db: Database) -> None:
    result = run(ActionNextSteps(), "what's next for a1234bc", "ask_next_steps", NUMBER)
    assert result.text.startswith("A1234BC (")
    assert reads(case_db) == [(demo_practitioner_id(case_db), "A1234BC", "next steps")]


def test_a_due_date_question_about_a_client_is_a_read_of_that_client(run, case_db: Database) -> None:
    run(
        ActionDueDate(),
        "and when is his review due",
        "ask_due_date",
        [{"entity": "event", "value": "review"}],
        slots={"prison_number": "A1234BC"},
    )
    assert reads(case_db) == [(demo_practitioner_id(case_db), "A1234BC", "due date")]


def test_a_timescale_worked_out_from_a_client_s_record_is_a_read_of_that_client(run, case_db: Database) -> None:
    # The date is worked out from their release date, so it shows part of their record.
    result = run(ActionAnswerProtocol(), "when do we start release planning", "ask_protocol", slots=CLIENT)
    assert "For A1234BC (" in result.text
    assert reads(case_db) == [(demo_practitioner_id(case_db), "A1234BC", "timescale for a client")]


def test_a_protocol_question_naming_a_client_is_a_read_of_that_client(run, case_db: Database) -> None:
    run(
        ActionAnswerProtocol(),
        "A1234BC is being moved to another prison next week, what do I do",
        "ask_protocol",
        NUMBER,
    )
    assert reads(case_db) == [(demo_practitioner_id(case_db), "A1234BC", "protocol for a client")]


def test_a_caseload_is_one_read_per_client_it_lists(run, case_db: Database) -> None:
    staff_id = demo_practitioner_id(case_db)
    result = run(ActionCaseload(), "my caseload", "ask_caseload")
    listed = {line[2:9] for line in result.text.splitlines() if line.startswith("• ")}
    assert len(listed) > 1
    rows = reads(case_db)
    assert len(rows) == len(listed)
    assert {number for _, number, _ in rows} == listed
    assert {(staff, what) for staff, _, what in rows} == {(staff_id, "caseload")}


def test_clients_a_long_caseload_leaves_out_are_not_recorded_as_seen(run, case_db: Database) -> None:
    staff_id = demo_practitioner_id(case_db)
    result = run(ActionCaseload(), "my caseload", "ask_caseload")
    assert "more." in result.text
    seen = {number for _, number, _ in reads(case_db)}
    left_out = {facts.prison_number for facts in store.caseload(case_db, staff_id)} - seen
    assert left_out and not any(number in result.text for number in left_out)


def test_nothing_shown_is_nothing_recorded(run, case_db: Database) -> None:
    assert run(ActionNextSteps(), "what's next for A1234BC", "ask_next_steps", NUMBER, signed=False).text == (
        NOT_SIGNED_IN
    )
    assert "can't find Z9999ZZ" in run(ActionNextSteps(), "whats next for Z9999ZZ", "ask_next_steps").text
    assert "give me their prison number" in run(ActionDueDate(), "when is a review overdue", "ask_due_date").text
    assert reads(case_db) == []


def test_a_case_whose_reading_cannot_be_recorded_is_not_shown(run, case_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def audit_fails(*_args: object) -> int:
        raise OperationalError("INSERT INTO audit_event", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store, "record_reads", audit_fails)
    result = run(ActionNextSteps(), "what's next for A1234BC", "ask_next_steps", NUMBER)
    assert result.text == DATABASE_DOWN
    assert "A1234BC (" not in result.text
    timescale = run(ActionAnswerProtocol(), "when do we start release planning", "ask_protocol", slots=CLIENT)
    assert timescale.text == DATABASE_DOWN


def test_audit_read_writes_one_row_per_known_client_on_both_databases(demo_database: Database) -> None:
    staff_id = demo_practitioner_id(demo_database)
    assert audit_read(demo_database, staff_id, [], "caseload") == 0
    assert audit_read(demo_database, staff_id, ["a1234bc", "A1234BC", "Z9999ZZ"], "checklist") == 1
    assert reads(demo_database) == [(staff_id, "A1234BC", "checklist")]
