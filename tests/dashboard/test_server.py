"""How the dashboard is served: on this machine only unless told otherwise, and no sign-in link in any log."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from dashboard.app import create_app
from dashboard.server import SettingError, server_config
from tests.dashboard.conftest import SECRET, Dashboard, _free_port


def test_it_listens_on_the_loopback_interface_unless_told_otherwise(dashboard: Dashboard) -> None:
    app = create_app(dashboard.db, dashboard.knowledge, SECRET)
    default = server_config(app, {})
    assert (default.host, default.port) == ("127.0.0.1", 8050)
    assert server_config(app, {"DASHBOARD_HOST": "", "DASHBOARD_PORT": ""}).host == "127.0.0.1"
    chosen = server_config(app, {"DASHBOARD_HOST": "10.0.0.5", "DASHBOARD_PORT": "9000"})
    assert (chosen.host, chosen.port) == ("10.0.0.5", 9000)
    with pytest.raises(SettingError, match="DASHBOARD_PORT must be a port number, not 'http'"):
        server_config(app, {"DASHBOARD_PORT": "http"})


@pytest.fixture
def uvicorn_logging() -> Iterator[None]:
    """Starting a server configures uvicorn's loggers for the whole process, with handlers on this test's captured
    output: put them back as they were afterwards."""
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(logger.handlers[:], logger.filters[:], logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, (handlers, filters, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers, logger.filters, logger.level, logger.propagate = handlers, filters, level, propagate


def test_the_access_log_never_holds_a_sign_in_link(
    dashboard: Dashboard, capfd: pytest.CaptureFixture[str], uvicorn_logging: None
) -> None:
    port = _free_port()
    app = create_app(dashboard.db, dashboard.knowledge, SECRET, today=lambda: dashboard.today)
    server = uvicorn.Server(server_config(app, {"DASHBOARD_PORT": str(port)}))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.05)
    link = httpx.URL(dashboard.link(dashboard.manager_id)).copy_with(host="127.0.0.1", port=port)
    try:
        with httpx.Client(timeout=30) as client, httpx.Client(timeout=30) as another:
            assert client.get(link).status_code == 200
            assert another.get(link).status_code == 403
            assert another.get(link.copy_with(query=b"token=1.1.%C3%A9")).status_code == 403
            assert client.get(link.copy_with(path="/", query=b"team=Recovery+team+A")).status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)
    logged = capfd.readouterr()
    log = logged.out + logged.err
    assert log.count('"GET /login HTTP/1.1" 200') == 1
    assert log.count('"GET /login HTTP/1.1" 403') == 2
    assert '"GET / HTTP/1.1" 200' in log
    for secret in (link.params["token"], link.params["nonce"], "token=", "nonce=", "%C3%A9", "Recovery"):
        assert secret not in log
