"""The groundedness check alone, with and without its quote shortcut (a sentence that holds its
passage's facts and nearly all its words is supported without the e5 encode). No LLM runs.

    python -m bench.grounding_check

1. e5's similarity for the sentences the shortcut passes, cut from the report's own sentences
   (whole, first clause, last clause, all but the last) and cited to their passage: the lowest
   must clear the floor, or the shortcut would keep what e5 drops.
2. Verdicts with the shortcut on and off on crafted answers for the bench questions (each of the
   top 4 candidate sentences cited right, cited wrong, and its first clause): how many differ.
3. The check's time on one crafted answer per question (the best candidate sentence cited, then
   the prompt's worked example copied), shortcut on and off, alternating.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import rag.answering.grounding as grounding
from bench.common import ready_engine
from bench.llm_grounding import pick
from rag.answering.answerer import Answerer, Evidence

SHORTCUT_OFF = 2.0  # a coverage no sentence reaches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index directory (default: RAG_INDEX_DIR)")
    args = parser.parse_args()
    engine = ready_engine(args.index)
    answerer = engine._loaded()
    floor_margin(answerer)
    evidences = [e for e in (answerer.gather(item["question"]) for item in pick()) if e.ranked and not e.unmet]
    same_verdicts(answerer, evidences)
    timing(answerer, evidences)


def floor_margin(answerer: Answerer) -> None:
    index = answerer.retriever.index
    random.seed(0)
    quoted: list[tuple[str, int]] = []
    for row, chunk in enumerate(index.chunks):
        for sentence in chunk.sentences:
            text = sentence.text.strip()
            clauses = [c for c in re.split(r"[，,；;]", text.rstrip("。")) if c]
            if len(text) < 8 or not clauses:
                continue
            for variant in {text, clauses[0] + "。", clauses[-1] + "。", "，".join(clauses[:-1] or clauses) + "。"}:
                constraints = grounding.claim_constraints(variant, answerer.glossary)
                if grounding._quotes(variant, chunk.text) and not grounding._facts_missing(
                    variant, constraints, chunk.text, 1
                ):
                    quoted.append((variant, row))
    vectors = answerer.retriever.embedder.embed_queries([text for text, _ in quoted])
    similarities = [
        float((index.sentence_vectors[index.sentence_rows[row]] @ vector).max())
        for (_, row), vector in zip(quoted, vectors, strict=True)
    ]
    below = sum(s < grounding.SIMILARITY_FLOOR["zh"] for s in similarities)
    print(f"quoted sentences: {len(quoted)}, lowest e5 similarity {min(similarities):.3f}, below the floor {below}")


def same_verdicts(answerer: Answerer, evidences: list[Evidence]) -> None:
    answers: list[tuple[str, Evidence]] = []
    for evidence in evidences:
        hits = evidence.retrieval.hits
        for candidate in evidence.ranked[:4]:
            n = next(i for i, hit in enumerate(hits, 1) if hit.chunk.id == candidate.chunk.id)
            text = candidate.sentence.text
            first_clause = re.split(r"[，,]", text)[0]
            for answer in (f"{text}[{n}]", f"{text}[{n % len(hits) + 1}]", f"{first_clause}[{n}]。"):
                answers.append((answer, evidence))
    differ = 0
    for text, evidence in answers:
        verdicts = []
        for coverage in (grounding.QUOTED_COVERAGE, SHORTCUT_OFF):
            saved, grounding.QUOTED_COVERAGE = grounding.QUOTED_COVERAGE, coverage
            verdicts.append([(v.status, v.cited) for v in answerer._ground(text, evidence).verdicts])
            grounding.QUOTED_COVERAGE = saved
        differ += verdicts[0] != verdicts[1]
    print(f"crafted answers: {len(answers)}, verdicts that differ with the shortcut off: {differ}")


def timing(answerer: Answerer, evidences: list[Evidence]) -> None:
    cases = []
    for evidence in evidences:
        hits = evidence.retrieval.hits
        n = next(i for i, hit in enumerate(hits, 1) if hit.chunk.id == evidence.ranked[0].chunk.id)
        cases.append((f"{evidence.ranked[0].sentence.text.rstrip('。.')}[{n}]。新博物馆共有8个展厅[{n}]。", evidence))
    times: dict[bool, list[float]] = {True: [], False: []}
    on = grounding.QUOTED_COVERAGE
    for _ in range(3):
        for shortcut in (False, True):
            grounding.QUOTED_COVERAGE = on if shortcut else SHORTCUT_OFF
            for text, evidence in cases:
                started = time.perf_counter()
                answerer._ground(text, evidence)
                times[shortcut].append((time.perf_counter() - started) * 1000.0)
    grounding.QUOTED_COVERAGE = on
    for shortcut, label in ((False, "off"), (True, "on")):
        print(
            f"check alone, shortcut {label}: {len(cases)} answers x 3, median {statistics.median(times[shortcut]):.1f} ms"
            f" (max {max(times[shortcut]):.1f} ms)"
        )


if __name__ == "__main__":
    main()
