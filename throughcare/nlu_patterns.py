"""Entity-ruler patterns for the NLU's spaCy pipeline, generated from the knowledge base.

Rasa cannot download a spaCy model here, so the project builds a blank English pipeline whose only
component is an entity ruler; these are its patterns. Labels are the entity names the domain uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from throughcare.knowledge import Knowledge
from throughcare.prison_numbers import VALID

PRISON_NUMBER_PATTERN = {"label": "prison_number", "pattern": [{"TEXT": {"REGEX": VALID.pattern}}]}


def _phrases(label: str, names: list[str]) -> Iterator[dict]:
    for name in sorted({n.strip().lower() for n in names if n.strip()}):
        yield {"label": label, "pattern": name}


def ruler_patterns(knowledge: Knowledge) -> list[dict]:
    # Earlier labels win where two patterns cover the same words: a checklist name beats a glossary term.
    checklists = [n for p in knowledge.checklists() for n in (p.id.replace("_", " "), *p.aliases)]
    substances = [n for s in knowledge.vocabulary.substances for n in (s.name, *s.aliases)]
    prisons = [n for p in knowledge.vocabulary.prisons for n in (p.name, *p.aliases)]
    terms = [n for t in knowledge.glossary for n in (t.term, *t.aliases)]
    return [
        PRISON_NUMBER_PATTERN,
        *_phrases("checklist", checklists),
        *_phrases("substance", substances),
        *_phrases("prison", prisons),
        *_phrases("term", terms),
    ]


def write_patterns(knowledge: Knowledge, path: Path) -> int:
    patterns = ruler_patterns(knowledge)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p) + "\n" for p in patterns), encoding="utf-8")
    return len(patterns)
