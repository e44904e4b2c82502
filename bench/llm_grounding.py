"""The groundedness check on a real model: 40 report questions (dev split, 20 zh + 20 en, a few
unanswerable) through an OpenAI-compatible server, each LLM reply checked sentence by sentence.

    python -m llama_cpp.server --model <gemma-3-270m.gguf> --chat_format gemma --n_threads 1 &
    RAG_LLM_BASE_URL=http://127.0.0.1:8000/v1 RAG_LLM_MODEL=gemma3-270m python -m bench.llm_grounding

Prints the table (sentences kept / dropped / re-cited, answers checkable, latency with the check
on and off, latency of a fallback) and writes every answer that kept LLM sentences to --sentences
(JSONL) for hand-labelling. Everything goes through `Engine.answer`, one call per question: the
latency with the check off is the answer's total less the check's own time (`timings_ms`).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from dataclasses import replace
from pathlib import Path

from bench.common import ready_engine

QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "data" / "report_questions.jsonl"


def pick(per_language: int = 20, unanswerable: int = 4) -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = []
    for language in ("zh", "en"):
        dev = [r for r in rows if r["split"] == "dev" and r["language"] == language]
        chosen += [r for r in dev if r["answerable"]][: per_language - unanswerable]
        chosen += [r for r in dev if not r["answerable"]][:unanswerable]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index directory (default: RAG_INDEX_DIR)")
    parser.add_argument("--sentences", type=Path, default=Path("llm_grounding_sentences.jsonl"))
    args = parser.parse_args()
    engine = ready_engine(args.index, llm=True)
    rows, kept = [], []
    for item in pick():
        answer = engine.answer(item["question"])
        timings = answer.timings_ms
        check_ms = timings.get("grounding", 0.0)
        rows.append(
            {
                "id": item["id"],
                "language": item["language"],
                # The check ran: the reply cited a passage and was not a refusal.
                "checkable": bool(answer.grounding),
                "refused": answer.answerer != "extractive (fallback)" and not answer.found,
                "asked": "llm" in timings and "was not asked" not in answer.notice,
                "answerer": answer.answerer,
                "notice": answer.notice,
                "grounding": answer.grounding,
                "llm_ms": timings.get("llm", 0.0),
                "check_ms": check_ms,
                "on_ms": timings["total"],
                "off_ms": timings["total"] - check_ms,
            }
        )
        if answer.answerer == "llm+checked" and answer.found:
            kept.append(
                {
                    "id": item["id"],
                    "question": item["question"],
                    "evidence": item["evidence"],
                    "answerable": item["answerable"],
                    "answer": answer.answer,
                    "grounding": answer.grounding,
                    "citations": {c.n: c.text for c in answer.citations},
                }
            )
        print(json.dumps(replace(answer, related=(), citations=()).as_dict() | {"id": item["id"]}, ensure_ascii=False)[:300])
    args.sentences.write_text("".join(json.dumps(k, ensure_ascii=False) + "\n" for k in kept), encoding="utf-8")
    report(rows)


def report(rows: list[dict]) -> None:
    def median(values: list[float]) -> str:
        return f"{statistics.median(values) / 1000:.2f} s" if values else "-"

    def count(status: str) -> int:
        return sum(r["grounding"].get(status, 0) for r in rows)

    fallbacks = [r for r in rows if r["answerer"] == "extractive (fallback)"]
    asked = [r for r in fallbacks if r["asked"]]
    print()
    print(
        "| questions | LLM asked | checkable replies | refusals | sentences | kept | dropped | re-cited "
        "| answers llm+checked | fallbacks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(rows)} | {sum(r['asked'] for r in rows)} | {sum(r['checkable'] for r in rows)} "
        f"| {sum(r['refused'] for r in rows)} | {count('supported') + count('recited') + count('dropped')} "
        f"| {count('supported')} | {count('dropped')} | {count('recited')} "
        f"| {sum(r['answerer'] == 'llm+checked' for r in rows)} | {len(fallbacks)} |"
    )
    print()
    print(
        "| latency (median) | check off | check on | check alone (max) | fallback answer (LLM asked) "
        "| fallback answer (all) | LLM call |"
    )
    print("|---|---|---|---|---|---|---|")
    checks = [r["check_ms"] for r in rows if r["check_ms"]]
    print(
        f"| all {len(rows)} | {median([r['off_ms'] for r in rows])} | {median([r['on_ms'] for r in rows])} "
        f"| {statistics.median(checks) if checks else 0:.1f} ms ({max(checks, default=0):.1f} ms) "
        f"| {median([r['on_ms'] for r in asked])} | {median([r['on_ms'] for r in fallbacks])} "
        f"| {median([r['llm_ms'] for r in rows if r['asked']])} |"
    )
    notices: dict[str, int] = {}
    for r in fallbacks:
        # "LLM answer stopped: the LLM wrote 30 tokens..." and "...: the LLM's first sentence..."
        # are different stops; the details in brackets and after ";" differ per question.
        key = re.split(r" \(|;", r["notice"])[0][:90]
        notices[key] = notices.get(key, 0) + 1
    for key, n in sorted(notices.items(), key=lambda kv: -kv[1]):
        print(f"  fallback x{n}: {key}")


if __name__ == "__main__":
    main()
