"""Our hybrid retrieval side by side with a Haystack (haystack-ai 3.x) hybrid pipeline, in one process.

XQuAD: 240 Chinese paragraphs (one document each), its Chinese questions and the parallel
English ones. Haystack (dev-only: haystack-ai 3.x, whose sentence-transformers embedders live in
the separate package sentence-transformers-haystack) runs an in-memory store, the
sentence-transformers embedders pointed at the same local multilingual-e5-small directory (with
the "passage: "/"query: " prefixes), BM25 and embedding retrievers, and a reciprocal-rank-fusion
joiner, top 10. Ours is `Retriever.search` over the same paragraphs; our index holds chunks of
them, so we fetch 20 chunks and keep the first chunk of each paragraph (10 distinct paragraphs).

A hit at rank r: the gold paragraph is the r-th distinct paragraph. Both pipelines answer each
question back to back, so the machine's load falls on both alike; torch runs with the same
thread count for both (the one our embedder picks).

    python -m bench.peer_haystack [--xquad DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_XQUAD, ms_since, p50_p95, print_table, ratio, write_results, xquad_files
from eval.metrics import hit_at_k, mrr

TOP = 10
OUR_CHUNKS = 20


def haystack_pipeline(model_dir: Path, passages: list[Any]) -> Any:
    """The peer: documents embedded and written, and the hybrid query pipeline."""
    try:
        from haystack import Document, Pipeline
        from haystack.components.joiners import DocumentJoiner
        from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        from haystack.utils import ComponentDevice
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
            SentenceTransformersTextEmbedder,
        )
    except ImportError as exc:
        raise SystemExit(
            f"{exc}: install the peer: .venv/bin/pip install 'haystack-ai>=3.4,<4' 'sentence-transformers-haystack>=2,<3'"
        ) from exc

    cpu = ComponentDevice.from_str("cpu")
    store = InMemoryDocumentStore()
    embedder = SentenceTransformersDocumentEmbedder(
        model=str(model_dir), device=cpu, prefix="passage: ", local_files_only=True, progress_bar=False
    )
    embedder.warm_up()
    documents = [Document(content=p.text, meta={"passage_id": p.id}) for p in passages]
    store.write_documents(embedder.run(documents)["documents"])

    pipeline = Pipeline()
    pipeline.add_component(
        "text_embedder",
        SentenceTransformersTextEmbedder(model=str(model_dir), device=cpu, prefix="query: ", local_files_only=True, progress_bar=False),
    )
    pipeline.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=TOP))
    pipeline.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=TOP))
    pipeline.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=TOP))
    pipeline.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
    pipeline.connect("embedding_retriever", "joiner")
    pipeline.connect("bm25_retriever", "joiner")
    pipeline.warm_up()
    return pipeline


def peer_rank(pipeline: Any, question: str, gold_passage: str) -> int | None:
    result = pipeline.run({"text_embedder": {"text": question}, "bm25_retriever": {"query": question}})
    found = [doc.meta["passage_id"] for doc in result["joiner"]["documents"]]
    return found.index(gold_passage) + 1 if gold_passage in found else None


def our_rank(engine: Any, case: Any) -> int | None:
    hits = engine.search(case.question, k=OUR_CHUNKS).hits
    seen: dict[str, Any] = {}
    for hit in hits:
        seen.setdefault(hit.chunk.doc_id, hit.chunk)  # first chunk of each paragraph
    for rank, chunk in enumerate(list(seen.values())[:TOP], start=1):
        if case.is_gold(chunk):
            return rank
    return None


def summary(ranks: list[int | None], timings: list[float]) -> dict[str, float]:
    return {
        "hit@1": round(hit_at_k(ranks, 1), 4),
        "hit@5": round(hit_at_k(ranks, 5), 4),
        "mrr": round(mrr(ranks), 4),
        "p50_ms": p50_p95(timings)["p50"],
        "p95_ms": p50_p95(timings)["p95"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="XQuAD directory (xquad.zh.json, xquad.en.json)")
    parser.add_argument("--limit", type=int, default=None, help="questions per language (default: all)")
    args = parser.parse_args(argv)
    files = xquad_files(args.xquad)
    if not files:
        print(f"XQuAD not found at {args.xquad}: peer comparison skipped (pass --xquad DIR)")
        return 0
    # Before haystack is imported: no hub look-ups, no telemetry.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"

    import torch

    from eval.runner import prepare_squad_engine
    from eval.squad import load_squad
    from ingest.e5_model import ensure_e5_model
    from rag.config import Settings
    from rag.engine import Engine

    zh, en = files
    settings = Settings()
    engine, _ = prepare_squad_engine(Engine(settings), zh, None)
    engine.search("预热", k=OUR_CHUNKS)  # loads the index, glossary and model
    started = time.perf_counter()
    passages = load_squad(zh).passages
    pipeline = haystack_pipeline(ensure_e5_model(settings.cache_dir), passages)
    peer_index_s = time.perf_counter() - started

    rows = []
    results: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "peer_index_s": round(peer_index_s, 1)}
    for language, questions in (("zh", None), ("en", en)):
        _, cases = prepare_squad_engine(engine, zh, questions)
        gold_of = {q.id: q.gold_passage_id for q in load_squad(zh, questions).questions}
        cases = cases[: args.limit] if args.limit else cases
        pipeline.run({"text_embedder": {"text": cases[0].question}, "bm25_retriever": {"query": cases[0].question}})
        ours_ranks, ours_ms, peer_ranks, peer_ms = [], [], [], []
        for case in cases:
            began = time.perf_counter()
            ours_ranks.append(our_rank(engine, case))
            ours_ms.append(ms_since(began))
            began = time.perf_counter()
            peer_ranks.append(peer_rank(pipeline, case.question, gold_of[case.id]))
            peer_ms.append(ms_since(began))
        mine, theirs = summary(ours_ranks, ours_ms), summary(peer_ranks, peer_ms)
        rows.append({"questions": f"{language} ({len(cases)})", "pipeline": "report-rag", **mine})
        rows.append({"questions": f"{language} ({len(cases)})", "pipeline": "haystack", **theirs})
        rows.append({"questions": f"{language} ({len(cases)})", "pipeline": "ratio ours/peer", **{k: ratio(mine[k], theirs[k]) for k in mine}})
        results[language] = {"ours": mine, "haystack": theirs}
    print_table(f"XQuAD retrieval, ours vs Haystack (top {TOP} paragraphs; latency ms per query)", rows)
    print(f"torch threads {results['torch_threads']}; Haystack embedded {len(passages)} paragraphs in {peer_index_s:.0f} s")
    write_results("peer_haystack", {**results, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
