"""Faults under the production stack, for real: while conversations record referrals through HAProxy, kill -9 an
action server, restart PostgreSQL, kill -9 Redis and start it again (the PostgreSQL and Redis are the test's own,
on spare ports). Then, from the case database: every referral the assistant confirmed to staff is there exactly
once, and none that it did not confirm but a message in flight on a killed action server (each message was
answered with a confirmation, with "I can't reach the case records ... nothing was read or changed", or not
answered at all: an HTTP error or Rasa's empty answer, which the gateway shows as "not answered and nothing was
changed"). Every conversation records again within a stated time of the fault, without anyone acting; a killed
server is restarted by supervisord.

The action-server kill runs in `make test`; the restarts (marked `chaos`) only in `make chaos`. With CHAOS_RESULTS
set, each test adds its figures to that file, which scripts/chaos_figures.py writes into docs/benchmarks.md.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from actions.common import DATABASE_DOWN
from tests.private_services import PrivatePostgres, PrivateRedis, private_postgres, private_redis
from tests.stack import Stack, production_stack, wait_for

pytestmark = pytest.mark.rasa

CONVERSATIONS = 6
# Every conversation records something before the fault (the first message on each server is slow), and traffic
# goes on after it until every conversation has recorded again, or until KEEP_SENDING_FOR has passed.
WARMED_UP_WITHIN = 120.0
KEEP_SENDING_FOR = 120.0
# How long PostgreSQL and Redis stay down: a restart that takes a while, so that messages arrive meanwhile.
DOWN_FOR = 5.0
# Every conversation records again within these many seconds of the fault's end (the server killed; PostgreSQL or
# Redis accepting connections again). An action server's death costs at most the messages in flight on it, as
# HAProxy tries a refused connection on the other; after a restart each pooled connection fails once at most.
ACTION_KILL_ANSWERED_AGAIN_WITHIN = 10.0
RESTART_ANSWERED_AGAIN_WITHIN = 15.0
# supervisord starts a killed action server again at once; it answers HAProxy's checks after it imports actions.
ACTION_RESTARTED_WITHIN = 60.0
# Where `make chaos` collects the figures for scripts/chaos_figures.py; unset (as in `make test`), only printed.
CHAOS_RESULTS = os.environ.get("CHAOS_RESULTS")

# The prison numbers of this run: a letter and four digits counting up, then two letters drawn for the run. No two
# messages share one, and no demo client does: the demo's four digits never start with 0.
_RUN = "".join(random.choices(string.ascii_uppercase, k=2))
_COUNT = itertools.count(1)
_COUNT_LOCK = threading.Lock()


def fresh_prison_number() -> str:
    with _COUNT_LOCK:
        n = next(_COUNT)
    return f"{string.ascii_uppercase[n // 1000]}0{n % 1000:03d}{_RUN}"


@dataclass
class Outcome:
    sender: str
    prison_number: str
    sent: float
    answered: float
    # "confirmed", "records unavailable" (the actions' DATABASE_DOWN), "not answered: ..." (HTTP error, no
    # connection, or an empty answer), or "unexpected: ..." (anything else, which fails the test).
    kind: str


def send_referral(stack: Stack, sender: str, client: httpx.Client) -> Outcome:
    number, sent = fresh_prison_number(), time.monotonic()
    try:
        reply = stack.say(sender, f"log a self referral for {number}", client=client)
        if reply.status_code != 200:
            kind = f"not answered: HTTP {reply.status_code}"
        else:
            said = [m.get("text") or "" for m in reply.json()]
            if not any(said):
                kind = "not answered: empty"
            elif any(m.startswith(f"Recorded a new referral for {number} today") for m in said):
                kind = "confirmed"
            elif DATABASE_DOWN in said:
                kind = "records unavailable"
            else:
                kind = f"unexpected: {said!r:.200}"
    except (httpx.TransportError, ValueError) as err:
        kind = f"not answered: {type(err).__name__}"
    return Outcome(sender, number, sent, time.monotonic(), kind)


@dataclass
class FaultRun:
    fault: str
    messages: int
    confirmed: int
    records_unavailable: int
    not_answered: int
    # Seconds from the fault's end (server killed; PostgreSQL or Redis back) until every conversation had a
    # referral confirmed that it sent after the fault began.
    answered_again_within: float
    # Referrals confirmed to staff and found in the case database (once each), and those found but not confirmed.
    found_in_database: int
    found_but_not_confirmed: int
    restarted_within: float | None = None


def run_with_fault(
    stack: Stack, name: str, fault: Callable[[], float], in_flight_may_be_recorded: bool = False
) -> tuple[FaultRun, list[Outcome]]:
    """CONVERSATIONS conversations record referral after referral; `fault()` runs meanwhile and returns the
    monotonic time its fault ended. Traffic goes on until every conversation has a referral confirmed since the
    fault began (failing after KEEP_SENDING_FOR), then the case database is read.

    `in_flight_may_be_recorded`: an action server killed between committing a write and answering leaves a write
    that nobody was told about; only a message in flight at the kill may be such a one, and it is counted."""
    outcomes: list[Outcome] = []
    stop = threading.Event()
    senders = [f"chaos-{name.split()[0]}-{uuid.uuid4().hex[:8]}" for _ in range(CONVERSATIONS)]

    def conversation(sender: str) -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                outcomes.append(send_referral(stack, sender, client))

    threads = [threading.Thread(target=conversation, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    try:

        def all_confirmed_since(moment: float) -> bool:
            return {o.sender for o in list(outcomes) if o.kind == "confirmed" and o.sent > moment} == set(senders)

        # The fault cuts into traffic: every conversation has recorded something, and goes on recording.
        wait_for(lambda: all_confirmed_since(0), WARMED_UP_WITHIN, "every conversation recording", stack.log)
        began = time.monotonic()
        ended = fault()
        wait_for(lambda: all_confirmed_since(began), KEEP_SENDING_FOR, "every conversation recording again", stack.log)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

    unexpected = [o for o in outcomes if o.kind.startswith("unexpected")]
    assert unexpected == [], unexpected[:5]
    confirmed = {o.prison_number for o in outcomes if o.kind == "confirmed"}
    found = referrals_in_database(stack, {o.prison_number for o in outcomes})
    # Confirmed means recorded, once; "nothing was changed" (told or shown) means nothing was.
    assert {n: c for n, c in found.items() if c != 1} == {}, "a referral recorded more than once"
    assert confirmed - set(found) == set(), "confirmed to staff but not in the case database"
    not_confirmed = [o for o in outcomes if o.prison_number in set(found) - confirmed]
    in_flight = [o for o in not_confirmed if in_flight_may_be_recorded and o.sent < ended < o.answered]
    assert [o for o in not_confirmed if o not in in_flight] == [], "recorded although staff were told nothing was"
    first_again = [
        min(o.answered for o in outcomes if o.sender == s and o.kind == "confirmed" and o.sent > began) for s in senders
    ]
    run = FaultRun(
        fault=name,
        messages=len(outcomes),
        confirmed=len(confirmed),
        records_unavailable=sum(o.kind == "records unavailable" for o in outcomes),
        not_answered=sum(o.kind.startswith("not answered") for o in outcomes),
        answered_again_within=round(max(0.0, max(first_again) - ended), 1),
        found_in_database=len(set(found) & confirmed),
        found_but_not_confirmed=len(not_confirmed),
    )
    return run, outcomes


def referrals_in_database(stack: Stack, numbers: set[str]) -> dict[str, int]:
    """How many referral episodes, each with its audit entry, the case database holds for each of `numbers`."""
    engine = create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.prison_number, count(DISTINCT e.id), count(DISTINCT a.id) FROM client c "
                    "JOIN episode e ON e.client_id = c.id "
                    "LEFT JOIN audit_event a ON a.entity = 'episode' AND a.entity_id = e.id "
                    "AND a.action = 'record_referral' "
                    "WHERE c.prison_number = ANY(:numbers) GROUP BY c.prison_number"
                ),
                {"numbers": sorted(numbers)},
            )
            # An episode without its audit entry, or with two, counts as recorded wrongly (not 1).
            return {number: episodes if audits == episodes else -1 for number, episodes, audits in rows}
    finally:
        engine.dispose()


def report(run: FaultRun, outcomes: list[Outcome]) -> None:
    """Prints the figures and adds them to CHAOS_RESULTS, if set (replacing this fault's earlier ones)."""
    kinds = sorted({o.kind for o in outcomes if o.kind != "confirmed"})
    print(f"\n{run.fault}: {json.dumps(asdict(run))}; not confirmed: {', '.join(kinds) or 'none'}")
    if not CHAOS_RESULTS:
        return
    path = Path(CHAOS_RESULTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(path.read_text()) if path.exists() else {}
    results[run.fault] = {**asdict(run), "measured": time.strftime("%Y-%m-%d"), "not_confirmed_as": kinds}
    path.write_text(json.dumps(results, indent=2) + "\n")


def sessions_in_progress(stack: Stack, server: str) -> int:
    """Requests HAProxy has in progress on `server` (the `scur` column of its statistics)."""
    rows = httpx.get(f"{stack.stats};csv", timeout=5).text.splitlines()
    return next(int(row.split(",")[4]) for row in rows[1:] if row.split(",")[1:2] == [server])


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    with private_postgres() as postgres, private_redis() as redis:
        yield postgres, redis


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, services: tuple[PrivatePostgres, PrivateRedis]) -> Iterator[Stack]:
    postgres, redis = services
    # One Rasa server: the faults here are in what every Rasa server shares (an action server, PostgreSQL, Redis),
    # and one starts in half the time of two on 2 cores (test_production_stack.py kills one Rasa server of two).
    with production_stack(
        tmp_path_factory.mktemp("chaos"),
        rasa_servers=1,
        action_servers=2,
        postgres_url=postgres.url,
        redis=("127.0.0.1", redis.port),
    ) as running:
        yield running


def test_a_killed_action_server_loses_no_confirmed_write_and_is_restarted(stack: Stack) -> None:
    victim = stack.action_servers[0]
    old_pid = stack.pid(victim)
    killed: list[float] = []

    def kill() -> float:
        # Killed while HAProxy has a request in progress on it, if one comes within a few seconds: the action that
        # request runs dies with it, and its answer must still be honest.
        deadline = time.monotonic() + 10
        while sessions_in_progress(stack, victim) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(old_pid, signal.SIGKILL)
        killed.append(time.monotonic())
        return killed[0]

    run, outcomes = run_with_fault(stack, "kill -9 of an action server", kill, in_flight_may_be_recorded=True)
    wait_for(
        lambda: stack.pid(victim) not in (0, old_pid) and stack.states()[victim] == "UP",
        ACTION_RESTARTED_WITHIN,
        f"{victim} restarted by supervisord and back in HAProxy's rotation",
        stack.log,
    )
    run.restarted_within = round(time.monotonic() - killed[0], 1)
    report(run, outcomes)
    assert run.answered_again_within < ACTION_KILL_ANSWERED_AGAIN_WITHIN
    # Not answered, staff send it again (the gateway's "Send again"): recorded now if the first did not land, refused
    # if it did, naming when; never a second referral.
    unanswered = [o for o in outcomes if o.kind.startswith("not answered")]
    for first in unanswered:
        recorded = referrals_in_database(stack, {first.prison_number}).get(first.prison_number, 0)
        reply = stack.say(first.sender, f"log a self referral for {first.prison_number}")
        said = " ".join(m.get("text") or "" for m in reply.json())
        expected = "already has an open episode" if recorded else f"Recorded a new referral for {first.prison_number}"
        assert expected in said, (recorded, said)
        assert referrals_in_database(stack, {first.prison_number}) == {first.prison_number: 1}


@pytest.mark.chaos
@pytest.mark.parametrize(
    ("mode", "name"),
    # An operator's restart (transactions rolled back, clients told), and a crash (every process ended at once; the
    # server recovers from its write-ahead log when started).
    [("fast", "restart of PostgreSQL"), ("immediate", "crash of PostgreSQL (stop -m immediate)")],
)
def test_postgresql_restarted_under_the_stack_loses_no_confirmed_write(
    stack: Stack, services: tuple[PrivatePostgres, PrivateRedis], mode: str, name: str
) -> None:
    postgres = services[0]

    def restart() -> float:
        postgres.stop(mode)
        time.sleep(DOWN_FOR)
        postgres.start()
        return time.monotonic()

    run, outcomes = run_with_fault(stack, name, restart)
    report(run, outcomes)
    assert run.records_unavailable + run.not_answered > 0, "no message met the outage: the test tested nothing"
    assert run.answered_again_within < RESTART_ANSWERED_AGAIN_WITHIN


@pytest.mark.chaos
def test_redis_killed_and_started_again_under_the_stack_loses_no_confirmed_write(
    stack: Stack, services: tuple[PrivatePostgres, PrivateRedis]
) -> None:
    redis = services[1]

    def restart() -> float:
        redis.kill()
        time.sleep(DOWN_FOR)
        redis.start()
        return time.monotonic()

    run, outcomes = run_with_fault(stack, "kill -9 of Redis, started again empty", restart)
    report(run, outcomes)
    assert run.records_unavailable + run.not_answered > 0, "no message met the outage: the test tested nothing"
    assert run.answered_again_within < RESTART_ANSWERED_AGAIN_WITHIN
