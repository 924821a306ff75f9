"""docs/coverage.md: every section of the protocol documents is covered by knowledge or reasoned out."""

from throughcare.knowledge import coverage

MAP_HEAD = "## 001 — national guidance\n\n| section | covered by | left out because |\n| --- | --- | --- |\n"


def test_the_coverage_map_is_complete_and_up_to_date(knowledge):
    assert coverage.problems(knowledge, coverage.read_default_map()) == []


def test_a_citation_counts_for_the_most_specific_row_it_falls_under(knowledge):
    rows = coverage.read_map(MAP_HEAD + "| §7 | | |\n| §7.1 | | |\n| §7.10 | | no such text |\n")
    coverage.assign(knowledge, rows)
    general, planned, unused = rows
    assert "step:transfer.prescription_record" in planned.covered_by  # cites §7.1.4
    assert "step:transfer.prescription_record" not in general.covered_by
    assert "step:transfer.notify_28_days" in general.covered_by  # cites §7.2.1, and §7.2 has no row
    assert unused.covered_by == []  # §7.1.x is not under §7.10


def test_a_citation_of_an_unlisted_section_is_reported(knowledge):
    found = coverage.problems(knowledge, MAP_HEAD + "| §2 | | |\n")
    assert any("cites 001 '§7.1" in problem for problem in found)
    assert any("cites 000 " in problem for problem in found)


def test_a_section_with_neither_items_nor_reason_is_reported(knowledge):
    found = coverage.problems(knowledge, MAP_HEAD + "| §99 | | |\n")
    assert "001 '§99' has no knowledge item and no reason for leaving it out" in found


def test_a_stale_covered_by_column_is_reported_and_rewritten(knowledge):
    text = coverage.read_default_map().replace("topic:", "topic-removed:", 1)
    assert any("out of date" in problem for problem in coverage.problems(knowledge, text))
    assert coverage.render(knowledge, text) == coverage.render(knowledge, coverage.read_default_map())
