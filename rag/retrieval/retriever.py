"""Hybrid retrieval: dense (FAISS, e5) and BM25, fused by weighted reciprocal rank fusion.

The query's language sets the weights. Measured on XQuAD (Chinese corpus): for Chinese questions
BM25 and dense are both strong and fusing helps; English questions over Chinese text share no
words with it, so their lexical side searches with glossary translations (CC-CEDICT) and gets
a lower weight: plain equal-weight fusion drags English hit@1 from 0.71 (dense) to 0.23.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ingest.embedder import Embedder
from ingest.errors import BadInput
from ingest.lexical import tokenize
from ingest.store.base import ChunkStore, Corpus, StoredChunk
from rag.language import detect_language
from rag.records import Hit

MODES = ("hybrid", "dense", "lexical")
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al.)


class TermTranslator(Protocol):
    def translate_terms(self, question: str, max_per_term: int = ...) -> list[str]: ...


NAME_SCAN_PASSAGES = 20  # passages searched for a pinyin name's characters




@dataclass(frozen=True)
class FusionWeights:
    """Weight of each side in the fused score, per query language."""

    dense: dict[str, float] = field(default_factory=lambda: {"zh": 1.0, "en": 1.0})
    lexical: dict[str, float] = field(default_factory=lambda: {"zh": 0.75, "en": 0.2})


@dataclass(frozen=True)
class Retrieval:
    query: str
    language: str
    hits: list[Hit]
    query_vector: np.ndarray  # reused by the answerer to score sentences
    lexical_tokens: list[str]
    timings_ms: dict[str, float]
    translations: list[str] = field(default_factory=list)  # Chinese terms of an English query
    mode: str = "hybrid"
    agreed_top: bool = False  # the first passage is first on both the dense and the lexical side

    def as_dict(self) -> dict[str, Any]:
        """The JSON of a search (`GET /search`, `rag search --json`)."""
        return {
            "query": self.query,
            "language": self.language,
            "mode": self.mode,
            "hits": [hit.as_dict() for hit in self.hits],
            "timings_ms": {key: round(value, 2) for key, value in self.timings_ms.items()},
        }


class Retriever:
    """Searches one store with one embedder; fusion happens here, so every store ranks alike."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        translator: TermTranslator | None = None,
        weights: FusionWeights | None = None,
        candidates: int = 100,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.translator = translator
        self.weights = weights or FusionWeights()
        self.candidates = candidates

    @property
    def index(self) -> Corpus:
        """The whole corpus in memory (the answerer's corpus-wide statistics read it)."""
        return self.store.corpus()

    def translations(self, query: str, language: str, passages: list[str]) -> list[str]:
        """Chinese terms for an English query: glossary words, plus the Chinese spelling of
        pinyin names found in the texts `passages` ("Liu Xiaotao" -> 刘小涛)."""
        if language != "en" or self.translator is None:
            return []
        terms = list(self.translator.translate_terms(query))
        from rag.retrieval.glossary import capitalized_names, names_in_text

        names = capitalized_names(query)
        if names and passages:
            text = "\n".join(passages[:NAME_SCAN_PASSAGES])
            for name in names:
                terms.extend(dict.fromkeys(names_in_text(name, text)))
        return terms

    def lexical_tokens(self, query: str, language: str, translations: list[str] | None = None) -> list[str]:
        tokens = tokenize(query)
        for term in translations if translations is not None else self.translations(query, language, []):
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
        store = self.store
        size = store.count()
        depth = min(size, max(self.candidates, k))

        started = time.perf_counter()
        query_vector = self.embedder.embed_queries([query])[0]
        timings["embed_query"] = _ms(started)

        dense_found: list[tuple[str, float]] = []
        stored: dict[str, StoredChunk] = {}
        if size:
            started = time.perf_counter()
            dense_found = store.dense_search(query_vector, depth)
            timings["dense_search"] = _ms(started)

        lexical_scores: dict[str, float] = {}
        tokens: list[str] = []
        translations: list[str] = []
        if mode != "dense" and size:
            started = time.perf_counter()
            if language == "en" and self.translator is not None:
                stored.update(store.fetch([chunk_id for chunk_id, _ in dense_found[:NAME_SCAN_PASSAGES]]))
            passages = [stored[chunk_id].chunk.text for chunk_id, _ in dense_found if chunk_id in stored]
            translations = self.translations(query, language, passages)
            tokens = self.lexical_tokens(query, language, translations)
            lexical_scores = dict(store.lexical_search(tokens, depth))
            timings["lexical_search"] = _ms(started)

        started = time.perf_counter()
        wanted = [chunk_id for chunk_id, _ in dense_found] if mode != "lexical" else []
        wanted += [chunk_id for chunk_id in lexical_scores if chunk_id not in stored]
        stored.update(store.fetch([chunk_id for chunk_id in dict.fromkeys(wanted) if chunk_id not in stored]))
        timings["fetch"] = _ms(started)

        dense_scores: dict[str, float] = {}
        if mode != "lexical" and size:
            started = time.perf_counter()
            candidates = {chunk_id for chunk_id, _ in dense_found} | set(lexical_scores)
            dense_scores = {
                chunk_id: _dense_score(stored[chunk_id], query_vector) for chunk_id in candidates if chunk_id in stored
            }
            timings["dense_rerank"] = _ms(started)

        def order(chunk_id: str) -> tuple[str, int]:
            return stored[chunk_id].order

        dense_rank = _ranks(dense_scores, order)
        lexical_rank = _ranks({c: v for c, v in lexical_scores.items() if c in stored}, order)
        started = time.perf_counter()
        fused = self._fuse(dense_rank, lexical_rank, language, mode)
        best = sorted(fused.items(), key=lambda item: (-item[1], order(item[0])))[:k]
        hits = [
            Hit(
                chunk=stored[chunk_id].chunk,
                source=stored[chunk_id].source,
                score=score,
                rank=rank,
                dense_score=dense_scores.get(chunk_id, _dense_score(stored[chunk_id], query_vector)),
                lexical_score=lexical_scores.get(chunk_id),
            )
            for rank, (chunk_id, score) in enumerate(best, start=1)
        ]
        timings["fusion"] = _ms(started)
        agreed = bool(best) and dense_rank.get(best[0][0]) == 1 and lexical_rank.get(best[0][0]) == 1
        return Retrieval(query, language, hits, query_vector, tokens, timings, translations, mode, agreed)

    def _fuse(
        self, dense_rank: dict[str, int], lexical_rank: dict[str, int], language: str, mode: str
    ) -> dict[str, float]:
        if mode == "dense":
            return {row: 1.0 / (RRF_K + rank) for row, rank in dense_rank.items()}
        if mode == "lexical":
            return {row: 1.0 / (RRF_K + rank) for row, rank in lexical_rank.items()}
        w_dense = self.weights.dense.get(language, 1.0)
        w_lexical = self.weights.lexical.get(language, 1.0)
        fused: dict[str, float] = {}
        for row, rank in dense_rank.items():
            fused[row] = fused.get(row, 0.0) + w_dense / (RRF_K + rank)
        for row, rank in lexical_rank.items():
            fused[row] = fused.get(row, 0.0) + w_lexical / (RRF_K + rank)
        return fused


def _dense_score(stored: StoredChunk, query_vector: np.ndarray) -> float:
    """Cosine of the passage plus that of its best sentence: the passage vector sees the
    topic, the sentence vector the specific fact (measured better than either alone, most
    for English questions: XQuAD en hit@1 0.76 -> 0.80 dense-only)."""
    passage = float(np.dot(stored.vector, query_vector))
    if not len(stored.sentence_vectors):
        return 2 * passage
    return passage + float(np.max(stored.sentence_vectors @ query_vector))


def _ranks(scores: dict[str, float], order: Callable[[str], tuple[str, int]]) -> dict[str, int]:
    """Rank 1 = best; equal scores in stored order (document id, position), as in every store."""
    ordered = sorted(scores.items(), key=lambda item: (-item[1], order(item[0])))
    return {chunk_id: rank for rank, (chunk_id, _) in enumerate(ordered, start=1)}


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
