"""What the LLM is shown: how often its excerpts hold the gold evidence of a report question, and
how long they are, with every excerpt a window (the candidate sentence with its neighbours), only
the first (what `llm_passages` sends), or none. No LLM runs; reading the prompt is most of a small
model's time, so the characters are the cost and the evidence the benefit.

    python -m bench.llm_excerpts
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from bench.common import ready_engine
from bench.llm_grounding import QUESTIONS
from rag.answering.answerer import _window, llm_passages


def _plain(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index directory (default: RAG_INDEX_DIR)")
    args = parser.parse_args()
    engine = ready_engine(args.index, warm=False)
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    shown: dict[str, list[tuple[bool, int]]] = {"every one a window": [], "the first a window": [], "none": []}
    for row in rows:
        if not row["answerable"]:
            continue
        evidence = engine.evidence(row["question"])
        if evidence.unmet:
            continue  # the LLM is not asked
        numbers, sent = llm_passages(evidence)
        hits = evidence.retrieval.hits
        best = [next((s for s in evidence.ranked if s.chunk.id == hits[n - 1].chunk.id), None) for n in numbers]
        windows = [_window(b.chunk, b.sentence) if b else text for b, text in zip(best, sent, strict=True)]
        sentences = [b.sentence.text if b else text for b, text in zip(best, sent, strict=True)]
        gold = _plain(row["evidence"])[:30]
        for policy, excerpts in zip(shown, (windows, sent, sentences), strict=True):
            shown[policy].append((gold in _plain("".join(excerpts)), sum(map(len, excerpts))))
    print(f"{len(shown['none'])} answerable questions the LLM is asked\n")
    print("| windowed excerpts | gold evidence shown | characters (median) |")
    print("|---|---|---|")
    for policy, results in shown.items():
        held = sum(h for h, _ in results) / len(results)
        print(f"| {policy} | {held:.3f} | {statistics.median(c for _, c in results):.0f} |")


if __name__ == "__main__":
    main()
