"""Our action server's own time per message, without Rasa: the actions of the load benchmark's mix, each run as
the action server runs it, on PostgreSQL.

    .venv/bin/python scripts/bench_actions.py [--rounds 60] [--write]

The load benchmark (scripts/bench_load.py) measures our answers against a floor whose action server does
nothing, so the difference is ours, but it mixes our action server's work with Rasa's handling of our longer
answers. This measures only the first: each message of the mix (what's next for a client, a protocol question, a
term, a care plan review recorded, a checklist walk started, its step done, the walk stopped) is handed to
rasa-sdk's ActionExecutor as the webhook hands it on (the tracker as Rasa sends it, with the message signed as the
demo practitioner), in one event loop, on a fresh case schema in PostgreSQL at TEST_DATABASE_URL (default the
test server) holding the demo caseload. Each round starts with the walk's marks cleared, so its step is open.
Reports each action's median time and the process's CPU per message; `--write` replaces the block in
docs/benchmarks.md ("Load").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

from benchmarks_doc import replace_block
from sqlalchemy import create_engine, delete, text

from throughcare import clock
from throughcare.access import identity
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.migrate import upgrade
from throughcare.db.models import ChecklistProgress
from throughcare.demo.caseload import demo_practitioner_id, load_demo_data

# The test servers' address lives in tests/ (not installed), shared with the other benchmarks.
sys.path.insert(0, str(REPO_ROOT))
from tests.conftest import POSTGRES_URL

START, END = "<!-- actions:begin -->", "<!-- actions:end -->"
SECRET = "bench-actions-secret-0123456789"
SENDER = "bench-actions"
CLIENT = "A1234BC"
WALK = {"checklist": "safeguarding", "checklist_step": "tell_line_manager", "checklist_client": CLIENT}


@dataclass(frozen=True)
class Message:
    action: str
    text: str
    intent: str
    # (entity, the words in the text, the value NLU gives)
    entities: tuple[tuple[str, str, str], ...] = ()
    on_walk: bool = False


MIX = (
    Message("action_next_steps", f"whats next for {CLIENT}", "ask_next_steps", (("prison_number", CLIENT, CLIENT),)),
    Message(
        "action_answer_protocol",
        "how often are high risk clients reviewed?",
        "ask_protocol",
        (("event", "reviewed", "review"),),
    ),
    Message("action_define_term", "what does TTG mean?", "define_term", (("term", "TTG", "TTG"),)),
    Message(
        "action_record_event",
        f"care plan review done today for {CLIENT}",
        "record_event",
        (("event", "review", "review"), ("date", "today", "today"), ("prison_number", CLIENT, CLIENT)),
    ),
    Message(
        "action_start_checklist",
        f"start the safeguarding concern checklist for {CLIENT}",
        "start_checklist",
        (("checklist", "safeguarding concern", "safeguarding concern"), ("prison_number", CLIENT, CLIENT)),
    ),
    Message("action_step_done", "done", "step_done", on_walk=True),
    Message("action_stop_checklist", "stop", "checklist_stop", on_walk=True),
)


def action_call(message: Message, staff_id: int) -> dict:
    """The webhook's request for `message`, as Rasa sends it: the tracker with the signed message last."""
    entities = []
    for name, words, value in message.entities:
        start = message.text.index(words)
        entities.append({"entity": name, "value": value, "start": start, "end": start + len(words)})
    metadata = {identity.METADATA_KEY: identity.sign(staff_id, SECRET.encode(), subject=SENDER)}
    latest = {
        "text": message.text,
        "intent": {"name": message.intent, "confidence": 0.95},
        "entities": entities,
        "intent_ranking": [{"name": message.intent, "confidence": 0.95}],
        "metadata": metadata,
    }
    tracker = {
        "sender_id": SENDER,
        "slots": dict(WALK) if message.on_walk else {},
        "latest_message": latest,
        "events": [{"event": "user", "text": message.text, "parse_data": latest, "metadata": metadata}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {"next_action": message.action, "sender_id": SENDER, "tracker": tracker, "domain": {}}


async def run_rounds(db: Database, staff_id: int, rounds: int) -> dict[str, list[float]]:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    times: dict[str, list[float]] = {message.action: [] for message in MIX}
    for _ in range(rounds):
        with db.transaction() as session:
            session.execute(delete(ChecklistProgress).where(ChecklistProgress.procedure_id == WALK["checklist"]))
        for message in MIX:
            call = action_call(message, staff_id)
            began = time.perf_counter()
            reply = await executor.run(call)
            times[message.action].append(time.perf_counter() - began)
            said = " ".join(r.get("text") or "" for r in (reply or {}).get("responses", []))
            if "signed-in staff" in said or "can't reach" in said or not said:
                raise RuntimeError(f"{message.action}: {said!r}")
    return times


def measure(rounds: int) -> tuple[dict[str, list[float]], float]:
    schema = f"tc_bench_actions_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        db = Database.from_url(url)
        load_demo_data(db, clock.today())
        staff_id = demo_practitioner_id(db)
        os.environ.update(DATABASE_URL=url, THROUGHCARE_SECRET=SECRET)
        asyncio.run(run_rounds(db, staff_id, 3))  # warm-up: connections, caches, first-use compiles
        cpu = time.process_time()
        times = asyncio.run(run_rounds(db, staff_id, rounds))
        cpu_per_message = (time.process_time() - cpu) / (rounds * len(MIX))
        db.engine.dispose()
        return times, cpu_per_message
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def markdown(times: dict[str, list[float]], cpu_per_message: float, rounds: int) -> str:
    every = [t for kind in times.values() for t in kind]
    rows = [f"| `{action}` | {statistics.median(kind) * 1000:.1f} |" for action, kind in times.items()]
    return "\n".join(
        [
            START,
            f"PostgreSQL, demo caseload; {platform.machine()}, {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f} after the run, {time.strftime('%d %b %Y %H:%M UTC', time.gmtime())}; "
            f"{rounds} rounds of the mix; `.venv/bin/python scripts/bench_actions.py --write`.",
            "",
            "| action (the load benchmark's mix) | median ms |",
            "| --- | --- |",
            *rows,
            f"| every message: mean ms; CPU ms per message | {statistics.mean(every) * 1000:.1f}; "
            f"{cpu_per_message * 1000:.1f} |",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--write", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    times, cpu_per_message = measure(args.rounds)
    block = markdown(times, cpu_per_message, args.rounds)
    print(block)
    if args.write:
        replace_block(block, START, END)


if __name__ == "__main__":
    main()
