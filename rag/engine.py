"""The engine: one index directory, one embedder, the retriever and the answerer over them.

The CLI, the HTTP API, the chat page and the eval suite all go through this one object, so they
answer the same way: `search`, `answer`, `stream`, `add_upload`, `documents` (and `ingest`,
`remove_document`). Retriever and answerer are its private parts. It loads the model and index
lazily (once), serialises writers, and swaps in a rebuilt index atomically: a question in
flight keeps the index it started with.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.embedder import Embedder, LazyEmbedder
from ingest.errors import BadInput
from ingest.loading import SUPPORTED_SUFFIXES, check_upload_size, load_bytes, unsupported
from ingest.pipeline import IngestReport, ingest_paths, update_index
from ingest.query_batch import QueryBatcher
from ingest.records import Document
from ingest.store import ChunkStore, open_store
from ingest.store.base import Corpus
from ingest.tokens import count_tokens, get_encoding
from rag.answering.answerer import Answerer, Evidence, SentenceWeights
from rag.answering.conversation import Turn
from rag.answering.hubness import MeanQuestions
from rag.config import Settings, bundled_corpus
from rag.events import AnswerEvent
from rag.heap import refreeze_heap
from rag.records import Answer, Upload
from rag.retrieval.retriever import Retrieval, Retriever

if TYPE_CHECKING:
    from tiktoken import Encoding


class Engine:
    def __init__(
        self,
        settings: Settings,
        index_dir: Path | None = None,
        embedder: Embedder | None = None,
        progress: Callable[[str], None] | None = None,
        store: str | None = None,
        sentence_weights: SentenceWeights | None = None,
        shared_store: bool = False,
    ) -> None:
        """progress: told, in one line, when a one-time build (the model, its ONNX export) starts.
        store: where the chunks live (default RAG_STORE; empty: the index directory).
        sentence_weights: the answerer's sentence scoring (default: the tuned one; eval.tune_sentences
        tries others).
        shared_store: other processes change the index directory too (`rag serve --workers N`):
        reload it when they do, as for a Milvus store."""
        self.settings = settings
        self.index_dir = (index_dir or settings.index_dir).expanduser()
        self.store: ChunkStore = open_store(
            settings.store if store is None else store,
            self.index_dir,
            index_type=settings.index_type,
            token=settings.store_token,
            shared=shared_store,
        )
        self._embedder: QueryBatcher | None = None
        if isinstance(embedder, QueryBatcher):
            self._embedder = embedder
        elif embedder is not None:  # concurrent questions share one encoder call (ingest.query_batch)
            self._embedder = QueryBatcher(embedder, settings.query_batch)
        self._progress = progress
        self._sentence_weights = sentence_weights
        # (the store's generation, the answerer built on it) in one attribute, assigned at once:
        # a reader never pairs a new generation with the answerer of the one before.
        self._current: tuple[str, Answerer] | None = None
        self._glossary: Any = None
        self._load_lock = threading.RLock()  # loading the retriever loads the embedder and glossary
        self._write_lock = threading.Lock()

    # --- loading -------------------------------------------------------------------------
    @property
    def embedder(self) -> QueryBatcher:
        if self._embedder is None:
            with self._load_lock:
                if self._embedder is None:
                    lazy = LazyEmbedder(
                        self.settings.embed_model or None,
                        self.settings.cache_dir,
                        progress=self._progress,
                        backend=self.settings.embed_backend,
                    )
                    # Concurrent questions share one encoder call (see ingest.query_batch).
                    self._embedder = QueryBatcher(lazy, self.settings.query_batch)
        return self._embedder

    @cached_property
    def _mean_questions(self) -> MeanQuestions:
        """One per engine: its encoder does not change when the index reloads."""
        return MeanQuestions(self.embedder)

    @property
    def glossary(self) -> Any:
        if self._glossary is None:
            from rag.retrieval.glossary import Glossary

            with self._load_lock:
                if self._glossary is None:
                    self._glossary = Glossary.load()
        return self._glossary

    @cached_property
    def _encoding(self) -> Encoding:
        # Loaded once: get_encoding re-reads and re-hashes the vocabulary file on every call
        # (1.75 ms, against 0.01 ms for counting a sentence).
        return get_encoding(self.settings.token_encoding, self.settings.cache_dir)

    def count_tokens(self, text: str) -> int:
        return count_tokens(text, self._encoding)

    def _loaded(self) -> Answerer:
        """The answerer (the retriever is under it), loading the index on first use and again
        when another process changed a shared store."""
        current = self._current
        if current is None or self._stale(current[0]):
            with self._load_lock:
                current = self._current
                if current is None or self._stale(current[0]):
                    current = self._install()
        return current[1]

    def _stale(self, generation: str) -> bool:
        """Another process wrote to the shared store since `generation` (one cheap read per call)."""
        return self.store.shared and self.store.generation() != generation

    def _install(self) -> tuple[str, Answerer]:
        generation = self.store.generation()  # before loading: a write meanwhile is loaded again later
        self.store.verify(self.embedder.model_id)
        # A snapshot: questions in flight keep reading the version their answerer was built on
        # while a write or another process's change installs the next one.
        retriever = Retriever(self.store.snapshot(), self.embedder, translator=self.glossary)
        answerer = Answerer(
            retriever,
            self.glossary,
            llm=self._llm_client(),
            weights=self._sentence_weights,
            verify=self.settings.llm_verify,
            mean_questions=self._mean_questions,
        )
        # One assignment: a request in flight keeps the answerer it already holds.
        self._current = (generation, answerer)
        refreeze_heap()
        return self._current

    def _llm_client(self) -> Any:
        if not self.settings.llm_enabled:
            return None
        from rag.answering.llm import LLMClient, LLMConfig

        return LLMClient(
            LLMConfig(
                base_url=self.settings.llm_base_url,
                model=self.settings.llm_model,
                api_key=self.settings.llm_api_key or None,
                timeout_s=self.settings.llm_timeout_s,
            )
        )

    @property
    def index(self) -> Corpus:
        """The loaded corpus (eval reads its documents and chunks to find the gold passages)."""
        return self._loaded().retriever.index

    def has_index(self) -> bool:
        return self.store.info() is not None

    def warm_up(self) -> None:
        """Load model, index and glossary now (the server does this before it reports ready)."""
        self._loaded().warm_up()

    # --- writing -------------------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path] | None = None, *, prune: bool = False, rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        """Ingest files/directories (default: the bundled report) and reload the index."""
        with self._write_lock:
            report = ingest_paths(
                list(paths) if paths else [bundled_corpus()],
                self.store,
                self.embedder,
                self.settings.chunking,
                self.count_tokens,
                index_type=self.settings.index_type,
                prune=prune,
                rebuild=rebuild,
                progress=progress,
            )
            self._reload(report)
        return report

    def ensure_index(self, progress: bool = False) -> IngestReport | None:
        """Build the index of the bundled report when there is none yet."""
        if self.has_index():
            return None
        return self.ingest(progress=progress)

    def add_upload(self, name: str, data: bytes) -> Upload:
        """Add (or replace) one uploaded file, decoded by the suffix of `name` (its last path part).

        BadInput without a name, UnsupportedFile for a suffix that cannot be read, TooLarge over
        RAG_MAX_UPLOAD_BYTES; the API and the page both upload through here."""
        name = Path(name).name
        if not name:
            raise BadInput("the upload has no file name: send it as multipart form field `file` with a name")
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise unsupported(name)
        check_upload_size(name, len(data), self.settings.max_upload_bytes)
        document = load_bytes(name, data, path=f"upload://{name}")
        report = self._update(add=[document])
        for status, ids in (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged)):
            if ids:
                return Upload(doc_id=ids[0], source=name, status=status, report=report)
        raise RuntimeError(f"ingest report names no document for {name}")  # update_index broke its contract

    def remove_document(self, doc_id: str) -> IngestReport:
        return self._update(remove_ids=[doc_id])

    def _update(self, add: Sequence[Document] = (), remove_ids: Sequence[str] = ()) -> IngestReport:
        with self._write_lock:
            report = update_index(
                self.store,
                self.embedder,
                self.settings.chunking,
                self.count_tokens,
                add=add,
                remove_ids=remove_ids,
                index_type=self.settings.index_type,
            )
            self._reload(report)
        return report

    def _reload(self, report: IngestReport) -> None:
        if report.changed or self._current is None:
            self._install()

    # --- reading -------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> Retrieval:
        """The `k` passages that best match `query` (mode: hybrid, dense or lexical)."""
        with self.embedder.asking():
            return self._loaded().retriever.search(query, k=k, mode=mode)

    def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        use_llm: bool | None = None,
        mode: str = "hybrid",
    ) -> Answer:
        """Answer `question` (after `history`) from `top_k` passages (default RAG_TOP_K); use_llm
        None: the LLM when one is configured."""
        with self.embedder.asking():
            return self._loaded().answer(
                question, history=history, top_k=self._top_k(top_k), use_llm=use_llm, mode=mode
            )

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        use_llm: bool | None = None,
    ) -> Iterator[AnswerEvent]:
        """The answer as events: Citations, Delta..., Done (see rag.events)."""
        return self._counted(self._loaded().stream(question, history, self._top_k(top_k), use_llm))

    def _counted(self, events: Iterator[AnswerEvent]) -> Iterator[AnswerEvent]:
        """A stream counts as an answer in flight (ingest.query_batch) from its first event to its end."""
        with self.embedder.asking():
            yield from events

    def evidence(self, question: str, top_k: int | None = None) -> Evidence:
        """What the extractive answerer weighs for `question` (eval.calibrate fits on it)."""
        with self.embedder.asking():
            return self._loaded().gather(question, top_k=self._top_k(top_k))

    def _top_k(self, top_k: int | None) -> int:
        return top_k or self.settings.top_k

    def documents(self) -> list[dict[str, Any]]:
        """The indexed documents, from the manifest (no model or vectors needed)."""
        return [
            {
                "doc_id": doc_id,
                "source": entry.source,
                "content_hash": entry.content_hash,
                "title": entry.title,
                "chunks": entry.chunks,
            }
            for doc_id, entry in self.store.documents().items()
        ]
