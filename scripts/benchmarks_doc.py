"""The figures in docs/benchmarks.md: each benchmark script owns one block between its own markers."""

from __future__ import annotations

from throughcare.config import REPO_ROOT

BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"


def replace_block(block: str, start: str, end: str) -> None:
    """Put `block` (which begins with `start` and ends with `end`) where the old one was, or at the end."""
    text = BENCHMARKS.read_text(encoding="utf-8")
    if start in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")
