"""How the dashboard is served: on the loopback interface unless told otherwise, with an access log that never
holds a query string.

A sign-in link carries its token in the query string (`/login?token=…&nonce=…`), and uvicorn's access log
prints each request's path with its query. Logs are kept longer and read by more people than a link is
meant to live, so the query string is cut from every line: the filter values of other pages are not worth
the risk of the next page that carries a secret in its address.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "8050"


class WithoutQueryStrings(logging.Filter):
    """Cuts the query string from the path in uvicorn's access log lines; the line is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, HTTP version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"without_query_strings": {"()": WithoutQueryStrings}}
    config["loggers"]["uvicorn.access"]["filters"] = ["without_query_strings"]
    return config


class SettingError(ValueError):
    """A setting the dashboard can't start with; the message says which and why."""


def server_config(app: FastAPI, environ: Mapping[str, str]) -> uvicorn.Config:
    port = environ.get("DASHBOARD_PORT") or DEFAULT_PORT
    if not port.isdigit():
        raise SettingError(f"DASHBOARD_PORT must be a port number, not '{port}'.")
    # ws="none": the dashboard has no websockets, and the websockets library pinned for the action server is
    # older than the one uvicorn's auto-detection imports.
    return uvicorn.Config(
        app,
        host=environ.get("DASHBOARD_HOST") or DEFAULT_HOST,
        port=int(port),
        ws="none",
        log_config=log_config(),
    )
