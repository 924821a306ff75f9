"""Every procedure can be walked over REST: started, a step done, interrupted by a question, stopped, resumed."""

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from throughcare.cases import store
from throughcare.db.models import Client, Episode
from throughcare.knowledge.loader import default_knowledge
from throughcare.protocol.engine import applicable_steps

pytestmark = pytest.mark.rasa
PROCEDURES = sorted(default_knowledge().procedures)


def open_client_on_a_prescription(assistant, index: int) -> str:  # type: ignore[no-untyped-def]
    """The demo's clients in treatment on a prescription, in turn: several procedures share one client (there are
    fewer such clients than procedures), so each walk reads the steps already marked on its client first."""
    with assistant.db.transaction() as session:
        numbers = session.scalars(
            select(Client.prison_number)
            .join(Episode)
            .where(Episode.stage == "in_treatment", Episode.on_prescription.is_(True))
            .where(Client.prison_number != "A1234BC")
            .order_by(Client.prison_number)
        ).all()
    return numbers[index % len(numbers)]


@pytest.mark.parametrize("procedure_id", PROCEDURES)
def test_a_procedure_is_walked_interrupted_and_resumed(assistant, procedure_id: str) -> None:
    procedure = default_knowledge().procedures[procedure_id]
    number = open_client_on_a_prescription(assistant, PROCEDURES.index(procedure_id))
    facts = store.episode_facts(assistant.db, number)
    already = {step for (p, step) in facts.progress if p == procedure_id}
    steps = [s for s in applicable_steps(procedure, facts, dt.date.today()) if s.id not in already]
    sender = f"walk-{uuid.uuid4().hex[:8]}"
    name = procedure.title.lower()

    started = assistant.text(sender, f"start the {name} checklist for {number}")
    assert f"{procedure.title} for {number}" in started and steps[0].what in started

    done = assistant.text(sender, "done")
    assert "Marked done" in done and steps[1].what in done

    interrupted = assistant.text(sender, "what does NDTMS stand for")
    assert "NDTMS:" in interrupted and f"Still on the {name} checklist for {number}: {steps[1].what}" in interrupted
    why = assistant.text(sender, "why")
    assert why.startswith("Why:") and re.search(r"Source: 00\d", why)

    stopped = assistant.text(sender, "stop")
    assert "Stopped" in stopped and "saved" in stopped
    resumed = assistant.text(sender, f"resume the {name} checklist for {number}")
    assert "Resuming where you left off" in resumed and steps[1].what in resumed

    progress = store.episode_facts(assistant.db, number).progress
    assert progress[(procedure_id, steps[0].id)] == "done"
    assert (procedure_id, steps[1].id) not in progress
