import datetime as dt
import re

from sqlalchemy import select

from actions.cases import ActionCaseload, ActionDueDate, ActionNextSteps
from actions.common import DATABASE_DOWN, NO_WORDS, NOT_SIGNED_IN, TOO_LONG
from throughcare.cases import store
from throughcare.db.models import GuidanceQuery
from throughcare.demo.caseload import demo_practitioner_id
from throughcare.knowledge.loader import default_knowledge
from throughcare.protocol import answers

NUMBER = [{"entity": "prison_number", "value": "a1234bc", "start": 15, "end": 22}]


def test_next_steps_are_dated_cited_and_logged(run, case_db) -> None:
    result = run(ActionNextSteps(), "what's next for a1234bc", "ask_next_steps", NUMBER)
    assert result.text.startswith("A1234BC (")
    assert "Care plan review" in result.text and "Source: 000" in result.text
    assert result.slot("prison_number") == "A1234BC"
    with case_db.transaction() as session:
        logged = session.scalars(
            select(GuidanceQuery).where(GuidanceQuery.conversation_id == "test-conversation")
        ).one()
    assert (logged.action, logged.intent, logged.fell_back) == ("action_next_steps", "ask_next_steps", False)
    assert logged.cited and logged.cited.startswith("000")


def test_a_prison_number_said_earlier_carries_over(run) -> None:
    result = run(
        ActionDueDate(),
        "and when is his review due",
        "ask_due_date",
        [{"entity": "event", "value": "review"}],
        slots={"prison_number": "A1234BC"},
    )
    assert "A1234BC" in result.text and "Care plan review" in result.text


def test_unsigned_senders_get_no_case_data(run) -> None:
    result = run(ActionNextSteps(), "what's next for A1234BC", "ask_next_steps", NUMBER, signed=False)
    assert result.text == NOT_SIGNED_IN


def test_malformed_and_unknown_prison_numbers_are_explained(run) -> None:
    malformed = run(ActionNextSteps(), "whats next for A123BC", "ask_next_steps")
    assert "isn't a prison number" in malformed.text and "A1234BC" in malformed.text
    unknown = run(ActionNextSteps(), "whats next for Z9999ZZ", "ask_next_steps")
    assert "can't find Z9999ZZ" in unknown.text
    assert unknown.buttons[0]["payload"] == '/record_referral{"prison_number":"Z9999ZZ"}'


def test_no_prison_number_at_all_asks_which_client(run) -> None:
    assert "Which client?" in run(ActionNextSteps(), "whats next", "ask_next_steps").text


def test_caseload_lists_overdue_clients_first(run) -> None:
    result = run(ActionCaseload(), "my caseload", "ask_caseload")
    lines = result.text.splitlines()
    assert lines[0].startswith("Your caseload:") and "overdue" in lines[0]
    assert "OVERDUE" in lines[1]


def test_very_long_messages_and_emoji_get_a_kind_answer(run) -> None:
    assert run(ActionNextSteps(), "a" * 10_000, "ask_next_steps").text == TOO_LONG
    assert run(ActionNextSteps(), "🙂🙂🙂", "ask_next_steps").text == NO_WORDS


def test_a_database_that_is_down_gets_a_kind_answer(database_down) -> None:
    from tests.actions.conftest import make_runner

    result = make_runner(1)(ActionNextSteps(), "what's next for A1234BC", "ask_next_steps", NUMBER)
    assert result.text == DATABASE_DOWN


def test_due_date_for_a_step_already_done(run, case_db) -> None:
    result = run(
        ActionDueDate(),
        "when is the IA due for A1234BC",
        "ask_due_date",
        [{"entity": "event", "value": "initial_assessment"}],
    )
    done_on = store.episode_facts(case_db, "A1234BC").initial_assessment_date
    assert f"initial assessment was done on {answers.day(done_on)}" in result.text
    assert "Rule: within 5 working days of referral" in result.text and "Source: 000" in result.text


def test_is_his_review_overdue_answers_from_the_record_with_the_rule_and_source(run, case_db) -> None:
    result = run(
        ActionDueDate(),
        "is his review overdue",
        "ask_due_date",
        [{"entity": "event", "value": "review"}],
        slots={"prison_number": "A1234BC"},
    )
    facts = store.episode_facts(case_db, "A1234BC")
    assert result.text.startswith("A1234BC") and "Care plan review" in result.text
    assert re.search(r"(OVERDUE since|due) \w{3} \d+ \w{3} \d{4}", result.text)
    assert "Rule: every" in result.text and "Source:" in result.text
    assert facts.care_level is not None


def test_a_due_date_question_naming_no_client_gets_the_general_rule(run) -> None:
    result = run(ActionDueDate(), "when is a dependence review overdue", "ask_due_date")
    assert re.search(r"Source: 000", result.text) and "give me their prison number" in result.text
    assert "Which client?" in run(ActionDueDate(), "when's it due", "ask_due_date").text


def test_when_release_planning_starts_for_a_client_gives_the_date_and_both_rules(run, case_db) -> None:
    result = run(
        ActionDueDate(),
        "when do we start release planning for A1234BC",
        "ask_due_date",
        [{"entity": "event", "value": "release_date"}, {"entity": "prison_number", "value": "A1234BC"}],
    )
    release = store.episode_facts(case_db, "A1234BC").expected_release_date
    assert "Release preparation (at least 12 weeks before release)" in result.text
    assert answers.day(release - dt.timedelta(weeks=12)) in result.text
    assert "The documents differ" in result.text and "Source: 001, §9.3.3" in result.text


def _first_step(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("1. "))


def test_a_question_about_leaving_lists_the_release_steps_first(run, case_db) -> None:
    # A1234BC's release is about 40 working days ahead: release preparation is due, among other steps.
    general = run(ActionNextSteps(), "whats next for him", "ask_next_steps", slots={"prison_number": "A1234BC"})
    leaving = run(
        ActionNextSteps(), "whats left to do before he leaves us", "ask_next_steps", slots={"prison_number": "A1234BC"}
    )
    assert "release" not in _first_step(general.text).lower()
    assert "release" in _first_step(leaving.text).lower()
    # "Before then", right after recording the release date, asks after the same steps.
    recorded = {
        "event": "user",
        "text": "A1234BC is getting out on 03/03/2027",
        "parse_data": {
            "entities": [{"entity": "event", "value": "release_date"}, {"entity": "prison_number", "value": "A1234BC"}]
        },
    }
    then = run(
        ActionNextSteps(),
        "so what still needs doing for him before then",
        "ask_next_steps",
        slots={"prison_number": "A1234BC"},
        events=[recorded],
    )
    assert _first_step(then.text) == _first_step(leaving.text)


def _plan_steps(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\d+\. ", line)]


def test_whats_left_before_release_lists_the_whole_release_checklist_with_sources(run, case_db) -> None:
    leaving = run(
        ActionNextSteps(), "whats left to do before he leaves us", "ask_next_steps", slots={"prison_number": "A1234BC"}
    )
    steps = _plan_steps(leaving.text)
    assert len(steps) > 6 and all("Source: " in step for step in steps)
    assert any("harm reduction 1:1" in step for step in steps)
    # Anything overdue on other subjects is not hidden by the narrower question.
    assert "Also overdue: Care plan review" in leaving.text


def test_a_release_more_than_12_weeks_away_still_shows_what_to_prepare_and_when_it_starts(run, case_db) -> None:
    recorded = {
        "event": "user",
        "text": "A1234BC is getting out in 14 weeks",
        "parse_data": {"entities": [{"entity": "event", "value": "release_date"}]},
    }
    today = dt.date.today()
    release = today + dt.timedelta(weeks=14)
    store.record_event(
        case_db, default_knowledge(), "A1234BC", "release_date", release, demo_practitioner_id(case_db), today
    )
    then = run(
        ActionNextSteps(),
        "so what still needs doing for him before then",
        "ask_next_steps",
        slots={"prison_number": "A1234BC"},
        events=[recorded],
    )
    assert "CDT" in then.text and "preparation starts" in then.text


def test_who_tells_the_new_prison_about_a_clients_transfer_gets_the_transfer_checklist(run) -> None:
    result = run(
        ActionDueDate(),
        "whose job is it to let the new jail know about A1234BC when he transfers",
        "ask_due_date",
        [{"entity": "prison_number", "value": "A1234BC"}, {"entity": "event", "value": "transfer"}],
    )
    assert "no transfer date is recorded yet" in result.text
    email = next(step for step in _plan_steps(result.text) if "Email the receiving prison" in step)
    assert "by the administrator" in email
