"""Time every regex and parser of ours that reads user text, on adversarial inputs of 100 kB.

    .venv/bin/python scripts/bench_inputs.py [--size 100000] [--write]

Each reader is run on every input, the best of RUNS runs (runs of spaces, nested-quantifier bait, very long
words, long digit runs, repeated punctuation, control characters, emoji, near misses of prison numbers, dates
and event words), and its slowest input is printed with the time, at 100 kB and at the channel's message
limit. At 100 kB the figure shows whether a reader's cost grows faster than its text; at the limit, the most
a reader is ever given, none may take TARGET_MS (the exit status says so).
`--write` puts the table into docs/benchmarks.md between the input-benchmark markers.

    .venv/bin/python scripts/bench_inputs.py --served http://127.0.0.1:5005/webhooks/rest/webhook --rasa-pid PID

With `make serve` running, `--served` instead posts five 1 MB bodies and five 51,000-character messages to it
and prints the slowest answer of each and Rasa's resident memory before and after (from /proc/PID/status).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actions.induction import WORDS as INDUCTION_PATTERNS
from actions.parsing import skip_reason
from actions.protocol import asked_phrase
from actions.safeguarding import QUESTION
from rasa_components.normaliser import Normaliser
from tests.fuzz import rss_mb
from throughcare.access import identity, input_limits
from throughcare.cases import prison_numbers
from throughcare.cases.dates import DateNotUnderstood, find_date_text, parse_date
from throughcare.config import REPO_ROOT
from throughcare.knowledge.loader import load_knowledge
from throughcare.knowledge.nlu_patterns import rasa_entity_data
from throughcare.knowledge.search import default_search

BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- inputs:begin -->", "<!-- inputs:end -->"
TARGET_MS = 50.0
# The best of a few runs of each input, so that another process on the machine does not make the figure.
RUNS = 3
TODAY = dt.date(2026, 12, 2)


def adversarial(size: int) -> dict[str, str]:
    """Inputs of `size` characters shaped to make a backtracking pattern or a naive parser work hardest."""

    def fill(unit: str, tail: str = "") -> str:
        return (unit * (size // len(unit) + 1))[: size - len(tail)] + tail

    return {
        "spaces": fill(" "),
        "spaces, then a line break": fill(" ", "x\ny"),
        "word, spaces, newline": "what does" + fill(" ", "x\n?"),
        "tabs and newlines": fill("\t \n"),
        "one long word": fill("a"),
        "long digit run": fill("1"),
        "digits and letters": fill("a1"),
        "prison-number near misses": fill("A1234B "),
        "prison numbers": fill("A1234BC "),
        "repeated question marks": fill("?"),
        "repeated punctuation": fill("?!.,;:-'\"()"),
        "control characters": fill("\x00\x01\x1b[0m\x7f\x9b"),
        "emoji": fill("🙂"),
        "emoji and joiners": fill("👩\u200d⚕️"),
        "date near misses": fill("1/1/"),
        "dates": fill("the 1st of march next tuesday 14/01/2027 "),
        "ordinal bait": fill("1st 2nd 3rd "),
        "count bait": fill("in two in two weeks "),
        "event words": fill("care plan review initial assessment released "),
        "event-word prefixes": fill("care plan revie "),
        "what what what": fill("what is the "),
        "skip skip skip": fill("skip it "),
        "question words": fill("can he what "),
        "payload bait": "/define_term{" + fill('"term":', "}"),
    }


def readers() -> list[tuple[str, Callable[[str], object]]]:
    knowledge = load_knowledge()
    entity_yaml = rasa_entity_data(knowledge)
    entity_patterns = [
        {"name": name, "pattern": pattern}
        for name, pattern in re.findall(r"- regex: (\w+)\n  examples: \|\n    - (.+)\n", entity_yaml)
    ]
    normalise = Normaliser(entity_patterns)
    search = default_search()
    secret = b"bench-secret-0123456789abcdef"

    def read_date(text: str) -> object:
        try:
            return parse_date(text, TODAY, "past")
        except DateNotUnderstood:
            return None

    targets: list[tuple[str, Callable[[str], object]]] = [
        ("channel: read_chat_request (whole body)", lambda t: input_limits.read_chat_request(t.encode())),
        ("channel: clean_text", input_limits.clean_text),
        ("channel: has_visible_character", input_limits.has_visible_character),
        ("channel: longest_word", input_limits.longest_word),
        ("actions/protocol.py TERM_QUESTION (asked_phrase)", asked_phrase),
        ("actions/parsing.py SKIP_WORDS (skip_reason)", skip_reason),
        ("actions/safeguarding.py QUESTION", QUESTION.search),
        *((f"actions/induction.py {name}", pattern.search) for name, pattern in INDUCTION_PATTERNS),
        ("throughcare/cases/dates.py DATE_PATTERN (find_date_text)", find_date_text),
        ("throughcare/cases/dates.py parse_date", read_date),
        ("throughcare/cases/prison_numbers.py normalise", prison_numbers.normalise),
        ("throughcare/cases/prison_numbers.py FIND (find_in)", prison_numbers.find_in),
        ("throughcare/cases/prison_numbers.py LOOKS_LIKE (find_malformed)", prison_numbers.find_malformed),
        ("throughcare/knowledge/search.py search", search.search),
        ("throughcare/knowledge/schema.py find_term", knowledge.find_term),
        ("throughcare/access/identity.py verify (metadata token)", lambda t: identity.verify(t, secret, subject="x")),
        *(
            (f"build/nlu/entities.yml {p['name']} regex", re.compile(p["pattern"], re.IGNORECASE).findall)
            for p in entity_patterns
        ),
        ("rasa_components Normaliser", normalise),
    ]
    return targets


def timed(read: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    read(text)
    return (time.perf_counter() - start) * 1000


def worst_times(size: int) -> dict[str, tuple[str, float]]:
    """For each reader, its slowest input of `size` characters and the time it took, in milliseconds."""
    inputs = adversarial(size)
    worst: dict[str, tuple[str, float]] = {}
    for name, read in readers():
        read("what's next for A1234BC yesterday")  # dateparser and the search load their data on first use
        worst[name] = ("", 0.0)
        for label, text in inputs.items():
            elapsed = min(timed(read, text) for _ in range(RUNS))
            if elapsed >= worst[name][1]:
                worst[name] = (label, elapsed)
    return worst


def table(large: dict[str, tuple[str, float]], limit: dict[str, tuple[str, float]], size: int) -> str:
    command = "`.venv/bin/python scripts/bench_inputs.py --write`"
    lines = [
        f"Every reader of user text on {len(adversarial(size))} adversarial inputs; {platform.machine()}, 2 cores, "
        f"{dt.date.today():%d %b %Y}; {command}. The slowest input of {size:,} characters, and the slowest of "
        f"{input_limits.MAX_MESSAGE_CHARS:,} (the most any reader is given: the channel's limit).",
        "",
        f"| reader | slowest at {size:,} | time | at {input_limits.MAX_MESSAGE_CHARS:,} | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (label, ms) in large.items():
        lines.append(f"| {name} | {label} | {ms:.1f} ms | {limit[name][1]:.1f} ms | < {TARGET_MS:.0f} ms |")
    return "\n".join(lines)


def write(text: str) -> None:
    doc = BENCHMARKS.read_text(encoding="utf-8")
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    BENCHMARKS.write_text(doc[:start] + "\n" + text + "\n" + doc[end:], encoding="utf-8")


def served(url: str, rasa_pid: int, rounds: int = 5) -> str:
    """What huge messages cost the served assistant: the slowest answer of each kind, and Rasa's memory."""
    sender = f"bench-inputs-{time.time_ns()}"
    httpx.post(url, json={"sender": sender, "message": "what does TTG mean?"}, timeout=120).raise_for_status()
    before = rss_mb(rasa_pid)
    bodies = {"1 MB body": json.dumps({"sender": sender, "message": "a " * 500_000}).encode()}
    bodies["51,000-character message"] = json.dumps({"sender": sender, "message": "care plan review " * 3000}).encode()
    slowest = dict.fromkeys(bodies, 0.0)
    for _ in range(rounds):
        for name, content in bodies.items():
            start = time.perf_counter()
            httpx.post(url, content=content, headers={"content-type": "application/json"}, timeout=120)
            slowest[name] = max(slowest[name], time.perf_counter() - start)
    answers = "; ".join(f"{name} answered in {seconds * 1000:.0f} ms at most" for name, seconds in slowest.items())
    return f"{rounds} of each: {answers}; Rasa resident {before:.0f} MB before, {rss_mb(rasa_pid):.0f} MB after."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="put the table into docs/benchmarks.md")
    parser.add_argument("--served", metavar="URL", help="time huge messages on a running assistant instead")
    parser.add_argument("--rasa-pid", type=int, help="with --served: the Rasa process, for its memory")
    args = parser.parse_args()
    if args.served:
        if not args.rasa_pid:
            parser.error("--served needs --rasa-pid")
        print(served(args.served, args.rasa_pid))
        return 0
    large = worst_times(args.size)
    limit = worst_times(input_limits.MAX_MESSAGE_CHARS)
    text = table(large, limit, args.size)
    print(text)
    if args.write:
        write(text)
    return 0 if all(ms < TARGET_MS for _, ms in limit.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
