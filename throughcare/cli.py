"""`throughcare`: the operator's commands around the chat."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from throughcare import clock, errors
from throughcare.access import accounts as access
from throughcare.access import identity
from throughcare.cases import open_steps, retention, staff_members, store
from throughcare.chat import DEFAULT_URL, run_chat
from throughcare.config import Settings, SettingsError
from throughcare.db import migrate
from throughcare.db.engine import Database, database_url
from throughcare.db.models import AccessStatus, Role
from throughcare.demo import caseload as demo
from throughcare.knowledge import coverage
from throughcare.knowledge.loader import KnowledgeError, load_knowledge
from throughcare.knowledge.nlu_patterns import write_patterns
from throughcare.private_files import owner_only_files
from throughcare.protocol import answers
from throughcare.protocol.engine import next_steps
from throughcare.reporting import reports, review

app = typer.Typer(
    help="Throughcare: case store, protocol knowledge and chat for DARS staff.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The case database.", no_args_is_help=True)
knowledge_app = typer.Typer(help="The protocol knowledge base.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff members who may use the assistant.", no_args_is_help=True)
report_app = typer.Typer(
    help="Managers' reports, as a table or CSV (every CSV is recorded in the audit trail).", no_args_is_help=True
)
steps_app = typer.Typer(help="The open steps kept for reports.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(staff_app, name="staff")
app.add_typer(report_app, name="report")
app.add_typer(steps_app, name="steps")
console = Console()


@app.callback()
def _owner_only() -> None:
    # A database this creates (db upgrade on a new SQLite file) holds health data.
    owner_only_files()


def _database_url() -> str:
    try:
        return database_url()
    except SettingsError as err:
        # No silent fallback: say what to set (throughcare/config.py), not a traceback.
        console.print(str(err), soft_wrap=True)
        raise typer.Exit(2) from err


def _database() -> Database:
    db = Database.from_url(_database_url())
    if not migrate.is_current(db.engine):
        console.print(
            "The case database is not set up, or is behind this version: run `throughcare db upgrade` first.",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    return db


# Days are typed YYYY-MM-DD; click refuses anything else, or an impossible date, with a usage error naming the option.
DAY_FORMATS = ["%Y-%m-%d"]


def _day(value: dt.datetime | None) -> dt.date:
    """The day an option gave, or London's today."""
    return value.date() if value else clock.today()


def day_option(help_text: str) -> Any:
    return typer.Option(None, formats=DAY_FORMATS, help=help_text)


PRETEND_TODAY = day_option("Pretend today is YYYY-MM-DD.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database at DATABASE_URL to the latest schema."""
    migrate.upgrade(_database_url())
    console.print("Database is up to date.")


@app.command("demo-data")
def demo_data(reset: bool = typer.Option(False, help="Delete everything first and load afresh.")) -> None:
    """Load the synthetic demo caseload (skipped when clients already exist, unless --reset). Demo mode only."""
    if not Settings.from_env().demo:
        # Fake staff, clients and queries in a real database would distort the commissioner's figures.
        console.print(
            'Demo data is loaded in demo mode only (THROUGHCARE_DEMO=1, as `make db` sets; README, "Settings").'
        )
        raise typer.Exit(2)
    loaded = demo.load_demo_data(_database(), clock.today(), reset=reset)
    console.print(f"Loaded {loaded} demo clients." if loaded else "Demo data already present; kept as it is.")


@knowledge_app.command("coverage")
def knowledge_coverage(
    write: bool = typer.Option(False, help="Rewrite the 'covered by' column of docs/coverage.md."),
) -> None:
    """Check docs/coverage.md against the knowledge's citations: every section covered or reasoned."""
    knowledge = load_knowledge()
    text = coverage.read_default_map()
    if write:
        coverage.DEFAULT_MAP.write_text(coverage.render(knowledge, text), encoding="utf-8")
        text = coverage.read_default_map()
    found = coverage.problems(knowledge, text)
    for problem in found:
        console.print(f"[red]✗[/red] {problem}")
    if found:
        raise typer.Exit(1)
    rows = coverage.read_map(text)
    console.print(f"Coverage map is complete: {len(rows)} sections, each covered or reasoned.")


@knowledge_app.command("validate")
def knowledge_validate(directory: Path = typer.Option(None, help="Knowledge folder (default: knowledge/).")) -> None:
    """Check every knowledge file; name the file and item of any error."""
    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as err:
        console.print(f"[red]Knowledge error:[/] {err}")
        raise typer.Exit(1) from err
    steps = sum(len(p.steps) for p in knowledge.procedures.values())
    console.print(
        f"Knowledge is valid: {len(knowledge.procedures)} procedures ({steps} steps), {len(knowledge.timescales)} "
        f"timescales, {len(knowledge.topics)} topics, {len(knowledge.glossary)} glossary terms, "
        f"{len(knowledge.care_levels)} care levels, {len(knowledge.tours)} induction tours, "
        f"{len(knowledge.scenarios)} scenarios, {len(knowledge.training)} training courses."
    )


@app.command("next")
def next_command(prison_number: str, today: dt.datetime = PRETEND_TODAY) -> None:
    """What's next for a client: the same answer the chat gives."""
    day = _day(today)
    try:
        facts = store.episode_facts(_database(), prison_number)
    except errors.CaseError as err:
        console.print(str(err))
        raise typer.Exit(1) from err
    console.print(answers.next_steps_answer(facts, next_steps(facts, load_knowledge(), day), day), highlight=False)


@app.command("caseload")
def caseload(staff_id: int, today: dt.datetime = PRETEND_TODAY) -> None:
    """A key worker's open clients, most urgent first: the same answer the chat gives."""
    day = _day(today)
    knowledge = load_knowledge()
    rows = [(f, next_steps(f, knowledge, day)) for f in store.caseload(_database(), staff_id)]
    console.print(answers.caseload_answer(rows, day), highlight=False)


@staff_app.command("add")
def staff_add(name: str, role: Role = typer.Option(Role.practitioner), team: str = typer.Option(None)) -> None:
    """Add a staff member (display name only; no other personal details are needed)."""
    console.print(f"Added staff member {staff_members.add_staff(_database(), name, role, team)}.")


@staff_app.command("list")
def staff_list() -> None:
    table = Table("id", "name", "role", "team", "active")
    for member in staff_members.list_staff(_database()):
        table.add_row(
            str(member.id), member.display_name, member.role, member.team or "", "yes" if member.active else "no"
        )
    console.print(table)


@staff_app.command("requests")
def staff_requests(
    status: AccessStatus = typer.Option(None, help="Only requests in this state (default: all)."),
) -> None:
    """Telegram users who asked for access, with the state of each request."""
    table = Table("telegram id", "first name", "status", "staff id", "role", "digest")
    for entry in access.accounts(_database(), status):
        table.add_row(
            str(entry.telegram_user_id),
            entry.first_name,
            entry.status.value,
            str(entry.staff_id or ""),
            entry.role.value if entry.role else "",
            "yes" if entry.digest else "no",
        )
    console.print(table)


def _decided(result: Callable[[], access.Account]) -> access.Account:
    try:
        return result()
    except errors.CaseError as err:
        console.print(str(err))
        raise typer.Exit(1) from err


@staff_app.command("approve")
def staff_approve(
    telegram_id: int,
    role: Role = typer.Option(Role.practitioner),
    staff_id: int = typer.Option(None, help="Link to this existing staff member instead of adding a new one."),
) -> None:
    """Let a Telegram user (by numeric id) use the assistant, with a role."""
    entry = _decided(lambda: access.approve(_database(), telegram_id, role, by=None, staff_id=staff_id))
    console.print(f"Approved {telegram_id} as {role.value} (staff member {entry.staff_id}).")


@staff_app.command("refuse")
def staff_refuse(telegram_id: int) -> None:
    """Refuse a pending request."""
    _decided(lambda: access.refuse(_database(), telegram_id, by=None))
    console.print(f"Refused {telegram_id}.")


@staff_app.command("revoke")
def staff_revoke(telegram_id: int) -> None:
    """Withdraw a Telegram user's access; it takes effect on their next message."""
    _decided(lambda: access.revoke(_database(), telegram_id, by=None))
    console.print(f"Revoked {telegram_id}: their next message will be refused and their dashboard sessions ended.")


@staff_app.command("deactivate")
def staff_deactivate(staff_id: int) -> None:
    """Make a staff member inactive (left, or must stop for now): the assistant refuses their next message and
    their dashboard sessions and sign-in links end at once. Audited."""
    try:
        ended = access.deactivate(_database(), staff_id, by=None)
    except errors.CaseError as err:
        console.print(str(err))
        raise typer.Exit(1) from err
    sessions = f"{ended} dashboard session{'' if ended == 1 else 's'} or link{'' if ended == 1 else 's'}"
    console.print(f"Staff member {staff_id} is inactive; {sessions} ended.")


@app.command("token")
def token(staff_id: int, sender: str) -> None:
    """Print a signed staff token for a REST client's message metadata: good only for that `sender`
    (the conversation id the client posts as) and for two minutes."""
    secret = identity.secret_from_env()
    if secret is None:
        console.print(f"Set {identity.SECRET_ENV} (16 characters or more) first.")
        raise typer.Exit(1)
    print(identity.sign(staff_id, secret, subject=sender))


@app.command("nlu-patterns")
def nlu_patterns(ruler_out: Path, rasa_nlu_out: Path) -> None:
    """Write the NLU's rule-based entity patterns generated from the knowledge base: the spaCy entity ruler's
    (RULER_OUT, JSON lines) and the event and date patterns as Rasa NLU data (RASA_NLU_OUT)."""
    count = write_patterns(load_knowledge(), ruler_out, rasa_nlu_out)
    console.print(f"{count} patterns in {ruler_out} and {rasa_nlu_out}.")


@app.command("chat")
def chat(
    url: str = typer.Option(DEFAULT_URL, help="Rasa's REST webhook."),
    staff_id: int = typer.Option(None, help="Sign messages as this staff member (default: the demo practitioner)."),
) -> None:
    """Chat with the assistant in the terminal."""
    run_chat(url, staff_id or demo.demo_practitioner_id(_database()), identity.secret_from_env())


def _show(report: reports.Report, as_csv: bool, parameters: dict) -> None:
    if as_csv:
        review.record_export(_database(), None, report.name, {"via": "cli", **parameters})
        print(report.csv(), end="")
        return
    table = Table(*report.columns, title=report.title)
    for row in report.rows:
        table.add_row(*(str(value) for value in row))
    console.print(table)
    for note in report.notes:
        console.print(f"[dim]{note}[/dim]", highlight=False)


def _query_filter(
    weeks: int,
    start: dt.datetime | None,
    end: dt.datetime | None,
    staff_id: int | None,
    team: str | None,
    topic: str | None,
    intent: str | None,
    fallback: bool | None,
) -> reports.QueryFilter:
    period = reports.Period.weeks_to(clock.today(), weeks)
    if start or end:
        period = reports.Period(_day(start) if start else period.start, _day(end) if end else period.end)
    return reports.QueryFilter(period, staff_id, team, topic, intent, fallback)


def _half_year(label: str | None) -> reports.Period:
    try:
        return reports.Period.parse(label) if label else reports.Period.containing(clock.today())
    except ValueError as err:
        console.print(str(err))
        raise typer.Exit(1) from err


WEEKS = typer.Option(12, help="The last N weeks (ignored when --start or --end is given).")
START = day_option("From this day, YYYY-MM-DD.")
END = day_option("To this day, YYYY-MM-DD.")
STAFF = typer.Option(None, "--staff-id", help="Only this staff member's queries.")
TEAM = typer.Option(None, help="Only this team's queries.")
TOPIC = typer.Option(None, help='Only this topic, e.g. "topic:six_monthly_report" or "procedure:transfer".')
INTENT = typer.Option(None, help="Only queries taken for this intent.")
FALLBACK = typer.Option(None, "--fallback/--answered", help="Only fallbacks, or only answered queries.")
CSV = typer.Option(False, "--csv", help="CSV on standard output instead of a table.")
PERIOD = typer.Option(None, help="Half year, e.g. 2026H1 (January-June) or 2026H2; default: the current one.")


def _query_report(name: str, build, help_text: str) -> None:  # type: ignore[no-untyped-def]
    def command(
        weeks: int = WEEKS,
        start: dt.datetime = START,
        end: dt.datetime = END,
        staff_id: int = STAFF,
        team: str = TEAM,
        topic: str = TOPIC,
        intent: str = INTENT,
        fallback: bool = FALLBACK,
        as_csv: bool = CSV,
    ) -> None:
        f = _query_filter(weeks, start, end, staff_id, team, topic, intent, fallback)
        _show(
            build(_database(), f),
            as_csv,
            {
                "period": str(f.period),
                "staff_id": staff_id,
                "team": team,
                "topic": topic,
                "intent": intent,
                "fallback": fallback,
            },
        )

    command.__doc__ = help_text
    report_app.command(name)(command)


_query_report("topics", reports.queries_per_topic_per_week, "Staff queries per topic per week.")
_query_report("fallback", reports.fallback_rate, "How often the assistant fell back on staff queries, per week.")
_query_report("unanswered", reports.top_unanswered, "The staff questions most often left unanswered.")
_query_report(
    "unsigned", reports.unsigned_queries, "Messages not signed by a staff member, per week: counted apart from staff."
)


class OverdueBy(str, enum.Enum):
    worker = "worker"
    stage = "stage"


OVERDUE_REPORTS = {OverdueBy.worker: reports.overdue_by_worker, OverdueBy.stage: reports.overdue_by_stage}


@report_app.command("overdue")
def report_overdue(
    by: OverdueBy = typer.Option(OverdueBy.worker), today: dt.datetime = PRETEND_TODAY, as_csv: bool = CSV
) -> None:
    """Overdue steps per key worker, or per stage and step."""
    day = _day(today)
    _show(OVERDUE_REPORTS[by](_database(), day), as_csv, {"by": by.value, "today": day.isoformat()})


@report_app.command("caseload")
def report_caseload(as_csv: bool = CSV) -> None:
    """Open caseload by stage and care level."""
    _show(reports.caseload_by_stage_and_level(_database()), as_csv, {})


@report_app.command("assessment-times")
def report_assessment_times(period: str = PERIOD, as_csv: bool = CSV) -> None:
    """Time from referral to initial assessment, and to triage, against the timescales."""
    half = _half_year(period)
    _show(reports.assessment_times(_database(), load_knowledge(), half), as_csv, {"period": str(half)})


@report_app.command("mds")
def report_mds(period: str = PERIOD, as_csv: bool = CSV) -> None:
    """The six-monthly minimum data set the commissioner asks for (004 §5)."""
    half = _half_year(period)
    _show(reports.minimum_data_set(_database(), load_knowledge(), half), as_csv, {"period": str(half)})


@report_app.command("induction")
def report_induction(team: str = TEAM, today: dt.datetime = PRETEND_TODAY, as_csv: bool = CSV) -> None:
    """New starters' induction progress: tours, scenario scores, subjects to revisit, glossary and training."""
    day = _day(today)
    _show(reports.induction_progress(_database(), load_knowledge(), day, team), as_csv, {"team": team})


@report_app.command("gaps")
def report_gaps(nlu: bool = typer.Option(False, "--nlu", help="As Rasa NLU training examples to review.")) -> None:
    """Queries managers marked as knowledge gaps."""
    gaps = review.knowledge_gaps(_database())
    if nlu:
        review.record_export(_database(), None, "gaps-nlu", {"via": "cli", "gaps": len(gaps)})
        print(review.gaps_as_nlu(gaps), end="")
        return
    table = Table("asked", "by", "question", "comment", title="Knowledge gaps")
    for gap in gaps:
        table.add_row(f"{gap.at:%d %b %Y}", gap.staff, gap.text, gap.comment)
    console.print(table)


@steps_app.command("refresh")
def steps_refresh(today: dt.datetime = PRETEND_TODAY) -> None:
    """Recompute every open episode's steps for the reports (run daily, e.g. from cron)."""
    count = open_steps.refresh_open_steps(_database(), load_knowledge(), _day(today))
    console.print(f"Open steps recomputed for {count} open episodes.")


PURGE_BEFORE = day_option("Delete what is older than this day, YYYY-MM-DD (default: each store's retention period).")


@app.command("purge")
def purge(
    before: dt.datetime = PURGE_BEFORE,
    tracker_db: str = typer.Option(
        None,
        help="Rasa's tracker store as a SQLAlchemy URL (default: the one ENDPOINTS, default endpoints.yml, names).",
    ),
) -> None:
    """Delete old query-log rows (with their reviews), button payloads, digest deliveries, handled Telegram
    updates and conversations in Rasa's tracker store; the audit trail is kept. Run daily (the gateway does)."""
    now = clock.now()
    if before is None:
        cutoffs = retention.Cutoffs.from_retention(now)
    else:
        day = _day(before)
        if day > now.date():
            console.print("--before cannot be later than today: that would delete what is still in use.")
            raise typer.Exit(1)
        cutoffs = retention.Cutoffs.before_day(day)
    try:
        tracker_url = tracker_db or retention.tracker_store_url_from_env()
    except retention.TrackerStoreError as err:
        console.print(f"Nothing deleted: {err}. Or give --tracker-db.")
        raise typer.Exit(1) from err
    deleted = retention.purge(_database(), cutoffs, tracker_url)
    table = Table("deleted", "count", title="Purged")
    for what, count in deleted.counts.items():
        table.add_row(what, str(count))
    console.print(table)
    if tracker_url is None:
        console.print("The tracker store keeps no conversations on disk (no SQL tracker store configured).")


@app.command("dashboard-link")
def dashboard_link(
    staff_id: int = typer.Argument(None, help="A manager's or administrator's staff id."),
    demo_manager: bool = typer.Option(False, "--demo-manager", help="For the demo data's manager."),
) -> None:
    """Print a signed link to the managers' dashboard, valid for 15 minutes."""
    secret = identity.secret_from_env()
    if secret is None:
        console.print(f"Set {identity.SECRET_ENV} (16 characters or more) first.")
        raise typer.Exit(1)
    db = _database()
    chosen = demo.demo_manager_id(db) if demo_manager else staff_id
    if chosen is None:
        console.print("Give a staff id, or --demo-manager.")
        raise typer.Exit(1)
    try:
        print(access.dashboard_link(db, chosen, secret))
    except errors.CaseError as err:
        console.print(str(err))
        raise typer.Exit(1) from err


if __name__ == "__main__":
    app()
