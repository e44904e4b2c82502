"""Compare retrieval scoring variants on the report set and a SQuAD benchmark (development aid).

Embeds every question once, then scores fusion variants with numpy, so many settings are
compared in seconds. Usage:

    python -m bench.tune_retrieval [--squad ../shared/benchmarks/xquad/xquad.zh.json
                                    --questions ../shared/benchmarks/xquad/xquad.en.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from eval.runner import prepare_squad_engine, report_cases
from rag.config import Settings
from rag.engine import Engine
from rag.language import detect_language
from rag.retrieval.retriever import Retriever

RRF_K = 60


def ranks_from_scores(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def evaluate(engine: Engine, cases: list, label: str) -> None:
    index = engine.index
    retriever = Retriever(engine.store, engine.embedder, translator=engine.glossary)  # its own: tuning reads its insides
    n = len(index.chunks)
    questions = [c.question for c in cases]
    qvecs = engine.embedder.embed_queries(questions)
    chunk_cos = qvecs @ index.chunk_vectors.T
    sent_cos_all = qvecs @ index.sentence_vectors.T
    max_sent = np.full((len(cases), n), -1.0, dtype=np.float32)
    for row, rows in enumerate(index.sentence_rows):
        if rows:
            max_sent[:, row] = sent_cos_all[:, rows].max(axis=1)
    gold = np.array([[c.is_gold(ch) for ch in index.chunks] for c in cases])
    langs = [detect_language(q) for q in questions]
    bm25 = np.stack([index.lexical.scores(retriever.lexical_tokens(q, lang)) for q, lang in zip(questions, langs, strict=True)])

    def report(name: str, fused: np.ndarray) -> None:
        for lang in sorted(set(langs)):
            sel = [i for i, q_lang in enumerate(langs) if q_lang == lang and gold[i].any()]
            r1 = r5 = rr = 0.0
            for i in sel:
                order = np.argsort(-fused[i], kind="stable")[:10]
                hits = np.nonzero(gold[i][order])[0]
                if len(hits):
                    rank = hits[0] + 1
                    r1 += rank == 1
                    r5 += rank <= 5
                    rr += 1 / rank
            m = len(sel)
            print(f"{label:10s} {lang} {name:34s} hit@1 {r1 / m:.3f} hit@5 {r5 / m:.3f} mrr {rr / m:.3f}")

    dense_variants = {
        "chunk": chunk_cos,
        "maxsent": max_sent,
        "chunk+maxsent": chunk_cos + max_sent,
        "chunk+0.5maxsent": chunk_cos + 0.5 * max_sent,
    }
    for name, dense in dense_variants.items():
        report(f"dense:{name}", dense)
    report("bm25", bm25)
    for name, dense in dense_variants.items():
        dense_ranks = np.stack([ranks_from_scores(row) for row in dense])
        lex_ranks = np.stack([ranks_from_scores(row) for row in bm25])
        lex_ranks = np.where(bm25 > 0, lex_ranks, 10**6)
        for w in (0.0, 0.1, 0.25, 0.5, 1.0):
            fused = 1.0 / (RRF_K + dense_ranks) + w / (RRF_K + lex_ranks)
            report(f"rrf {name} w_lex={w}", fused)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    engine = Engine(Settings(), index_dir=args.index)
    if args.squad:
        bench, cases = prepare_squad_engine(engine, args.squad, args.questions)
        evaluate(bench, cases, args.squad.stem if not args.questions else args.questions.stem)
    else:
        evaluate(engine, report_cases(engine), "report")


if __name__ == "__main__":
    main()
