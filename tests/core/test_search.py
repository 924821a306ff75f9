"""Questions no intent covers are answered from the knowledge base: the right item must come first."""

import pytest

from throughcare.search import default_search


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how long do we have to do the initial assessment?", "timescale:initial_assessment"),
        ("when is triage due", "timescale:triage"),
        ("how often are high risk clients reviewed", "topic:review_frequency_dars"),
        ("what happens if someone is transferred without notice", "topic:unplanned_transfer"),
        ("can someone self refer after declining", "topic:declined_service"),
        ("what interventions are on offer", "topic:interventions_on_offer"),
        ("is the service voluntary", "topic:service_voluntary"),
    ],
)
def test_the_best_match_comes_first(question: str, expected: str) -> None:
    best = default_search().search(question)[0]
    assert f"{best.kind}:{best.id}" == expected


def test_words_the_knowledge_never_uses_find_nothing() -> None:
    assert default_search().search("zebra accordion recipes") == []


def test_every_hit_carries_its_source() -> None:
    hits = default_search().search("release checklist naloxone", limit=3)
    assert hits and all(h.source.document in {"000", "001", "002", "003", "004"} for h in hits)


def test_words_said_for_emphasis_do_not_choose_the_subject() -> None:
    search = default_search()
    assert search.search("what does the cjit actually do")[0].id == search.search("what does the cjit do")[0].id
