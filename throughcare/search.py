"""Search over the knowledge base for questions no intent covers: BM25 ranking (bm25s) over every item."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import bm25s
import Stemmer

from throughcare.knowledge import Knowledge, Source, default_knowledge


@dataclass(frozen=True)
class Hit:
    kind: str  # topic, procedure, timescale or term
    id: str
    title: str
    answer: str
    source: Source
    clinical: bool
    score: float


def _documents(knowledge: Knowledge) -> list[tuple[Hit, str]]:
    docs: list[tuple[Hit, str]] = []
    for t in knowledge.topics.values():
        hit = Hit("topic", t.id, t.title, t.answer, t.source, t.clinical, 0.0)
        docs.append((hit, " ".join([t.title, t.title, t.answer, *t.keywords, *t.keywords])))
    for p in knowledge.procedures.values():
        steps = "; ".join(s.what for s in p.steps)
        answer = f"{p.summary} Steps: {steps}."
        hit = Hit("procedure", p.id, p.title, answer, p.source, any(s.clinical for s in p.steps), 0.0)
        docs.append((hit, " ".join([p.title, p.title, p.summary, *p.aliases, steps])))
    for s in knowledge.timescales.values():
        hit = Hit("timescale", s.id, s.title, s.explanation, s.source, False, 0.0)
        docs.append((hit, " ".join([s.title, s.title, s.explanation, s.counted_from.replace("_", " ")])))
    for g in knowledge.glossary:
        expansions = " / ".join(e.text for e in g.expansions)
        hit = Hit("term", g.term, f"{g.term}: {expansions}", g.explanation, g.expansions[0].source, False, 0.0)
        docs.append((hit, " ".join([g.term, *g.aliases, expansions, g.explanation])))
    return docs


class KnowledgeSearch:
    def __init__(self, knowledge: Knowledge) -> None:
        # Stemming lets "transferred" find "transfer" and "reviews" find "review".
        self._stemmer = Stemmer.Stemmer("english")
        documents = _documents(knowledge)
        self._hits = [hit for hit, _ in documents]
        self._retriever = bm25s.BM25()
        self._retriever.index(
            bm25s.tokenize([text for _, text in documents], stopwords="en", stemmer=self._stemmer, show_progress=False),
            show_progress=False,
        )

    def search(self, query: str, limit: int = 3, min_score: float = 0.5) -> list[Hit]:
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)[
            0
        ]
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
