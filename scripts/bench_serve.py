"""How fast the served assistant starts and answers: `make serve` on the embedded default, measured from outside.

    .venv/bin/python scripts/bench_serve.py [--write]

Starts `make serve` (setup and model already made, and the demo caseload loaded by `make db`, as `make demo`
leaves them), and measures:
- seconds from the start of `make serve` until Rasa's REST channel gives its first answer;
- Rasa's resident memory once it answers;
- one conversation, one message at a time: the round trip of each reply (p50, p95);
- 20 conversations sending back to back: messages per second and the round trips under that load, and the CPU
  time Rasa spent per message meanwhile (one Rasa process uses one core, so this bounds its throughput);
- one long conversation (128 messages, a busy shift): Rasa's CPU per message over its first 16 and its last 16,
  which shows how a message's cost grows with the conversation before it.
The messages are a staff member's everyday ones, signed as the demo practitioner, so every one runs the NLU,
the rules and an action that reads the case database. `--write` replaces the figures in docs/benchmarks.md.

`make serve` reads DATABASE_URL and ENDPOINTS from the environment, and so does this script: with
ENDPOINTS=endpoints.production.yml and its settings (README, "Production profile") it measures the production
profile, PostgreSQL tracker store and Redis lock store, on a case database holding the demo caseload.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from benchmarks_doc import replace_block

from throughcare.access import identity
from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.demo.caseload import demo_practitioner_id

# How the scripts find the Rasa server lives in tests/ (not installed), shared with scripts/fuzz.py.
sys.path.insert(0, str(REPO_ROOT))
from tests.embedded import rasa_pid

URL = "http://127.0.0.1:5005/webhooks/rest/webhook"
# Signs a staff token for one conversation (tokens are bound to their sender).
Signer = Callable[[str], str]
ENDPOINTS = os.environ.get("ENDPOINTS", "endpoints.yml")
PROFILE = "production profile (PostgreSQL, Redis)" if "production" in ENDPOINTS else "embedded default (SQLite)"
MARKER = "serve-production" if "production" in ENDPOINTS else "serve"
START, END = f"<!-- {MARKER}:begin -->", f"<!-- {MARKER}:end -->"
MESSAGES = [
    "hiya",
    "whats next for A1234BC",
    "when is his triage due",
    "how long have i got to do an initial assessment",
    "what does TTG stand for",
    "my caseload",
    "what do i do if someone discloses abuse",
    "thanks",
]


class Served:
    """`make serve` as a process group, stopped as a whole."""

    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)

    def rasa_process(self) -> Path:
        """/proc/<pid> of the Rasa server."""
        return Path(f"/proc/{rasa_pid()}")

    def rasa_rss_mb(self) -> float:
        status = (self.rasa_process() / "status").read_text().splitlines()
        return int(next(line for line in status if "VmRSS" in line).split()[1]) / 1024

    def rasa_cpu_s(self) -> float:
        """CPU seconds the Rasa server has used (user and system): a figure a busy machine changes less than time."""
        fields = (self.rasa_process() / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def say(client: httpx.Client, sender: str, text: str, token: Signer) -> float:
    began = time.perf_counter()
    reply = client.post(
        URL, json={"sender": sender, "message": text, "metadata": {identity.METADATA_KEY: token(sender)}}
    )
    reply.raise_for_status()
    if not reply.json():
        raise RuntimeError(f"no answer to {text!r}")
    return time.perf_counter() - began


def wait_for_first_answer(served: Served, token: Signer, limit: float = 300) -> float:
    with httpx.Client(timeout=30) as client:
        while time.monotonic() - served.started < limit:
            if served.process.poll() is not None:
                raise RuntimeError("make serve stopped; see var/log/bench-serve.log")
            try:
                say(client, f"bench-{uuid.uuid4().hex[:8]}", "hello", token)
                return time.monotonic() - served.started
            except (httpx.HTTPError, RuntimeError):
                time.sleep(0.2)
    raise RuntimeError(f"no answer within {limit} s")


def one_conversation(token: Signer, rounds: int) -> list[float]:
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    with httpx.Client(timeout=60) as client:
        return [say(client, sender, text, token) for _ in range(rounds) for text in MESSAGES]


def many_conversations(token: Signer, conversations: int, rounds: int) -> tuple[float, list[float]]:
    times: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        mine = one_conversation(token, rounds)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(conversations)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(times) / (time.perf_counter() - began), times


def long_conversation(served: Served, token: Signer, rounds: int = 16) -> tuple[float, float]:
    """Rasa's CPU per message (ms) over the first two and the last two rounds of one conversation."""
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    spent = []
    with httpx.Client(timeout=60) as client:
        for _ in range(rounds):
            before = served.rasa_cpu_s()
            for text in MESSAGES:
                say(client, sender, text, token)
            spent.append((served.rasa_cpu_s() - before) / len(MESSAGES) * 1000)
    return statistics.mean(spent[:2]), statistics.mean(spent[-2:])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def markdown(figures: dict) -> str:
    return "\n".join(
        [
            START,
            f"`make serve` on the {PROFILE}; {platform.machine()}, {os.cpu_count()} cores, "
            f"{time.strftime('%d %b %Y')}; `.venv/bin/python scripts/bench_serve.py --write`.",
            "",
            "| figure | value | target |",
            "| --- | --- | --- |",
            f"| `make serve` until the first answer | {figures['first_answer_s']:.1f} s | ≤ 20 s |",
            f"| Rasa's resident memory after start | {figures['rss_mb']:.0f} MB | ≤ 800 MB |",
            f"| one conversation, REST round trip p50 / p95 | {figures['single_p50_ms']:.0f} / "
            f"{figures['single_p95_ms']:.0f} ms | p50 ≤ 50 ms |",
            f"| 20 conversations back to back: messages/s | {figures['throughput']:.1f} | ≥ 30 |",
            f"| 20 conversations: round trip p50 / p95 | {figures['load_p50_ms']:.0f} / "
            f"{figures['load_p95_ms']:.0f} ms | |",
            f"| Rasa's CPU per message under that load (a whole core: {1000 / figures['rasa_cpu_ms']:.0f}/s) | "
            f"{figures['rasa_cpu_ms']:.1f} ms | |",
            f"| one conversation of {16 * len(MESSAGES)} messages: Rasa's CPU per message, first 16 / last 16 | "
            f"{figures['long_first_ms']:.0f} / {figures['long_last_ms']:.0f} ms | |",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each conversation sends the message list")
    parser.add_argument("--write", action="store_true", help="replace the figures in docs/benchmarks.md")
    args = parser.parse_args()
    # `make serve` needs these set outside demo mode: the demo's database, secret and endpoints unless the caller
    # set others.
    secret = os.environ.get("THROUGHCARE_SECRET") or (REPO_ROOT / "var" / "secret").read_text().strip()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'throughcare.db'}"
    database = Database.from_url(database_url)
    staff_id = demo_practitioner_id(database)

    def token(sender: str) -> str:
        return identity.sign(staff_id, secret.encode(), subject=sender)

    served = Served(
        REPO_ROOT / "var" / "log" / "bench-serve.log",
        {**os.environ, "DATABASE_URL": database_url, "THROUGHCARE_SECRET": secret, "ENDPOINTS": ENDPOINTS},
    )
    try:
        first_answer = wait_for_first_answer(served, token)
        rss = served.rasa_rss_mb()
        single = one_conversation(token, args.rounds)
        cpu_before = served.rasa_cpu_s()
        throughput, under_load = many_conversations(token, 20, args.rounds)
        rasa_cpu_ms = (served.rasa_cpu_s() - cpu_before) / len(under_load) * 1000
        long_first, long_last = long_conversation(served, token)
    finally:
        served.stop()
    figures = {
        "first_answer_s": first_answer,
        "rss_mb": rss,
        "single_p50_ms": statistics.median(single) * 1000,
        "single_p95_ms": percentile(single, 0.95) * 1000,
        "throughput": throughput,
        "load_p50_ms": statistics.median(under_load) * 1000,
        "load_p95_ms": percentile(under_load, 0.95) * 1000,
        "rasa_cpu_ms": rasa_cpu_ms,
        "long_first_ms": long_first,
        "long_last_ms": long_last,
    }
    block = markdown(figures)
    print(block)
    if args.write:
        replace_block(block, START, END)


if __name__ == "__main__":
    main()
