"""Time every manager's report on a large database (built by scripts/generate_large_db.py).

    .venv/bin/python scripts/bench_reports.py --url sqlite:///var/bench.db [--write]

Each report runs once to warm the caches, then `--runs` times; the median and the slowest run are printed.
`--write` puts the table into docs/benchmarks.md between the report-benchmark markers for this database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time
from collections.abc import Callable

from sqlalchemy import func, select

from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import Client, GuidanceQuery, StaffMember
from throughcare.knowledge.loader import load_knowledge
from throughcare.reporting import reports, review

BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"
TARGET_SECONDS = 1.0


def cases(db: Database) -> list[tuple[str, Callable[[], object]]]:
    knowledge, today = load_knowledge(), dt.date.today()
    twelve_weeks = reports.QueryFilter(reports.Period.weeks_to(today, 12))
    two_years = reports.QueryFilter(reports.Period(today - dt.timedelta(days=731), today))
    with db.transaction() as session:
        team = session.scalar(select(StaffMember.team).where(StaffMember.team.like("Team %")))
    half = reports.Period.containing(today)
    return [
        ("queries per topic per week, 12 weeks", lambda: reports.queries_per_topic_per_week(db, twelve_weeks)),
        ("queries per topic per week, 2 years", lambda: reports.queries_per_topic_per_week(db, two_years)),
        ("fallback rate per week, 2 years", lambda: reports.fallback_rate(db, two_years)),
        ("top unanswered, 2 years", lambda: reports.top_unanswered(db, two_years)),
        (
            "topics for one team, 12 weeks",
            lambda: reports.queries_per_topic_per_week(db, reports.QueryFilter(twelve_weeks.period, team=team)),
        ),
        (
            "review page (50 newest fallbacks)",
            lambda: review.logged_queries(db, reports.QueryFilter(two_years.period, fell_back=True)),
        ),
        ("overdue per key worker", lambda: reports.overdue_by_worker(db, today)),
        ("overdue per stage", lambda: reports.overdue_by_stage(db, today)),
        ("caseload by stage and care level", lambda: reports.caseload_by_stage_and_level(db)),
        ("assessment times, half year", lambda: reports.assessment_times(db, knowledge, half)),
        ("minimum data set, half year", lambda: reports.minimum_data_set(db, knowledge, half)),
        ("induction progress, everyone", lambda: reports.induction_progress(db, knowledge, today)),
        ("induction progress, one team", lambda: reports.induction_progress(db, knowledge, today, team)),
    ]


def measure(run: Callable[[], object], runs: int) -> tuple[float, float]:
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def write(marker: str, text: str) -> None:
    begin, end = f"<!-- reports-{marker}:begin -->", f"<!-- reports-{marker}:end -->"
    document = BENCHMARKS.read_text(encoding="utf-8")
    if begin not in document:
        document += f"\n{begin}\n{end}\n"
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    BENCHMARKS.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    db = Database.from_url(args.url)
    with db.transaction() as session:
        queries = session.scalar(select(func.count()).select_from(GuidanceQuery))
        clients = session.scalar(select(func.count()).select_from(Client))
    dialect = db.engine.dialect.name
    lines = [
        f"{dialect}, {clients:,} clients, {queries:,} guidance queries; {platform.machine()}, "
        f"{dt.date.today():%d %b %Y}; median and slowest of {args.runs} runs after one warm-up.",
        "",
        "| report | median s | slowest s | under 1 s |",
        "| --- | --- | --- | --- |",
    ]
    for name, run in cases(db):
        median, slowest = measure(run, args.runs)
        lines.append(f"| {name} | {median:.3f} | {slowest:.3f} | {'yes' if slowest < TARGET_SECONDS else 'NO'} |")
        print(lines[-1], flush=True)
    if args.write:
        write(dialect, "\n".join(lines))
        print(f"Wrote the figures into {BENCHMARKS.relative_to(REPO_ROOT)}.")


if __name__ == "__main__":
    main()
