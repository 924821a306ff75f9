import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from throughcare.cli import app
from throughcare.knowledge.loader import DEFAULT_KNOWLEDGE_DIR, KnowledgeError, load_knowledge


def test_the_knowledge_base_covers_what_the_foundation_needs(knowledge) -> None:
    for procedure in (
        "referral",
        "initial_assessment",
        "triage",
        "care_plan_review",
        "transfer",
        "release",
        "safeguarding",
    ):
        assert procedure in knowledge.procedures
    release = knowledge.procedures["release"]
    harm_reduction = release.step("harm_reduction_session")
    assert harm_reduction.mandatory and harm_reduction.condition is None
    assert len(knowledge.glossary) >= 40
    assert {"dars_high_risk", "dars_dependence", "dars_freedom", "tc_connect", "tc_dependence", "tc_freedom"} <= set(
        knowledge.care_levels
    )


def test_every_item_cites_a_document_and_section(knowledge) -> None:
    sources = [p.source for p in knowledge.procedures.values()]
    sources += [s.source for p in knowledge.procedures.values() for s in p.steps]
    sources += [t.source for t in knowledge.topics.values()] + [t.source for t in knowledge.timescales.values()]
    sources += [e.source for g in knowledge.glossary for e in g.expansions]
    assert all(s.document in {"000", "001", "002", "003", "004"} and len(s.section) > 2 for s in sources)


def test_acronyms_the_documents_expand_differently_keep_both_expansions(knowledge) -> None:
    cjit = knowledge.find_term("cjit")
    assert cjit is not None and len(cjit.expansions) == 2
    assert {e.source.document for e in cjit.expansions} == {"001", "003"}


def test_terms_and_checklists_are_found_by_the_words_staff_use(knowledge) -> None:
    assert knowledge.find_term("TTG?").term == "TTG"
    assert knowledge.find_procedure("transfer checklist").id == "transfer"
    assert knowledge.find_procedure("shipped out").id == "transfer"


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target)
    return target


def test_a_step_without_a_source_is_named_by_file_and_item(broken_copy: Path) -> None:
    path = broken_copy / "procedures" / "transfer.yml"
    text = path.read_text()
    path.write_text(text.replace("who: administrator", "who: the cleaner", 1))
    with pytest.raises(KnowledgeError, match=r"transfer\.yml: item transfer: steps\.\d+\.who"):
        load_knowledge(broken_copy)


def test_an_unknown_timescale_reference_is_named(broken_copy: Path) -> None:
    path = broken_copy / "service_profile.yml"
    path.write_text(path.read_text().replace("triage_timescale: triage", "triage_timescale: triage_soon"))
    with pytest.raises(KnowledgeError, match="triage_timescale names unknown timescale 'triage_soon'"):
        load_knowledge(broken_copy)


def test_validate_command_reports_the_error_and_fails(broken_copy: Path) -> None:
    (broken_copy / "glossary.yml").write_text("glossary:\n  - term: XYZ\n    explanation: no expansions\n")
    result = CliRunner().invoke(app, ["knowledge", "validate", "--directory", str(broken_copy)])
    assert result.exit_code == 1
    assert "glossary.yml" in result.output and "XYZ" in result.output


def test_validate_command_passes_on_the_shipped_knowledge() -> None:
    result = CliRunner().invoke(app, ["knowledge", "validate"])
    assert result.exit_code == 0, result.output
    assert "Knowledge is valid" in result.output


def test_clinical_timescales_carry_the_clinical_note(knowledge) -> None:
    import datetime as dt

    from throughcare.protocol import answers
    from throughcare.protocol.engine import EpisodeFacts

    facts = EpisodeFacts(
        prison_number="A1234BC",
        initials="JS",
        referral_date=dt.date(2026, 9, 1),
        referral_route="self_referral",
        stage="referred",
    )
    open_conditions = knowledge.timescales["open_conditions_minimum"]
    assert open_conditions.clinical
    assert answers.CLINICAL_NOTE in answers.timescale_for_client(open_conditions, facts, dt.date(2026, 9, 2))
    assert answers.CLINICAL_NOTE not in answers.timescale_for_client(
        knowledge.timescales["triage"], facts, dt.date(2026, 9, 2)
    )


def test_repeats_of_clinical_facts_are_flagged_clinical(knowledge) -> None:
    for topic_id in (
        "transfer_records_travel",
        "unplanned_transfer_records",
        "court_sent_to_other_prison",
        "going_to_court",
    ):
        assert knowledge.topics[topic_id].clinical, topic_id
    for term in ("Category D", "Local prison"):
        assert knowledge.find_term(term).clinical, term


def test_expansions_the_documents_do_not_give_are_marked_common_usage(knowledge) -> None:
    for term in ("TTG", "DAT", "PACT", "CDAT", "SMART", "MDT"):
        assert all(e.common_usage for e in knowledge.find_term(term).expansions), term
    oasys = {e.text: e.common_usage for e in knowledge.find_term("OASys").expansions}
    assert oasys == {"Offender assessment and sentence management": False, "Offender Assessment System": True}
