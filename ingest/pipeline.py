"""Incremental ingest: load -> clean -> chunk -> embed -> index, reusing what is unchanged.

A document whose content hash and chunking settings match the live index keeps its chunks and
vectors; a changed one is re-chunked and re-embedded and replaces its old chunks; documents not
named are kept unless `prune` (or removed by id). Nothing is written when nothing changed.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import chunk_document
from ingest.embedder import Embedder
from ingest.errors import BadInput, DocumentNotFound, IndexNotFound
from ingest.index import ReportIndex
from ingest.loading import discover, load_document
from ingest.records import Chunk, ChunkingSettings, Document
from ingest.vector_index import resolve_index_type


@dataclass(frozen=True)
class IngestReport:
    index_dir: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "changed": self.changed}


@dataclass(frozen=True)
class _DocumentPart:
    document: Document
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index directory (readers never need the lock)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ingest_paths(
    paths: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    chunking: ChunkingSettings,
    count_tokens: Callable[[str], int],
    *,
    index_type: str = "auto",
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Ingest files and directories into the index at `index_dir`."""
    files = discover(list(paths))
    if not files:
        raise BadInput(
            "no supported documents found in "
            + ", ".join(str(p) for p in paths)
            + ": give .txt, .md, .html, .pdf or .docx files"
        )
    documents = [load_document(path) for path in files]
    return update_index(
        index_dir,
        embedder,
        chunking,
        count_tokens,
        add=documents,
        index_type=index_type,
        prune=prune,
        rebuild=rebuild,
        progress=progress,
    )


def update_index(
    index_dir: Path,
    embedder: Embedder,
    chunking: ChunkingSettings,
    count_tokens: Callable[[str], int],
    *,
    add: Sequence[Document] = (),
    remove_ids: Sequence[str] = (),
    index_type: str = "auto",
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Add/replace `add`, drop `remove_ids` (and, with `prune`, every document not in `add`)."""
    started = time.perf_counter()
    resolve_index_type(index_type, 0)  # a bad RAG_INDEX_TYPE fails before any embedding work
    with index_lock(index_dir):
        existing = None if rebuild else _load_existing(index_dir, embedder.model_id)
        old_parts = _parts_by_document(existing) if existing else {}
        same_chunking = existing is not None and existing.manifest.chunking == chunking.as_dict()
        unknown = [doc_id for doc_id in remove_ids if doc_id not in old_parts]
        if unknown:
            raise DocumentNotFound(
                f"no document with id {', '.join(unknown)} in the index: list them with `rag documents` or GET /documents"
            )
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        parts: dict[str, _DocumentPart] = {}
        to_embed: list[Document] = []
        for doc in _unique(add):
            old = old_parts.get(doc.id)
            if old and same_chunking and old.document.content_hash == doc.content_hash:
                unchanged.append(doc.id)
                parts[doc.id] = old
            else:
                (updated if old else added).append(doc.id)
                to_embed.append(doc)
        keep_ids = {doc.id for doc in add}
        removed = [
            doc_id for doc_id in old_parts if doc_id not in keep_ids and (prune or doc_id in remove_ids)
        ]
        for doc_id, old in old_parts.items():
            if doc_id in parts or doc_id in removed or doc_id in {d.id for d in to_embed}:
                continue
            if same_chunking:
                parts[doc_id] = old
            else:
                updated.append(doc_id)
                to_embed.append(old.document)
        embedded_chunks = 0
        if to_embed:
            fresh = _embed_documents(to_embed, embedder, chunking, count_tokens, progress)
            embedded_chunks = sum(len(part.chunks) for part in fresh)
            parts.update({part.document.id: part for part in fresh})
        needs_write = existing is None or bool(added or updated or removed)
        ordered = [parts[doc_id] for doc_id in sorted(parts)]
        chunk_count = sum(len(part.chunks) for part in ordered)
        if needs_write:
            if not ordered:
                raise BadInput(
                    "that would leave the index empty; remove the index directory instead "
                    f"({index_dir}) or add documents first"
                )
            index = ReportIndex.build(
                [part.document for part in ordered],
                [chunk for part in ordered for chunk in part.chunks],
                np.concatenate([part.chunk_vectors for part in ordered]),
                np.concatenate([part.sentence_vectors for part in ordered]),
                embed_model=embedder.model_id,
                chunking=chunking.as_dict(),
                index_type=index_type,
            )
            index.save(index_dir)
    return IngestReport(
        index_dir=str(index_dir),
        added=added,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        documents=len(ordered),
        chunks=chunk_count,
        embedded_chunks=embedded_chunks,
        seconds=round(time.perf_counter() - started, 3),
    )


def _load_existing(index_dir: Path, model_id: str) -> ReportIndex | None:
    try:
        return ReportIndex.load(index_dir, expected_model=model_id)
    except IndexNotFound:
        return None


def _unique(documents: Sequence[Document]) -> list[Document]:
    seen: dict[str, Document] = {}
    for doc in documents:
        seen[doc.id] = doc
    return list(seen.values())


def _parts_by_document(index: ReportIndex) -> dict[str, _DocumentPart]:
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.chunks):
        rows.setdefault(chunk.doc_id, []).append(row)
    parts = {}
    for doc_id, doc in index.documents.items():
        chunk_rows = rows.get(doc_id, [])
        sentence_rows = [s for row in chunk_rows for s in index.sentence_rows[row]]
        parts[doc_id] = _DocumentPart(
            document=doc,
            chunks=[index.chunks[row] for row in chunk_rows],
            chunk_vectors=index.chunk_vectors[chunk_rows],
            sentence_vectors=index.sentence_vectors[sentence_rows],
        )
    return parts


def _embed_documents(
    documents: list[Document],
    embedder: Embedder,
    chunking: ChunkingSettings,
    count_tokens: Callable[[str], int],
    progress: bool,
) -> list[_DocumentPart]:
    chunked = [(doc, chunk_document(doc, chunking, count_tokens)) for doc in documents]
    chunk_texts = [chunk.embedding_text() for _, chunks in chunked for chunk in chunks]
    # Overlapping chunks repeat sentences: embed each distinct sentence text once.
    sentence_texts = sorted({s.text for _, chunks in chunked for chunk in chunks for s in chunk.sentences})
    all_vectors = embedder.embed_passages(chunk_texts + sentence_texts, progress=progress)
    chunk_vectors = all_vectors[: len(chunk_texts)]
    sentence_vector_of = dict(zip(sentence_texts, all_vectors[len(chunk_texts) :], strict=True))
    parts = []
    offset = 0
    for doc, chunks in chunked:
        sentence_vectors = [sentence_vector_of[s.text] for chunk in chunks for s in chunk.sentences]
        parts.append(
            _DocumentPart(
                document=doc,
                chunks=chunks,
                chunk_vectors=chunk_vectors[offset : offset + len(chunks)],
                sentence_vectors=np.asarray(sentence_vectors, dtype=np.float32).reshape(
                    -1, all_vectors.shape[1]
                ),
            )
        )
        offset += len(chunks)
    return parts
