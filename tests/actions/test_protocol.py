import datetime as dt
import re

from sqlalchemy import select

from actions.conversation import ActionClarify, ActionHelp, ActionOutOfScope
from actions.protocol import ActionAnswerProtocol, ActionDefineTerm
from actions.safeguarding import ActionRaiseSafeguarding
from throughcare.cases import store
from throughcare.db.models import GuidanceQuery
from throughcare.protocol import answers


def test_a_protocol_question_is_answered_with_its_source(run) -> None:
    result = run(ActionAnswerProtocol(), "how often are high risk clients reviewed", "ask_protocol")
    assert re.search(r"(2|two) weeks", result.text)
    assert "Source: 000" in result.text
    assert all(b["payload"].startswith("/ask_protocol{") for b in result.buttons)


def test_a_question_the_knowledge_cannot_answer_is_logged_as_unanswered(run, case_db) -> None:
    result = run(ActionAnswerProtocol(), "zebra accordion recipes", "ask_protocol")
    assert "couldn't find that" in result.text
    with case_db.transaction() as session:
        assert (
            session.scalars(
                select(GuidanceQuery.fell_back).where(GuidanceQuery.conversation_id == "test-conversation")
            ).one()
            is True
        )


def test_terms_are_defined_with_every_expansion_and_source(run) -> None:
    ttg = run(ActionDefineTerm(), "what does TTG mean", "define_term")
    assert ttg.text.startswith("TTG: Through the Gate") and "Source: 000" in ttg.text
    cjit = run(ActionDefineTerm(), "what is cjit", "define_term")
    assert "more than one way" in cjit.text and "001" in cjit.text and "003" in cjit.text


def test_a_subject_holding_a_glossary_word_is_answered_on_the_whole_subject(run) -> None:
    detox = {"entity": "term", "value": "detox", "start": 17, "end": 22}
    inpatient = run(ActionDefineTerm(), "what is an inpatient detox", "define_term", [detox])
    assert inpatient.text.startswith("Clinical: what is inpatient detoxification?") and "Source: 003" in inpatient.text
    # The word alone still gets its glossary entry, and so does a wider phrase no protocol item covers better.
    word = {"entity": "term", "value": "detox", "start": 8, "end": 13}
    assert run(ActionDefineTerm(), "what is detox", "define_term", [word]).text.startswith("Detoxification:")
    naloxone = {"entity": "term", "value": "naloxone", "start": 10, "end": 18}
    assert run(ActionDefineTerm(), "what is a naloxone kit", "define_term", [naloxone]).text.startswith("Naloxone:")


def test_an_unknown_term_says_so(run) -> None:
    assert "isn't in the glossary" in run(ActionDefineTerm(), "what does XQZW mean", "define_term").text


def test_safeguarding_shows_the_route_and_offers_the_checklist_for_the_client(run) -> None:
    result = run(
        ActionRaiseSafeguarding(),
        "worried about A1234BC self harming",
        "raise_safeguarding",
        [{"entity": "prison_number", "value": "A1234BC"}],
    )
    assert "line manager" in result.text.lower() and "Source: 000" in result.text
    assert result.buttons[0]["payload"].startswith('/start_checklist{"checklist":"safeguarding"')
    unsigned = run(ActionRaiseSafeguarding(), "i have a safeguarding concern", "raise_safeguarding", signed=False)
    assert "line manager" in unsigned.text.lower() and not unsigned.buttons


def test_low_confidence_offers_the_two_likeliest_meanings_then_help(run) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "ask_next_steps", "confidence": 0.4},
        {"name": "ask_due_date", "confidence": 0.35},
        {"name": "greet", "confidence": 0.1},
    ]
    first = run(
        ActionClarify(),
        "A1234BC thingy",
        "nlu_fallback",
        ranking=ranking,
        entities=[{"entity": "prison_number", "value": "A1234BC"}],
    )
    assert [b["payload"] for b in first.buttons] == [
        '/ask_next_steps{"prison_number":"A1234BC"}',
        '/ask_due_date{"prison_number":"A1234BC"}',
    ]
    earlier = [{"event": "user", "text": "A1234BC thingy", "parse_data": {"intent": {"name": "nlu_fallback"}}}]
    second = run(ActionClarify(), "blah blah", "nlu_fallback", ranking=ranking, events=earlier)
    assert "still didn't follow" in second.text and not second.buttons


def test_help_lists_what_the_assistant_does(run) -> None:
    assert "what's next for a client" in run(ActionHelp(), "help", "help").text


def test_where_documents_differ_the_answer_gives_each_view_with_its_source(run) -> None:
    result = run(ActionAnswerProtocol(), "when do we start release planning", "ask_protocol")
    assert "12-week" in result.text and "Source: 000" in result.text
    assert "The documents differ" in result.text and "Source: 001, §9.3.3" in result.text


def test_a_timescale_question_with_a_client_in_context_works_out_their_date(run, case_db) -> None:
    release = store.episode_facts(case_db, "A1234BC").expected_release_date
    result = run(
        ActionAnswerProtocol(),
        "when do we start release planning",
        "ask_protocol",
        slots={"prison_number": "A1234BC"},
    )
    assert "For A1234BC (" in result.text and "counting from release on" in result.text
    assert answers.day(release - dt.timedelta(weeks=12)) in result.text
    question = "when do we start release planning"
    unsigned = run(ActionAnswerProtocol(), question, "ask_protocol", slots={"prison_number": "A1234BC"}, signed=False)
    assert "For A1234BC" not in unsigned.text and "Source: 000" in unsigned.text


def test_clinical_answers_are_marked_as_information_for_the_clinical_team(run) -> None:
    result = run(ActionAnswerProtocol(), "can someone on methadone go to open conditions", "ask_protocol")
    assert answers.CLINICAL_NOTE in result.text and "Source: 001" in result.text


def test_an_unclear_question_is_answered_from_the_closest_knowledge_with_other_matches(run, case_db) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "ask_protocol", "confidence": 0.28}]
    result = run(ActionClarify(), "naloxone kits on the way out??", "nlu_fallback", ranking=ranking)
    assert "closest in the protocol" in result.text and "naloxone" in result.text.lower()
    assert re.search(r"Source: 00\d", result.text)
    knowledge_buttons = [b for b in result.buttons if b["payload"].startswith('/ask_protocol{"knowledge_item"')]
    assert knowledge_buttons and all(re.search(r"\(00\d, .+\)$", b["title"]) for b in knowledge_buttons)
    assert result.buttons[-1]["payload"] == "/ask_protocol"
    with case_db.transaction() as session:
        assert (
            session.scalars(
                select(GuidanceQuery.fell_back).where(GuidanceQuery.conversation_id == "test-conversation")
            ).one()
            is True
        )


def test_clinical_glossary_terms_are_marked_for_the_clinical_team(run) -> None:
    assert answers.CLINICAL_NOTE in run(ActionDefineTerm(), "what is methadone", "define_term").text
    assert answers.CLINICAL_NOTE not in run(ActionDefineTerm(), "what does TTG mean", "define_term").text


def test_a_question_taken_for_a_concern_gets_the_route_first_and_then_the_closest_answer(run) -> None:
    asked = "he was off his head at reception can he still consent"
    result = run(ActionRaiseSafeguarding(), asked, "raise_safeguarding")
    route, _, rest = result.text.partition("If you were asking about this rather than raising a concern:")
    assert route.startswith("Safeguarding concern:") and "consent" in rest.lower() and "Source: 001" in rest
    report = run(ActionRaiseSafeguarding(), "he told me hes being bullied for his meds", "raise_safeguarding")
    assert "If you were asking" not in report.text


def test_a_report_plainly_about_one_protocol_subject_also_gets_that_subject(run) -> None:
    result = run(ActionRaiseSafeguarding(), "hes being sectioned and moved to hospital", "raise_safeguarding")
    route, _, rest = result.text.partition("If you were asking about this rather than raising a concern:")
    assert route.startswith("Safeguarding concern:") and "Mental Health Act" in rest and "Source: 001, §3.7" in rest
    disclosure = run(ActionRaiseSafeguarding(), "she disclosed abuse by her partner", "raise_safeguarding")
    assert "If you were asking" not in disclosure.text


def test_out_of_scope_messages_in_the_protocols_own_words_get_the_closest_answer(run) -> None:
    protocol = run(ActionOutOfScope(), "bbv testing whats the plan", "out_of_scope")
    assert "protocol has this" in protocol.text and "Source: 002" in protocol.text
    assert "outside what I can help with" in run(ActionOutOfScope(), "whos on shift today", "out_of_scope").text


def test_an_unsigned_button_press_does_not_echo_a_signed_members_message(run) -> None:
    earlier = [{"event": "user", "text": "what does ACCT mean", "metadata": {"staff_token": "their token"}}]
    signed = run(ActionAnswerProtocol(), "/ask_protocol", "ask_protocol", events=earlier)
    assert "ACCT" in signed.text
    unsigned = run(ActionAnswerProtocol(), "/ask_protocol", "ask_protocol", events=earlier, signed=False)
    assert "ACCT" not in unsigned.text


def test_a_request_to_smuggle_or_hurt_is_refused_plainly_without_the_protocol(run) -> None:
    for text in (
        "what's the easiest way to get a phone in through a visit",
        "how would i cook up some spice",
        "how do i batter someone without getting caught",
    ):
        for action, intent in ((ActionAnswerProtocol(), "ask_protocol"), (ActionOutOfScope(), "out_of_scope")):
            result = run(action, text, intent)
            assert "can't help" in result.text
            assert "Source:" not in result.text
    # A question about such things happening is answered, not refused.
    asked = run(ActionAnswerProtocol(), "what do we do if a lad is found under the influence of spice", "ask_protocol")
    assert "can't help" not in asked.text


def test_a_protocol_question_about_a_named_client_answers_for_them_and_offers_the_checklist(run) -> None:
    result = run(
        ActionAnswerProtocol(),
        "A1234BC is being moved to another prison next week, what do I do",
        "ask_protocol",
        entities=[{"entity": "prison_number", "value": "A1234BC"}],
    )
    assert "A1234BC" in result.text
    assert "NDTMS" in result.text
    assert any("checklist" in b["title"] and "A1234BC" in b["payload"] for b in result.buttons)


def test_a_question_about_doing_a_procedure_gets_its_steps_not_the_one_line_definition(run) -> None:
    result = run(ActionAnswerProtocol(), "client wants to withdraw from the service what do i do", "ask_protocol")
    assert "harm reduction" in result.text.lower() and "Source: 000" in result.text


def test_a_named_clients_move_lists_what_is_left_for_them_each_step_with_its_source(run) -> None:
    question = "A1234BC is on a script and getting shipped out friday, anything i need to pass on clinically"
    number = [{"entity": "prison_number", "value": "A1234BC"}]
    result = run(ActionAnswerProtocol(), question, "ask_protocol", entities=number)
    # The demo client is on a prescription: the clinical steps apply, each cited to the national guidance.
    line = next(line for line in result.text.splitlines() if "clinical record" in line)
    assert "Source: 001, §7.1.4" in line
    assert answers.CLINICAL_NOTE in result.text
    unsigned = run(ActionAnswerProtocol(), question, "ask_protocol", entities=number, signed=False)
    assert "Still to do" not in unsigned.text and "Transfer to another prison" in unsigned.text


def test_an_expansion_the_documents_do_not_spell_out_is_marked_as_the_usual_one(run) -> None:
    dars = run(ActionDefineTerm(), "what does DARS stand for", "define_term")
    assert "Drug and Alcohol Recovery Service" in dars.text
    assert "Source: 000, Clean In › Referral (it uses the term without spelling it out" in dars.text
    ia = run(ActionDefineTerm(), "what does IA mean", "define_term")
    assert "Source: 000, Clean In › Assessment" in ia.text and "spelling it out" not in ia.text
