"""The store interface: what ingest writes to and the retriever reads from.

Two implementations: `DirectoryStore` (FAISS + bm25s files in a versioned directory, the
default) and `MilvusStore` (one collection per corpus on Milvus Lite or a Milvus server).
Ranking stays in our code (`rag.retrieval.retriever`): a store answers "the k nearest chunk
vectors" and "the k best BM25 scores for these terms", and both sides are fused the same way
whichever store answered, so every store ranks identically.

Ties are broken by `StoredChunk.order` = (doc id, position): the row order of the directory
store, which sorts documents by id and keeps each document's chunks in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ingest.records import Chunk, Document


@dataclass(frozen=True)
class StoreInfo:
    """The manifest facts every store keeps, so a mismatch is caught the same way."""

    embed_model: str
    dimension: int
    chunking: dict[str, Any]


@dataclass(frozen=True)
class DocumentEntry:
    """A stored document as listed: no text, just what tells whether it changed."""

    id: str
    source: str
    path: str
    content_hash: str
    title: str
    chunks: int


@dataclass(frozen=True)
class DocumentPart:
    """One document with its chunks and vectors: the unit a store writes (rows in chunk order)."""

    document: Document
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray  # one row per sentence of each chunk, in order


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    source: str
    vector: np.ndarray
    sentence_vectors: np.ndarray  # one row per `chunk.sentences`

    @property
    def order(self) -> tuple[str, int]:
        return (self.chunk.doc_id, self.chunk.position)


class Corpus(Protocol):
    """Everything the answerer reads about the whole corpus (the directory's ReportIndex is one)."""

    documents: dict[str, Document]
    chunks: list[Chunk]
    sentence_rows: list[list[int]]
    sentence_vectors: np.ndarray


class ChunkStore(Protocol):
    """A corpus of embedded chunks, searched by vector and by BM25 terms."""

    location: str  # shown in messages: a directory, a .db file or a server URI
    shared: bool  # other processes may write while this one reads (readers poll `generation`)

    def info(self) -> StoreInfo | None:
        """The manifest facts, or None when the store holds nothing yet."""
        ...

    def documents(self) -> dict[str, DocumentEntry]: ...

    def count(self) -> int:
        """How many chunks."""
        ...

    def write(
        self,
        info: StoreInfo,
        add: Sequence[DocumentPart] = (),
        remove: Sequence[str] = (),
        *,
        replace_all: bool = False,
    ) -> None:
        """Add or replace the documents in `add` (their old chunks go) and drop those in
        `remove`; with `replace_all` the store then holds exactly `add` (a rebuild). Visible
        to every reader of the store when this returns."""
        ...

    def verify(self, embed_model: str) -> None:
        """Raise IndexNotFound, ModelMismatch or StoreUnavailable unless the store can be read
        with vectors from `embed_model`; each message says how to fix it."""
        ...

    def writer_lock(self) -> AbstractContextManager[None]:
        """Held around one ingest's read-compare-write."""
        ...

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, inner product) of the `k` nearest chunk vectors, best first."""
        ...

    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score > 0) of the `k` best chunks for the analysed query terms."""
        ...

    def fetch(self, ids: Sequence[str]) -> dict[str, StoredChunk]: ...

    def corpus(self) -> Corpus:
        """The whole corpus in memory, for the answerer's corpus-wide statistics."""
        ...

    def generation(self) -> str:
        """Changes whenever the stored corpus does (a reader reloads what it cached)."""
        ...

    def snapshot(self) -> ChunkStore:
        """The store as a reader loaded it: searches, fetches and the corpus stay those of the
        version loaded now while later writes and reloads go on (the answerer caches rows of
        that corpus, so a question in flight must not see a newer one)."""
        ...
