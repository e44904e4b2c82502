"""FAISS over L2-normalized vectors with inner product (= cosine).

Exact search (IndexFlatIP) unless the corpus is large: a flat scan of 200k x 384 floats is still
~10-20 ms on 2 cores, so the approximate index (HNSW) is picked automatically only above that;
HNSW needs no training, adds incrementally, and keeps recall@10 high at these sizes
(measured in bench/scale.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.errors import BadInput

INDEX_TYPES = ("auto", "flat", "hnsw")
APPROXIMATE_ABOVE = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def resolve_index_type(requested: str, size: int, approximate_above: int = APPROXIMATE_ABOVE) -> str:
    """The concrete index type for `requested` ("auto" picks by corpus size)."""
    if requested not in INDEX_TYPES:
        raise BadInput(
            f"unknown index type {requested!r}: choose one of {', '.join(INDEX_TYPES)} (RAG_INDEX_TYPE)"
        )
    if requested == "auto":
        return "hnsw" if size > approximate_above else "flat"
    return requested


class VectorIndex:
    """A FAISS index over row-numbered vectors."""

    def __init__(self, faiss_index: object, kind: str) -> None:
        self._index = faiss_index
        self.kind = kind

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat") -> VectorIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise BadInput(f"unknown index type {kind!r}: choose one of {', '.join(INDEX_TYPES[1:])}")
        if len(vectors):
            index.add(vectors)
        return cls(index, kind)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) per query; rows are -1 where fewer than k exist."""
        k = max(1, min(k, self.size)) if self.size else 1
        if self.size == 0:
            n = len(queries)
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, rows

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        import faiss

        index = faiss.read_index(str(path))
        kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind)
