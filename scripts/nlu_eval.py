"""Evaluate the trained NLU on the held-out set (tests/nlu/) and report the figures.

Runs in .venv-rasa. Intents are measured by `rasa test nlu`. Prison numbers are found by the spaCy
entity ruler, which `rasa test nlu` leaves out of its entity figures (it skips pretrained
extractors), so they are measured here by running that same spaCy pipeline over the held-out texts.

    .venv-rasa/bin/python scripts/nlu_eval.py --out results/nlu-eval [--benchmarks docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import spacy
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- nlu-eval:start -->", "<!-- nlu-eval:end -->"


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


def learnt_entity_figures(out: Path) -> dict:
    """F1 of the entities DIET learns from the training data (prison numbers come from the ruler instead)."""
    report = json.loads((out / "DIETClassifier_report.json").read_text())
    return {"entity_f1": {name: round(report[name]["f1-score"], 3) for name in ("event", "date") if name in report}}


def prison_number_figures(examples: list, pipeline: Path) -> dict:
    nlp = spacy.load(pipeline)
    found = expected = correct = 0
    misses: list[str] = []
    for example in examples:
        text = example.get("text")
        gold = {(e["start"], e["end"]) for e in example.get("entities") or [] if e["entity"] == "prison_number"}
        predicted = {(e.start_char, e.end_char) for e in nlp(text).ents if e.label_ == "prison_number"}
        found, expected, correct = found + len(predicted), expected + len(gold), correct + len(gold & predicted)
        if gold != predicted:
            misses.append(text)
    precision = correct / found if found else 1.0
    recall = correct / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "prison_number_f1": round(f1, 3),
        "prison_number_precision": round(precision, 3),
        "prison_number_recall": round(recall, 3),
        "prison_number_examples": expected,
        "prison_number_misses": misses[:10],
    }


def markdown(summary: dict) -> str:
    lines = [
        START,
        f"Measured {summary['date']} on `{summary['nlu']}` ({summary['examples']} examples, "
        f"{len(summary['intent_f1'])} intents) with `make nlu-eval`.",
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
        f"| intent macro F1 | {summary['intent_macro_f1']:.3f} | ≥ 0.95 |",
        f"| intent accuracy | {summary['intent_accuracy']:.3f} | |",
        f"| prison-number entity F1 ({summary['prison_number_examples']} numbers) "
        f"| {summary['prison_number_f1']:.3f} | ≥ 0.98 |",
        *(f"| `{name}` entity F1 (DIET) | {f1:.3f} | |" for name, f1 in summary["entity_f1"].items()),
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
    parser.add_argument("--pipeline", type=Path, default=ROOT / "build" / "spacy" / "en_throughcare")
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
        **learnt_entity_figures(args.out),
        **prison_number_figures(examples, args.pipeline),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    block = markdown(summary)
    print(block)
    if args.benchmarks:
        write_benchmarks(args.benchmarks, block)


if __name__ == "__main__":
    main()
