"""The protocol as validated data: pydantic models for the YAML files in `knowledge/`.

Every item carries a `source` (document and section) so each answer can show where it comes from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    """A thing the protocol names (a substance, a prison, an event, a referral route), with the words staff use."""

    name: str
    aliases: list[str] = []
    source: Source


class Vocabulary(Strict):
    # The knowledge search also reads a substance's aliases as its name (knowledge/search.py SubstanceNames).
    substances: list[NamedThing] = []
    prisons: list[NamedThing] = []
    # Here `name` is the event the case store records and the aliases are the words for it.
    events: list[NamedThing] = []
    # Here `name` is a referral route (throughcare/db/models.py ReferralRoute) and the aliases are the words for it.
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
        wanted = fold(text).replace(" checklist", "")
        for procedure in self.procedures.values():
            if wanted in {fold(name) for name in procedure.names()}:
                return procedure
        return None

    def find_term(self, text: str) -> GlossaryTerm | None:
        wanted = fold(text)
        for entry in self.glossary:
            if wanted in {fold(entry.term), *(fold(a) for a in entry.aliases)}:
                return entry
        return None


def fold(text: str) -> str:
    return " ".join(text.lower().replace("&", "and").split()).strip(" ?.!")
