"""Our tracker store reads back exactly what Rasa's own SQL tracker store reads, and Rasa really loads it.

The checks (checks_in_rasa.py) run in Rasa's environment, where the store lives; they need no model.
"""

from pathlib import Path

import pytest

from tests.rasa.in_rasa import check

pytestmark = pytest.mark.rasa


def test_a_conversation_reads_back_event_for_event_as_rasas_own_store_reads_it(tmp_path: Path) -> None:
    # The 23 events of the latest session (from its session start), with the walk and the form still open
    # after a question in the middle of it, then the 8 of the session before it too.
    assert check("same_events", str(tmp_path / "tracker.db")) == [
        "23 transfer skip_reason_form",
        "31 transfer skip_reason_form",
    ]


def test_each_save_writes_the_new_events_once(tmp_path: Path) -> None:
    # A session start (4 events) and three exchanges of 4, saved from trackers read back or made new.
    assert check("saves", str(tmp_path / "tracker.db")) == ["16"]


def test_a_long_session_is_handed_to_rasa_as_its_last_exchanges_in_the_same_state(tmp_path: Path) -> None:
    # The client and the walk, set ten exchanges before, are still set from a window of 3 exchanges. A form opened
    # before the window holds the message that opened it, which the window cannot: that session is read whole
    # (16 exchanges). Saving after either writes only the new exchange.
    assert check("window", str(tmp_path / "tracker.db")) == [
        "without-form 3 A1234BC None",
        "with-form 16 A1234BC skip_reason_form",
    ]


def test_every_event_type_maps_to_the_class_rasa_would_choose() -> None:
    assert int(check("event_classes")[0]) > 20


def test_rasa_loads_our_store_from_both_endpoints_files() -> None:
    # Rasa falls back to keeping conversations in memory, with only a warning, when it cannot import a store.
    assert check("loaded_store") == ["ThroughcareTrackerStore", "ThroughcareTrackerStore"]
