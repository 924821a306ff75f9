"""The gateway's log filter takes prison numbers and signed staff tokens out of every line and traceback."""

from __future__ import annotations

import logging

from bot.logs import PRISON_NUMBER, REDACTED, RedactSecrets
from throughcare.access import identity

SECRET = b"gateway-test-secret-0123456789"


def shown(record: logging.LogRecord) -> str:
    assert RedactSecrets("bot-token").filter(record)
    return logging.Formatter().format(record)


def test_prison_numbers_in_any_case_are_taken_out_of_messages_and_tracebacks() -> None:
    try:
        raise ValueError('bad payload /ask_next_steps{"prison_number":"A1234BC"}')
    except ValueError as err:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "Update for %s failed", ("a1234bc",), None)
        record.exc_info = (type(err), err, err.__traceback__)
    text = shown(record)
    assert "A1234BC" not in text.upper()
    assert text.startswith(f"Update for {PRISON_NUMBER} failed")
    assert text.endswith(f'"prison_number":"{PRISON_NUMBER}"}}')


def test_a_signed_staff_token_is_taken_out() -> None:
    token = identity.sign(7, SECRET, subject="conversation")
    record = logging.LogRecord("bot.rasa", logging.WARNING, __file__, 1, "metadata %s", ({"staff_token": token},), None)
    text = shown(record)
    assert token not in text and REDACTED in text


def test_the_rest_of_the_line_is_kept() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "Digest for staff member %s sent", (12,), None)
    assert shown(record) == "Digest for staff member 12 sent"
