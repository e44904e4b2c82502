"""The on-disk index: documents, chunks, sentence and chunk vectors, FAISS and BM25, one manifest.

Layout of an index directory::

    DIR/CURRENT              name of the live version (replaced atomically)
    DIR/versions/<name>/     manifest.json, documents.jsonl, chunks.jsonl, sentences.jsonl,
                             chunk_vectors.npy, sentence_vectors.npy, vectors.faiss, lexical/

A new version is written completely beside the live one and only then named in CURRENT
(write a temp file, fsync, os.replace), so a crash mid-ingest leaves the previous version
loadable. The previous version is kept one generation so a reader that just read CURRENT
can still open it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexCorrupt, IndexNotFound, ModelMismatch
from ingest.lexical import LexicalIndex
from ingest.records import Chunk, Document, Sentence
from ingest.vector_index import VectorIndex

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embed_model: str
    dimension: int
    chunking: dict[str, Any]
    index_type: str
    documents: dict[str, dict[str, Any]]  # doc id -> {source, path, content_hash, chunks}
    chunk_count: int
    sentence_count: int
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def manifest_for(
    documents: list[Document],
    chunks: list[Chunk],
    embed_model: str,
    dimension: int,
    chunking: dict[str, Any],
    index_type: str,
) -> Manifest:
    """The manifest of an index over `documents` cut into `chunks`, written now."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    return Manifest(
        format_version=FORMAT_VERSION,
        embed_model=embed_model,
        dimension=dimension,
        chunking=chunking,
        index_type=index_type,
        documents={
            doc.id: {
                "source": doc.source,
                "path": doc.path,
                "content_hash": doc.content_hash,
                "title": doc.title,
                "chunks": counts.get(doc.id, 0),
            }
            for doc in documents
        },
        chunk_count=len(chunks),
        sentence_count=sum(len(chunk.sentences) for chunk in chunks),
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


class ReportIndex:
    """Everything retrieval and answering read, held in memory once loaded."""

    def __init__(
        self,
        manifest: Manifest,
        documents: dict[str, Document],
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        vectors: VectorIndex,
        lexical: LexicalIndex,
    ) -> None:
        self.manifest = manifest
        self.documents = documents
        self.chunks = chunks
        self.chunk_vectors = chunk_vectors
        self.sentence_vectors = sentence_vectors
        self.vectors = vectors
        self.lexical = lexical
        self.sentence_rows: list[list[int]] = []  # chunk row -> sentence rows
        self._index_sentences()

    def _index_sentences(self) -> None:
        # Sentence rows follow chunk order, each chunk's sentences in order (see unique_sentences).
        row = 0
        for chunk in self.chunks:
            self.sentence_rows.append(list(range(row, row + len(chunk.sentences))))
            row += len(chunk.sentences)
        if row != len(self.sentence_vectors):
            raise IndexCorrupt(
                f"the index holds {len(self.sentence_vectors)} sentence vectors for {row} sentences: "
                "rebuild it with `rag ingest --rebuild`"
            )

    @classmethod
    def build(
        cls,
        documents: list[Document],
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        *,
        embed_model: str,
        chunking: dict[str, Any],
        index_type: str,
    ) -> ReportIndex:
        """An in-memory index over already-embedded chunks (rows in `chunks` order)."""
        dimension = int(chunk_vectors.shape[1]) if chunk_vectors.ndim == 2 and len(chunk_vectors) else 0
        if not dimension and sentence_vectors.ndim == 2:
            dimension = int(sentence_vectors.shape[1])
        # "auto" may settle on either kind after measuring recall: the manifest records which
        vectors = VectorIndex.build(chunk_vectors.reshape(len(chunks), dimension or 1), index_type)
        manifest = manifest_for(documents, chunks, embed_model, dimension, chunking, vectors.kind)
        lexical = LexicalIndex.build([chunk.embedding_text() for chunk in chunks])
        return cls(
            manifest,
            {doc.id: doc for doc in documents},
            chunks,
            chunk_vectors,
            sentence_vectors,
            vectors,
            lexical,
        )

    def source_of(self, chunk: Chunk) -> str:
        return self.documents[chunk.doc_id].source

    def save(self, index_dir: Path) -> Path:
        """Write a new version beside the live one, then make it live atomically."""
        versions = index_dir / VERSIONS_DIR
        versions.mkdir(parents=True, exist_ok=True)
        name = f"v{time.time_ns()}"
        staging = versions / f".{name}.tmp"
        staging.mkdir()
        _write_jsonl(staging / "documents.jsonl", (_document_row(doc) for doc in self.documents.values()))
        _write_jsonl(staging / "chunks.jsonl", (chunk_to_row(chunk) for chunk in self.chunks))
        np.save(staging / "chunk_vectors.npy", self.chunk_vectors.astype(np.float32), allow_pickle=False)
        np.save(
            staging / "sentence_vectors.npy", self.sentence_vectors.astype(np.float32), allow_pickle=False
        )
        self.vectors.save(staging / "vectors.faiss")
        (staging / "lexical").mkdir()
        self.lexical.save(staging / "lexical")
        # The manifest goes last: a version without one is unfinished.
        _write_json(staging / "manifest.json", self.manifest.as_dict())
        _fsync_tree(staging)
        final = versions / name
        os.replace(staging, final)
        _write_atomically(index_dir / CURRENT_FILE, name + "\n")
        _remove_stale_versions(versions, keep={name, _previous_version(versions, name)})
        return final

    @classmethod
    def load(cls, index_dir: Path, expected_model: str | None = None) -> ReportIndex:
        """Load the live version; clear errors for a missing, corrupt or mismatched index."""
        version_dir = live_version_dir(index_dir)
        manifest = read_manifest(index_dir)
        if expected_model is not None and manifest.embed_model != expected_model:
            raise ModelMismatch(
                f"the index in {index_dir} was built with the embedding model {manifest.embed_model!r} "
                f"({manifest.dimension} dimensions) but the configured model is {expected_model!r}. "
                f"Rebuild it with `rag ingest --rebuild --index {index_dir}`, or set RAG_EMBED_MODEL "
                "back to the model it was built with."
            )
        try:
            documents = {
                row["id"]: _document_from_row(row) for row in _read_jsonl(version_dir / "documents.jsonl")
            }
            chunks = [chunk_from_row(row) for row in _read_jsonl(version_dir / "chunks.jsonl")]
            chunk_vectors = np.load(version_dir / "chunk_vectors.npy", allow_pickle=False)
            sentence_vectors = np.load(version_dir / "sentence_vectors.npy", allow_pickle=False)
            vectors = VectorIndex.load(version_dir / "vectors.faiss")
            lexical = LexicalIndex.load(version_dir / "lexical", len(chunks))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexCorrupt(
                f"the index in {index_dir} is damaged ({type(exc).__name__}: {exc}). "
                f"Rebuild it with `rag ingest --rebuild --index {index_dir}`."
            ) from exc
        if len(chunks) != vectors.size or len(chunks) != manifest.chunk_count:
            raise IndexCorrupt(
                f"the index in {index_dir} is inconsistent ({len(chunks)} chunks, {vectors.size} vectors). "
                f"Rebuild it with `rag ingest --rebuild --index {index_dir}`."
            )
        return cls(manifest, documents, chunks, chunk_vectors, sentence_vectors, vectors, lexical)


def live_version_dir(index_dir: Path) -> Path:
    current = index_dir / CURRENT_FILE
    if not current.exists():
        raise IndexNotFound(
            f"no index in {index_dir}: build one with `rag ingest --index {index_dir} PATH...` "
            "(or `rag ingest` for the bundled report)"
        )
    name = current.read_text(encoding="utf-8").strip()
    version_dir = index_dir / VERSIONS_DIR / name
    if not name or not (version_dir / "manifest.json").exists():
        raise IndexCorrupt(
            f"the index in {index_dir} points at a missing version {name!r}. "
            f"Rebuild it with `rag ingest --rebuild --index {index_dir}`."
        )
    return version_dir


def read_manifest(index_dir: Path) -> Manifest:
    """The live version's manifest (cheap: no vectors are read)."""
    path = live_version_dir(index_dir) / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorrupt(
            f"the manifest {path} is unreadable ({exc}). Rebuild with `rag ingest --rebuild --index {index_dir}`."
        ) from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorrupt(
            f"the index in {index_dir} has format {manifest.format_version}, this version reads {FORMAT_VERSION}. "
            f"Rebuild it with `rag ingest --rebuild --index {index_dir}`."
        )
    return manifest


def _document_row(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "source": doc.source,
        "path": doc.path,
        "content_hash": doc.content_hash,
        "title": doc.title,
        "text": doc.text,
    }


def _document_from_row(row: dict[str, Any]) -> Document:
    return Document(
        id=row["id"],
        source=row["source"],
        path=row["path"],
        text=row["text"],
        content_hash=row["content_hash"],
        title=row.get("title", ""),
    )


def chunk_to_row(chunk: Chunk) -> dict[str, Any]:
    """A chunk as plain JSON data (the index's chunks.jsonl line, the Milvus store's fields)."""
    return {
        "id": chunk.id,
        "doc_id": chunk.doc_id,
        "text": chunk.text,
        "spans": [list(span) for span in chunk.spans],
        "context": chunk.context,
        "position": chunk.position,
        "sentences": [{"text": s.text, "spans": [list(span) for span in s.spans]} for s in chunk.sentences],
    }


def _spans(rows: list[list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((int(start), int(end)) for start, end in rows)


def chunk_from_row(row: dict[str, Any]) -> Chunk:
    """The chunk back from `chunk_to_row`'s data."""
    return Chunk(
        id=row["id"],
        doc_id=row["doc_id"],
        text=row["text"],
        spans=_spans(row["spans"]),
        sentences=tuple(Sentence(text=s["text"], spans=_spans(s["spans"])) for s in row["sentences"]),
        context=row.get("context", ""),
        position=row.get("position", 0),
    )


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    _fsync_dir(path.parent)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _previous_version(versions: Path, current: str) -> str:
    names = sorted(p.name for p in versions.iterdir() if p.name.startswith("v") and p.name != current)
    return names[-1] if names else ""


def _remove_stale_versions(versions: Path, keep: set[str]) -> None:
    for path in versions.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
