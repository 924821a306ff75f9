"""Runs a check of checks_in_rasa.py in Rasa's environment (.venv-rasa), where rasa_components/ lives."""

import subprocess
from pathlib import Path

from throughcare.config import REPO_ROOT

RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
CHECKS = Path(__file__).with_name("checks_in_rasa.py")


def check(*arguments: str) -> list[str]:
    """The lines the check printed; the test fails with its output when it exits non-zero."""
    result = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", str(CHECKS), *arguments],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout.splitlines()
