"""Whether an LLM answer whose first sentence the groundedness check drops is worth finishing:
each reply is generated in full (no early abandon of any kind, up to the token cap), then every
sentence is checked, and the table says how often a later sentence was kept when the first (or
the first two) were dropped, what answers stopping there would lose, and how many stream events
(about one token each) it would save.

    python -m llama_cpp.server --model <gemma-3-270m.gguf> --chat_format gemma --n_threads 1 &
    RAG_LLM_BASE_URL=http://127.0.0.1:8000/v1 RAG_LLM_MODEL=gemma3-270m python -m bench.llm_first_sentence

The questions are bench.llm_grounding's, `--per-language` of each language (dev split).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from bench.common import ready_engine
from bench.llm_grounding import pick
from rag.answering.answerer import llm_passages
from rag.answering.grounding import Status, first_claim, split_claims
from rag.answering.llm import LLMClient, parse_reply, renumber, stream_answer


def complete_after(deltas: list[str], n_passages: int, numbers: list[int], sentences: int) -> int | None:
    """How many deltas it took until the first `sentences` sentences were complete."""
    text = ""
    for i, delta in enumerate(deltas, 1):
        text += delta
        shown = renumber(parse_reply(text, n_passages), numbers).text
        done = first_claim(shown) if sentences == 1 else (len(split_claims(shown)) > sentences or None)
        if done:
            return i
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index directory (default: RAG_INDEX_DIR)")
    parser.add_argument("--per-language", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("llm_first_sentence.jsonl"))
    args = parser.parse_args()
    engine = ready_engine(args.index, llm=True)
    answerer = engine._loaded()
    client = LLMClient(replace(answerer.llm.config, abandon_after=0))
    rows = []
    for item in pick(args.per_language, unanswerable=args.per_language // 5):
        evidence = answerer.gather(item["question"])
        if evidence.unmet:
            continue  # the LLM is not asked
        numbers, excerpts = llm_passages(evidence)
        deltas = list(stream_answer(client, evidence.question, evidence.language, excerpts))
        reply = renumber(parse_reply("".join(deltas), len(excerpts)), numbers)
        row = {"id": item["id"], "reply": reply.text, "deltas": len(deltas), "refused": reply.refused}
        if reply.cited and not reply.refused:
            checked = answerer._ground(reply.text, evidence)
            row |= {
                "statuses": [v.status.value for v in checked.verdicts],
                "whys": [v.why for v in checked.verdicts],
                "answer": not answerer._not_an_answer(checked, evidence),
                "first_after": complete_after(deltas, len(excerpts), numbers, 1),
                "second_after": complete_after(deltas, len(excerpts), numbers, 2),
            }
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False)[:400], flush=True)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report(rows)


def report(rows: list[dict]) -> None:
    checked = [r for r in rows if "statuses" in r]
    dropped = Status.DROPPED.value

    def stopped_by(r: dict, sentences: int) -> bool:
        heads = r["statuses"][:sentences]
        return len(heads) == sentences and all(s == dropped for s in heads)

    print()
    print("| stop when dropped | replies checked | stopped | of those, a later sentence kept | answers lost | deltas saved (of all) |")
    print("|---|---|---|---|---|---|")
    total = sum(r["deltas"] for r in checked)
    for sentences, key in ((1, "first_after"), (2, "second_after")):
        stopped = [r for r in checked if stopped_by(r, sentences) and r[key]]
        later = [r for r in stopped if any(s != dropped for s in r["statuses"][sentences:])]
        lost = [r for r in stopped if r["answer"]]
        saved = sum(r["deltas"] - r[key] for r in stopped)
        print(
            f"| first {sentences} | {len(checked)} | {len(stopped)} | {len(later)} | {len(lost)} "
            f"| {saved} ({total}) |"
        )
    print(f"\n{len(rows)} replies, {sum(r['refused'] for r in rows)} refusals, {len(checked)} checked")


if __name__ == "__main__":
    main()
