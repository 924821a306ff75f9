"""What the NLU recognises by rule, generated from the knowledge base: no entity is learnt.

Two files come out of it:
- spaCy entity-ruler patterns for checklists and glossary terms (Rasa cannot download
  a spaCy model here, so the project builds a blank English pipeline whose only component is this ruler);
- Rasa NLU data read by Rasa's RegexEntityExtractor, which matches the raw text: the prison-number pattern,
  one pattern for the event words with synonyms giving each its event, and the date pattern from
  throughcare/cases/dates.py. These live apart from the ruler because the ruler sees spaCy's tokens, which split
  a prison number ending in a unit ("A1234MG" as "A1234" "MG"), and gives a phrase one label only, while
  one phrase can be both a checklist and an event ("transfer"). The referral-route words ("self referral",
  "under the influence", "positive mdt") are a second regex with synonyms, made the same way.
Labels are the entity names the domain uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from throughcare.cases.dates import DATE_PATTERN
from throughcare.cases.prison_numbers import FIND
from throughcare.knowledge.schema import Knowledge, NamedThing

# Words this long are typed with a letter dropped or two swapped often enough to allow for it.
TYPO_MIN_LENGTH = 6


def _phrases(label: str, names: list[str]) -> Iterator[dict]:
    for name in sorted({n.strip().lower() for n in names if n.strip()}):
        yield {"label": label, "pattern": name}


def ruler_patterns(knowledge: Knowledge) -> list[dict]:
    # Earlier labels win where two patterns cover the same words: a checklist name beats a glossary term. Only what
    # an action reads is marked (substances and prisons were, and nothing read them).
    checklists = [n for p in knowledge.checklists() for n in (p.id.replace("_", " "), *p.aliases)]
    terms = [n for t in knowledge.glossary for n in (t.term, *t.aliases)]
    return [*_phrases("checklist", checklists), *_phrases("term", terms)]


def _one_slip(word: str) -> set[str]:
    """The word with one letter dropped or two neighbouring letters swapped; the first letter is kept, as
    people seldom get that one wrong (and "shipped" would otherwise allow "hipped")."""
    dropped = {word[:i] + word[i + 1 :] for i in range(1, len(word))}
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 1)}
    return dropped | swapped


def _with_slips(phrase: str) -> set[str]:
    words = phrase.split()
    variants = {phrase}
    for i, word in enumerate(words):
        if len(word) >= TYPO_MIN_LENGTH and word.isalpha():
            variants |= {" ".join([*words[:i], slip, *words[i + 1 :]]) for slip in _one_slip(word)}
    return variants


def _words_for(things: list[NamedThing], taken: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every way of writing one of `things` that the NLU accepts, lower case, with the name it gives.

    The listed words always name their own thing; a slip is accepted only where it names one thing and is no
    listed word, so no word is ambiguous. `taken` holds another entity's words: Rasa's synonyms are one table
    for every entity, so a word may not give two entities different values; a listed word in `taken` is an
    error, a slip in it is dropped.
    """
    taken = taken or {}
    exact = {alias.lower(): t.name for t in things for alias in t.aliases}
    clashes = sorted(word for word in exact if word in taken and taken[word] != exact[word])
    if clashes:
        raise ValueError(f"words listed for two entities with different values: {', '.join(clashes)}")
    slips: dict[str, set[str]] = {}
    for t in things:
        for alias in t.aliases:
            for variant in _with_slips(alias.lower()):
                slips.setdefault(variant, set()).add(t.name)
    unambiguous = {variant: names.pop() for variant, names in slips.items() if len(names) == 1 and variant not in taken}
    return {**unambiguous, **exact}


def event_words(knowledge: Knowledge) -> dict[str, str]:
    """Every way of writing an event that the NLU accepts, lower case, with the event it names."""
    return _words_for(knowledge.vocabulary.events)


def referral_route_words(knowledge: Knowledge) -> dict[str, str]:
    """Every way of writing a referral route that the NLU accepts, lower case, with the route it names.

    No word is also an event word, so the one synonym table gives each word one value.
    """
    return _words_for(knowledge.vocabulary.referral_routes, event_words(knowledge))


def _alternation(words: list[str]) -> str:
    """One regex matching the longest of `words` that ends at a word boundary, built as a tree of shared
    prefixes: a flat alternation of every spelling costs the regex engine a try per spelling at every position
    of the message (5 s for a 1 MB message here), the tree a few (0.1 s)."""
    tree: dict = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict) -> str:
        # An optional, greedy continuation: the longer word is tried first, the shorter one if it fails.
        options = [re.escape(char) + branch(child) for char, child in sorted(node.items()) if char]
        if not options:
            return ""
        body = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
        return f"(?:{body})?" if "" in node else body

    return rf"\b{branch(tree)}\b"


def _block(kind: str, name: str, examples: list[str]) -> str:
    return f"- {kind}: {name}\n  examples: |\n" + "".join(f"    - {e}\n" for e in examples)


def _regex_and_synonyms(entity: str, words: dict[str, str]) -> list[str]:
    """One regex for all of an entity's words, and a synonym per value giving each spelling its value."""
    by_value: dict[str, list[str]] = {}
    for word in sorted(words):
        by_value.setdefault(words[word], []).append(word)
    return [
        _block("regex", entity, [_alternation(list(words))]),
        *(_block("synonym", value, spellings) for value, spellings in by_value.items()),
    ]


def rasa_entity_data(knowledge: Knowledge) -> str:
    """Rasa NLU YAML: the prison-number regex, the event-word and referral-route regexes with a synonym per
    event and per route, the date regex."""
    blocks = [
        _block("regex", "prison_number", [FIND.pattern]),
        *_regex_and_synonyms("event", event_words(knowledge)),
        *_regex_and_synonyms("referral_route", referral_route_words(knowledge)),
        _block("regex", "date", [DATE_PATTERN]),
    ]
    header = '# Generated from knowledge/ by `throughcare nlu-patterns`; do not edit.\nversion: "3.1"\nnlu:\n'
    return header + "".join(blocks)


def _write_if_changed(path: Path, text: str) -> None:
    """Leave an unchanged file alone, so that make does not retrain for an edit that changes no pattern."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_patterns(knowledge: Knowledge, ruler_path: Path, rasa_nlu_path: Path) -> int:
    patterns = ruler_patterns(knowledge)
    _write_if_changed(ruler_path, "".join(json.dumps(p) + "\n" for p in patterns))
    _write_if_changed(rasa_nlu_path, rasa_entity_data(knowledge))
    return len(patterns) + len(event_words(knowledge)) + len(referral_route_words(knowledge)) + 1
