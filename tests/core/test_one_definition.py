"""One concept, one place: no constant, and no table of labels or words, is defined in two modules of the code that
runs (the core, the actions, the gateway, the dashboard, the NLU components). A second copy drifts from the first
(the dashboard's copy of the intent labels once lacked one the chat had); import the one definition instead."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from throughcare.config import REPO_ROOT

PACKAGES = ("throughcare", "actions", "bot", "dashboard", "rasa_components")
# Tables this small (two entries) are too common to be copies of one another.
SMALLEST_TABLE = 3


def _module_constants(path: Path) -> list[tuple[str, ast.expr]]:
    """Module-level NAME = value (and NAME: type = value) with an upper-case name."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.append((node.target.id, node.value))
    return [(name, value) for name, value in found if name.lstrip("_").isupper()]


def _size(value: ast.expr) -> int:
    if isinstance(value, ast.Dict):
        return len(value.keys)
    return len(value.elts) if isinstance(value, ast.List | ast.Set | ast.Tuple) else 0


def _definitions() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    by_name: dict[str, list[str]] = defaultdict(list)
    by_table: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:  # generated, each a snapshot of its own time
                continue
            where = str(path.relative_to(REPO_ROOT))
            for name, value in _module_constants(path):
                by_name[name].append(where)
                if _size(value) >= SMALLEST_TABLE:
                    by_table[ast.dump(value)].append(f"{where}:{name}")
    return by_name, by_table


def test_no_constant_is_defined_in_two_modules() -> None:
    by_name, _ = _definitions()
    assert {name: places for name, places in by_name.items() if len(places) > 1} == {}


def test_no_table_of_labels_or_words_is_written_twice() -> None:
    _, by_table = _definitions()
    assert [places for places in by_table.values() if len(places) > 1] == []


def test_the_check_finds_a_copy(tmp_path: Path) -> None:
    """The scan reads what a copy looks like: the same name, and the same table under another name."""
    (tmp_path / "a.py").write_text('STAGES = {"a": "A", "b": "B", "c": "C"}\n')
    (tmp_path / "b.py").write_text('STAGE_WORDS: dict = {"a": "A", "b": "B", "c": "C"}\nSTAGES = 1\n')
    a, b = (_module_constants(tmp_path / name) for name in ("a.py", "b.py"))
    assert [name for name, _ in a + b] == ["STAGES", "STAGE_WORDS", "STAGES"]
    assert ast.dump(a[0][1]) == ast.dump(b[0][1])
