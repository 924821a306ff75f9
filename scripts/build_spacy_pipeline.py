"""Build the spaCy pipeline Rasa's SpacyNLP loads by path: blank English plus an entity ruler.

Runs in Rasa's environment (its spaCy version must load the result). No model is downloaded:
the patterns come from `throughcare nlu-patterns`, generated from knowledge/.
Usage: python scripts/build_spacy_pipeline.py PATTERNS.jsonl OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

import spacy


def build(patterns_path: Path, output: Path) -> None:
    patterns = [json.loads(line) for line in patterns_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    nlp = spacy.blank("en")
    # Lower-case phrase matching: wing staff rarely use capitals ("ttg", "acct").
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(patterns)
    nlp.meta["name"] = "throughcare"
    nlp.meta["description"] = "Blank English with an entity ruler generated from the Throughcare knowledge base."
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    print(f"Built {output} with {len(patterns)} patterns.")


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
