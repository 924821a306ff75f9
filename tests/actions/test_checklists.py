import json
import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.checklists import (
    ActionSkipStep,
    ActionStartChecklist,
    ActionStepBack,
    ActionStepDone,
    ActionStepWhy,
    ActionStopChecklist,
    ValidateSkipReasonForm,
)
from actions.protocol import ActionDefineTerm
from throughcare.cases import store
from throughcare.db.models import AuditEvent, Client, Episode

WALK = {"prison_number": "A1234BC", "checklist": "transfer", "checklist_client": "A1234BC"}


CHECKLIST_FOR_A = [
    {"entity": "checklist", "value": "transfer", "start": 10, "end": 18},
    {"entity": "prison_number", "value": "A1234BC"},
]


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
    assert resumed.text.startswith("Resuming where you left off (2 steps recorded)")
    assert resumed.slot("checklist_step") not in (first, second)


def test_resuming_after_one_step_says_one_step(run, knowledge) -> None:  # type: ignore[no-untyped-def]
    first = knowledge.procedures["transfer"].steps[0].id
    run(ActionStepDone(), "done", "step_done", slots=on_step(first))
    resumed = run(
        ActionStartChecklist(), "resume the transfer checklist", "start_checklist", slots={"prison_number": "A1234BC"}
    )
    assert resumed.text.startswith("Resuming where you left off (1 step recorded).")


def test_a_skip_without_a_reason_asks_for_one_and_records_nothing(run, case_db, knowledge) -> None:
    first = knowledge.procedures["transfer"].steps[0].id
    asked = run(ActionSkipStep(), "skip", "step_skip", slots=on_step(first))
    assert asked.text == ""  # the form asks for the reason
    assert {"event": "active_loop", "name": "skip_reason_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in asked.events
    ]
    assert ("transfer", first) not in store.episode_facts(case_db, "A1234BC").progress
    card = {"checklist": "transfer", "step": first, "prison_number": "A1234BC"}
    pressed = _press(run, ActionSkipStep(), "step_skip", card, on_step(first))
    assert pressed.text == "" and ("transfer", first) not in store.episode_facts(case_db, "A1234BC").progress
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
    assert f"Still on the transfer to another prison checklist for A1234BC: {step.what}" in term.text
    card = f'{{"checklist":"transfer","step":"{step.id}","prison_number":"A1234BC"}}'
    assert [b["payload"] for b in term.buttons][-5:] == [
        f"/step_done{card}",
        f"/step_skip{card}",
        f"/step_why{card}",
        f"/step_back{card}",
        f"/checklist_stop{card}",
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


def _press(run, action, intent: str, card: dict, slots: dict, signed: bool = True):  # type: ignore[no-untyped-def]
    """A walk card's button, as Rasa parses its payload: the intent, and the card's names as entities."""
    payload = f"/{intent}" + json.dumps(card, separators=(",", ":"))
    entities = [{"entity": name, "value": value} for name, value in card.items()]
    return run(action, payload, intent, entities, slots=slots, signed=signed)


def _other_client(case_db) -> str:  # type: ignore[no-untyped-def]
    with case_db.transaction() as session:
        return session.scalar(
            select(Client.prison_number)
            .join(Episode)
            .where(Episode.closure_date.is_(None), Client.prison_number != "A1234BC")
            .order_by(Client.prison_number)
        )


def _progress(case_db, number: str) -> dict:  # type: ignore[no-untyped-def]
    return {
        key: status for key, status in store.episode_facts(case_db, number).progress.items() if key[0] == "transfer"
    }


def test_done_after_a_question_about_another_client_marks_the_walks_client(run, case_db, knowledge) -> None:
    first = knowledge.procedures["transfer"].steps[0].id
    other = _other_client(case_db)
    # The question about another client moved the conversation's client, not the walk's.
    walk = {**on_step(first), "prison_number": other}
    card = {"checklist": "transfer", "step": first, "prison_number": "A1234BC"}
    done = _press(run, ActionStepDone(), "step_done", card, walk)
    assert "Marked done" in done.text and "for A1234BC" in done.text
    assert _progress(case_db, "A1234BC")[("transfer", first)] == "done"
    assert ("transfer", first) not in _progress(case_db, other)

    typed = run(ActionStepDone(), "done", "step_done", slots={**walk, "checklist_step": done.slot("checklist_step")})
    assert "for A1234BC" in typed.text
    assert _progress(case_db, other) == {}


def test_done_naming_another_client_than_the_walks_changes_nothing(run, case_db, knowledge) -> None:
    first = knowledge.procedures["transfer"].steps[0].id
    other = _other_client(case_db)
    refused = run(
        ActionStepDone(),
        f"done for {other}",
        "step_done",
        [{"entity": "prison_number", "value": other}],
        on_step(first),
    )
    assert f"is for A1234BC, not {other}, so nothing was changed" in refused.text
    assert _progress(case_db, "A1234BC") == {} and _progress(case_db, other) == {}


def test_a_stale_or_repeated_press_changes_nothing_and_says_so(run, case_db, knowledge) -> None:
    first, second = (s.id for s in knowledge.procedures["transfer"].steps[:2])
    card = {"checklist": "transfer", "step": first, "prison_number": "A1234BC"}
    done = _press(run, ActionStepDone(), "step_done", card, on_step(first))
    assert done.slot("checklist_step") == second

    # The same card pressed again (a double press, or a card scrolled back to) is now stale.
    again = _press(run, ActionStepDone(), "step_done", card, on_step(second))
    assert "from an earlier card, so nothing was changed" in again.text
    assert _progress(case_db, "A1234BC") == {("transfer", first): "done"}
    skip = _press(run, ActionSkipStep(), "step_skip", card, on_step(second))
    back = _press(run, ActionStepBack(), "step_back", card, on_step(second))
    for answer in (skip, back):
        assert "nothing was changed" in answer.text
        assert not [e for e in answer.events if e.get("name") in ("checklist_step", "active_loop")]
    # A bare button with no card (from before cards named themselves) is treated as stale too.
    bare = run(ActionStepDone(), "/step_done", "step_done", slots=on_step(second))
    assert "nothing was changed" in bare.text
    assert _progress(case_db, "A1234BC") == {("transfer", first): "done"}

    # A card for a walk that has since been stopped changes nothing either.
    closed = _press(run, ActionStepDone(), "step_done", card, {"prison_number": "A1234BC"})
    assert "no longer open, so nothing was changed" in closed.text


@pytest.mark.parametrize(
    "pressed",
    ["/checklist_stop", '/step_done{"checklist":"transfer"}', "/step_skip", "/ask_protocol"],
    ids=["stop or /cancel", "done button", "skip button", "another button"],
)
def test_a_button_pressed_while_the_skip_reason_is_asked_skips_nothing(run, case_db, knowledge, pressed) -> None:
    first = knowledge.procedures["transfer"].steps[0].id
    intent = pressed[1:].split("{")[0]
    answered = run(ActionSkipStep(), pressed, intent, slots={**on_step(first), "skip_reason": pressed})
    assert "Skipped" not in answered.text
    assert _progress(case_db, "A1234BC") == {}
    assert answered.slot("skip_reason") is None
    if intent == "checklist_stop":
        assert answered.slot("checklist") is None and "Stopped" in answered.text
    else:
        assert "not skipped" in answered.text


def test_an_unsigned_message_in_a_signed_walk_changes_nothing_a_later_write_uses(run, case_db, knowledge) -> None:
    first = knowledge.procedures["transfer"].steps[0].id
    other = _other_client(case_db)
    mentions = [{"entity": "prison_number", "value": other}]
    asked = run(ActionDefineTerm(), f"what does NDTMS mean for {other}", "define_term", mentions, on_step(first), False)
    assert not [e for e in asked.events if e.get("name") == "prison_number"]
    # Nor does it see the walk's client.
    assert "A1234BC" not in asked.text and not asked.buttons

    card = {"checklist": "transfer", "step": first, "prison_number": "A1234BC"}
    for action, intent in ((ActionStepDone(), "step_done"), (ActionStopChecklist(), "checklist_stop")):
        pressed = _press(run, action, intent, card, on_step(first), signed=False)
        assert "signed-in staff" in pressed.text
        assert not [e for e in pressed.events if e.get("name") in ("checklist", "checklist_step")]

    # An unsigned answer to a signed member's skip prompt records nothing and does not linger for later.
    reason = run(
        ActionSkipStep(), "attacker text", "step_skip", slots={**on_step(first), "skip_reason": "x y z"}, signed=False
    )
    assert reason.slot("skip_reason") is None
    assert _progress(case_db, "A1234BC") == {}


def test_showing_a_clients_checklist_card_leaves_a_read_audit_row(run, case_db) -> None:
    def reads() -> list[dict]:
        with case_db.transaction() as session:
            return [
                a.after
                for a in session.scalars(select(AuditEvent).where(AuditEvent.action == "read").order_by(AuditEvent.id))
            ]

    before = len(reads())
    run(ActionStartChecklist(), "start the transfer checklist for A1234BC", "start_checklist", CHECKLIST_FOR_A)
    assert reads()[before:] == [{"what": "checklist"}]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("skip, he was in court all day", "he was in court all day"),
        ("client refused", "client refused"),
        ("skip", None),  # no reason left: the form asks again
        ("ok", None),
        ("/checklist_stop", "/checklist_stop"),  # a button is no reason: action_skip_step skips nothing
        ("never mind", "never mind"),
    ],
)
def test_the_skip_reason_form_keeps_the_reason_without_skip_and_asks_again_when_none_is_left(typed, kept) -> None:  # type: ignore[no-untyped-def]
    tracker = Tracker("t", {"skip_reason": typed, "requested_slot": "skip_reason"}, {}, [], False, None, {}, "")
    validated = ValidateSkipReasonForm().validate_skip_reason(typed, CollectingDispatcher(), tracker, {})
    assert validated == {"skip_reason": kept}
