"""XQuAD hybrid hit@1 through each store: the index directory and Milvus Lite (issue 14's target:
within 0.01). Retrieval only (the answer is the same code on the same ranked chunks), so a run
takes a minute or two instead of several.

    python -m bench.store_xquad [--xquad DIR] [--languages zh en] [--lite-dir DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import DEFAULT_XQUAD, REPO_ROOT, format_table
from eval.runner import RETRIEVAL_DEPTH, prepare_squad_engine
from rag.config import Settings
from rag.engine import Engine


def hit_at_1(engine: Engine, cases: list) -> tuple[float, float, list[str]]:
    """hit@1 and hit@5 of hybrid retrieval, and the top-1 chunk id per question (for comparing stores)."""
    hits1 = hits5 = 0
    top: list[str] = []
    for case in cases:
        retrieval = engine.search(case.question, k=RETRIEVAL_DEPTH, mode="hybrid")
        relevance = [case.is_gold(hit.chunk) for hit in retrieval.hits]
        hits1 += bool(relevance[:1] and relevance[0])
        hits5 += any(relevance[:5])
        top.append(retrieval.hits[0].chunk.id if retrieval.hits else "")
    return hits1 / len(cases), hits5 / len(cases), top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--languages", nargs="+", default=["zh", "en"])
    parser.add_argument(
        "--lite-dir", type=Path, default=None, help="where the Milvus Lite files go (a temp dir)"
    )
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    lite_dir = args.lite_dir or Path(tempfile.mkdtemp(prefix="store-xquad-"))
    base = Settings()
    reference = Engine(base.model_copy(update={"store": ""}))
    rows, result = [], {}
    for language in args.languages:
        corpus = args.xquad / f"xquad.{language}.json"
        tops = {}
        for store in ("directory", "lite"):
            spec = "" if store == "directory" else str(lite_dir / f"xquad_{language}.db")
            engine = Engine(base.model_copy(update={"store": spec}), embedder=reference.embedder)
            started = time.perf_counter()
            bench_engine, cases = prepare_squad_engine(engine, corpus, None)
            cases = cases[: args.limit] if args.limit else cases
            ingest_s = time.perf_counter() - started
            started = time.perf_counter()
            h1, h5, tops[store] = hit_at_1(bench_engine, cases)
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "xquad": language,
                    "store": store,
                    "n": len(cases),
                    "hit@1": round(h1, 4),
                    "hit@5": round(h5, 4),
                    "index_s": round(ingest_s, 1),
                    "search_s": round(seconds, 1),
                }
            )
            result[f"{language}:{store}"] = rows[-1]
        same = sum(a == b for a, b in zip(tops["directory"], tops["lite"], strict=True)) / len(tops["lite"])
        result[f"{language}:same_top1"] = round(same, 4)
        print(f"{language}: same top-1 chunk in {same:.2%} of questions", flush=True)
    print(format_table(rows))
    out = REPO_ROOT / "bench" / "results" / "store_xquad.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
