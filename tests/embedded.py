"""Test servers' ports and endpoints for the embedded default, shared by tests/servers.py and scripts/fuzz.py,
and how the scripts find the Rasa server they started.

Nothing here imports pytest's fixtures, so a script can use it outside a test run.
"""

from __future__ import annotations

import socket
from pathlib import Path

# Rasa runs as `python -m rasa_components.server` (scripts/serve, tests/servers.py): its command line says so.
RASA_MODULE = b"rasa_components.server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Rasa is handed the last exchanges of a long conversation (rasa_components/tracker_store.py; 10 in endpoints.yml).
# The test servers hand it only the last 2, so that every test conversation longer than that answers through the
# window: a rule or an action that needed more than it holds would fail there.
WINDOW_TURNS = 2


def embedded_endpoints(directory: Path, action_port: int) -> Path:
    """An endpoints file like endpoints.yml (our tracker store on SQLite), with the action server on
    `action_port`, the conversations in `directory` and a window of WINDOW_TURNS; returns its path."""
    endpoints = directory / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "tracker_store:\n  type: rasa_components.tracker_store.ThroughcareTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{directory / "tracker.db"}"\n  window_turns: {WINDOW_TURNS}\n'
    )
    return endpoints


def rasa_pid(port: int | None = None) -> int:
    """The process id of the Rasa server started as RASA_MODULE (the one on `port`, when given)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            parts = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if RASA_MODULE in parts and (port is None or str(port).encode() in parts):
            return int(cmdline.parent.name)
    raise RuntimeError("no Rasa process found")
