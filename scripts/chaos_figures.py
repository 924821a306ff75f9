"""Writes the figures of the last `make chaos` (tests/e2e/test_chaos.py wrote them to a JSON file) into
docs/benchmarks.md, between the chaos markers, and prints them.

    .venv/bin/python scripts/chaos_figures.py var/chaos/results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks_doc import replace_block

START, END = "<!-- chaos:begin -->", "<!-- chaos:end -->"
# The order the tests run in, which is the order of the table.
FAULTS = (
    "kill -9 of an action server",
    "restart of PostgreSQL",
    "crash of PostgreSQL (stop -m immediate)",
    "kill -9 of Redis, started again empty",
)


def block(results: dict[str, dict]) -> str:
    measured = max(run["measured"] for run in results.values())
    rows = [
        "| fault | messages | confirmed, each found once in the case database | told the records are unavailable "
        "| not answered (HTTP error or empty answer) | recorded but not confirmed (in flight on a killed server) "
        "| every conversation recording again within | killed server back in rotation after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for fault in (f for f in FAULTS if f in results):
        run = results[fault]
        restarted = f"{run['restarted_within']:.1f} s" if run["restarted_within"] is not None else ""
        rows.append(
            f"| {fault} | {run['messages']} | {run['confirmed']} ({run['found_in_database']} found) "
            f"| {run['records_unavailable']} | {run['not_answered']} | {run['found_but_not_confirmed']} "
            f"| {run['answered_again_within']:.1f} s | {restarted} |"
        )
    return "\n".join(
        [START, f"Measured {measured} with `make chaos` (1 Rasa and 2 action servers, 2 cores).", "", *rows, END]
    )


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    text = block(results)
    replace_block(text, START, END)
    print(text)


if __name__ == "__main__":
    main()
