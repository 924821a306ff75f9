"""Fuzz the served assistant at length: tens of thousands of hostile and messy messages over REST.

    .venv/bin/python scripts/fuzz.py [--messages 20000] [--seed 1] [--workers 8] [--write]

Starts the servers as `make serve` does (`scripts/serve`; the model must be made first: `make model`) on free
ports, with a case database and tracker store of its own under var/fuzz/ (migrated, the demo caseload loaded),
then sends the messages of `tests/fuzz.py` exactly as `tests/e2e/test_fuzz.py` does: half unsigned, half signed
as the demo practitioner about clients of the fuzz's own. `--seed 20261202 --messages 1000` sends the test's.
Reports each failure class with examples, errors in the servers' log, unsigned writes to case tables, Rasa's
resident memory before and after, and messages per second; `--write` puts the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time

import httpx
from benchmarks_doc import replace_block

from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.migrate import upgrade
from throughcare.demo.caseload import demo_practitioner_id, load_demo_data

# The messages and the test servers' endpoints live in tests/ (not installed), so this script and the tests share them.
sys.path.insert(0, str(REPO_ROOT))
from tests import fuzz
from tests.embedded import embedded_endpoints, free_port, rasa_pid

WORK = REPO_ROOT / "var" / "fuzz"
LOG = REPO_ROOT / "var" / "log" / "fuzz-serve.log"
START, END = "<!-- fuzz:begin -->", "<!-- fuzz:end -->"


class Servers:
    """`scripts/serve` as a process group on ports of its own, stopped as a whole."""

    def __init__(self, database_url: str, secret: str) -> None:
        action_port, self.rasa_port = free_port(), free_port()
        endpoints = embedded_endpoints(WORK, action_port)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ENDPOINTS": str(endpoints),
            "ACTION_PORT": str(action_port),
            "RASA_PORT": str(self.rasa_port),
            "THROUGHCARE_SECRET": secret,
        }
        LOG.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(REPO_ROOT / "scripts" / "serve")],
            cwd=REPO_ROOT,
            env=env,
            stdout=LOG.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def wait_until_up(self, limit: float = 300) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the servers stopped; see {LOG}")
            try:
                if httpx.post(self.url, json={"sender": "fuzz-up", "message": "hello"}, timeout=30).json():
                    return
            except (httpx.HTTPError, ValueError):
                time.sleep(0.5)
        raise RuntimeError(f"no answer within {limit} s; see {LOG}")

    def rasa_pid(self) -> int:
        return rasa_pid(self.rasa_port)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def summary(run: fuzz.Run, command: str, workers: int) -> str:
    results = run.results
    times = sorted(r.seconds for r in results)
    p95 = times[int(0.95 * (len(times) - 1))]
    found = fuzz.failures(results)
    count = len(results)
    unsigned = count // 2  # as fuzz.run splits them
    server_errors = sum(1 for r in results if r.status is not None and r.status >= 500)
    empty = sum(len(v) for k, v in found.items() if k.startswith("empty reply"))
    logged = fuzz.log_errors(run.whole_log)
    blank_logged = fuzz.log_errors(run.blank_log)
    writes = ", ".join(f"{t} {c}" for t, c in run.unsigned_writes.items()) or "none"
    lines = [
        START,
        "## Fuzzing the served assistant",
        "",
        f"`{command}` on the embedded default (SQLite); {platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%d %b %Y')}. Messages from `tests/fuzz.py` (the test sends 1,000 of them on both profiles "
        f"in `make test`); half unsigned, half signed, {workers} conversations at once.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| messages sent | {count:,}: {unsigned:,} unsigned, {count - unsigned:,} signed ({len(run.blank):,} blank) |",
        f"| messages a second | {count / run.seconds:.1f} |",
        f"| round trip p50 / p95 | {statistics.median(times) * 1000:.0f} / {p95 * 1000:.0f} ms |",
        f"| answers not as expected | {sum(len(v) for v in found.values()):,} |",
        f"| 5xx | {server_errors:,} |",
        f"| empty replies to a message with a visible character | {empty:,} |",
        f"| errors in the servers' log (all / while blank messages were sent) | {sum(logged.values()):,} / "
        f"{sum(blank_logged.values()):,} |",
        f"| case tables changed by unsigned messages | {writes} |",
        f"| Rasa's resident memory before / after | {run.rss_before_mb:.0f} / {run.rss_after_mb:.0f} MB |",
    ]
    if found:
        lines += ["", "Answers not as expected, by class (count, then an example):", ""]
        lines += [
            f"- {len(v)} × {k}: `{v[0].case.short(120)}`" for k, v in sorted(found.items(), key=lambda i: -len(i[1]))
        ]
    if logged:
        lines += ["", "In the servers' log:", ""]
        lines += [f"- {n} × `{what[:160]}`" for what, n in logged.most_common(10)]
    return "\n".join([*lines, END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=8, help="conversations sending at once")
    parser.add_argument("--write", action="store_true", help="put the figures in docs/benchmarks.md")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    database_url = f"sqlite:///{WORK / 'cases.db'}"
    upgrade(database_url)
    db = Database.from_url(database_url)
    load_demo_data(db, dt.date.today())
    secret = secrets.token_hex(32)
    servers = Servers(database_url, secret)
    try:
        servers.wait_until_up()
        staff_id = demo_practitioner_id(db)
        assert staff_id is not None, "the demo caseload has no practitioner"
        served = fuzz.Served(servers.url, db, fuzz.Signing(staff_id, secret.encode()), LOG, servers.rasa_pid())
        run = fuzz.run(served, args.seed, args.messages, args.workers)
    finally:
        servers.stop()
    command = f".venv/bin/python scripts/fuzz.py --messages {args.messages} --seed {args.seed} --workers {args.workers}"
    block = summary(run, command, args.workers)
    print(block)
    if args.write:
        replace_block(block, START, END)


if __name__ == "__main__":
    main()
