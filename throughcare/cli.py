"""`throughcare`: the operator's commands around the chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from throughcare import access, answers, coverage, demo, identity, store
from throughcare.chat import DEFAULT_URL, run_chat
from throughcare.db import Database, database_url
from throughcare.engine import next_steps
from throughcare.knowledge import KnowledgeError, load_knowledge
from throughcare.migrate import upgrade
from throughcare.models import AccessStatus, Role
from throughcare.nlu_patterns import write_patterns

app = typer.Typer(
    help="Throughcare: case store, protocol knowledge and chat for DARS staff.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The case database.", no_args_is_help=True)
knowledge_app = typer.Typer(help="The protocol knowledge base.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff members who may use the assistant.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(staff_app, name="staff")
console = Console()


def _database() -> Database:
    return Database.from_url(database_url())


def _today(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else dt.date.today()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database at DATABASE_URL to the latest schema."""
    upgrade(database_url())
    console.print("Database is up to date.")


@app.command("demo-data")
def demo_data(reset: bool = typer.Option(False, help="Delete everything first and load afresh.")) -> None:
    """Load the synthetic demo caseload (skipped when clients already exist, unless --reset)."""
    loaded = demo.load_demo_data(_database(), dt.date.today(), reset=reset)
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
        f"{len(knowledge.care_levels)} care levels."
    )


@app.command("next")
def next_command(prison_number: str, today: str = typer.Option(None, help="Pretend today is YYYY-MM-DD.")) -> None:
    """What's next for a client: the same answer the chat gives."""
    day = _today(today)
    try:
        facts = store.episode_facts(_database(), prison_number)
    except store.CaseError as err:
        console.print(str(err))
        raise typer.Exit(1) from err
    console.print(answers.next_steps_answer(facts, next_steps(facts, load_knowledge(), day), day), highlight=False)


@app.command("caseload")
def caseload(staff_id: int, today: str = typer.Option(None, help="Pretend today is YYYY-MM-DD.")) -> None:
    """A key worker's open clients, most urgent first: the same answer the chat gives."""
    day = _today(today)
    knowledge = load_knowledge()
    rows = [(f, next_steps(f, knowledge, day)) for f in store.caseload(_database(), staff_id)]
    console.print(answers.caseload_answer(rows, day), highlight=False)


@staff_app.command("add")
def staff_add(name: str, role: Role = typer.Option(Role.practitioner), team: str = typer.Option(None)) -> None:
    """Add a staff member (display name only; no other personal details are needed)."""
    console.print(f"Added staff member {store.add_staff(_database(), name, role, team)}.")


@staff_app.command("list")
def staff_list() -> None:
    table = Table("id", "name", "role", "team", "active")
    for member in store.list_staff(_database()):
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
    except store.CaseError as err:
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
    console.print(f"Revoked {telegram_id}: their next message will be refused.")


@app.command("token")
def token(staff_id: int) -> None:
    """Print a signed staff token (valid five minutes) for a REST client's message metadata."""
    secret = identity.secret_from_env()
    if secret is None:
        console.print(f"Set {identity.SECRET_ENV} (16 characters or more) first.")
        raise typer.Exit(1)
    print(identity.sign(staff_id, secret))


@app.command("nlu-patterns")
def nlu_patterns(out: Path) -> None:
    """Write the spaCy entity-ruler patterns generated from the knowledge base."""
    console.print(f"Wrote {write_patterns(load_knowledge(), out)} patterns to {out}.")


@app.command("chat")
def chat(
    url: str = typer.Option(DEFAULT_URL, help="Rasa's REST webhook."),
    staff_id: int = typer.Option(None, help="Sign messages as this staff member (default: the demo practitioner)."),
) -> None:
    """Chat with the assistant in the terminal."""
    run_chat(url, staff_id or demo.demo_practitioner_id(_database()), identity.secret_from_env())


if __name__ == "__main__":
    app()
