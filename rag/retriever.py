"""Hybrid retrieval: dense (FAISS, e5) and BM25, fused by weighted reciprocal rank fusion.

The query's language sets the weights. Measured on XQuAD (Chinese corpus): for Chinese questions
BM25 and dense are both strong and fusing helps; English questions over Chinese text share no
words with it, so their lexical side searches with glossary translations (CC-CEDICT) and gets
a lower weight: plain equal-weight fusion drags English hit@1 from 0.71 (dense) to 0.23.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ingest.embedder import Embedder
from ingest.errors import BadInput
from ingest.index import ReportIndex
from ingest.lexical import tokenize
from rag.language import detect_language
from rag.records import Hit

MODES = ("hybrid", "dense", "lexical")
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al.)


class TermTranslator(Protocol):
    def translate_terms(self, question: str, max_per_term: int = ...) -> list[str]: ...


@dataclass(frozen=True)
class FusionWeights:
    """Weight of each side in the fused score, per query language."""

    dense: dict[str, float] = field(default_factory=lambda: {"zh": 1.0, "en": 1.0})
    lexical: dict[str, float] = field(default_factory=lambda: {"zh": 1.0, "en": 0.25})


@dataclass(frozen=True)
class Retrieval:
    query: str
    language: str
    hits: list[Hit]
    query_vector: np.ndarray  # reused by the answerer to score sentences
    lexical_tokens: list[str]
    timings_ms: dict[str, float]


class Retriever:
    """Searches one loaded index with one embedder."""

    def __init__(
        self,
        index: ReportIndex,
        embedder: Embedder,
        translator: TermTranslator | None = None,
        weights: FusionWeights | None = None,
        candidates: int = 50,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.translator = translator
        self.weights = weights or FusionWeights()
        self.candidates = candidates

    def lexical_tokens(self, query: str, language: str) -> list[str]:
        tokens = tokenize(query)
        if language == "en" and self.translator is not None:
            for term in self.translator.translate_terms(query):
                tokens.extend(tokenize(term))
        return tokens

    def search(self, query: str, k: int = 5, mode: str = "hybrid", language: str | None = None) -> Retrieval:
        """The top `k` passages for `query`, best first."""
        if mode not in MODES:
            raise BadInput(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        if not query.strip():
            raise BadInput("the query is empty: type a question")
        if k < 1:
            raise BadInput(f"k must be at least 1 (got {k})")
        language = language or detect_language(query)
        timings: dict[str, float] = {}
        size = len(self.index.chunks)
        depth = min(size, max(self.candidates, k))

        started = time.perf_counter()
        query_vector = self.embedder.embed_queries([query])[0]
        timings["embed_query"] = _ms(started)

        dense_scores: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        if mode != "lexical" and size:
            started = time.perf_counter()
            scores, rows = self.index.vectors.search(query_vector[None, :], depth)
            for rank, (row, score) in enumerate(zip(rows[0], scores[0], strict=True), start=1):
                if row >= 0:
                    dense_scores[int(row)] = float(score)
                    dense_rank[int(row)] = rank
            timings["dense_search"] = _ms(started)

        lexical_scores: dict[int, float] = {}
        lexical_rank: dict[int, int] = {}
        tokens: list[str] = []
        if mode != "dense" and size:
            started = time.perf_counter()
            tokens = self.lexical_tokens(query, language)
            all_scores = self.index.lexical.scores(tokens)
            order = np.argsort(-all_scores, kind="stable")[:depth]
            for rank, row in enumerate(order, start=1):
                if all_scores[row] > 0:
                    lexical_scores[int(row)] = float(all_scores[row])
                    lexical_rank[int(row)] = rank
            timings["lexical_search"] = _ms(started)

        started = time.perf_counter()
        fused = self._fuse(dense_rank, lexical_rank, language, mode)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        hits = [
            Hit(
                chunk=self.index.chunks[row],
                source=self.index.source_of(self.index.chunks[row]),
                score=score,
                rank=rank,
                dense_score=dense_scores.get(row, _cosine(self.index.chunk_vectors[row], query_vector)),
                lexical_score=lexical_scores.get(row),
            )
            for rank, (row, score) in enumerate(best, start=1)
        ]
        timings["fusion"] = _ms(started)
        return Retrieval(query, language, hits, query_vector, tokens, timings)

    def _fuse(
        self, dense_rank: dict[int, int], lexical_rank: dict[int, int], language: str, mode: str
    ) -> dict[int, float]:
        if mode == "dense":
            return {row: 1.0 / (RRF_K + rank) for row, rank in dense_rank.items()}
        if mode == "lexical":
            return {row: 1.0 / (RRF_K + rank) for row, rank in lexical_rank.items()}
        w_dense = self.weights.dense.get(language, 1.0)
        w_lexical = self.weights.lexical.get(language, 1.0)
        fused: dict[int, float] = {}
        for row, rank in dense_rank.items():
            fused[row] = fused.get(row, 0.0) + w_dense / (RRF_K + rank)
        for row, rank in lexical_rank.items():
            fused[row] = fused.get(row, 0.0) + w_lexical / (RRF_K + rank)
        return fused


def _cosine(vector: np.ndarray, query: np.ndarray) -> float:
    return float(np.dot(vector, query))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
