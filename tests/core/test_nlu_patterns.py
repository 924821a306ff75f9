"""The NLU's rule-based entities, generated from the knowledge base: what staff type is found and read right."""

import re

import pytest
import yaml

from throughcare.knowledge import Knowledge
from throughcare.nlu_patterns import event_words, rasa_entity_data, ruler_patterns
from throughcare.store import EVENTS


def event_match(knowledge: Knowledge, text: str) -> list[tuple[str, str]]:
    """(words found, event) the way Rasa's RegexEntityExtractor and synonyms read the generated data."""
    data = yaml.safe_load(rasa_entity_data(knowledge))["nlu"]
    block = next(block for block in data if block.get("regex") == "event")
    pattern = block["examples"].splitlines()[0][2:]
    words = event_words(knowledge)
    return [(m.group(0), words[m.group(0).lower()]) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def test_every_event_word_names_an_event_the_store_records(knowledge: Knowledge) -> None:
    assert {e.name for e in knowledge.vocabulary.events} <= set(EVENTS)
    assert set(event_words(knowledge).values()) == {e.name for e in knowledge.vocabulary.events}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IA done for A1234BC", [("IA", "initial_assessment")]),
        ("did the 13 week review with gmmh", [("13 week review", "joint_review")]),
        ("care plan review held monday", [("care plan review", "review")]),
        ("log his reveiw for yesterday", [("reveiw", "review")]),
        ("hes due out on the 14th", [("due out", "release_date")]),
        ("getting shipped out next week", [("shipped out", "transfer")]),
        ("initial assesment completed", [("initial assesment", "initial_assessment")]),
        ("his release date has moved", [("release date", "release_date")]),
        ("hows the weather", []),
    ],
)
def test_event_words_are_found_whole_with_their_event(knowledge: Knowledge, text: str, expected: list) -> None:
    assert event_match(knowledge, text) == expected


def test_a_slip_that_spells_another_events_word_is_not_accepted(knowledge: Knowledge) -> None:
    words = event_words(knowledge)
    # "reviews" less one letter is "review": still a review, never anything else.
    assert words["review"] == "review"
    assert all(words[alias.lower()] == e.name for e in knowledge.vocabulary.events for alias in e.aliases)


def test_the_generated_rasa_data_is_valid_nlu_yaml_with_prison_number_event_and_date(knowledge: Knowledge) -> None:
    data = yaml.safe_load(rasa_entity_data(knowledge))
    assert data["version"] == "3.1"
    names = {(kind, block[kind]) for block in data["nlu"] for kind in ("regex", "synonym") if kind in block}
    assert {("regex", "prison_number"), ("regex", "event"), ("regex", "date")} <= names
    assert {name for kind, name in names if kind == "synonym"} == {e.name for e in knowledge.vocabulary.events}


def test_the_entity_ruler_carries_checklists_terms_substances_and_prisons(knowledge: Knowledge) -> None:
    labels = {p["label"] for p in ruler_patterns(knowledge)}
    assert labels == {"checklist", "term", "substance", "prison"}


@pytest.mark.parametrize(
    "message",
    ["", "\x00\x07\n\t", "😀😀😀", "care plan " * 100_000, "13 wee " * 150_000],
    ids=["empty", "control", "emoji", "1 MB of near misses", "1 MB of prefixes"],
)
def test_bad_input_names_no_event(knowledge: Knowledge, message: str) -> None:
    assert event_match(knowledge, message) == []
