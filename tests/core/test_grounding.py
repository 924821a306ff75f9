"""Every fact is grounded in the section it cites (throughcare/knowledge/grounding.py)."""

from __future__ import annotations

import pytest

from throughcare.knowledge import grounding
from throughcare.knowledge.loader import default_knowledge
from throughcare.knowledge.schema import Grounding, Knowledge, Source

# The documents are not in the repository (only their facts, in our own words, are); on a machine without them
# the check cannot be made, and says so rather than passing.
needs_documents = pytest.mark.skipif(
    grounding.protocol_dir() is None,
    reason=f"the protocol documents are not beside this checkout or its origin: set {grounding.PROTOCOL_DIR_ENV}",
)


@needs_documents
def test_every_knowledge_fact_is_grounded() -> None:
    found = grounding.problems(default_knowledge())
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("within 5 working days", {("5", "working days")}),
        ("within five working days", {("5", "working days")}),
        ("always within twenty-four hours", {("24", "hours")}),
        ("4-6 weeks", {("4", "weeks"), ("6", "weeks")}),
        ("every 2 week to 12 weekly", {("2", "weeks"), ("12", "weeks")}),
        ("a 13-week review", {("13", "weeks")}),
        ("72 hours, ideally 24", {("72", "hours"), ("24", None)}),
        ("one of the two teams", set()),
        ("5 days' stabilisation", {("5", "days")}),
        ("call 0800 633 5588 or 01234-567-890", {("08006335588", None), ("01234567890", None)}),
        ("from 10 to 12 weeks, 1 633 days", {("10", "weeks"), ("12", "weeks"), ("1", None), ("633", "days")}),
        ("a harm reduction 1:1, weekly 1:1s and 1:1’s", set()),
        ("1:1 for 2 weeks, mixed 1:10 or 11:1", {("2", "weeks"), ("1", None), ("10", None), ("11", None)}),
    ],
)
def test_figures_are_normalised(text: str, expected: set[tuple[str, str | None]]) -> None:
    assert {(f.value, f.unit) for f in grounding.figures(text)} == expected


@needs_documents
def test_every_covered_row_of_the_coverage_map_is_found_in_its_document() -> None:
    from throughcare.knowledge import coverage

    rows = coverage.read_map(coverage.read_default_map())
    coverage.assign(default_knowledge(), rows)
    missing = [
        f"{r.document} '{r.section}'"
        for r in rows
        if r.covered_by and grounding.section_text(Source(document=r.document, section=r.section)) is None  # type: ignore[arg-type]
    ]
    assert not missing


@needs_documents
def test_section_text_stops_at_the_next_section() -> None:
    text = grounding.section_text(Source(document="001", section="§7.1.12"))
    assert text is not None and "inform the CJIT" in text and "7.2.1" not in text
    assembled = grounding.section_text(Source(document="000", section="Clean In › Assessment"))
    assert assembled is not None and "10 working days" in assembled and "Care plan goals" not in assembled


def _with_topic_answer(answer: str, **extra: object) -> Knowledge:
    knowledge = default_knowledge()
    topic = knowledge.topics["initial_assessment_timescale"]
    changed = topic.model_copy(update={"answer": answer, **extra})
    return knowledge.model_copy(update={"topics": {**knowledge.topics, topic.id: changed}})


@needs_documents
def test_a_wrong_number_is_named_with_its_item() -> None:
    found = grounding.problems(_with_topic_answer("Every referral is seen within 7 working days."))
    assert any("topic:initial_assessment_timescale" in p and "7 working days" in p for p in found)


@needs_documents
def test_a_wrong_unit_is_caught() -> None:
    found = grounding.problems(_with_topic_answer("Every referral is seen within 5 days."))
    assert any("'5 days'" in p for p in found)


@needs_documents
def test_an_explicit_grounding_note_accepts_a_local_figure() -> None:
    marked = _with_topic_answer(
        "Every referral is seen within 7 working days.",
        grounding=[Grounding(figure="7 working days", note="our own target")],
    )
    assert not [p for p in grounding.problems(marked) if "initial_assessment_timescale" in p]


@needs_documents
def test_a_grounding_source_must_state_the_figure() -> None:
    marked = _with_topic_answer(
        "Every referral is seen within 7 working days.",
        grounding=[Grounding(figure="7 working days", source=Source(document="004", section="§2 Referrals"))],
    )
    assert any("grounding says '7 working days'" in p for p in grounding.problems(marked))


@needs_documents
def test_a_missing_section_is_reported() -> None:
    knowledge = default_knowledge()
    topic = knowledge.topics["initial_assessment_timescale"]
    changed = topic.model_copy(update={"source": Source(document="001", section="§7.1.99")})
    found = grounding.problems(knowledge.model_copy(update={"topics": {**knowledge.topics, topic.id: changed}}))
    assert any("§7.1.99" in p and "not in the document" in p for p in found)
