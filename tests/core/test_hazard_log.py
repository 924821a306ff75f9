"""The hazard log (docs/clinical-safety.md) names, for every hazard, tests that exist."""

from __future__ import annotations

import ast
import re

from throughcare.config import REPO_ROOT

LOG = REPO_ROOT / "docs" / "clinical-safety.md"
# `tests/x.py::test_a`, then `::test_b` for another test in the same file.
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _tests_in(path: str) -> set[str]:
    tree = ast.parse((REPO_ROOT / path).read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


def _hazard_rows() -> list[list[str]]:
    rows = []
    for line in LOG.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and re.fullmatch(r"[A-Z]\d+", cells[0]):
            rows.append(cells)
    return rows


def test_every_hazard_names_tests_that_exist() -> None:
    rows = _hazard_rows()
    assert len(rows) >= 40
    missing = []
    for row in rows:
        test_cell = row[-1]
        named, path = 0, None
        for match in REFERENCE.finditer(test_cell):
            path = match.group(1) or path
            if path is None:
                continue
            assert (REPO_ROOT / path).exists(), f"{row[0]}: {path} does not exist"
            if match.group(2):
                named += 1
                if match.group(2) not in _tests_in(path):
                    missing.append(f"{row[0]}: {path}::{match.group(2)}")
            elif match.group(1):
                named += 1
        assert named or "nlu-eval" in test_cell, f"{row[0]} names no test"
    assert missing == []
