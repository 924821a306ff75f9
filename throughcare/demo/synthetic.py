"""Synthetic guidance queries and released episodes, for the demo and for the large benchmark database.

Questions are the knowledge base's own topic titles and glossary terms, worded as staff might type
them; prison numbers are invented. Nothing here comes from a real person or a real log.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from throughcare.db.models import week_of
from throughcare.knowledge.schema import Knowledge

# Things staff ask that the assistant does not cover, so the fallback reports have something to show.
OFF_PROTOCOL = [
    "can i swap my shift on friday",
    "wifi password for the wing office",
    "who orders the printer paper",
    "when is the christmas party",
    "how do i reset my systmone password",
    "is the gym open for clients on sunday",
    "can clients have vapes on the wing",
    "whats the number for the chaplaincy",
]
OPENERS = ["", "quick one - ", "sorry, ", "hi, ", ""]


def synthetic_queries(
    knowledge: Knowledge,
    rng: random.Random,
    staff_ids: list[int],
    prison_numbers: list[str],
    start: dt.datetime,
    end: dt.datetime,
    count: int,
    fallback_share: float = 0.08,
) -> Iterator[dict]:
    """`count` rows for the guidance_query table, spread over working hours between `start` and `end`."""
    topics = list(knowledge.topics.values())
    terms = knowledge.glossary
    span = (end - start).total_seconds()
    for _ in range(count):
        at = start + dt.timedelta(seconds=rng.random() * span)
        at = at.replace(hour=rng.randint(8, 17))
        if at > end:  # a working hour later today has not happened yet
            at -= dt.timedelta(days=1)
        staff_id = rng.choice(staff_ids)
        roll = rng.random()
        if roll < fallback_share:
            text = rng.choice(OFF_PROTOCOL)
            row = dict(intent="nlu_fallback", confidence=0.2, action="action_clarify", cited=None, fell_back=True)
            answer, topic = "I'm not sure what you mean. Did you mean one of these?", "nlu_fallback"
        elif roll < 0.25:
            term = rng.choice(terms)
            text = f"what does {term.term} mean"
            row = dict(intent="define_term", confidence=0.93, action="action_define_term", fell_back=False)
            row["cited"] = str(term.expansions[0].source)
            answer, topic = f"{term.term}: {term.expansions[0].text}.", f"term:{term.term}"
        elif roll < 0.45:
            text = f"what's next for {rng.choice(prison_numbers)}"
            row = dict(
                intent="ask_next_steps", confidence=0.97, action="action_next_steps", cited=None, fell_back=False
            )
            answer, topic = "Next steps: …", "ask_next_steps"
        else:
            item = rng.choice(topics)
            text = rng.choice(OPENERS) + item.title.lower().rstrip("?")
            row = dict(intent="ask_protocol", confidence=0.88, action="action_answer_protocol", fell_back=False)
            row["cited"] = str(item.source)[:200]
            answer, topic = item.answer[:400], f"topic:{item.id}"
        yield dict(
            row,
            at=at,
            week=week_of(at),
            staff_id=staff_id,
            conversation_id=f"synthetic-{staff_id}",
            text=text,
            entities=[],
            answer=answer,
            topic=topic,
        )
