"""Search over the knowledge base for questions no intent covers: BM25 ranking (bm25s) over every item."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import bm25s
import bm25s.stopwords
import Stemmer

from throughcare.engine import describe_rule
from throughcare.input_limits import MAX_MESSAGE_CHARS
from throughcare.knowledge import Difference, Knowledge, Source, default_knowledge

# The longer English list: questions are full of "how do we", which the short list keeps.
# Words staff use for emphasis carry no subject ("what does the cjit actually do" is about the CJIT, not about
# the item that says a client "actually turned up").
FILLER_WORDS = ["actually", "really", "basically", "exactly", "literally", "just", "even", "anyway", "please"]
STOPWORDS = [*bm25s.stopwords.STOPWORDS_EN_PLUS, *FILLER_WORDS]


@dataclass(frozen=True)
class Hit:
    kind: str  # topic, procedure, timescale or term
    id: str
    title: str
    answer: str
    source: Source
    clinical: bool
    score: float
    # What other documents say where they differ from this answer.
    differences: tuple[Difference, ...] = ()
    # The timescale the item is about, if any, so a client's date can be worked out.
    timescale: str | None = None


def _documents(knowledge: Knowledge) -> list[tuple[Hit, str]]:
    docs: list[tuple[Hit, str]] = []
    for t in knowledge.topics.values():
        hit = Hit("topic", t.id, t.title, t.answer, t.source, t.clinical, 0.0, tuple(t.differences), t.timescale)
        docs.append((hit, " ".join([t.title, t.title, t.answer, *t.keywords, *t.keywords])))
    for p in knowledge.procedures.values():
        steps = "; ".join(s.what for s in p.steps)
        answer = f"{p.summary} Steps: {steps}."
        hit = Hit("procedure", p.id, p.title, answer, p.source, any(s.clinical for s in p.steps), 0.0)
        docs.append((hit, " ".join([p.title, p.title, p.summary, *p.aliases, steps])))
    for s in knowledge.timescales.values():
        rule = describe_rule(s)
        answer = f"{s.explanation} ({rule}.)"
        hit = Hit("timescale", s.id, s.title, answer, s.source, False, 0.0, tuple(s.differences), s.id)
        # Questions about timescales say "how long", "deadline" or "due" rather than the item's own words.
        asked_as = "how long timescale deadline due within days weeks when"
        docs.append((hit, " ".join([s.title, s.title, s.explanation, asked_as])))
    for g in knowledge.glossary:
        expansions = " / ".join(e.text for e in g.expansions)
        hit = Hit("term", g.term, f"{g.term}: {expansions}", g.explanation, g.expansions[0].source, g.clinical, 0.0)
        docs.append((hit, " ".join([g.term, *g.aliases, expansions, g.explanation])))
    return docs


class KnowledgeSearch:
    def __init__(self, knowledge: Knowledge) -> None:
        # Stemming lets "transferred" find "transfer" and "reviews" find "review".
        self._stemmer = Stemmer.Stemmer("english")
        documents = _documents(knowledge)
        self._hits = [hit for hit, _ in documents]
        self._retriever = bm25s.BM25()
        self._retriever.index(self._tokenize([text for _, text in documents]), show_progress=False)

    def _tokenize(self, texts: list[str], return_ids: bool = True):  # type: ignore[no-untyped-def]
        return bm25s.tokenize(
            texts, stopwords=STOPWORDS, stemmer=self._stemmer, return_ids=return_ids, show_progress=False
        )

    def item(self, key: str) -> Hit | None:
        """One item by its "kind:id" key, as a button names it."""
        return next((h for h in self._hits if f"{h.kind}:{h.id}" == key), None)

    def search(self, query: str, limit: int = 3, min_score: float = 0.5) -> list[Hit]:
        # No message is longer than this (throughcare.input_limits); a longer query costs time and finds nothing more.
        tokens = self._tokenize([query[:MAX_MESSAGE_CHARS]], return_ids=False)[0]
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return []
        results, scores = self._retriever.retrieve([known], k=min(limit, len(self._hits)), show_progress=False)
        return [
            Hit(**{**self._hits[int(i)].__dict__, "score": float(s)})
            for i, s in zip(results[0], scores[0], strict=True)
            if s >= min_score
        ]


@functools.cache
def default_search() -> KnowledgeSearch:
    return KnowledgeSearch(default_knowledge())
