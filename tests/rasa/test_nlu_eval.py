"""`make nlu-eval` runs end to end and its report parses; the figures themselves are benchmarks."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.rasa.test_rasa_project import ENV
from throughcare.config import REPO_ROOT

pytestmark = pytest.mark.rasa


def test_the_nlu_evaluation_runs_and_reports_its_figures(tmp_path: Path) -> None:
    # Two held-out examples per intent keep the run short; the benchmark uses the whole set.
    heldout = yaml.safe_load((REPO_ROOT / "tests" / "nlu" / "heldout.yml").read_text())
    for block in heldout["nlu"]:
        block["examples"] = "\n".join(block["examples"].strip().splitlines()[:2]) + "\n"
    sample = tmp_path / "sample.yml"
    sample.write_text(yaml.safe_dump(heldout, sort_keys=False))
    benchmarks = tmp_path / "benchmarks.md"
    shutil.copy(REPO_ROOT / "docs" / "benchmarks.md", benchmarks)

    result = subprocess.run(
        [
            str(REPO_ROOT / ".venv-rasa" / "bin" / "python"),
            "scripts/nlu_eval.py",
            "--nlu",
            str(sample),
            "--out",
            str(tmp_path / "out"),
            "--benchmarks",
            str(benchmarks),
        ],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["examples"] == 2 * len(heldout["nlu"])
    assert 0.0 <= summary["intent_macro_f1"] <= 1.0
    assert set(summary["entities"]) == {"prison_number", "event", "date"}
    assert all(0.0 <= figures["f1"] <= 1.0 for figures in summary["entities"].values())
    assert set(summary["intent_f1"]) <= set(yaml.safe_load((REPO_ROOT / "domain.yml").read_text())["intents"])
    assert f"| intent macro F1 | {summary['intent_macro_f1']:.3f} |" in benchmarks.read_text()
