"""The production stack under load: signed conversations with a realistic mix, against our action servers and
against a no-op floor, measured in one run.

    .venv/bin/python scripts/bench_load.py [--quick] [--write]

Starts `make production` (scripts/production, through tests/stack.py: 2 Rasa and 2 action servers behind
HAProxy, PostgreSQL tracker store, Redis lock store) on a fresh case schema holding the demo caseload, in
PostgreSQL at TEST_DATABASE_URL (default the test server) and Redis at 127.0.0.1:6379. Each conversation is one
member of staff, signed as the demo practitioner, with a client of its own, sending one message at a time, round
after round: what's next for the client, a protocol question, a term, a care plan review recorded on the client,
a checklist walk started for the client, its first step done, the walk stopped. Every reply is checked: a reply
that is empty, or that shows the assistant did not understand, stops the run (a benchmark of "sorry, I'm not
sure what you meant" is worthless).

Measured, in this order, each after a warm-up round that is not counted:
- ours and the floor, taking turns for 3 rounds: (a) one conversation back to back; (b) 20 conversations back
  to back. The floor is the same stack and model with every action answered by scripts/noop_actions.py (no
  events, one "ok"; HAProxy's action backends swapped under supervisord). Each figure pools its 3 rounds: this
  machine's speed drifts by a third from one minute to the next, and a ratio of two figures measured minutes
  apart measured the drift;
- ours: (c) an offered 5 messages/s, Poisson arrivals across as many conversations as needed (each still one
  message at a time);
- ours on one Rasa server (the other stopped, so HAProxy sends every conversation to the one left): (b); then
  on two again (the other started again): (b), so that 2 is measured both before and after 1.

`--write` replaces the block in docs/benchmarks.md ("Load"); `--quick` is a short smoke run.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import queue
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from benchmarks_doc import replace_block
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from throughcare.config import REPO_ROOT
from throughcare.db.engine import Database
from throughcare.db.models import ChecklistProgress, Client, Episode, Stage
from throughcare.knowledge.loader import default_knowledge

# The stack's starter lives in tests/ (not installed), shared with the production stack tests.
sys.path.insert(0, str(REPO_ROOT))
from tests.stack import START_TIMEOUT, Stack, production_stack, wait_for

START, END = "<!-- load:begin -->", "<!-- load:end -->"
WORK = REPO_ROOT / "var" / "bench-load"
NOOP = REPO_ROOT / "scripts" / "noop_actions.py"
CONCURRENT = 20
# Ours and the floor take turns this many times (see the docstring).
ROUNDS = 3
OFFERED_RATE = 5.0
# Walked in turn, one step a walk; every warm-up unmarks them (clear_walks), so no checklist runs out of steps.
PROCEDURES = ("care_plan_review", "release_planning", "transfer", "record_keeping", "safeguarding", "court")
# The assistant's reply when it did not understand (actions/conversation.py).
NOT_UNDERSTOOD = "not sure what you meant"


@dataclass(frozen=True)
class Turn:
    text: str
    # Every one of these is in our assistant's reply when it understood; the floor answers "ok" to everything.
    expect: tuple[str, ...]


def turns(client: str, first_round: int) -> Iterator[Turn]:
    """A conversation's messages, round after round, without end."""
    procedures = default_knowledge().procedures
    for n in itertools.count(first_round):
        checklist = procedures[PROCEDURES[n % len(PROCEDURES)]].title.lower()
        yield Turn(f"whats next for {client}", (client,))
        yield Turn("how often are high risk clients reviewed?", ("Source:",))
        yield Turn("what does TTG mean?", ("TTG", "Source:"))
        yield Turn(f"care plan review done today for {client}", ("Recorded the care plan review", client))
        yield Turn(f"start the {checklist} checklist for {client}", (client, "step"))
        yield Turn("done", ("Marked done",))
        yield Turn("stop", ("Stopped",))


class NotUnderstood(RuntimeError):
    pass


class Conversation:
    """One member of staff on one client, one message at a time; each message's round trip is timed."""

    def __init__(self, stack: Stack, client: str, number: int, floor: bool) -> None:
        self.stack, self.floor = stack, floor
        self.sender = f"load-{uuid.uuid4().hex[:10]}"
        self.turns = turns(client, number)
        self.http = httpx.Client(timeout=90)

    def send(self) -> list[float]:
        """Sends the next message, and the confirmation if one is asked for: the round trip of each."""
        turn = next(self.turns)
        took, replies = self._say(turn.text)
        times = [took]
        confirm = [b["payload"] for r in replies for b in r.get("buttons") or [] if b["title"].startswith("Yes")]
        if confirm and not self.floor:
            took, replies = self._say(confirm[0])
            times.append(took)
        said = "\n".join(r.get("text") or "" for r in replies)
        missing = [] if self.floor else [e for e in turn.expect if e not in said]
        if not said.strip() or NOT_UNDERSTOOD in said or missing:
            raise NotUnderstood(f"{self.sender} {turn.text!r}: expected {missing or 'an answer'}, got {said!r}")
        return times

    def _say(self, text: str) -> tuple[float, list[dict]]:
        began = time.perf_counter()
        reply = self.stack.say(self.sender, text, client=self.http)
        took = time.perf_counter() - began
        if reply.status_code != 200:
            raise RuntimeError(f"{self.sender} {text!r}: HTTP {reply.status_code} {reply.text[:200]}")
        return took, reply.json()

    def close(self) -> None:
        self.http.close()


@dataclass
class Run:
    times: list[float]
    seconds: float
    conversations: int

    @property
    def rate(self) -> float:
        return len(self.times) / self.seconds

    def p(self, share: float) -> float:
        """The nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.times) * 1000

    @classmethod
    def pooled(cls, runs: list[Run]) -> Run:
        """Several runs of the same load as one: every message's time, over their time together."""
        return cls([t for run in runs for t in run.times], sum(run.seconds for run in runs), runs[0].conversations)


class Load:
    """Conversations on the stack, each with a demo client of its own (taken in turn, so writes are spread)."""

    def __init__(self, stack: Stack, clients: list[str]) -> None:
        self.stack, self.clients = stack, clients
        self.floor = False
        self.started = itertools.count()

    def conversation(self) -> Conversation:
        number = next(self.started)
        return Conversation(self.stack, self.clients[number % len(self.clients)], number, self.floor)

    def back_to_back(self, conversations: int, messages: int) -> Run:
        """`conversations` at once, each sending `messages` one after another as soon as each is answered."""
        talking = [self.conversation() for _ in range(conversations)]

        def run(conversation: Conversation) -> list[float]:
            times: list[float] = []
            while len(times) < messages:
                times += conversation.send()
            conversation.close()
            return times

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=conversations) as pool:
            results = list(pool.map(run, talking))
        return Run([t for times in results for t in times], time.perf_counter() - began, conversations)

    def offered(self, rate: float, seconds: float) -> Run:
        """Open loop: messages arrive at `rate` a second (Poisson), each to a conversation not waiting for an
        answer, a new one if all are; so a slow answer never holds back the next arrival."""
        idle: queue.SimpleQueue[Conversation] = queue.SimpleQueue()
        everyone: list[Conversation] = []
        times: list[float] = []
        lock = threading.Lock()
        arrivals = random.Random(15)

        def send(conversation: Conversation) -> None:
            took = conversation.send()
            with lock:
                times.extend(took)
            idle.put(conversation)

        jobs: list[Future[None]] = []
        began = time.perf_counter()
        due = began
        with ThreadPoolExecutor(max_workers=64) as pool:
            while due - began < seconds:
                time.sleep(max(0.0, due - time.perf_counter()))
                try:
                    conversation = idle.get_nowait()
                except queue.Empty:
                    conversation = self.conversation()
                    everyone.append(conversation)
                jobs.append(pool.submit(send, conversation))
                due += arrivals.expovariate(rate)
            for job in jobs:
                job.result()
        for conversation in everyone:
            conversation.close()
        # Over the arrivals' window: the rate offered, whatever the answers took.
        return Run(times, seconds, len(everyone))

    def warm_up(self) -> None:
        """A round in a few conversations, not counted: each server's first answers load what they need. The walks
        start again from their first step, so that no client's checklist runs out of steps in a long run."""
        clear_walks(self.stack)
        self.back_to_back(4, 7)


@contextmanager
def case_records(stack: Stack) -> Iterator[Session]:
    """A transaction on the stack's case schema (the benchmark's own), its connection closed after."""
    db = Database.from_url(stack.env["DATABASE_URL"])
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.engine.dispose()


def clear_walks(stack: Stack) -> None:
    """Every step the benchmark's walks marked, unmarked."""
    with case_records(stack) as session:
        session.execute(delete(ChecklistProgress).where(ChecklistProgress.procedure_id.in_(PROCEDURES)))


def open_clients(stack: Stack) -> list[str]:
    """The demo clients in treatment: each can have a review recorded and checklists walked."""
    with case_records(stack) as session:
        return list(
            session.scalars(
                select(Client.prison_number)
                .join(Episode.client)
                .where(Episode.stage == Stage.in_treatment, Episode.closure_date.is_(None))
                .order_by(Client.prison_number)
            )
        )


def wait_until(stack: Stack, names: tuple[str, ...], up: bool, within: float = 60) -> None:
    state = "UP" if up else "down"
    wait_for(
        lambda: all((stack.states().get(name) == "UP") == up for name in names),
        within,
        f"{', '.join(names)} {state} in HAProxy",
        stack.log,
    )


@contextmanager
def noop_actions(stack: Stack, load: Load) -> Iterator[None]:
    """Our action servers stopped and a no-op one started on each of their ports, behind the same HAProxy."""
    stack.supervisorctl("stop", *stack.action_servers)
    wait_until(stack, stack.action_servers, up=False)
    first = int(stack.env["ACTION_BACKEND_PORT"])
    python = str(REPO_ROOT / ".venv/bin/python")
    with (stack.log / "noop-actions.log").open("a") as log:
        servers = [
            subprocess.Popen([python, str(NOOP), "--port", str(first + i)], stdout=log, stderr=log)
            for i in range(len(stack.action_servers))
        ]
    load.floor = True
    try:
        wait_until(stack, stack.action_servers, up=True)
        yield
    finally:
        load.floor = False
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        stack.supervisorctl("start", *stack.action_servers)
        wait_until(stack, stack.action_servers, up=True)


def measure(stack: Stack, quick: bool, say: Callable[[str], None]) -> dict[str, Run]:
    load = Load(stack, open_clients(stack))
    if len(load.clients) < CONCURRENT:
        raise RuntimeError(f"the demo caseload has {len(load.clients)} clients in treatment, fewer than {CONCURRENT}")
    single, each, offered_for = (7, 7, 15.0) if quick else (42, 28, 60.0)
    rounds: dict[str, list[Run]] = {"single": [], "concurrent": [], "floor_single": [], "floor_concurrent": []}
    for turn in range(1, ROUNDS + 1):
        say(f"round {turn} of {ROUNDS}, ours: warming up, one conversation, {CONCURRENT} conversations")
        load.warm_up()
        rounds["single"].append(load.back_to_back(1, single))
        rounds["concurrent"].append(load.back_to_back(CONCURRENT, each))
        with noop_actions(stack, load):
            say(f"round {turn} of {ROUNDS}, floor: the same")
            load.warm_up()
            rounds["floor_single"].append(load.back_to_back(1, single))
            rounds["floor_concurrent"].append(load.back_to_back(CONCURRENT, each))
    runs = {name: Run.pooled(measured) for name, measured in rounds.items()}
    say(f"ours: offered {OFFERED_RATE:g} messages/s")
    load.warm_up()
    runs["offered"] = load.offered(OFFERED_RATE, offered_for)
    say("ours on one Rasa server")
    stopped = stack.rasa_servers[1:]
    stack.supervisorctl("stop", *stopped)
    wait_until(stack, stopped, up=False)
    load.warm_up()
    runs["one_rasa"] = load.back_to_back(CONCURRENT, each)
    # Two servers again, measured after one as well as before: the run's order (warm caches, the machine's other
    # load) counts as much as the difference looked for.
    say("ours on two Rasa servers again")
    stack.supervisorctl("start", *stopped)
    wait_until(stack, stopped, up=True, within=START_TIMEOUT)
    load.warm_up()
    runs["concurrent_again"] = load.back_to_back(CONCURRENT, each)
    return runs


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def markdown(runs: dict[str, Run], quick: bool, load_before: float) -> str:
    single, concurrent, offered = runs["single"], runs["concurrent"], runs["offered"]
    floor_single, floor_concurrent, one_rasa = runs["floor_single"], runs["floor_concurrent"], runs["one_rasa"]
    again = runs["concurrent_again"]
    single_ratio, concurrent_ratio = single.p50 / floor_single.p50, concurrent.p50 / floor_concurrent.p50
    command = "scripts/bench_load.py --quick --write" if quick else "scripts/bench_load.py --write"
    return "\n".join(
        [
            START,
            f"`make production` with 2 Rasa and 2 action servers behind HAProxy, PostgreSQL tracker store, Redis "
            f"lock store, on the demo caseload; {platform.machine()}, {os.cpu_count()} cores, load average "
            f"{load_before:.1f} before the run, {time.strftime('%d %b %Y %H:%M UTC', time.gmtime())}; "
            f"`.venv/bin/python {command}`" + (" (a smoke run: too short to judge the targets by)." if quick else "."),
            "",
            "Each conversation, signed as the demo practitioner with a client of its own, sends one message at a "
            "time: what's next for its client, a protocol question, a term, a care plan review recorded, a "
            "checklist walk started, a step done, the walk stopped; every reply is checked. The floor is the same "
            'stack and model with every action answered by `scripts/noop_actions.py` (no events, one "ok"). '
            f"Ours and the floor took turns for {ROUNDS} rounds, each figure pooling its rounds. "
            "Round trips through HAProxy; p50 / p95 in milliseconds.",
            "",
            "| load | ours | floor | ours / floor (p50) | target | |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| 1 conversation back to back ({len(single.times)} messages): p50 / p95 | {single.p50:.0f} / "
            f"{single.p(0.95):.0f} | {floor_single.p50:.0f} / {floor_single.p(0.95):.0f} | {single_ratio:.2f}× "
            f"| ≤ 1.3× | {verdict(single_ratio <= 1.3)} |",
            f"| {CONCURRENT} conversations back to back ({len(concurrent.times)} messages): messages/s "
            f"| {concurrent.rate:.1f} | {floor_concurrent.rate:.1f} | | ≥ 30 | {verdict(concurrent.rate >= 30)} |",
            f"| {CONCURRENT} conversations: p50 / p95 | {concurrent.p50:.0f} / {concurrent.p(0.95):.0f} "
            f"| {floor_concurrent.p50:.0f} / {floor_concurrent.p(0.95):.0f} | {concurrent_ratio:.2f}× "
            f"| p95 < 1000; ≤ 1.3× | {verdict(concurrent.p(0.95) < 1000 and concurrent_ratio <= 1.3)} |",
            f"| offered {OFFERED_RATE:g} messages/s, Poisson ({len(offered.times)} messages in "
            f"{offered.conversations} conversations, {offered.seconds:.0f} s): p50 / p95 "
            f"| {offered.p50:.0f} / {offered.p(0.95):.0f} | | | p95 < 200 | {verdict(offered.p(0.95) < 200)} |",
            f"| {CONCURRENT} conversations on 1 Rasa server (the other stopped): messages/s; p50 / p95 "
            f"| {one_rasa.rate:.1f}; {one_rasa.p50:.0f} / {one_rasa.p(0.95):.0f} | | | | |",
            f"| {CONCURRENT} conversations on 2 Rasa servers again, after 1: messages/s; p50 / p95 "
            f"| {again.rate:.1f}; {again.p50:.0f} / {again.p(0.95):.0f} | | | ≥ 30 | {verdict(again.rate >= 30)} |",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--write", action="store_true", help="replace the block in docs/benchmarks.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    began = time.monotonic()

    def say(what: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {what}", flush=True)

    # The stack's configuration and logs stay in var/bench-load/ after the run, to read if it failed.
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    say("starting the production stack")
    try:
        with production_stack(WORK, rasa_servers=2, action_servers=2) as stack:
            runs = measure(stack, args.quick, say)
    except (pytest.skip.Exception, pytest.fail.Exception) as err:
        sys.exit(f"bench_load: {err}")
    block = markdown(runs, args.quick, load_before)
    print(block)
    if args.write:
        replace_block(block, START, END)


if __name__ == "__main__":
    main()
