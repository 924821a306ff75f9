"""Which knowledge items cover which section of the protocol documents (`docs/coverage.md`).

The map's section list and its reasons for leaving a section out are written by hand; the
"covered by" column is computed from the knowledge's citations, so it cannot go stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from throughcare.config import REPO_ROOT
from throughcare.knowledge.schema import Knowledge, Source

DEFAULT_MAP = REPO_ROOT / "docs" / "coverage.md"
_DOCUMENT_HEADING = re.compile(r"^## (\d{3})\b")
_HEADER = "| section | covered by | left out because |"


@dataclass
class Row:
    document: str
    section: str
    reason: str
    covered_by: list[str] = field(default_factory=list)


def citations(knowledge: Knowledge) -> Iterator[tuple[str, Source]]:
    """Every (item label, source) pair the knowledge holds."""
    for timescale in knowledge.timescales.values():
        yield f"timescale:{timescale.id}", timescale.source
        for difference in timescale.differences:
            yield f"timescale:{timescale.id}", difference.source
    for procedure in knowledge.procedures.values():
        yield f"procedure:{procedure.id}", procedure.source
        for step in procedure.steps:
            yield f"step:{procedure.id}.{step.id}", step.source
    for topic in knowledge.topics.values():
        yield f"topic:{topic.id}", topic.source
        for difference in topic.differences:
            yield f"topic:{topic.id}", difference.source
    for entry in knowledge.glossary:
        for expansion in entry.expansions:
            yield f"term:{entry.term}", expansion.source
    for level in knowledge.care_levels.values():
        yield f"care_level:{level.id}", level.source
    for measure in knowledge.measures.values():
        yield f"measure:{measure.id}", measure.source
    for scenario in knowledge.scenarios.values():
        yield f"scenario:{scenario.id}", scenario.source
    for course in knowledge.training.values():
        yield f"training:{course.id}", course.source
    for thing in (*knowledge.vocabulary.substances, *knowledge.vocabulary.prisons, *knowledge.vocabulary.events):
        yield f"vocabulary:{thing.name}", thing.source
    for source in knowledge.profile.sources:
        yield "service_profile", source


def _within(section: str, row_section: str) -> bool:
    """A citation falls under a row when it is that section or one of its subsections."""
    if section == row_section:
        return True
    return section.startswith(row_section) and section[len(row_section)] in ". "


def _table_rows(lines: list[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(line index, document, cells) for each section row of the map's tables."""
    document = None
    for index, line in enumerate(lines):
        heading = _DOCUMENT_HEADING.match(line)
        if heading:
            document = heading.group(1)
            continue
        if document is None or not line.startswith("|") or line.startswith((_HEADER, "| ---")):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            raise ValueError(f"coverage map row has {len(cells)} cells, expected 3: {line}")
        yield index, document, cells


def read_map(text: str) -> list[Row]:
    return [Row(document, cells[0].strip("`"), cells[2]) for _, document, cells in _table_rows(text.splitlines())]


def assign(knowledge: Knowledge, rows: list[Row]) -> list[str]:
    """Fill each row's `covered_by` from the citations; return the citations no row lists."""
    unlisted: list[str] = []
    for label, source in citations(knowledge):
        candidates = [r for r in rows if r.document == source.document and _within(source.section, r.section)]
        if not candidates:
            unlisted.append(f"{label} cites {source.document} '{source.section}', which the map does not list")
            continue
        row = max(candidates, key=lambda r: len(r.section))
        if label not in row.covered_by:
            row.covered_by.append(label)
    return unlisted


def problems(knowledge: Knowledge, text: str) -> list[str]:
    """What is wrong with the map: unlisted citations, bare rows, and a stale "covered by" column."""
    rows = read_map(text)
    found = assign(knowledge, rows)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if (row.document, row.section) in seen:
            found.append(f"{row.document} '{row.section}' is listed twice")
        seen.add((row.document, row.section))
        if not row.covered_by and not row.reason:
            found.append(f"{row.document} '{row.section}' has no knowledge item and no reason for leaving it out")
    if _with_covered_by(text, rows) != text:
        found.append("the 'covered by' column is out of date: run `throughcare knowledge coverage --write`")
    return found


def render(knowledge: Knowledge, text: str) -> str:
    """The map with its "covered by" column recomputed; everything else is kept as written."""
    rows = read_map(text)
    assign(knowledge, rows)
    return _with_covered_by(text, rows)


def _with_covered_by(text: str, rows: list[Row]) -> str:
    lines = text.splitlines()
    for (index, _, cells), row in zip(_table_rows(lines), rows, strict=True):
        lines[index] = f"| {cells[0]} | {', '.join(row.covered_by)} | {row.reason} |"
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def read_default_map(path: Path = DEFAULT_MAP) -> str:
    return path.read_text(encoding="utf-8")
