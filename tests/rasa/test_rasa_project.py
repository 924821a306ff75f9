"""Rasa's own checks on the project: the training data validates and the test stories pass."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from throughcare.config import REPO_ROOT

pytestmark = pytest.mark.rasa
RASA = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
ENV = {**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RASA), *args], cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=900)


def test_training_data_and_domain_validate_without_warnings() -> None:
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_test_stories_pass_with_the_trained_model(tmp_path: Path) -> None:
    result = rasa(
        "test",
        "core",
        "--stories",
        "tests/rasa/test_stories.yml",
        "--model",
        "models/throughcare.tar.gz",
        "--out",
        str(tmp_path),
        "--fail-on-prediction-errors",
        "--no-plot",
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "story_report.json").read_text())
    assert report["conversation_accuracy"]["accuracy"] == 1.0
