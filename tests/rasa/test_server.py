"""Rasa started through rasa_components/server.py judges every action server reply as Rasa 3.6 itself does."""

import pytest

from tests.rasa.in_rasa import check

pytestmark = pytest.mark.rasa


def test_each_action_reply_is_judged_as_rasa_judges_it() -> None:
    # checks_in_rasa.py asserts the corrected validation gives Rasa's own outcome for each reply; these are them.
    assert check("reply_validation") == [
        "True",
        "True",
        "True",
        "invalid at ['events']: type",
        "invalid at ['events', 0]: required",
        "invalid at ['events', 0, 'event']: const",
        "invalid at ['responses']: type",
        "invalid at ['responses', 0]: type",
        "invalid at []: type",
    ]
