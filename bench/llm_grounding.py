"""The groundedness check on a real model: 40 report questions (dev split, 20 zh + 20 en, a few
unanswerable) through an OpenAI-compatible server, each LLM reply checked sentence by sentence.

    python -m llama_cpp.server --model <gemma-3-270m.gguf> --chat_format gemma --n_threads 1 &
    RAG_LLM_BASE_URL=http://127.0.0.1:8000/v1 RAG_LLM_MODEL=gemma3-270m python -m bench.llm_grounding

Prints the table (sentences kept / dropped / re-cited, answers checkable, latency with the check
on and off, latency of a fallback) and writes every checked sentence to --sentences (JSONL) for
hand-labelling. One LLM call per question: the check-off answer is the same reply unchecked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

from rag.answering.llm import LLMError, generate_answer
from rag.config import Settings
from rag.engine import Engine

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
    settings = Settings()
    if not settings.llm_enabled:
        raise SystemExit("set RAG_LLM_BASE_URL and RAG_LLM_MODEL (see the module docstring)")
    engine = Engine(settings, index_dir=args.index)
    engine.ensure_index()
    answerer = engine.answerer
    answerer.warm_up()
    rows, sentences = [], []
    for item in pick():
        question = item["question"]
        started = time.perf_counter()
        evidence = answerer.gather(question)
        fallback = answerer._extractive(evidence)
        hits = evidence.retrieval.hits
        llm_started = time.perf_counter()
        try:
            reply = generate_answer(answerer.llm, question, evidence.language, [h.chunk.text for h in hits])
            error = ""
        except LLMError as exc:
            reply, error = None, str(exc)
        llm_ms = (time.perf_counter() - llm_started) * 1000.0
        base_ms = (time.perf_counter() - started) * 1000.0
        if reply is None:
            on = off = answerer._fell_back(fallback, error, llm_ms)
        else:
            answerer.verify = False
            off = answerer._from_reply(reply, evidence, fallback, llm_ms)
            answerer.verify = True
            on = answerer._from_reply(reply, evidence, fallback, llm_ms)
            if reply.cited and not reply.refused:
                for verdict in answerer._ground(reply.text, evidence).verdicts:
                    sentences.append(
                        {
                            "id": item["id"],
                            "question": question,
                            "evidence": item["evidence"],
                            "answerable": item["answerable"],
                            "sentence": verdict.claim.text,
                            "cited": verdict.claim.cited,
                            "status": verdict.status.value,
                            "now_cites": verdict.cited,
                            "why": verdict.why,
                            "passages": {
                                n: hits[n - 1].chunk.text for n in {*verdict.claim.cited, *verdict.cited}
                            },
                        }
                    )
        check_ms = on.timings_ms.get("grounding", 0.0)
        rows.append(
            {
                "id": item["id"],
                "language": item["language"],
                "checkable": bool(reply and reply.cited and not reply.refused),
                "refused": bool(reply and reply.refused),
                "on": on.answerer,
                "off": off.answerer,
                "notice": on.notice,
                "grounding": on.grounding,
                "llm_ms": llm_ms,
                "check_ms": check_ms,
                "off_ms": base_ms,
                "on_ms": base_ms + check_ms,
            }
        )
        print(
            json.dumps(
                replace(on, related=(), citations=()).as_dict() | {"id": item["id"]}, ensure_ascii=False
            )[:300]
        )
    args.sentences.write_text(
        "\n".join(json.dumps(s, ensure_ascii=False) for s in sentences) + "\n", encoding="utf-8"
    )
    report(rows, sentences)


def report(rows: list[dict], sentences: list[dict]) -> None:
    def median(values: list[float]) -> str:
        return f"{statistics.median(values) / 1000:.2f} s" if values else "-"

    def count(status: str) -> int:
        return sum(s["status"] == status for s in sentences)

    fallbacks = [r for r in rows if r["on"] == "extractive (fallback)"]
    print()
    print(
        "| questions | checkable replies | refusals | sentences | kept | dropped | re-cited | answers llm+checked | fallbacks |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(rows)} | {sum(r['checkable'] for r in rows)} | {sum(r['refused'] for r in rows)} | {len(sentences)} "
        f"| {count('supported')} | {count('dropped')} | {count('recited')} "
        f"| {sum(r['on'] == 'llm+checked' for r in rows)} | {len(fallbacks)} |"
    )
    print()
    print("| latency (median) | check off | check on | check alone (max) | fallback answer | LLM call |")
    print("|---|---|---|---|---|---|")
    checks = [r["check_ms"] for r in rows if r["check_ms"]]
    print(
        f"| all {len(rows)} | {median([r['off_ms'] for r in rows])} | {median([r['on_ms'] for r in rows])} "
        f"| {statistics.median(checks) if checks else 0:.1f} ms ({max(checks, default=0):.1f} ms) "
        f"| {median([r['on_ms'] for r in fallbacks])} | {median([r['llm_ms'] for r in rows])} |"
    )
    notices: dict[str, int] = {}
    for r in fallbacks:
        key = r["notice"].split(":")[0][:70]
        notices[key] = notices.get(key, 0) + 1
    for key, n in sorted(notices.items(), key=lambda kv: -kv[1]):
        print(f"  fallback x{n}: {key}")


if __name__ == "__main__":
    main()
