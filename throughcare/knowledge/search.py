"""Search over the knowledge base for questions no intent covers: BM25 ranking (bm25s) over every item."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import bm25s
import bm25s.stopwords
import numpy as np
import Stemmer

from throughcare.access.input_limits import MAX_MESSAGE_CHARS
from throughcare.knowledge.loader import default_knowledge
from throughcare.knowledge.schema import Difference, Knowledge, Source, Vocabulary
from throughcare.protocol.engine import describe_rule

# The longer English list: questions are full of "how do we", which the short list keeps.
# Words staff use for emphasis carry no subject ("what does the cjit actually do" is about the CJIT, not about
# the item that says a client "actually turned up").
FILLER_WORDS = ["actually", "really", "basically", "exactly", "literally", "just", "even", "anyway", "please"]
STOPWORDS = [*bm25s.stopwords.STOPWORDS_EN_PLUS, *FILLER_WORDS]

# A question asking how long we have, how soon or by when wants a time limit. Its other words name the subject ("how
# long have we got to see a new referral"), which many items share, so an item about a timescale is preferred.
# "How long" asks for a limit when it asks how long we have (got) or how long before or after something; "how long
# do clients stay with us" asks for a length of time, which no timescale gives.
HOW_LONG = re.compile(
    r"\bhow (?:soon|quick(?:ly)?|fast|many (?:working |calendar )?(?:days|weeks|hours))\b"
    r"|\bhow long (?:\w+ ){0,3}?(?:have|got|before|after|until|till)\b"
    r"|\bby when\b|\bdeadlines?\b|\btime ?limits?\b|\btimescales?\b",
    re.IGNORECASE,
)
# How much more an item about a timescale counts in such a question: it comes first when it scores within two
# thirds of the best match, but an item that plainly shares more of the question still wins ("how long do I
# have to write up notes" is answered by the record keeping rule, which no timescale holds).
TIMESCALE_PREFERENCE = 1.5


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


class SubstanceNames:
    """Puts the protocol's name for a substance where staff use an everyday one ("valium", "benzos").

    The documents say benzodiazepines where staff say diazepam, so both the items and the questions are read with
    the protocol's name, and every way of naming a substance is the same word to the search. A name of several
    words is joined into one, so "crack cocaine" weighs as much as "heroin" in a question, and "psychoactive
    substances" does not also match every item on substance misuse."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._names = {
            name.lower(): "_".join(s.name.lower().split())
            for s in vocabulary.substances
            for name in [s.name, *s.aliases]
        }
        # Longest first, so "crack cocaine" is read as the one name, not as "crack" and then "cocaine".
        aliases = sorted(self._names, key=len, reverse=True)
        self._pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, aliases)) + r")\b", re.I) if aliases else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._names[match.group().lower()], text)


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
        hit = Hit("timescale", s.id, s.title, answer, s.source, s.clinical, 0.0, tuple(s.differences), s.id)
        # Questions about timescales say "how long", "deadline" or "due" rather than the item's own words.
        asked_as = "how long timescale deadline due within days weeks when"
        # Keywords once, not twice as for a topic: an explanation is a sentence or two, and doubling them made the
        # item long enough that its title counted for less ("is the 5 days for the IA working days" found the
        # glossary entry for IA first).
        docs.append((hit, " ".join([s.title, s.title, s.explanation, *s.keywords, asked_as])))
    for g in knowledge.glossary:
        expansions = " / ".join(e.text for e in g.expansions)
        hit = Hit("term", g.term, f"{g.term}: {expansions}", g.explanation, g.expansions[0].source, g.clinical, 0.0)
        docs.append((hit, " ".join([g.term, *g.aliases, expansions, g.explanation])))
    return docs


class KnowledgeSearch:
    def __init__(self, knowledge: Knowledge) -> None:
        # Stemming lets "transferred" find "transfer" and "reviews" find "review".
        self._stemmer = Stemmer.Stemmer("english")
        self._substance_names = SubstanceNames(knowledge.vocabulary)
        documents = _documents(knowledge)
        self._hits = [hit for hit, _ in documents]
        self._about_timescale = np.array([hit.timescale is not None for hit in self._hits])
        self._retriever = bm25s.BM25()
        self._retriever.index(self._tokenize([text for _, text in documents]), show_progress=False)

    def _tokenize(self, texts: list[str], return_ids: bool = True):  # type: ignore[no-untyped-def]
        return bm25s.tokenize(
            [self._substance_names(text) for text in texts],
            stopwords=STOPWORDS,
            stemmer=self._stemmer,
            return_ids=return_ids,
            show_progress=False,
        )

    def item(self, key: str) -> Hit | None:
        """One item by its "kind:id" key, as a button names it."""
        return next((h for h in self._hits if f"{h.kind}:{h.id}" == key), None)

    def search(self, query: str, limit: int = 3, min_score: float = 0.5) -> list[Hit]:
        # No message is longer than this (access/input_limits.py); a longer query costs time and finds nothing more.
        query = query[:MAX_MESSAGE_CHARS]
        tokens = self._tokenize([query], return_ids=False)[0]
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return []
        scores = self._retriever.get_scores(known)
        # Hits keep their BM25 score, which callers compare with fixed thresholds; the preference only orders them.
        preferred = (
            scores * np.where(self._about_timescale, TIMESCALE_PREFERENCE, 1.0) if HOW_LONG.search(query) else scores
        )
        best = np.argsort(-preferred, kind="stable")[:limit]
        return [Hit(**{**self._hits[i].__dict__, "score": float(scores[i])}) for i in best if scores[i] >= min_score]


@functools.cache
def default_search() -> KnowledgeSearch:
    return KnowledgeSearch(default_knowledge())
