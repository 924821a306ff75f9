"""Is each fact grounded in the section it cites? (`tests/core/test_grounding.py`)

Three checks over the whole knowledge base:

1. every cited section can be found in its document;
2. every number or duration in an item's text (digits anywhere; number words such as "five" or
   "twenty-eight" when a unit follows) appears in the text of the section(s) the item cites,
   compared as (value, unit), so "5 working days" matches "five working days" but not "5 days";
3. every glossary expansion appears in its cited section, unless marked `common_usage`.

An item that states a number its section does not (a figure derived from two sections, our own
practice) says so in a `grounding` entry naming the figure and either the other section that
states it (which is checked too) or a note saying why no document does. There is no exclusion
list here.

The document's sections are the rows of `docs/coverage.md` (read with `coverage.read_map`): each
row's heading is found in the document's text, and its text runs to the next heading that is not
one of its own subsections. A numbered paragraph cited below a row (001 §7.1.12 under §7.1) is found
by its number and runs to the next numbered paragraph.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from throughcare.config import REPO_ROOT
from throughcare.knowledge import coverage
from throughcare.knowledge.schema import Grounding, Knowledge, Source

PROTOCOL_DIR_ENV = "THROUGHCARE_PROTOCOL_DIR"
SHARED_PROTOCOL = Path("shared") / "protocol"
SEPARATOR = " › "

# Rows whose heading in the text differs from the map's name for them: a regex matched against
# the start of a line. "^" alone means the section starts at the top of the document.
HEADING_ALIASES: dict[tuple[str, str], str] = {
    ("001", "Client management pathway timeline (Day 1 to release)"): r"\s*Release plan /information sent to CJIT",
    ("002", "Title (Nottingham Crime & Drugs Partnership, IDTS Treatment Plan 2011/12, Planning Framework)"): "^",
    ("003", "South Wales DIP Work Shop Notes (title, workshops, contents)"): "^",
    ("003", "Appendix 1 Explaining the Tiers of Treatment"): r"Explaining the Treatment Tiers System",
    ("003", "Appendix 2 Work shop Agenda"): r"DIP Work Shop Agenda",
    ("003", "Appendix 3 DIP Care Pathways Diagram"): r"The DIP Process in Treatment Phases",
    ("003", "Appendix 4 Scenarios"): r"DIP Work Shop Scenarios",
    ("004", "Introduction"): "^",
}
_NUMBERED = re.compile(r"^\s*(\d+(?:\.\d+)+)\.?(?!\d)")
_SECTION_NUMBER = re.compile(r"^§(\d+(?:\.\d+)*)\s*(.*)$")


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Heading:
    line: int
    key: tuple[str, ...]  # ("7", "1", "12") for a numbered section, path components otherwise


def _is_within(key: tuple[str, ...], parent: tuple[str, ...]) -> bool:
    return key[: len(parent)] == parent


def _section_key(section: str) -> tuple[str, ...]:
    numbered = _SECTION_NUMBER.match(section)
    if numbered:
        return ("§", *numbered.group(1).split("."))
    return tuple(section.split(SEPARATOR))


class Document:
    """One protocol document's lines, with each section's heading located."""

    def __init__(self, name: str, lines: list[str], sections: list[str]) -> None:
        self.name = name
        self.lines = lines
        self.headings: dict[str, list[int]] = {}
        for section in sections:
            found = self._find(section)
            if found:
                self.headings[section] = found
        # Every heading line, for finding where a section ends.
        self.boundaries: list[Heading] = sorted(
            [Heading(line, _section_key(s)) for s, lines_ in self.headings.items() for line in lines_]
            + [
                Heading(i, ("§", *m.group(1).split(".")))
                for i, text in enumerate(lines)
                if (m := _NUMBERED.match(text))
            ],
            key=lambda h: h.line,
        )

    def _find(self, section: str) -> list[int]:
        alias = HEADING_ALIASES.get((self.name, section))
        if alias == "^":
            return [0]
        if alias and SEPARATOR not in section:
            return [i for i, text in enumerate(self.lines) if re.match(alias, text)][:1]
        numbered = _SECTION_NUMBER.match(section)
        if numbered:
            number, title = numbered.groups()
            pattern = re.compile(rf"^\s*{re.escape(number)}\.?(?![\d.]\d)\s*(.*)$")
            found = []
            for i, text in enumerate(self.lines):
                match = pattern.match(text)
                if match and (not title or _alnum(match.group(1)).startswith(_alnum(title))):
                    found.append(i)
            # A bare number (001 §1) is the first such line; a titled one (002 §1.1 ...) may recur.
            return found if title else found[:1]
        start = 0
        line = None
        parts = section.split(SEPARATOR)
        for depth, part in enumerate(parts):
            prefix = SEPARATOR.join(parts[: depth + 1])
            alias = HEADING_ALIASES.get((self.name, prefix))
            line = next(
                (
                    i
                    for i in range(start, len(self.lines))
                    if (re.match(alias, self.lines[i]) if alias else _heading_matches(self.lines[i], part))
                ),
                None,
            )
            if line is None:
                return []
            start = line + 1
        return [line] if line is not None else []

    def text(self, section: str) -> str | None:
        """The section's text, or None when the document has no such section."""
        starts = self.headings.get(section) or self._find(section)
        if not starts:
            return None
        key = _section_key(section)
        parts = []
        for start in starts:
            end = next(
                (h.line for h in self.boundaries if h.line > start and not _is_within(h.key, key)),
                len(self.lines),
            )
            parts.append("\n".join(self.lines[start:end]))
        return "\n".join(parts)


def _heading_matches(line: str, part: str) -> bool:
    if _alnum(line) == _alnum(part) and _alnum(part):
        return True
    stripped = " ".join(line.split()).replace("“", '"').replace("”", '"')
    return stripped.lower().startswith(part.lower() + " (")


def _cloned_from() -> Path | None:
    """The repository this checkout was cloned from, when that is a folder on this machine."""
    url = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return Path(url) if url and "://" not in url and ":" not in url.split("/")[0] else None


def protocol_dir() -> Path | None:
    """Where the protocol documents are: $THROUGHCARE_PROTOCOL_DIR, or `shared/protocol` beside this checkout or
    beside the repository it was cloned from (CI works in a fresh clone); None when no such folder holds them.

    They are not in the repository: the knowledge is their facts in our own words, never their text."""
    origin = _cloned_from()
    candidates = [
        os.environ.get(PROTOCOL_DIR_ENV),
        REPO_ROOT.parent / SHARED_PROTOCOL,
        origin.parent / SHARED_PROTOCOL if origin else None,
    ]
    return next((Path(c) for c in candidates if c and any(Path(c).glob("0*.txt"))), None)


@functools.cache
def documents(folder: Path | None = None, map_path: Path = coverage.DEFAULT_MAP) -> dict[str, Document]:
    folder = folder or protocol_dir()
    if folder is None:
        raise FileNotFoundError(f"No protocol documents found: set {PROTOCOL_DIR_ENV}.")
    rows = coverage.read_map(coverage.read_default_map(map_path))
    found = {}
    for path in sorted(folder.glob("0*.txt")):
        name = path.name[:3]
        lines = path.read_text(encoding="utf-8").splitlines()
        found[name] = Document(name, lines, [r.section for r in rows if r.document == name])
    return found


# --- numbers --------------------------------------------------------------------------------

_UNITS = {
    "working day": "working days",
    "working days": "working days",
    "hour": "hours",
    "hours": "hours",
    "hrs": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "weekly": "weeks",
    "month": "months",
    "months": "months",
    "monthly": "months",
    "year": "years",
    "years": "years",
    "minute": "minutes",
    "minutes": "minutes",
    "%": "percent",
    "percent": "percent",
    "per cent": "percent",
}
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD_VALUES = {w: i for i, w in enumerate(_ONES)} | _TENS
_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|" + "|".join(_ONES[1:]) + ")"
)
_UNIT = r"(?P<unit>working[- ]days?|hours?|hrs|days?|weeks?|weekly|months?|monthly|years?|minutes?|%|per ?cent)"
_RANGE = r"(?:\s*(?:-|–|to|or)\s*(?P<upper>\d+|" + _WORD + r"))?"
_DIGITS = re.compile(
    r"(?<![§\w.])(?P<value>\d+(?:\.\d+)?)(?![\d])" + _RANGE + r"(?:[\s-]*(?:'s\s|’s\s)?" + _UNIT + r"(?![a-z]))?", re.I
)
# A UK phone number written in groups ("0800 633 5588") is one figure, compared with the digits run
# together as the documents write it ("08006335588"), not three separate numbers.
_PHONE = re.compile(r"(?<![\w.])0\d{2,4}(?:[ -]\d{3,4}){1,2}(?![\w.])")
# "1:1" (a one-to-one session, "1:1s", "1:1’s") names a kind of session, not a figure.
_ONE_TO_ONE = re.compile(r"(?<![\d.:])1:1(?![\d:])")
_WORDS = re.compile(r"\b(?P<value>" + _WORD + r")\b" + _RANGE + r"[\s-]*(?:'|’)?\s*" + _UNIT + r"(?![a-z])", re.I)


@dataclass(frozen=True)
class Figure:
    value: str
    unit: str | None

    def __str__(self) -> str:
        return f"{self.value} {self.unit}" if self.unit else self.value


def _word_value(word: str) -> str:
    parts = re.split(r"[- ]", word.lower())
    return str(sum(_WORD_VALUES[p] for p in parts))


def _value(text: str) -> str:
    return text if text[0].isdigit() else _word_value(text)


def figures(text: str) -> set[Figure]:
    """Every number in the text as (value, unit): digits always, number words only before a unit."""
    text = text.replace("\u00a0", " ")
    text = _PHONE.sub(lambda m: re.sub(r"[ -]", "", m.group()), text)
    text = _ONE_TO_ONE.sub("one-to-one", text)
    found: set[Figure] = set()
    for pattern in (_DIGITS, _WORDS):
        for match in pattern.finditer(text):
            unit = match.group("unit")
            unit = _UNITS[re.sub(r"[- ]+", " ", unit.lower())] if unit else None
            found.add(Figure(_value(match.group("value")), unit))
            if match.group("upper"):
                found.add(Figure(_value(match.group("upper")), unit))
    return found


def _grounded(figure: Figure, available: set[Figure]) -> bool:
    if figure in available:
        return True
    # A bare number ("ideally 24") is grounded by the same number with any unit.
    return figure.unit is None and any(f.value == figure.value for f in available)


# --- the knowledge's text -------------------------------------------------------------------


@dataclass
class Claim:
    """Text of one item that must be grounded in the given sections."""

    label: str
    text: str
    sources: list[Source]
    grounding: list[Grounding]


def claims(knowledge: Knowledge) -> Iterator[Claim]:
    for t in knowledge.timescales.values():
        stated = f"{t.amount} {t.unit.replace('_', ' ')}" + (f", ideally {t.ideal_amount}" if t.ideal_amount else "")
        yield Claim(f"timescale:{t.id}", f"{stated}. {t.explanation}", [t.source], t.grounding)
        for d in t.differences:
            yield Claim(f"timescale:{t.id} (difference)", d.says, [d.source], t.grounding)
    for p in knowledge.procedures.values():
        yield Claim(f"procedure:{p.id}", p.summary, [p.source, *(s.source for s in p.steps)], p.grounding)
        for s in p.steps:
            yield Claim(f"step:{p.id}.{s.id}", " ".join(filter(None, [s.what, s.when, s.why])), [s.source], s.grounding)
    for topic in knowledge.topics.values():
        sources = [topic.source, *(d.source for d in topic.differences)]
        yield Claim(f"topic:{topic.id}", topic.answer, sources, topic.grounding)
        for d in topic.differences:
            yield Claim(f"topic:{topic.id} (difference)", d.says, [d.source], topic.grounding)
    for term in knowledge.glossary:
        sources = [e.source for e in term.expansions]
        yield Claim(f"term:{term.term}", term.explanation, sources, term.grounding)
    for level in knowledge.care_levels.values():
        weeks = f"{level.review_every_weeks} weeks" + (
            f", at most {level.review_latest_weeks} weeks" if level.review_latest_weeks else ""
        )
        yield Claim(f"care_level:{level.id}", f"{weeks}. {level.description}", [level.source], level.grounding)
    for m in knowledge.measures.values():
        yield Claim(f"measure:{m.id}", m.definition, [m.source], m.grounding)
    for sc in knowledge.scenarios.values():
        text = " ".join([sc.situation, sc.question, *(f"{o.text} {o.feedback}" for o in sc.options)])
        yield Claim(f"scenario:{sc.id}", text, [sc.source], sc.grounding)
    for course in knowledge.training.values():
        text = course.description
        if course.renew_months:
            text += f" Renew every {course.renew_months} months."
        if course.due_within_days:
            text += f" Due within {course.due_within_days} working days."
        yield Claim(f"training:{course.id}", text, [course.source], course.grounding)


def section_text(source: Source) -> str | None:
    document = documents().get(source.document)
    return document.text(source.section) if document else None


def _without_citations(text: str) -> str:
    """Drop inline references to the documents ("004 §2", "(000, Referral)") before finding numbers."""
    text = re.sub(r"\b00[0-4]\b(?:,?\s*§[\d.]+)?", " ", text)
    return re.sub(r"§[\d.]+", " ", text)


def problems(knowledge: Knowledge) -> list[str]:
    found: list[str] = []
    for label, source in coverage.citations(knowledge):
        if section_text(source) is None:
            found.append(f"{label}: cites {source.document} '{source.section}', which is not in the document")
    for claim in claims(knowledge):
        available: set[Figure] = set()
        for source in claim.sources:
            available |= figures(section_text(source) or "")
        explained: set[Figure] = set()
        for g in claim.grounding:
            stated = figures(g.figure)
            if g.source is not None:
                elsewhere = figures(section_text(g.source) or "")
                missing = [f for f in stated if not _grounded(f, elsewhere)]
                if missing:
                    found.append(
                        f"{claim.label}: grounding says '{g.figure}' is in {g.source},"
                        " but that section does not state it"
                    )
            explained |= stated
        for figure in sorted(figures(_without_citations(claim.text)), key=str):
            if not _grounded(figure, available) and not _grounded(figure, explained):
                cited = "; ".join(str(s) for s in dict.fromkeys(claim.sources))
                found.append(f"{claim.label}: '{figure}' is not in its cited section(s) ({cited})")
    for term in knowledge.glossary:
        for expansion in term.expansions:
            if expansion.common_usage:
                continue
            text = section_text(expansion.source) or ""
            # A gloss in brackets after the expansion ("Offender Manager (OM)") is ours, not the document's.
            words = re.sub(r"\s*\([^)]*\)\s*$", "", expansion.text)
            if _alnum(words.replace("&", "and")) not in _alnum(text.replace("&", "and")):
                found.append(
                    f"term:{term.term}: expansion '{expansion.text}' is not in {expansion.source}"
                    " (cite the section that expands it, or mark it common_usage)"
                )
    return found
