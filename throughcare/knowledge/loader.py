"""Reading knowledge/ into the schema: every file validated, every reference checked."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from throughcare.config import REPO_ROOT, Settings
from throughcare.knowledge.schema import (
    CareLevel,
    GlossaryTerm,
    Knowledge,
    Measure,
    Procedure,
    Scenario,
    ServiceProfile,
    Timescale,
    Topic,
    Tour,
    Training,
    Vocabulary,
    fold,
)

DEFAULT_KNOWLEDGE_DIR = REPO_ROOT / "knowledge"


class KnowledgeError(Exception):
    """A knowledge file is invalid; the message names the file and the item."""


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise KnowledgeError(f"{path.name}: not valid YAML: {err}") from err


def _parse_items(model: type[BaseModel], path: Path, items: object, key: str) -> list:
    if not isinstance(items, list):
        raise KnowledgeError(f"{path.name}: expected a list under '{key}'")
    parsed = []
    for index, item in enumerate(items):
        label = item.get("id") or item.get("term") if isinstance(item, dict) else None
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as err:
            raise KnowledgeError(f"{path.name}: item {label or index + 1}: {_explain(err)}") from err
    return parsed


def _explain(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg']}" for e in err.errors())


def _index(items: list, path_of: dict[str, Path], kind: str) -> dict:
    indexed: dict = {}
    for item in items:
        if item.id in indexed:
            raise KnowledgeError(f"{path_of[item.id]}: {kind} '{item.id}' is defined twice")
        indexed[item.id] = item
    return indexed


# Each list a knowledge file may hold: its model, and what one item is called in an error (None: kept as a list,
# not indexed by id).
ITEM_SECTIONS: dict[str, tuple[type[BaseModel], str | None]] = {
    "timescales": (Timescale, "timescale"),
    "procedures": (Procedure, "procedure"),
    "glossary": (GlossaryTerm, None),
    "topics": (Topic, "topic"),
    "care_levels": (CareLevel, "care level"),
    "measures": (Measure, "measure"),
    "tours": (Tour, "tour"),
    "scenarios": (Scenario, "scenario"),
    "training": (Training, "training"),
}


SINGLE_SECTIONS: dict[str, type[BaseModel]] = {"service_profile": ServiceProfile, "vocabulary": Vocabulary}


def _parse_single(model: type[BaseModel], path: Path, value: object, key: str) -> BaseModel:
    try:
        return model.model_validate(value)
    except ValidationError as err:
        raise KnowledgeError(f"{path.name}: {key}: {_explain(err)}") from err


def load_knowledge(directory: Path | None = None) -> Knowledge:
    """Read and validate every knowledge file; raise KnowledgeError naming the file and item at fault."""
    root = Path(directory or Settings.from_env().knowledge_dir or DEFAULT_KNOWLEDGE_DIR)
    items: dict[str, list] = {key: [] for key in ITEM_SECTIONS}
    singles: dict[str, BaseModel] = {}
    origin: dict[str, Path] = {}
    for path in sorted(root.rglob("*.yml")):
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise KnowledgeError(f"{path.name}: expected a mapping at the top level")
        unknown = set(data) - set(ITEM_SECTIONS) - set(SINGLE_SECTIONS)
        if unknown:
            raise KnowledgeError(f"{path.name}: unknown section(s): {', '.join(sorted(unknown))}")
        for key in SINGLE_SECTIONS.keys() & data.keys():
            singles[key] = _parse_single(SINGLE_SECTIONS[key], path, data[key], key)
        for key in ITEM_SECTIONS.keys() & data.keys():
            parsed = _parse_items(ITEM_SECTIONS[key][0], path, data[key], key)
            items[key].extend(parsed)
            for item in parsed:
                origin.setdefault(getattr(item, "id", getattr(item, "term", "")), path.relative_to(root))
    if "service_profile" not in singles:
        raise KnowledgeError("no service_profile found in knowledge/")
    sections = {
        key: _index(items[key], origin, kind) if kind else items[key] for key, (_, kind) in ITEM_SECTIONS.items()
    }
    try:
        knowledge = Knowledge(
            **sections, profile=singles["service_profile"], vocabulary=singles.get("vocabulary", Vocabulary())
        )
    except ValidationError as err:
        raise KnowledgeError(_explain(err)) from err
    _check_references(knowledge, origin)
    return knowledge


def _check_references(knowledge: Knowledge, origin: dict[str, Path]) -> None:
    for procedure in knowledge.procedures.values():
        for step in procedure.steps:
            if step.timescale and step.timescale not in knowledge.timescales:
                raise KnowledgeError(
                    f"{origin[procedure.id]}: procedure {procedure.id}, step {step.id}: "
                    f"unknown timescale '{step.timescale}'"
                )
    for topic in knowledge.topics.values():
        if topic.timescale and topic.timescale not in knowledge.timescales:
            raise KnowledgeError(f"{origin[topic.id]}: topic {topic.id}: unknown timescale '{topic.timescale}'")
    for field, timescale_id in knowledge.profile.model_dump().items():
        if field.endswith("_timescale") and timescale_id not in knowledge.timescales:
            raise KnowledgeError(f"service_profile: {field} names unknown timescale '{timescale_id}'")
    for tour in knowledge.tours.values():
        for card in tour.cards:
            if knowledge.item_text(card) is None:
                raise KnowledgeError(f"{origin[tour.id]}: tour {tour.id}: card '{card}' names no knowledge item")
    for scenario in knowledge.scenarios.values():
        if scenario.tour not in knowledge.tours:
            raise KnowledgeError(f"{origin[scenario.id]}: scenario {scenario.id}: unknown tour '{scenario.tour}'")
    terms = [fold(t.term) for t in knowledge.glossary]
    repeated = sorted({t for t in terms if terms.count(t) > 1})
    if repeated:
        raise KnowledgeError(
            f"glossary: term(s) defined twice: {', '.join(repeated)}; give one entry several expansions"
        )


@functools.cache
def default_knowledge() -> Knowledge:
    return load_knowledge()
