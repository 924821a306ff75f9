"""The NLU's rule-based entities, generated from the knowledge base: what staff type is found and read right."""

import re

import pytest
import yaml

from tests.conftest import generated_entity_data
from throughcare.cases.store import EVENTS
from throughcare.db.models import ReferralRoute
from throughcare.knowledge.nlu_patterns import event_words, rasa_entity_data, referral_route_words, ruler_patterns
from throughcare.knowledge.schema import Knowledge


def entity_match(knowledge: Knowledge, entity: str, text: str) -> list[tuple[str, str]]:
    """(words found, value) the way Rasa's RegexEntityExtractor and synonyms read the generated data."""
    data = generated_entity_data(knowledge)
    block = next(block for block in data if block.get("regex") == entity)
    pattern = block["examples"].splitlines()[0][2:]
    synonyms = {line[2:]: b["synonym"] for b in data if "synonym" in b for line in b["examples"].splitlines()}
    return [(m.group(0), synonyms[m.group(0).lower()]) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def event_match(knowledge: Knowledge, text: str) -> list[tuple[str, str]]:
    return entity_match(knowledge, "event", text)


def route_match(knowledge: Knowledge, text: str) -> list[tuple[str, str]]:
    return entity_match(knowledge, "referral_route", text)


def test_the_vocabulary_has_words_for_every_event_the_store_records_and_no_other(knowledge: Knowledge) -> None:
    assert {e.name for e in knowledge.vocabulary.events} == set(EVENTS)
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
        (
            "A1234BC engaged with the community team on 3/12",
            [("engaged with the community team", "community_engagement")],
        ),
        ("A1234BC did not engage with the community team", [("did not engage", "community_non_engagement")]),
        ("he hasn't engaged with cjit yet", [("hasn't engaged", "community_non_engagement")]),
        ("he engaged well at his review", [("review", "review")]),
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
    assert {("regex", "referral_route")} <= names
    synonyms = {name for kind, name in names if kind == "synonym"}
    routes = {r.name for r in knowledge.vocabulary.referral_routes}
    assert synonyms == {e.name for e in knowledge.vocabulary.events} | routes


def test_the_entity_ruler_carries_checklists_and_terms_only(knowledge: Knowledge) -> None:
    labels = {p["label"] for p in ruler_patterns(knowledge)}
    assert labels == {"checklist", "term"}


@pytest.mark.parametrize(
    "message",
    ["", "\x00\x07\n\t", "😀😀😀", "care plan " * 100_000, "13 wee " * 150_000],
    ids=["empty", "control", "emoji", "1 MB of near misses", "1 MB of prefixes"],
)
def test_bad_input_names_no_event(knowledge: Knowledge, message: str) -> None:
    assert event_match(knowledge, message) == []


def test_every_route_word_names_a_route_the_store_records(knowledge: Knowledge) -> None:
    names = {r.name for r in knowledge.vocabulary.referral_routes}
    assert names == {r.value for r in ReferralRoute}
    assert set(referral_route_words(knowledge).values()) == names


def test_no_word_is_both_an_event_and_a_route(knowledge: Knowledge) -> None:
    # Rasa keeps one synonym table for every entity: a shared word would give one of them the other's value.
    assert not set(event_words(knowledge)) & set(referral_route_words(knowledge))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("log a self referral for A1234BC", [("self referral", "self_referral")]),
        ("A1234BC has self-referred", [("self-referred", "self_referral")]),
        ("self refferal for A1234BC", [("self refferal", "self_referral")]),
        ("self referal in for A1234BC", [("self referal", "self_referral")]),
        ("self refreral A1234BC", [("self refreral", "self_referral")]),
        ("hes put in an app to see us", [("put in an app", "self_referral")]),
        ("omu have referred A1234BC", [("omu", "staff_referral")]),
        ("wing staff referred A1234BC", [("wing staff", "staff_referral")]),
        ("referral from safer custody", [("safer custody", "staff_referral")]),
        ("A1234BC found under the influence last night", [("found under the influence", "illicit_use")]),
        ("seen under the influance on b wing", [("under the influance", "illicit_use")]),
        ("suspected use on the landing, refer him", [("suspected use", "illicit_use")]),
        ("ilicit use referral A1234BC", [("ilicit use referral", "illicit_use")]),
        ("positive mdt for A1234BC", [("positive mdt", "positive_drug_test")]),
        ("he failed his mdt", [("failed his mdt", "positive_drug_test")]),
        ("mdt came back positive for spice", [("mdt came back positive", "positive_drug_test")]),
        ("postive drug test", [("postive drug test", "positive_drug_test")]),
        ("picked him up on induction", [("on induction", "induction")]),
        ("new arrival wants the service", [("new arrival", "induction")]),
        ("cjit sent a referral for A1234BC", [("cjit", "community_team")]),
        ("referral via the single point of contact", [("single point of contact", "community_team")]),
        ("the comunity team referred him before he came in", [("comunity team", "community_team")]),
        ("referral for A1234BC", []),
        ("his mdt came back negative", []),
    ],
)
def test_route_words_are_found_with_their_route(knowledge: Knowledge, text: str, expected: list) -> None:
    assert route_match(knowledge, text) == expected


@pytest.mark.parametrize("message", ["", "\x00\x07\n\t", "self " * 200_000, "under the " * 100_000])
def test_bad_input_names_no_route(knowledge: Knowledge, message: str) -> None:
    assert route_match(knowledge, message) == []
