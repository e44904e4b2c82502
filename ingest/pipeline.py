"""Incremental ingest: load -> clean -> chunk -> embed -> index, reusing what is unchanged.

A document whose content hash and chunking settings match the live index keeps its chunks and
vectors; a changed one is re-chunked and re-embedded and replaces its old chunks; documents not
named are kept unless `prune` (or removed by id). Nothing is written when nothing changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import chunk_document
from ingest.embedder import Embedder
from ingest.errors import BadInput, DocumentNotFound
from ingest.loading import discover, load_document
from ingest.records import ChunkingSettings, Document
from ingest.store.base import ChunkStore, DocumentPart, StoreInfo
from ingest.store.directory import DirectoryStore
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


def index_lock(index_dir: Path) -> AbstractContextManager[None]:
    """One writer at a time per index directory (readers never need the lock)."""
    return DirectoryStore(index_dir).writer_lock()


def as_store(target: Path | ChunkStore, index_type: str = "auto") -> ChunkStore:
    """A path is an index directory (the default store); a store is used as it is."""
    return DirectoryStore(target, index_type) if isinstance(target, Path) else target


def ingest_paths(
    paths: Sequence[Path],
    index_dir: Path | ChunkStore,
    embedder: Embedder,
    chunking: ChunkingSettings,
    count_tokens: Callable[[str], int],
    *,
    index_type: str = "auto",
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Ingest files and directories into the index at `index_dir` (or into a store)."""
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
    index_dir: Path | ChunkStore,
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
    store = as_store(index_dir, index_type)
    with store.writer_lock():
        info = None if rebuild else store.info()
        if info is not None:
            store.verify(embedder.model_id)
        old = store.documents() if info is not None else {}
        same_chunking = info is not None and info.chunking == chunking.as_dict()
        unknown = [doc_id for doc_id in remove_ids if doc_id not in old]
        if unknown:
            raise DocumentNotFound(
                f"no document with id {', '.join(unknown)} in the index: list them with `rag documents` or GET /documents"
            )
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        to_embed: list[Document] = []
        for doc in _unique(add):
            entry = old.get(doc.id)
            if entry and same_chunking and entry.content_hash == doc.content_hash:
                unchanged.append(doc.id)
            else:
                (updated if entry else added).append(doc.id)
                to_embed.append(doc)
        keep_ids = {doc.id for doc in add}
        removed = [doc_id for doc_id in old if doc_id not in keep_ids and (prune or doc_id in remove_ids)]
        kept = [doc_id for doc_id in old if doc_id not in keep_ids and doc_id not in removed]
        if kept and not same_chunking:
            # New chunking settings: every kept document is chunked and embedded again.
            updated.extend(kept)
            to_embed.extend(_stored_documents(store, kept))
        embedded_chunks = 0
        fresh: list[DocumentPart] = []
        if to_embed:
            fresh = _embed_documents(to_embed, embedder, chunking, count_tokens, progress)
            embedded_chunks = sum(len(part.chunks) for part in fresh)
        needs_write = info is None or bool(added or updated or removed)
        counts = {doc_id: entry.chunks for doc_id, entry in old.items() if doc_id in kept or doc_id in unchanged}
        counts.update({part.document.id: len(part.chunks) for part in fresh})
        if needs_write:
            if not counts:
                raise BadInput(
                    "that would leave the index empty; remove the index directory instead "
                    f"({store.location}) or add documents first"
                )
            dimension = int(fresh[0].chunk_vectors.shape[1]) if fresh else (info.dimension if info else 0)
            store.write(
                StoreInfo(embedder.model_id, dimension, chunking.as_dict()),
                add=fresh,
                remove=removed,
                # never because the store looked empty: another ingest process may be filling it
                replace_all=rebuild or (info is not None and not same_chunking),
            )
    return IngestReport(
        index_dir=store.location,
        added=added,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        documents=len(counts),
        chunks=sum(counts.values()),
        embedded_chunks=embedded_chunks,
        seconds=round(time.perf_counter() - started, 3),
    )


def _stored_documents(store: ChunkStore, doc_ids: list[str]) -> list[Document]:
    """The full text of stored documents, to chunk them again."""
    documents = store.corpus().documents
    missing = [doc_id for doc_id in doc_ids if not documents[doc_id].text]
    if missing:
        raise BadInput(
            f"the store {store.location} was built with other chunking settings and keeps no document "
            f"text to chunk again: rebuild it from the documents with `rag ingest --rebuild --store {store.location} PATH...`"
        )
    return [documents[doc_id] for doc_id in doc_ids]


def _unique(documents: Sequence[Document]) -> list[Document]:
    seen: dict[str, Document] = {}
    for doc in documents:
        seen[doc.id] = doc
    return list(seen.values())


def _embed_documents(
    documents: list[Document],
    embedder: Embedder,
    chunking: ChunkingSettings,
    count_tokens: Callable[[str], int],
    progress: bool,
) -> list[DocumentPart]:
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
            DocumentPart(
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
