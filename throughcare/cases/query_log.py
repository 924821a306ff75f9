"""The guidance-query log: every message to the assistant, for managers' review and reports."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert

from throughcare.db.engine import Database
from throughcare.db.models import (
    GuidanceQuery,
    utcnow,
    week_of,
)

_INSERT = insert(GuidanceQuery)


def log_query(
    db: Database,
    *,
    staff_id: int | None,
    conversation_id: str | None,
    text: str,
    intent: str | None,
    confidence: float | None,
    entities: Iterable[dict],
    action: str,
    cited: str | None,
    fell_back: bool,
    answer: str | None = None,
    topic: str | None = None,
) -> None:
    now = utcnow()
    # The values as parameters of one statement made once, not a statement made for each query's values.
    db.execute_alone(
        _INSERT,
        {
            "at": now,
            "week": week_of(now),
            "staff_id": staff_id,
            "conversation_id": conversation_id,
            "text": text[:4000],
            "intent": intent,
            "confidence": confidence,
            "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in entities],
            "action": action,
            "cited": cited[:200] if cited else None,
            "fell_back": fell_back,
            "answer": answer[:4000] if answer else None,
            "topic": (topic or intent or "")[:80] or None,
        },
    )
