"""The held-out NLU set is a fair test: every intent, fresh texts only, every prison number marked."""

import re
from pathlib import Path

import yaml

from throughcare.knowledge import REPO_ROOT

HELDOUT = REPO_ROOT / "tests" / "nlu" / "heldout.yml"
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|\{[^}]*\})")
PRISON_NUMBER = re.compile(r"\b[A-Za-z]\d{4}[A-Za-z]{2}\b")


def examples(path: Path) -> list[tuple[str, str]]:
    """(intent, example with its annotations) for every example in a Rasa NLU file."""
    found = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
        if "intent" in block:
            lines = (line.strip() for line in block["examples"].splitlines())
            found += [(block["intent"], line[2:].strip()) for line in lines if line.startswith("- ")]
    return found


def plain(example: str) -> str:
    return " ".join(ANNOTATION.sub(lambda m: m.group("text"), example).lower().split())


def test_every_intent_has_at_least_ten_held_out_examples() -> None:
    intents = yaml.safe_load((REPO_ROOT / "domain.yml").read_text())["intents"]
    counts = {intent: 0 for intent in intents}
    for intent, _ in examples(HELDOUT):
        counts[intent] += 1
    assert {intent: n for intent, n in counts.items() if n < 10} == {}


def test_no_held_out_text_is_also_a_training_example() -> None:
    training = {plain(text) for path in (REPO_ROOT / "data" / "nlu").glob("*.yml") for _, text in examples(path)}
    assert [text for _, text in examples(HELDOUT) if plain(text) in training] == []


def test_every_prison_number_in_the_held_out_set_is_annotated() -> None:
    unmarked = []
    for _, text in examples(HELDOUT):
        marked = [m.group("text") for m in ANNOTATION.finditer(text) if m.group("short") == "prison_number"]
        unmarked += [n for n in PRISON_NUMBER.findall(ANNOTATION.sub("", text))]
        assert all(PRISON_NUMBER.fullmatch(n) for n in marked), text
    assert unmarked == []
