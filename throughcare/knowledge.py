"""The protocol as validated data: pydantic models for the YAML files in `knowledge/`.

Every item carries a `source` (document and section) so each answer can show where it comes from.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from throughcare.config import REPO_ROOT, Settings

Document = Literal["000", "001", "002", "003", "004"]
Unit = Literal["working_days", "calendar_days", "weeks", "hours"]
Role = Literal[
    "support worker",
    "recovery practitioner",
    "duty worker",
    "administrator",
    "clinical team",
    "line manager",
    "safeguarding lead",
    "service manager",
    "any staff member",
]
# Facts of an episode that a step's condition can test; the engine knows how to evaluate each.
Condition = Literal[
    "on_prescription",
    "not_on_prescription",
    "illicit_use_referral",
    "no_consent_to_share",
    "within_28_days_of_custody",
    "parole_case",
]
# Events of an episode that a timescale can count from.
Event = Literal[
    "referral",
    "initial_assessment",
    "triage",
    "last_review",
    "expected_release",
    "planned_transfer",
    "reception",
]

DEFAULT_KNOWLEDGE_DIR = REPO_ROOT / "knowledge"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    document: Document
    section: str = Field(min_length=2)

    def __str__(self) -> str:
        return f"{self.document}, {self.section}"


class Grounding(Strict):
    """A number the item states that its cited section does not: where it comes from instead.

    Either another section that states it (the grounding check reads that section too), or a note
    saying why no document does (a figure derived from others, our own local practice).
    """

    figure: str = Field(min_length=1)
    source: Source | None = None
    note: str | None = None

    @model_validator(mode="after")
    def source_or_note(self) -> Grounding:
        if (self.source is None) == (self.note is None):
            raise ValueError("a grounding entry gives either a source or a note, not both or neither")
        return self


class Difference(Strict):
    """What another document says where it disagrees with the item's main answer (the local choice)."""

    says: str
    source: Source


class Timescale(Strict):
    id: str
    title: str
    amount: int = Field(gt=0)
    unit: Unit
    counted_from: Event
    direction: Literal["after", "before"] = "after"
    # A softer target inside the limit, e.g. "72 hours, ideally 24".
    ideal_amount: int | None = None
    explanation: str
    # The everyday words staff use for what the limit is about ("new referral", "first appointment"), which the
    # explanation words differently; the knowledge search indexes them with the item, as it does a topic's.
    keywords: list[str] = []
    # Information for the clinical team (prescribing, stabilisation): answers built on it say so.
    clinical: bool = False
    notes: str | None = None
    differences: list[Difference] = []
    grounding: list[Grounding] = []
    source: Source


class Step(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    what: str
    who: Role
    when: str | None = None
    timescale: str | None = None
    mandatory: bool = True
    condition: Condition | None = None
    why: str
    clinical: bool = False
    grounding: list[Grounding] = []
    source: Source


class Procedure(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    kind: Literal["pathway", "checklist", "escalation"]
    summary: str
    aliases: list[str] = []
    steps: list[Step] = Field(min_length=1)
    notes: str | None = None
    grounding: list[Grounding] = []
    source: Source

    @field_validator("steps")
    @classmethod
    def step_ids_unique(cls, steps: list[Step]) -> list[Step]:
        ids = [s.id for s in steps]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"step ids repeated: {', '.join(duplicated)}")
        return steps

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def names(self) -> list[str]:
        """Every way staff may name the procedure: its id in words, its title and its aliases."""
        return [self.id.replace("_", " "), self.title, *self.aliases]


class Expansion(Strict):
    text: str
    # Where the documents use the term. With common_usage the document does not expand it there
    # (or anywhere): the expansion is the usual one and makes no claim on the document.
    source: Source
    common_usage: bool = False


class GlossaryTerm(Strict):
    term: str
    expansions: list[Expansion] = Field(min_length=1)
    explanation: str
    aliases: list[str] = []
    clinical: bool = False
    notes: str | None = None
    grounding: list[Grounding] = []


class Topic(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    answer: str
    keywords: list[str] = []
    clinical: bool = False
    # A topic about a timescale names it, so an answer can work out the date for a client in context.
    timescale: str | None = None
    notes: str | None = None
    differences: list[Difference] = []
    grounding: list[Grounding] = []
    source: Source


class CareLevel(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    scheme: Literal["DARS", "TC"]
    review_every_weeks: int = Field(gt=0)
    # Where the protocol gives a range ("4-6 weeks"), a review is due at the low end and overdue after the high end.
    review_latest_weeks: int | None = None
    description: str
    grounding: list[Grounding] = []
    source: Source

    @model_validator(mode="after")
    def latest_not_before_due(self) -> CareLevel:
        if self.review_latest_weeks is not None and self.review_latest_weeks < self.review_every_weeks:
            raise ValueError("review_latest_weeks is shorter than review_every_weeks")
        return self


class NamedThing(Strict):
    """A word the NLU should recognise as an entity (a substance, a prison), with the variants staff type."""

    name: str
    aliases: list[str] = []
    source: Source


class Vocabulary(Strict):
    # The knowledge search also reads a substance's aliases as its name (throughcare/search.py SubstanceNames).
    substances: list[NamedThing] = []
    prisons: list[NamedThing] = []
    # Here `name` is the event the case store records and the aliases are the words for it.
    events: list[NamedThing] = []
    # Here `name` is a referral route (throughcare/models.py ReferralRoute) and the aliases are the words for it.
    referral_routes: list[NamedThing] = []


class ServiceProfile(Strict):
    """Local choices where the documents differ; the engine reads these, never hard-coded values."""

    service: str
    release_planning_timescale: str
    initial_assessment_timescale: str
    triage_timescale: str
    joint_review_timescale: str
    illicit_use_visit_timescale: str
    notes: str | None = None
    # The documents each choice rests on.
    sources: list[Source] = Field(min_length=1)


class Measure(Strict):
    """A figure the commissioner asks for, with how this service counts it."""

    id: str
    title: str
    definition: str
    notes: str | None = None
    grounding: list[Grounding] = []
    source: Source


# A card of a tour points at an existing item, so the tour shows the same words and source as the answers.
ItemRef = str


class Tour(Strict):
    """A guided tour for new starters: a short sequence of existing knowledge items, in teaching order."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    intro: str
    # "topic:<id>", "procedure:<id>", "timescale:<id>" or "term:<term>".
    cards: list[ItemRef] = Field(min_length=2)


class Option(Strict):
    text: str
    correct: bool = False
    # Why this choice is right or wrong, in our own words: shown at once after it is chosen.
    feedback: str


class Scenario(Strict):
    """A practice scenario with one multiple-choice question."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    situation: str
    question: str
    options: list[Option] = Field(min_length=2, max_length=5)
    # The tour whose subject this tests, so a wrong answer marks that subject as one to revisit.
    tour: str
    # True for the practice scenarios in 003; False for ones written in their spirit from the protocol.
    from_training_pack: bool = False
    grounding: list[Grounding] = []
    source: Source

    @model_validator(mode="after")
    def exactly_one_correct(self) -> Scenario:
        if sum(option.correct for option in self.options) != 1:
            raise ValueError("a scenario needs exactly one correct option")
        return self


class Training(Strict):
    """A course staff must complete, from the training list."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    description: str
    # Months until it must be done again; None for once only.
    renew_months: int | None = None
    # Working days from starting in post by when it should be done, where the documents say.
    due_within_days: int | None = None
    notes: str | None = None
    grounding: list[Grounding] = []
    source: Source


class Knowledge(Strict):
    timescales: dict[str, Timescale]
    procedures: dict[str, Procedure]
    glossary: list[GlossaryTerm]
    topics: dict[str, Topic]
    care_levels: dict[str, CareLevel]
    profile: ServiceProfile
    measures: dict[str, Measure] = {}
    tours: dict[str, Tour] = {}
    scenarios: dict[str, Scenario] = {}
    training: dict[str, Training] = {}

    def item_text(self, ref: ItemRef) -> tuple[str, str, Source] | None:
        """The title, text and source of a referenced item ("topic:<id>", "procedure:<id>", ...), if it exists."""
        kind, _, key = ref.partition(":")
        if kind == "topic" and key in self.topics:
            topic = self.topics[key]
            return topic.title, topic.answer, topic.source
        if kind == "procedure" and key in self.procedures:
            procedure = self.procedures[key]
            return procedure.title, procedure.summary, procedure.source
        if kind == "timescale" and key in self.timescales:
            timescale = self.timescales[key]
            return timescale.title, timescale.explanation, timescale.source
        term = self.find_term(key) if kind == "term" else None
        if term is not None:
            return term.term, f"{term.expansions[0].text}. {term.explanation}", term.expansions[0].source
        return None

    vocabulary: Vocabulary = Vocabulary()

    def timescale(self, timescale_id: str) -> Timescale:
        return self.timescales[timescale_id]

    def checklists(self) -> list[Procedure]:
        return [p for p in self.procedures.values() if p.kind in ("checklist", "escalation")]

    def find_procedure(self, text: str) -> Procedure | None:
        """The checklist or procedure a user named, by id, title or alias."""
        wanted = _fold(text).replace(" checklist", "")
        for procedure in self.procedures.values():
            if wanted in {_fold(name) for name in procedure.names()}:
                return procedure
        return None

    def find_term(self, text: str) -> GlossaryTerm | None:
        wanted = _fold(text)
        for entry in self.glossary:
            if wanted in {_fold(entry.term), *(_fold(a) for a in entry.aliases)}:
                return entry
        return None


class KnowledgeError(Exception):
    """A knowledge file is invalid; the message names the file and the item."""


def _fold(text: str) -> str:
    return " ".join(text.lower().replace("&", "and").split()).strip(" ?.!")


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
    terms = [_fold(t.term) for t in knowledge.glossary]
    repeated = sorted({t for t in terms if terms.count(t) > 1})
    if repeated:
        raise KnowledgeError(
            f"glossary: term(s) defined twice: {', '.join(repeated)}; give one entry several expansions"
        )


@functools.cache
def default_knowledge() -> Knowledge:
    return load_knowledge()
