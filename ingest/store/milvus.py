"""The Milvus store: one collection per corpus on Milvus Lite (a `.db` file) or a Milvus server.

Schema of `<name>` (one row per chunk)::

    id                VARCHAR(512)  primary key: the chunk id, derived from its document and text,
                                    so ingesting the same text again upserts the same rows
    doc_id            VARCHAR(256)  filterable: delete and replace by document
    position          INT64         the chunk's order in its document (ties break on doc_id, position)
    source            VARCHAR(1024) file name shown in citations
    text              VARCHAR(65535) the passage, exactly as cited
    chunk             JSON          spans, heading context, sentences with their spans
    terms             VARCHAR(65535) our BM25 terms (jieba search mode + glossary-ready words, the
                                    same `ingest.lexical.tokenize` the directory store indexes),
                                    space-separated; analyzer "whitespace" (Lite: "standard",
                                    which is `\\w+` there: the same split for these terms)
    sparse            SPARSE_FLOAT_VECTOR  BM25 function output over `terms` (k1 1.5, b 0.75)
    vector            FLOAT_VECTOR(dim)    the passage embedding (unit length, metric IP)
    sentence_vectors  VARCHAR(65535) the sentence embeddings the answerer scores, float32 rows,
                                    base64: one per sentence in `chunk.sentences`

and `<name>_docs` (one row per document, plus the row `__store__` holding the manifest facts
and a generation that changes with every write): id, source, path, content_hash, title,
chunks, info JSON, and a 2-d placeholder vector (Milvus requires one vector field).

Index by size: FLAT (exact, like the directory store) up to 200k chunks, HNSW (M 32,
efConstruction 80, ef 128) above; the 100M-chunk choice is in BENCHMARKS.md. Every collection
is created and read with consistency level Strong: a write acknowledged to one replica is
seen by the next search on every other replica.

Only the portable subset is used: the BM25 function on a VARCHAR, FLAT/HNSW with IP, filters
on doc_id, upsert, delete by filter, get by id. No server-side fusion: dense and BM25 results
are fused by `rag.retrieval.retriever`, as for the directory store.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ingest.errors import BadInput, IndexNotFound, ModelMismatch, StoreUnavailable
from ingest.index import chunk_from_row, chunk_to_row
from ingest.records import Chunk, Document
from ingest.store.base import DocumentEntry, DocumentPart, StoredChunk, StoreInfo
from ingest.vector_index import APPROXIMATE_ABOVE, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

SCHEMA_VERSION = 1
STORE_ROW = "__store__"
MAX_VARCHAR = 65535
BM25_K1, BM25_B = 1.5, 0.75  # bm25s' defaults, so both stores score alike
WRITE_BATCH = 256
DELETE_GROUP = 4096  # chunk ids kept per stale-row delete: one filter expression, not one per document
CONNECT_ATTEMPTS, CONNECT_PAUSE_S = 4, 0.5  # a refused connection fails in ms: 503 after ~1.5 s
EMPTY_TERMS = "_empty_"  # bm25s indexes an empty passage as one "<empty>" token
_NOT_WORD = re.compile(r"\W")
T = TypeVar("T")


def collection_name(index_dir: Path) -> str:
    """`rag_<index directory name>`: one collection per corpus, as one directory per corpus."""
    slug = re.sub(r"\W+", "_", index_dir.name.lower()).strip("_") or "index"
    return f"rag_{slug}"[:200]


def encode_terms(tokens: Sequence[str]) -> str:
    """Our tokens as one string both analyzers split back into exactly these tokens."""
    return " ".join(_NOT_WORD.sub("_", token) for token in tokens)


def _pack(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def _unpack(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, dimension)


# What the JSON field holds of a chunk; id, doc id, text and position are scalar fields.
_JSON_FIELDS = ("spans", "context", "sentences")


@dataclass
class MilvusCorpus:
    """The corpus view the answerer reads (what ReportIndex gives it for the directory store)."""

    documents: dict[str, Document]
    chunks: list[Chunk]
    sentence_rows: list[list[int]]
    sentence_vectors: np.ndarray


class MilvusStore:
    shared = True

    def __init__(
        self,
        uri: str,
        collection: str,
        *,
        token: str = "",
        index_type: str = "auto",
        tokenize: Callable[[str], list[str]] | None = None,
    ) -> None:
        """tokenize: the BM25 terms of a chunk's text, `ingest.lexical.tokenize` unless given
        (bench.bulk_index gives the same terms computed once per distinct sentence)."""
        self.uri = uri
        self.location = uri
        self.collection = collection
        self.docs_collection = f"{collection}_docs"
        self.token = token
        self.index_type = index_type
        self._tokenize = tokenize
        self._client: Any = None
        self._lock = threading.Lock()
        self._corpus: tuple[str, MilvusCorpus] | None = None
        self._count: tuple[str, int] | None = None
        self._info: StoreInfo | None = None

    # --- connection ------------------------------------------------------------------------
    def _connect(self) -> Any:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ImportError("the Milvus store needs pymilvus: pip install 'pymilvus>=3' 'milvus-lite>=3'") from exc
        with self._lock:
            if self._client is None:
                self._client = MilvusClient(uri=self.uri, token=self.token, timeout=10)
            return self._client

    def _call(self, what: str, action: Callable[[Any], T]) -> T:
        """Run `action(client)`; a server that cannot be reached becomes StoreUnavailable (503).
        The client is rebuilt on the next call, so a server that returns is used again."""
        from pymilvus.exceptions import MilvusException

        for attempt in range(CONNECT_ATTEMPTS):
            try:
                return action(self._connect())
            except (MilvusException, ConnectionError, OSError) as exc:
                if _is_released(exc) and attempt + 1 < CONNECT_ATTEMPTS:
                    # Milvus Lite's server comes back with its collections released (a real
                    # server restores what was loaded): load them and try again.
                    self._load_collections()
                    continue
                if not _is_unreachable(exc):
                    raise
                self._drop_client()
                if attempt + 1 < CONNECT_ATTEMPTS:
                    # a server that just came back takes a moment to accept gRPC calls (~1 s here)
                    time.sleep(CONNECT_PAUSE_S)
                    continue
                raise StoreUnavailable(
                    f"the Milvus store at {self.uri} is unreachable ({what}: {_short(exc)}): start the server "
                    "or fix RAG_STORE / --store; requests succeed again as soon as it answers"
                ) from exc
        raise AssertionError("unreachable")  # the loop returns or raises

    def _load_collections(self) -> None:
        client = self._connect()
        for name in (self.collection, self.docs_collection):
            if client.has_collection(name):
                client.load_collection(name)

    def _drop_client(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass

    # --- facts -----------------------------------------------------------------------------
    def _store_row(self) -> dict[str, Any] | None:
        def read(client: Any) -> dict[str, Any] | None:
            if not client.has_collection(self.docs_collection):
                return None
            rows = client.get(self.docs_collection, ids=[STORE_ROW], output_fields=["info"])
            return dict(rows[0]["info"]) if rows else None

        return self._call("reading the manifest", read)

    def info(self) -> StoreInfo | None:
        row = self._store_row()
        if row is None:
            return None
        return StoreInfo(row["embed_model"], int(row["dimension"]), dict(row["chunking"]))

    def generation(self) -> str:
        row = self._store_row()
        return "" if row is None else str(row.get("generation", ""))

    def verify(self, embed_model: str) -> None:
        info = self.info()
        if info is None:
            raise IndexNotFound(
                f"no collection {self.collection} in the Milvus store {self.uri}: build it with "
                f"`rag ingest --store {self.uri} PATH...`"
            )
        if info.embed_model != embed_model:
            raise ModelMismatch(
                f"the collection {self.collection} in {self.uri} was built with the embedding model "
                f"{info.embed_model!r} ({info.dimension} dimensions) but the configured model is {embed_model!r}. "
                f"Rebuild it with `rag ingest --rebuild --store {self.uri} PATH...`, or set RAG_EMBED_MODEL back "
                "to the model it was built with."
            )
        self._info = info

    def documents(self) -> dict[str, DocumentEntry]:
        def read(client: Any) -> list[dict[str, Any]]:
            if not client.has_collection(self.docs_collection):
                return []
            fields = ["id", "source", "path", "content_hash", "title", "chunks"]
            return _scan(client, self.docs_collection, f'id != "{STORE_ROW}"', fields)

        rows = self._call("listing documents", read)
        return {
            row["id"]: DocumentEntry(
                row["id"], row["source"], row["path"], row["content_hash"], row["title"], int(row["chunks"])
            )
            for row in sorted(rows, key=lambda row: row["id"])
        }

    def count(self) -> int:
        """Counted once per generation: the retriever asks on every question, and a count(*)
        scans the collection in Lite (48 ms a question at 100k chunks, measured)."""
        generation = self.generation()
        if generation and self._count is not None and self._count[0] == generation:
            return self._count[1]

        def read(client: Any) -> int:
            if not client.has_collection(self.collection):
                return 0
            rows = client.query(self.collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
            return int(rows[0]["count(*)"])

        counted = self._call("counting chunks", read)
        self._count = (generation, counted)
        return counted

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """No lock: writers of different documents never touch the same rows (chunk ids are
        content-derived), so several ingest processes may fill one collection at once."""
        yield

    # --- schema ----------------------------------------------------------------------------
    def _create(self, client: Any, dimension: int) -> None:
        from pymilvus import DataType

        if not client.has_collection(self.collection):
            try:
                self._create_chunks(client, dimension, "whitespace")
            except Exception as exc:  # noqa: BLE001 - servers refuse an unknown tokenizer differently
                if "tokenizer" not in str(exc):
                    raise
                # Milvus Lite knows only "standard" and "jieba", and its "standard" is `\w+`:
                # the same split for our encoded terms. (A real server's "standard" splits CJK
                # per character, so it is used only where "whitespace" is refused.)
                self._create_chunks(client, dimension, "standard")
        if not client.has_collection(self.docs_collection):
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=256)
            schema.add_field("source", DataType.VARCHAR, max_length=1024)
            schema.add_field("path", DataType.VARCHAR, max_length=4096)
            schema.add_field("content_hash", DataType.VARCHAR, max_length=128)
            schema.add_field("title", DataType.VARCHAR, max_length=4096)
            schema.add_field("chunks", DataType.INT64)
            schema.add_field("info", DataType.JSON)
            schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
            index_params = client.prepare_index_params()
            index_params.add_index("placeholder", index_type="FLAT", metric_type="L2")
            _ignore_exists(
                lambda: client.create_collection(
                    self.docs_collection, schema=schema, index_params=index_params, consistency_level="Strong"
                )
            )

    def _create_chunks(self, client: Any, dimension: int, tokenizer: str) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=256)
        schema.add_field("position", DataType.INT64)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("chunk", DataType.JSON)
        schema.add_field(
            "terms",
            DataType.VARCHAR,
            max_length=MAX_VARCHAR,
            enable_analyzer=True,
            analyzer_params={"tokenizer": tokenizer},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("sentence_vectors", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_function(
            Function(
                name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]
            )
        )
        index_params = client.prepare_index_params()
        self._vector_index(index_params, self._index_kind(0))
        index_params.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
        )
        index_params.add_index("doc_id", index_type="INVERTED")
        _ignore_exists(
            lambda: client.create_collection(
                self.collection, schema=schema, index_params=index_params, consistency_level="Strong"
            )
        )

    def _index_kind(self, size: int) -> str:
        if self.index_type == "auto":
            return "HNSW" if size > APPROXIMATE_ABOVE else "FLAT"
        return self.index_type.upper()

    @staticmethod
    def _vector_index(index_params: Any, kind: str) -> None:
        params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION} if kind == "HNSW" else {}
        index_params.add_index("vector", index_type=kind, metric_type="IP", params=params)

    def _current_index_kind(self, client: Any) -> str:
        description = client.describe_index(self.collection, index_name="vector")
        return str(description.get("index_type", "FLAT")).upper()

    def _reindex(self, client: Any) -> None:
        """FLAT -> HNSW once the collection outgrows exact search (auto)."""
        wanted = self._index_kind(self.count())
        if self._current_index_kind(client) == wanted:
            return
        client.release_collection(self.collection)
        client.drop_index(self.collection, index_name="vector")
        index_params = client.prepare_index_params()
        self._vector_index(index_params, wanted)
        client.create_index(self.collection, index_params)
        client.load_collection(self.collection)

    def drop(self) -> None:
        """Remove both collections (tests against a real server clean up with this)."""

        def run(client: Any) -> None:
            for name in (self.collection, self.docs_collection):
                if client.has_collection(name):
                    client.drop_collection(name)

        self._call("dropping the collections", run)
        self._corpus = None
        self._count = None

    # --- writing ---------------------------------------------------------------------------
    def write(
        self,
        info: StoreInfo,
        add: Sequence[DocumentPart] = (),
        remove: Sequence[str] = (),
        *,
        replace_all: bool = False,
    ) -> None:
        from ingest.lexical import tokenize as default_tokenize

        tokenize = self._tokenize or default_tokenize

        def run(client: Any) -> None:
            if replace_all:
                for name in (self.collection, self.docs_collection):
                    if client.has_collection(name):
                        client.drop_collection(name)
            self._create(client, info.dimension)
            # Into a collection this call just created, insert: nothing to replace, and Lite's
            # upsert reads every key back first. Otherwise upsert, and delete the stale rows
            # once per group of documents: a filtered delete scans the collection in Lite (one
            # per document took 17 s of a 30 s write of 5k chunks, measured) and grew with it.
            put = client.insert if replace_all else client.upsert
            for group in _groups(add, DELETE_GROUP):
                rows = [row for part in group for row in _chunk_rows(part, tokenize)]
                for start in range(0, len(rows), WRITE_BATCH):
                    put(self.collection, rows[start : start + WRITE_BATCH])
                if not replace_all:
                    # New rows first, then the documents' stale ones: a reader never sees one missing.
                    doc_ids = json.dumps([part.document.id for part in group], ensure_ascii=False)
                    keep = json.dumps([row["id"] for row in rows], ensure_ascii=False)
                    client.delete(self.collection, filter=f"doc_id in {doc_ids} and id not in {keep}")
                client.upsert(self.docs_collection, [_document_row(part) for part in group])
            if remove:
                ids = json.dumps(list(remove), ensure_ascii=False)
                client.delete(self.collection, filter=f"doc_id in {ids}")
                client.delete(self.docs_collection, ids=list(remove))
            client.upsert(self.docs_collection, [_store_row(info)])
            self._reindex(client)

        self._call("writing", run)
        self._corpus = None
        self._count = None

    # --- reading ---------------------------------------------------------------------------
    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k < 1:
            return []
        params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, k)}}
        found = self._call(
            "dense search",
            lambda client: client.search(
                self.collection,
                data=[np.asarray(vector, dtype=np.float32).tolist()],
                anns_field="vector",
                limit=k,
                search_params=params,
                output_fields=["id"],
                consistency_level="Strong",
            ),
        )
        return [(hit["id"], float(hit["distance"])) for hit in found[0]]

    def lexical_search(self, terms: Sequence[str], k: int) -> list[tuple[str, float]]:
        if k < 1 or not terms:
            return []
        found = self._call(
            "BM25 search",
            lambda client: client.search(
                self.collection,
                data=[encode_terms(terms)],
                anns_field="sparse",
                limit=k,
                search_params={"metric_type": "BM25"},
                output_fields=["id"],
                consistency_level="Strong",
            ),
        )
        # Milvus scores BM25 with a (k1 + 1) factor bm25s leaves out (same ranking); Lite
        # returns the score negated: abs() reads both.
        return [(hit["id"], abs(float(hit["distance"])) / (BM25_K1 + 1)) for hit in found[0] if hit["distance"]]

    def fetch(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        rows = self._call(
            "fetching chunks",
            lambda client: client.get(
                self.collection,
                ids=list(ids),
                output_fields=["id", "doc_id", "position", "source", "text", "chunk", "vector", "sentence_vectors"],
            ),
        )
        return {row["id"]: _stored_chunk(row) for row in rows}

    def snapshot(self) -> MilvusStore:
        """Itself: a collection has no versions to hold on to (a write landing while a question
        is answered can still show it chunks its corpus statistics do not have yet)."""
        return self

    def corpus(self) -> MilvusCorpus:
        """Every chunk, read once per generation (the answerer's corpus-wide statistics)."""
        generation = self.generation()
        if self._corpus is not None and self._corpus[0] == generation:
            return self._corpus[1]
        fields = ["id", "doc_id", "position", "source", "text", "chunk", "vector", "sentence_vectors"]

        def read(client: Any) -> list[dict[str, Any]]:
            return _scan(client, self.collection, "", fields) if client.has_collection(self.collection) else []

        stored = sorted((_stored_chunk(row) for row in self._call("reading the corpus", read)), key=lambda s: s.order)
        entries = self.documents()
        documents = {
            doc_id: Document(doc_id, e.source, e.path, "", e.content_hash, e.title) for doc_id, e in entries.items()
        }
        sentence_rows: list[list[int]] = []
        row = 0
        for item in stored:
            sentence_rows.append(list(range(row, row + len(item.sentence_vectors))))
            row += len(item.sentence_vectors)
        dimension = self.info().dimension if stored else 0  # type: ignore[union-attr]
        vectors = (
            np.concatenate([item.sentence_vectors for item in stored])
            if stored
            else np.zeros((0, dimension), dtype=np.float32)
        )
        corpus = MilvusCorpus(documents, [item.chunk for item in stored], sentence_rows, vectors)
        self._corpus = (generation, corpus)
        return corpus


def _scan(client: Any, collection: str, filter: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every row matching `filter` (queries stop at 16,384 rows; the iterator does not)."""
    iterator = client.query_iterator(collection, batch_size=1000, filter=filter, output_fields=fields)
    rows: list[dict[str, Any]] = []
    while batch := iterator.next():
        rows.extend(batch)
    iterator.close()
    return rows


def _groups(parts: Sequence[DocumentPart], chunks: int) -> Iterator[list[DocumentPart]]:
    """Whole documents in order, each group up to `chunks` chunks (or one larger document)."""
    group: list[DocumentPart] = []
    size = 0
    for part in parts:
        if group and size + len(part.chunks) > chunks:
            yield group
            group, size = [], 0
        group.append(part)
        size += len(part.chunks)
    if group:
        yield group


def _chunk_rows(part: DocumentPart, tokenize: Callable[[str], list[str]]) -> list[dict[str, Any]]:
    rows = []
    offset = 0
    dimension = part.chunk_vectors.shape[1]
    for chunk, vector in zip(part.chunks, part.chunk_vectors, strict=True):
        sentences = part.sentence_vectors[offset : offset + len(chunk.sentences)]
        offset += len(chunk.sentences)
        packed = _pack(sentences)
        if len(packed) > MAX_VARCHAR:
            raise BadInput(
                f"chunk {chunk.id} has {len(chunk.sentences)} sentences of {dimension} dimensions: their vectors "
                f"exceed the {MAX_VARCHAR}-byte field. Lower RAG_CHUNK_TOKENS and rebuild."
            )
        terms = encode_terms(tokenize(chunk.embedding_text())) or EMPTY_TERMS
        rows.append(
            {
                "id": chunk.id,
                "doc_id": chunk.doc_id,
                "position": chunk.position,
                "source": part.document.source,
                "text": chunk.text,
                "chunk": {key: value for key, value in chunk_to_row(chunk).items() if key in _JSON_FIELDS},
                "terms": terms,
                "vector": np.asarray(vector, dtype=np.float32).tolist(),
                "sentence_vectors": packed,
            }
        )
    return rows


def _stored_chunk(row: dict[str, Any]) -> StoredChunk:
    scalars = {"id": row["id"], "doc_id": row["doc_id"], "text": row["text"], "position": int(row["position"])}
    chunk = chunk_from_row({**row["chunk"], **scalars})
    vector = np.asarray(row["vector"], dtype=np.float32)
    return StoredChunk(chunk, row["source"], vector, _unpack(row["sentence_vectors"], len(vector)))


def _document_row(part: DocumentPart) -> dict[str, Any]:
    doc = part.document
    return {
        "id": doc.id,
        "source": doc.source,
        "path": doc.path,
        "content_hash": doc.content_hash,
        "title": doc.title,
        "chunks": len(part.chunks),
        "info": {},
        "placeholder": [0.0, 0.0],
    }


def _store_row(info: StoreInfo) -> dict[str, Any]:
    return {
        "id": STORE_ROW,
        "source": "",
        "path": "",
        "content_hash": "",
        "title": "",
        "chunks": 0,
        "info": {
            "schema_version": SCHEMA_VERSION,
            "embed_model": info.embed_model,
            "dimension": info.dimension,
            "chunking": info.chunking,
            "generation": f"{time.time_ns()}",
        },
        "placeholder": [0.0, 0.0],
    }


def _ignore_exists(create: Callable[[], object]) -> None:
    """Two ingest processes may create the collection at once: the second finds it there."""
    try:
        create()
    except Exception as exc:  # noqa: BLE001
        if "exist" not in str(exc).lower():
            raise


def _is_unreachable(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return isinstance(exc, ConnectionError | OSError) or any(
        word in text for word in ("unavailable", "connect", "deadline", "timeout", "timed out", "closed", "fail to")
    )


def _is_released(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "released" in text or "not loaded" in text or "call load()" in text


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
