"""Managers review the guidance-query log: marks on answers, the knowledge gaps they find, and exports.

Marking is the only change a manager makes from the review; each mark, and each export, is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from throughcare.cases import audit_trail
from throughcare.db.engine import Database
from throughcare.db.models import GuidanceQuery, QueryReview, ReviewMark, StaffMember
from throughcare.errors import CaseError
from throughcare.reporting.reports import QueryFilter, query_conditions

MARK_WORDS = {
    ReviewMark.answered_well: "answered well",
    ReviewMark.wrong_answer: "wrong answer",
    ReviewMark.knowledge_gap: "knowledge gap",
}


@dataclass(frozen=True)
class LoggedQuery:
    id: int
    at: dt.datetime
    staff: str
    team: str
    text: str
    answer: str
    topic: str
    intent: str
    confidence: float | None
    cited: str
    fell_back: bool
    mark: ReviewMark | None
    comment: str


def _select():  # type: ignore[no-untyped-def]
    return (
        select(GuidanceQuery, StaffMember.display_name, StaffMember.team, QueryReview.mark, QueryReview.comment)
        .outerjoin(StaffMember, StaffMember.id == GuidanceQuery.staff_id)
        .outerjoin(QueryReview, QueryReview.query_id == GuidanceQuery.id)
    )


def _row(query: GuidanceQuery, staff: str | None, team: str | None, mark, comment) -> LoggedQuery:  # type: ignore[no-untyped-def]
    return LoggedQuery(
        id=query.id,
        at=query.at,
        staff=staff or "(not signed in)",
        team=team or "",
        text=query.text,
        answer=query.answer or "",
        topic=query.topic or "",
        intent=query.intent or "",
        confidence=query.confidence,
        cited=query.cited or "",
        fell_back=query.fell_back,
        mark=ReviewMark(mark) if mark else None,
        comment=comment or "",
    )


def logged_queries(
    db: Database, f: QueryFilter, mark: ReviewMark | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[LoggedQuery], int]:
    """One page of the log, newest first, and how many queries the filter matches in all."""
    conditions = query_conditions(f)
    if mark is not None:
        conditions.append(GuidanceQuery.id.in_(select(QueryReview.query_id).where(QueryReview.mark == mark)))
    with db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(GuidanceQuery).where(*conditions)) or 0
        rows = session.execute(
            _select()
            .where(*conditions)
            .order_by(GuidanceQuery.at.desc(), GuidanceQuery.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return [_row(*row) for row in rows], total


def logged_query(db: Database, query_id: int) -> LoggedQuery | None:
    with db.transaction() as session:
        row = session.execute(_select().where(GuidanceQuery.id == query_id)).first()
        return _row(*row) if row else None


def mark_query(db: Database, query_id: int, mark: ReviewMark, comment: str | None, by_staff_id: int) -> None:
    """Mark a query (replacing an earlier mark), in one transaction with its audit entry."""
    with db.transaction() as session:
        if session.get(GuidanceQuery, query_id) is None:
            raise CaseError(f"There is no logged query {query_id}.")
        review = session.scalar(select(QueryReview).where(QueryReview.query_id == query_id))
        before = {"mark": review.mark.value, "comment": review.comment} if review else None
        if review is None:
            review = QueryReview(query_id=query_id, mark=mark, by_staff_id=by_staff_id)
            session.add(review)
        review.mark, review.comment, review.by_staff_id = mark, (comment or "").strip()[:2000] or None, by_staff_id
        review.at = dt.datetime.now(dt.timezone.utc)
        session.flush()
        audit_trail.audit(
            session,
            by_staff_id,
            "query_review",
            review.id,
            "mark",
            before,
            {"query_id": query_id, "mark": mark.value, "comment": review.comment},
        )


def knowledge_gaps(db: Database) -> list[LoggedQuery]:
    with db.transaction() as session:
        rows = session.execute(
            _select().where(QueryReview.mark == ReviewMark.knowledge_gap).order_by(GuidanceQuery.at.desc())
        ).all()
        return [_row(*row) for row in rows]


def gaps_as_nlu(gaps: list[LoggedQuery]) -> str:
    """The gaps as Rasa NLU training examples, grouped by the intent they were taken for, to review by hand."""
    by_intent: dict[str, list[str]] = {}
    for gap in gaps:
        text = " ".join(gap.text.split())
        if text and text not in by_intent.setdefault(gap.intent or "ask_protocol", []):
            by_intent[gap.intent or "ask_protocol"].append(text)
    lines = [
        "# Knowledge gaps marked by managers, as Rasa NLU examples under the intent each was taken for.",
        "# Review every example and its intent before moving it into data/nlu/; then retrain.",
        'version: "3.1"',
        "nlu:",
    ]
    for intent, texts in sorted(by_intent.items()):
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def record_export(db: Database, staff_id: int | None, what: str, detail: dict) -> None:
    """Every export leaves the service's systems, so each one is written to the audit trail."""
    with db.transaction() as session:
        audit_trail.audit(session, staff_id, "export", 0, what[:48], None, detail)
