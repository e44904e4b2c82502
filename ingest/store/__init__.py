"""Where the chunks live: the store interface and its two implementations.

`open_store` picks one from a spec (RAG_STORE / `--store`): empty -> the index directory
(default), a path ending in `.db` -> Milvus Lite in this process, `http(s)://host:port` -> a
Milvus server (RAG_STORE_TOKEN for its credentials).
"""

from __future__ import annotations

from pathlib import Path

from ingest.errors import BadInput
from ingest.store.base import ChunkStore, Corpus, DocumentEntry, DocumentPart, StoredChunk, StoreInfo
from ingest.store.directory import DirectoryStore

__all__ = [
    "ChunkStore",
    "Corpus",
    "DirectoryStore",
    "DocumentEntry",
    "DocumentPart",
    "StoreInfo",
    "StoredChunk",
    "describe_store",
    "is_milvus_lite",
    "open_store",
]

STORE_KINDS = ("(empty): the index directory", "PATH.db: Milvus Lite", "http(s)://host:port: a Milvus server")


def open_store(
    spec: str,
    index_dir: Path,
    *,
    index_type: str = "auto",
    token: str = "",
    collection: str = "",
    shared: bool = False,
) -> ChunkStore:
    """The store named by `spec`; `index_dir` is the default store (and names the Milvus
    collection unless `collection` is given). shared: other processes write to the index
    directory too, so it is re-read when it changes (a Milvus store always is)."""
    spec = spec.strip()
    if not spec:
        return DirectoryStore(index_dir, index_type, shared=shared)
    if is_milvus_lite(spec) or spec.startswith(("http://", "https://")):
        from ingest.store.milvus import MilvusStore, collection_name

        return MilvusStore(
            spec if spec.startswith("http") else str(Path(spec).expanduser().resolve()),
            collection or collection_name(index_dir),
            token=token,
            index_type=index_type,
        )
    raise BadInput(f"unknown store {spec!r} (RAG_STORE / --store): give one of " + "; ".join(STORE_KINDS))


def is_milvus_lite(spec: str) -> bool:
    """`spec` names Milvus Lite: a `.db` file that only the process that opens it may use."""
    return spec.strip().endswith(".db")


def describe_store(spec: str, index_dir: Path) -> str:
    return spec.strip() or str(index_dir)
