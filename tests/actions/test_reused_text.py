"""A button press stands for the message typed before it; that message is held to the same budget as a new one."""

from __future__ import annotations

import time

from actions.common import TOO_LONG
from actions.protocol import NO_ANSWER, WHICH_TERM, ActionAnswerProtocol, ActionDefineTerm
from throughcare.access.input_limits import MAX_MESSAGE_CHARS


def typed(text: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"text": text}}


def test_a_button_press_after_a_run_of_spaces_is_answered_at_once(run) -> None:
    # The audit's stall: the spaces were matched, unstripped, by a pattern that split them three ways (32 s).
    start = time.perf_counter()
    result = run(ActionDefineTerm(), "/define_term", "define_term", events=[typed(" " * 2000 + "TTG\nplease")])
    assert time.perf_counter() - start < 1.0
    assert result.text


def test_a_button_press_after_an_over_long_message_does_not_answer_it(run) -> None:
    over_long = "what does TTG mean " + "and more " * (MAX_MESSAGE_CHARS // 9)
    assert len(over_long) > MAX_MESSAGE_CHARS
    assert run(ActionDefineTerm(), over_long, "define_term").text == TOO_LONG
    pressed = run(ActionDefineTerm(), "/define_term", "define_term", events=[typed(over_long)])
    assert pressed.text == WHICH_TERM
    asked = run(ActionAnswerProtocol(), "/ask_protocol", "ask_protocol", events=[typed(over_long)])
    assert asked.text == NO_ANSWER


def test_a_button_press_still_stands_for_the_question_before_it(run) -> None:
    pressed = run(ActionDefineTerm(), "/define_term", "define_term", events=[typed("  what does TTG mean?  ")])
    assert pressed.text.startswith("TTG: Through the Gate")
