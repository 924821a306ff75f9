"""Evaluate the trained NLU on the held-out set (tests/nlu/) and report the figures.

Runs in .venv-rasa. Intents are measured by `rasa test nlu`. Entities are all found by rule (the spaCy
entity ruler, Rasa's RegexEntityExtractor), and `rasa test nlu` leaves the ruler out of its entity figures,
so they are measured here: the trained model parses each held-out text and its entities are compared,
span and value, with the annotations. Prison numbers are annotated in every example; `event` and `date`
only in the intents whose actions read them (ENTITY_INTENTS), so they are scored on those examples.

    .venv-rasa/bin/python scripts/nlu_eval.py --out results/nlu-eval [--benchmarks docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
# The model names the project's own components (rasa_components/), which `rasa` finds from the project root.
sys.path.insert(0, str(ROOT))
START, END = "<!-- nlu-eval:start -->", "<!-- nlu-eval:end -->"
# Where each entity is annotated in the held-out set (None: in every example).
ENTITY_INTENTS: dict[str, set[str] | None] = {
    "prison_number": None,
    "event": {"record_event", "ask_due_date"},
    "date": {"record_event"},
}


def run_rasa_test(model: Path, nlu: Path, out: Path) -> None:
    rasa = Path(sys.executable).parent / "rasa"
    command = [str(rasa), "test", "nlu", "--model", str(model), "--nlu", str(nlu), "--out", str(out), "--no-plot"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"rasa test nlu failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def intent_figures(out: Path) -> dict:
    report = json.loads((out / "intent_report.json").read_text())
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    per_intent = {
        name: round(scores["f1-score"], 3)
        for name, scores in report.items()
        if isinstance(scores, dict) and "support" in scores and name not in ("macro avg", "weighted avg", "micro avg")
    }
    return {
        "intent_macro_f1": round(report["macro avg"]["f1-score"], 3),
        "intent_accuracy": round(report.get("accuracy", report.get("micro avg", {}).get("f1-score", 0.0)), 3),
        "intent_f1": per_intent,
        "confusions": [{"intent": a, "predicted": b, "count": n} for (a, b), n in pairs.most_common(10)],
    }


def parsed_entities(examples: list, model: Path) -> list[list[dict]]:
    """What the trained model finds in each example, through the same code Rasa runs when serving."""
    agent = Agent.load(str(model))

    async def parse_all() -> list[list[dict]]:
        return [(await agent.parse_message(example.get("text")))["entities"] for example in examples]

    return asyncio.run(parse_all())


def spans(entities: list[dict], name: str) -> set[tuple[int, int, str]]:
    return {(e["start"], e["end"], str(e["value"]).lower()) for e in entities if e["entity"] == name}


def entity_figures(examples: list, found: list[list[dict]]) -> dict:
    """Precision, recall and F1 per entity: a hit is the same span with the same value."""
    figures: dict = {}
    for name, intents in ENTITY_INTENTS.items():
        predicted_total = expected_total = correct = 0
        misses: list[str] = []
        for example, entities in zip(examples, found, strict=True):
            if intents is not None and example.get("intent") not in intents:
                continue
            gold = spans(example.get("entities") or [], name)
            predicted = spans(entities, name)
            predicted_total, expected_total = predicted_total + len(predicted), expected_total + len(gold)
            correct += len(gold & predicted)
            if gold != predicted:
                misses.append(example.get("text"))
        precision = correct / predicted_total if predicted_total else 1.0
        recall = correct / expected_total if expected_total else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures[name] = {
            "f1": round(f1, 3),
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "annotated": expected_total,
            "misses": misses[:15],
        }
    return {"entities": figures}


TARGETS = {"prison_number": "≥ 0.99", "event": "≥ 0.95", "date": "≥ 0.95"}


def markdown(summary: dict) -> str:
    lines = [
        START,
        f"Measured {summary['date']} on `{summary['nlu']}` ({summary['examples']} examples, "
        f"{len(summary['intent_f1'])} intents) with `make nlu-eval`.",
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
        f"| intent macro F1 | {summary['intent_macro_f1']:.3f} | ≥ 0.97, no intent below 0.92 |",
        f"| intent accuracy | {summary['intent_accuracy']:.3f} | |",
        *(
            f"| `{name}` entity F1 ({figures['annotated']} annotated) | {figures['f1']:.3f} | {TARGETS[name]} |"
            for name, figures in summary["entities"].items()
        ),
        "",
        "Weakest intents (F1): "
        + ", ".join(f"{name} {f1:.2f}" for name, f1 in sorted(summary["intent_f1"].items(), key=lambda kv: kv[1])[:5])
        + ".",
        "",
        "Confusion pairs (expected → predicted, count):",
        "",
    ]
    lines += [f"- {c['intent']} → {c['predicted']}: {c['count']}" for c in summary["confusions"]] or ["- none"]
    lines.append(END)
    return "\n".join(lines)


def write_benchmarks(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    if START not in text:
        raise SystemExit(f"{path} has no {START} … {END} block to replace")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(before + block + after, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "throughcare.tar.gz")
    parser.add_argument("--nlu", type=Path, default=ROOT / "tests" / "nlu" / "heldout.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu-eval")
    parser.add_argument("--benchmarks", type=Path, help="Replace the NLU block of this markdown file.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run_rasa_test(args.model, args.nlu, args.out)
    examples = load_data(str(args.nlu)).intent_examples
    summary = {
        "date": dt.date.today().isoformat(),
        "nlu": str(args.nlu.resolve().relative_to(ROOT)) if args.nlu.resolve().is_relative_to(ROOT) else str(args.nlu),
        "examples": len(examples),
        **intent_figures(args.out),
        **entity_figures(examples, parsed_entities(examples, args.model)),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    block = markdown(summary)
    print(block)
    if args.benchmarks:
        write_benchmarks(args.benchmarks, block)


if __name__ == "__main__":
    main()
