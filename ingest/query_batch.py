"""Concurrent questions share the encoder: one embedding call for the queries that arrive
while the previous call runs.

Measured on the ONNX encoder (1 thread, 2-core shared machine, eval questions, `python -m
bench.encoder_batch`): a query costs 15.6 ms alone and 6.3-7.5 ms each in batches of 4 to 16
(0.4-0.5x; 28 vs 16-17 ms in another run under heavier load), and a row of a batch is
bit-identical to the same query embedded alone. So batching pays, and nothing waits for a batch
to fill: the first caller runs at once, callers that
arrive meanwhile queue, and when a call ends the first of them runs the next batch for everyone
queued (up to `max_batch`). One caller alone pays nothing.

A question asked while no other answer is in flight (`asking()` counts them) is embedded on
every core (`ingest.embedder.embed_query_alone`): single-client /ask p50 11.4 against 13.9 ms.
Under load the other cores belong to the other answers' Python, so batches keep the encoder's
own thread count (bench.load, 32 clients: 119 answers/s; 100 when every call took both cores).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.embedder import Embedder, LazyEmbedder, embed_query_alone


@dataclass(eq=False)
class _Query:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # this caller runs the next batch
    vector: np.ndarray | None = None
    error: BaseException | None = None


class QueryBatcher:
    """An Embedder whose single-query `embed_queries` calls from concurrent threads are
    embedded together; everything else goes straight to `embedder`."""

    def __init__(self, embedder: Embedder | LazyEmbedder, max_batch: int = 16) -> None:
        self.embedder = embedder
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Query] = []
        self._running = False
        self._asking = 0  # answers in flight (see `asking`)
        self.batches = 0  # calls to the encoder, and the queries they embedded (for benchmarks)
        self.queries = 0

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def __getattr__(self, name: str) -> Any:  # anything else (`loaded`, ...): the embedder's own
        return getattr(self.embedder, name)

    @contextmanager
    def asking(self) -> Iterator[None]:
        """Around one answer or search: while it is the only one in flight, its question may
        take every core."""
        with self._lock:
            self._asking += 1
        try:
            yield
        finally:
            with self._lock:
                self._asking -= 1

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.embedder.embed_passages(texts, progress=progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1 or self.max_batch < 2:
            return self.embedder.embed_queries(texts)
        query = _Query(texts[0])
        with self._lock:
            self._queue.append(query)
            if not self._running:
                self._running = query.leads = True
        if not query.leads:
            query.done.wait()  # set when the vector is in, or when this caller is to run a batch
        if query.leads:
            self._run_batch()
        if query.error is not None:
            raise query.error
        assert query.vector is not None
        return query.vector[None, :]

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        try:
            self._embed(batch)
        finally:
            with self._lock:
                self.batches += 1
                self.queries += len(batch)
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._running = False
                else:
                    successor.leads = True
            for query in batch:
                query.done.set()
            if successor is not None:
                successor.done.set()

    def _embed(self, batch: list[_Query]) -> None:
        try:
            if len(batch) == 1 and self._asking <= 1:
                vectors = embed_query_alone(self.embedder, batch[0].text)
            else:
                vectors = self.embedder.embed_queries([query.text for query in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            for query in batch:  # one bad query must not fail the others: each on its own
                self._embed([query])
            return
        for query, vector in zip(batch, vectors, strict=True):
            query.vector = vector

