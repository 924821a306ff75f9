"""The held-out NLU set is a fair test: every intent, fresh texts only, every prison number marked."""

import re
from pathlib import Path

import yaml

from throughcare.config import REPO_ROOT

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


def words(example: str) -> tuple[str, ...]:
    return tuple(re.sub(r"[^\w\s]", "", PRISON_NUMBER.sub("PN", plain(example))).split())


def without(w: tuple[str, ...], i: int) -> tuple[str, ...]:
    return w[:i] + w[i + 1 :]


def test_no_held_out_text_is_a_training_example_or_one_word_away_from_one() -> None:
    training = {words(text) for path in (REPO_ROOT / "data" / "nlu").glob("*.yml") for _, text in examples(path)}
    # One word changed, added or dropped, found through keys rather than by comparing every pair (thousands of
    # training examples against hundreds held out). A one-word training example ("hi") counts only when equal.
    longer = {w for w in training if len(w) > 1}
    changed = {(i, without(w, i)) for w in longer for i in range(len(w))}
    dropped = {without(w, i) for w in longer for i in range(len(w))}

    def close_to_training(h: tuple[str, ...]) -> bool:
        return (
            h in training
            or h in dropped
            or any((i, without(h, i)) in changed or without(h, i) in longer for i in range(len(h)))
        )

    assert [text for _, text in examples(HELDOUT) if close_to_training(words(text))] == []


def test_every_prison_number_in_the_held_out_set_is_annotated() -> None:
    unmarked = []
    for _, text in examples(HELDOUT):
        marked = [m.group("text") for m in ANNOTATION.finditer(text) if m.group("short") == "prison_number"]
        unmarked += [n for n in PRISON_NUMBER.findall(ANNOTATION.sub("", text))]
        assert all(PRISON_NUMBER.fullmatch(n) for n in marked), text
    assert unmarked == []
