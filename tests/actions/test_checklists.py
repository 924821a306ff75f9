import re

from sqlalchemy import select

from actions.checklists import (
    ActionSkipStep,
    ActionStartChecklist,
    ActionStepBack,
    ActionStepDone,
    ActionStepWhy,
    ActionStopChecklist,
)
from actions.protocol import ActionDefineTerm
from throughcare import store
from throughcare.models import Client, Episode

WALK = {"prison_number": "A1234BC", "checklist": "transfer"}


def on_step(step_id: str) -> dict:
    return {**WALK, "checklist_step": step_id}


def test_a_walk_through_records_each_step_and_resumes_where_it_stopped(run, case_db, knowledge) -> None:
    transfer = knowledge.procedures["transfer"]
    first, second, third = (s.id for s in transfer.steps[:3])

    start = run(
        ActionStartChecklist(),
        "start the transfer checklist for A1234BC",
        "start_checklist",
        [
            {"entity": "checklist", "value": "transfer", "start": 10, "end": 18},
            {"entity": "prison_number", "value": "A1234BC"},
        ],
    )
    assert "step 1 of" in start.text and transfer.steps[0].what in start.text
    assert "Source: " in start.text
    assert [b["title"] for b in start.buttons] == ["Done", "Skip", "Why?", "Back", "Stop"]
    assert start.slot("checklist_step") == first

    done = run(ActionStepDone(), "done", "step_done", slots=on_step(first))
    assert done.slot("checklist_step") == second
    assert store.episode_facts(case_db, "A1234BC").progress[("transfer", first)] == "done"

    why = run(ActionStepWhy(), "why", "step_why", slots=on_step(second))
    assert transfer.step(second).why in why.text and str(transfer.step(second).source) in why.text

    skipped = run(ActionSkipStep(), "skip - client has no NDTMS consent", "step_skip", slots=on_step(second))
    assert 'reason recorded: "client has no NDTMS consent"' in skipped.text
    assert store.episode_facts(case_db, "A1234BC").progress[("transfer", second)] == "skipped"

    back = run(ActionStepBack(), "go back", "step_back", slots=on_step(skipped.slot("checklist_step")))
    assert back.slot("checklist_step") == second and "(already skipped)" in back.text

    stopped = run(ActionStopChecklist(), "stop", "checklist_stop", slots=on_step(third))
    assert stopped.slot("checklist") is None and "saved" in stopped.text

    resumed = run(
        ActionStartChecklist(), "resume the transfer checklist", "start_checklist", slots={"prison_number": "A1234BC"}
    )
    assert resumed.text.startswith("Resuming where you left off")
    assert resumed.slot("checklist_step") not in (first, second)


def test_a_skip_without_a_reason_asks_for_one_and_records_nothing(run, case_db, knowledge) -> None:
    first = knowledge.procedures["transfer"].steps[0].id
    asked = run(ActionSkipStep(), "skip", "step_skip", slots=on_step(first))
    assert asked.text == ""  # the form asks for the reason
    assert {"event": "active_loop", "name": "skip_reason_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in asked.events
    ]
    assert ("transfer", first) not in store.episode_facts(case_db, "A1234BC").progress
    answered = run(ActionSkipStep(), "he refused", "step_skip", slots={**on_step(first), "skip_reason": "he refused"})
    assert "he refused" in answered.text
    assert store.episode_facts(case_db, "A1234BC").progress[("transfer", first)] == "skipped"


def test_steps_that_do_not_apply_are_left_out(run, knowledge) -> None:
    # A1234BC is on a prescription in the demo data, so the clinical steps apply.
    release = run(
        ActionStartChecklist(),
        "release checklist for A1234BC",
        "start_checklist",
        [{"entity": "checklist", "value": "release"}],
    )
    total = int(release.text.split(" of ")[1].split()[0].rstrip(":"))
    assert total < len(knowledge.procedures["release"].steps)


def test_step_commands_without_an_open_checklist_say_how_to_start(run) -> None:
    assert "No checklist is open" in run(ActionStepDone(), "done", "step_done").text


def test_a_question_in_the_middle_of_a_walk_is_answered_and_the_walk_goes_on(run, knowledge) -> None:
    step = knowledge.procedures["transfer"].steps[1]
    term = run(ActionDefineTerm(), "what does NDTMS stand for", "define_term", slots=on_step(step.id))
    assert term.text.startswith("NDTMS:")
    assert f"Still on the transfer to another prison checklist: {step.what}" in term.text
    assert [b["payload"] for b in term.buttons][-5:] == [
        "/step_done",
        "/step_skip",
        "/step_why",
        "/step_back",
        "/checklist_stop",
    ]
    outside_a_walk = run(ActionDefineTerm(), "what does NDTMS stand for", "define_term")
    assert "Still on" not in outside_a_walk.text


def test_clinical_steps_appear_only_for_clients_on_a_prescription(run, case_db, knowledge) -> None:
    with case_db.transaction() as session:
        no_script = session.scalars(
            select(Client.prison_number)
            .join(Episode)
            .where(Episode.stage == "in_treatment", Episode.on_prescription.is_(False))
            .order_by(Client.prison_number)
        ).first()
    court = knowledge.procedures["court"]
    clinical = [s for s in court.steps if s.condition == "on_prescription"]
    assert clinical, "the court checklist has steps for clients on a prescription"

    def total(number: str) -> int:
        card = run(ActionStartChecklist(), f"court checklist for {number}", "start_checklist").text
        return int(re.search(r"step \d+ of (\d+)", card).group(1))

    assert total("A1234BC") == len(court.steps)
    assert total(no_script) == len(court.steps) - len(clinical)


def test_a_checklist_asked_about_without_a_client_is_shown_whole_even_to_unsigned_senders(run, knowledge) -> None:
    release = knowledge.procedures["release"]
    result = run(ActionStartChecklist(), "whats on the release checklist", "start_checklist", signed=False)
    assert result.text.startswith(f"{release.title}:") and "Source: 000" in result.text
    assert all(step.what.rstrip(".") in result.text for step in release.steps)
    assert "only for clients on a prescription" in result.text
    assert "checklist" not in [e.get("name") for e in result.events]


def test_a_question_that_looks_like_a_walk_reply_is_answered_when_no_walk_is_open(run) -> None:
    result = run(ActionStepWhy(), "why do we do a harm reduction session before release", "step_why")
    assert "No checklist is open" not in result.text and re.search(r"Source: 00\d", result.text)
    assert "No checklist is open" in run(ActionStepDone(), "done", "step_done").text


def test_a_step_for_any_staff_member_reads_naturally(run) -> None:
    card = run(ActionStartChecklist(), "start the record keeping checklist for A1234BC", "start_checklist").text
    assert "Who: any staff member." in card and "the any" not in card


def test_a_checklist_button_starts_the_checklist_it_names(run) -> None:
    # As Rasa parses a button's payload: the entity's span is the whole JSON, not the value.
    payload = '/start_checklist{"checklist":"triage","prison_number":"A1234BC"}'
    span = {"start": payload.index("{"), "end": len(payload)}
    started = run(
        ActionStartChecklist(),
        payload,
        "start_checklist",
        [{"entity": "checklist", "value": "triage", **span}, {"entity": "prison_number", "value": "A1234BC", **span}],
    )
    assert started.slot("checklist") == "triage" and "step 1 of" in started.text
