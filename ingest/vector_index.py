"""FAISS over L2-normalized vectors with inner product (= cosine).

Exact search (IndexFlatIP) unless the corpus is large: a single-threaded flat scan of 200k x
384 floats takes ~13 ms, so the approximate index (HNSW) is considered only above that. HNSW
needs no training and is fast at every size, but its recall depends on how clustered the
vectors are: on real embeddings recall@10 stays >= 0.99 up to 1M, on uniform-random vectors it
falls to 0.26 (bench/scale.py). So "auto" never trusts it blindly: after building, it measures
recall@10 against exact search on a sample of probes, raises efSearch until the target is met,
and keeps the exact index when no efSearch does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import BadInput

log = logging.getLogger(__name__)

INDEX_TYPES = ("auto", "flat", "hnsw")
APPROXIMATE_ABOVE = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# "auto" tries these efSearch values in turn; the first that meets RECALL_TARGET is kept.
EF_SEARCH_CANDIDATES = (128, 256, 512)
# The project promises recall@10 >= 0.95; the sample estimate has a standard error of ~0.005,
# so the target measured on it carries a margin.
RECALL_TARGET = 0.96
RECALL_PROBES = 200
RECALL_K = 10
PROBE_NOISE = 0.5  # norm of the noise that turns a stored vector into a probe: cosine ~0.89
# One question searches with one query. faiss's OpenMP team (one thread per core) makes such a
# search wait for a descheduled thread on a busy 2-core machine: 1 thread measured 6 ms for a
# flat 100k scan against 40 ms with 2 (bench/scale.py). Batches still use every core.
SINGLE_THREAD_BELOW = 16


def resolve_index_type(requested: str, size: int, approximate_above: int = APPROXIMATE_ABOVE) -> str:
    """The index type "auto" starts from at this size (it may still fall back to "flat" after
    measuring recall, see `VectorIndex.build`)."""
    if requested not in INDEX_TYPES:
        raise BadInput(
            f"unknown index type {requested!r}: choose one of {', '.join(INDEX_TYPES)} (RAG_INDEX_TYPE)"
        )
    if requested == "auto":
        return "hnsw" if size > approximate_above else "flat"
    return requested


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run faiss calls in this block on `count` OpenMP threads.

    The setting belongs to the calling thread (faiss ships libgomp, whose thread count is a
    per-thread value), so concurrent requests on other threads are not affected.
    """
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, count))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row of `truth` (exact top-k ids) that `found` also returned."""
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def _probes(vectors: np.ndarray, count: int) -> np.ndarray:
    """Query-like vectors near the corpus: stored rows plus noise, renormalized. Deterministic,
    so the same corpus always gets the same decision."""
    rng = np.random.default_rng(0)
    rows = rng.choice(len(vectors), size=min(count, len(vectors)), replace=False)
    noise = rng.standard_normal((len(rows), vectors.shape[1])).astype(np.float32)
    probes = vectors[rows] + noise * (PROBE_NOISE / np.sqrt(vectors.shape[1]))
    return np.ascontiguousarray(probes / np.linalg.norm(probes, axis=1, keepdims=True), dtype=np.float32)


class VectorIndex:
    """A FAISS index over row-numbered vectors."""

    def __init__(self, faiss_index: Any, kind: str) -> None:
        self._index = faiss_index
        self.kind = kind

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def ef_search(self) -> int | None:
        """HNSW's search breadth (None for an exact index)."""
        return int(self._index.hnsw.efSearch) if self.kind == "hnsw" else None

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        kind: str = "flat",
        *,
        approximate_above: int = APPROXIMATE_ABOVE,
        recall_target: float = RECALL_TARGET,
        ef_candidates: Sequence[int] = EF_SEARCH_CANDIDATES,
    ) -> VectorIndex:
        """An index of `kind` over `vectors`. "auto": exact up to `approximate_above` rows;
        above, HNSW with the smallest efSearch in `ef_candidates` whose measured recall@10
        reaches `recall_target`, else exact."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        concrete = resolve_index_type(kind, len(vectors), approximate_above)
        if concrete == "flat":
            return cls._flat(vectors)
        hnsw = cls._hnsw(vectors)
        if kind == "hnsw":
            return hnsw
        if hnsw._tune_ef_search(vectors, recall_target, ef_candidates):
            return hnsw
        del hnsw
        log.warning(
            "HNSW missed recall@10 %.2f at every efSearch in %s on these %d vectors; using exact search",
            recall_target, tuple(ef_candidates), len(vectors),
        )
        return cls._flat(vectors)

    @classmethod
    def _flat(cls, vectors: np.ndarray) -> VectorIndex:
        import faiss

        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(vectors)
        return cls(index, "flat")

    @classmethod
    def _hnsw(cls, vectors: np.ndarray) -> VectorIndex:
        import faiss

        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        if len(vectors):
            index.add(vectors)
        return cls(index, "hnsw")

    def _tune_ef_search(self, vectors: np.ndarray, target: float, candidates: Sequence[int]) -> bool:
        """Set the smallest efSearch meeting `target` recall@10; False if none does."""
        import faiss

        probes = _probes(vectors, RECALL_PROBES)
        k = min(RECALL_K, len(vectors))
        _, truth = faiss.knn(probes, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
        for ef in candidates:
            self._index.hnsw.efSearch = int(ef)
            _, found = self._index.search(probes, k)
            measured = recall_at_k(found, truth)
            log.info("HNSW efSearch %d: recall@10 %.3f on %d probes", ef, measured, len(probes))
            if measured >= target:
                return True
        return False

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) per query; rows are -1 where fewer than k exist."""
        k = max(1, min(k, self.size)) if self.size else 1
        if self.size == 0:
            n = len(queries)
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) < SINGLE_THREAD_BELOW:
            with faiss_threads(1):
                return self._index.search(queries, k)
        return self._index.search(queries, k)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index back; HNSW keeps the efSearch chosen when it was built."""
        import faiss

        index = faiss.read_index(str(path))
        kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"
        return cls(index, kind)
