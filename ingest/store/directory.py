"""The embedded store: a versioned index directory (FAISS + bm25s files), the default.

Crash safety is `ReportIndex.save`'s: every write builds a complete new version beside the live
one and swaps it in atomically, so a killed ingest leaves the old index readable.

Opened `shared` (by each of `rag serve --workers N`'s processes), it is read as the other
processes may have changed it: the documents and facts come from the manifest on disk, and
readers reload when `generation` (the CURRENT file) moves. Writers already take the file lock
and reload the live version under it (`ingest.pipeline.update_index`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ingest.build_cache import file_lock
from ingest.errors import IndexNotFound
from ingest.index import CURRENT_FILE, Manifest, ReportIndex, read_manifest
from ingest.store.base import DocumentEntry, DocumentPart, StoredChunk, StoreInfo


class DirectoryStore:
    def __init__(
        self, index_dir: Path, index_type: str = "auto", index: ReportIndex | None = None, shared: bool = False
    ) -> None:
        self.index_dir = index_dir
        self.shared = shared
        self.location = str(index_dir)
        self.index_type = index_type
        self._index = index
        self._row_of: dict[str, int] | None = None

    @property
    def index(self) -> ReportIndex:
        """The live version, loaded once (`verify` loads it with the model check)."""
        if self._index is None:
            self._index = ReportIndex.load(self.index_dir)
        return self._index

    def verify(self, embed_model: str) -> None:
        self._index = ReportIndex.load(self.index_dir, expected_model=embed_model)
        self._row_of = None

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """One writer at a time per index directory (readers never need the lock)."""
        with file_lock(self.index_dir / ".lock"):
            yield

    # --- facts -----------------------------------------------------------------------------
    def _manifest(self) -> Manifest:
        """The loaded version's manifest; the live one on disk when not loaded or `shared`."""
        return self._index.manifest if self._index is not None and not self.shared else read_manifest(self.index_dir)

    def info(self) -> StoreInfo | None:
        try:
            manifest = self._manifest()
        except IndexNotFound:
            return None
        return StoreInfo(manifest.embed_model, manifest.dimension, manifest.chunking)

    def documents(self) -> dict[str, DocumentEntry]:
        manifest = self._manifest()
        return {
            doc_id: DocumentEntry(
                doc_id, entry["source"], entry["path"], entry["content_hash"], entry.get("title", ""), entry["chunks"]
            )
            for doc_id, entry in manifest.documents.items()
        }

    def count(self) -> int:
        return len(self.index.chunks) if self.info() is not None else 0

    def generation(self) -> str:
        """The live version's name."""
        current = self.index_dir / CURRENT_FILE
        return current.read_text(encoding="utf-8").strip() if current.exists() else ""

    def corpus(self) -> ReportIndex:
        return self.index

    def snapshot(self) -> DirectoryStore:
        """A store over the version loaded now: a later `write` or `verify` here replaces this
        store's version, never the snapshot's. Not `shared`: its facts are those of its version
        (and a question's `count` reads no manifest from disk)."""
        return DirectoryStore(self.index_dir, self.index_type, index=self.index)

    # --- writing ---------------------------------------------------------------------------
    def parts(self) -> dict[str, DocumentPart]:
        """Every stored document with its chunks and vectors."""
        index = self.index
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(index.chunks):
            rows.setdefault(chunk.doc_id, []).append(row)
        parts = {}
        for doc_id, doc in index.documents.items():
            chunk_rows = rows.get(doc_id, [])
            sentence_rows = [s for row in chunk_rows for s in index.sentence_rows[row]]
            parts[doc_id] = DocumentPart(
                document=doc,
                chunks=[index.chunks[row] for row in chunk_rows],
                chunk_vectors=index.chunk_vectors[chunk_rows],
                sentence_vectors=index.sentence_vectors[sentence_rows],
            )
        return parts

    def write(
        self,
        info: StoreInfo,
        add: Sequence[DocumentPart] = (),
        remove: Sequence[str] = (),
        *,
        replace_all: bool = False,
    ) -> None:
        parts = {} if replace_all or self.info() is None else self.parts()
        for doc_id in remove:
            parts.pop(doc_id, None)
        parts.update({part.document.id: part for part in add})
        # Rows sorted by document id, each document's chunks in order: `StoredChunk.order`.
        ordered = [parts[doc_id] for doc_id in sorted(parts)]
        index = ReportIndex.build(
            [part.document for part in ordered],
            [chunk for part in ordered for chunk in part.chunks],
            np.concatenate([part.chunk_vectors for part in ordered]),
            np.concatenate([part.sentence_vectors for part in ordered]),
            embed_model=info.embed_model,
            chunking=info.chunking,
            index_type=self.index_type,
        )
        index.save(self.index_dir)
        self._index, self._row_of = index, None

    # --- reading ---------------------------------------------------------------------------
    def _rows(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {chunk.id: row for row, chunk in enumerate(self.index.chunks)}
        return self._row_of

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        index = self.index
        if not index.chunks or k < 1:
            return []
        scores, found = index.vectors.search(vector[None, :], min(k, len(index.chunks)))
        return [(index.chunks[int(row)].id, float(score)) for score, row in zip(scores[0], found[0], strict=True) if row >= 0]

    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[str, float]]:
        index = self.index
        if not index.chunks or k < 1:
            return []
        scores = index.lexical.scores(list(terms))
        return [(index.chunks[row].id, float(scores[row])) for row in top_rows(scores, k)]

    def fetch(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        index, row_of = self.index, self._rows()
        found = {}
        for chunk_id in ids:
            row = row_of.get(chunk_id)
            if row is None:
                continue
            chunk = index.chunks[row]
            found[chunk_id] = StoredChunk(
                chunk,
                index.source_of(chunk),
                index.chunk_vectors[row],
                index.sentence_vectors[index.sentence_rows[row]],
            )
        return found


def top_rows(scores: np.ndarray, k: int) -> list[int]:
    """The rows of the `k` best positive scores, best first, equal scores in row order: what
    `np.argsort(-scores, kind="stable")[:k]` gives, less the rows scoring 0. Only the positive
    rows at or above the k-th best score are sorted: over 1M scores (5% / 50% of them positive)
    the full stable sort measured 26 / 112 ms here, this 2.0 / 2.6 ms."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        kth = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= kth]
    return [int(row) for row in positive[np.argsort(-scores[positive], kind="stable")][:k]]
