"""Admission of engine work: a bounded thread pool with a short queue; beyond it, 503 at once.

The routes use two verbs, `run(fn, *args)` and `stream(events)`, and `close()` at shutdown; the
policy deciding who gets in lives here alone.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from rag.edges.api.errors import Busy, Timeout

T = TypeVar("T")
QUEUE_PER_WORKER = 1  # admitted requests waiting per busy worker before new ones get 503


class WorkPool:
    """Runs engine calls on `workers` threads with a short queue; beyond it, 503 at once.

    A dedicated pool, not the event loop's default one: an abandoned (timed-out) call keeps its
    thread until it ends, so the number of threads doing engine work stays bounded."""

    def __init__(self, workers: int, queue: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rag-api")
        self._lock = threading.Lock()
        self._pending = 0

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        with self._lock:
            if self._pending >= self._capacity:
                raise Busy(
                    f"busy: {self._pending} requests in progress (RAG_MAX_CONCURRENCY); retry in a moment",
                    headers={"Retry-After": "1"},
                )
            self._pending += 1
        try:
            future = self._executor.submit(fn, *args)
        except RuntimeError:  # shutting down
            self._release()
            raise Busy("the server is shutting down; retry shortly", headers={"Retry-After": "5"}) from None
        future.add_done_callback(self._release)
        return future

    def _release(self, _: object = None) -> None:
        with self._lock:
            self._pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any, timeout: bool = True) -> T:
        """`fn(*args)` on the pool; Timeout after `timeout_s` (a queued call is then dropped)."""
        future = asyncio.wrap_future(self.submit(fn, *args))
        try:
            return await asyncio.wait_for(future, self.timeout_s if timeout else None)
        except TimeoutError:
            raise self._timeout() from None

    def stream(self, events: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        """Iterate `events()` on the pool, yielding each item on the event loop as it comes.

        Submitted now (so Busy is raised before a response starts); the whole stream must end
        within `timeout_s`."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody is listening
                stop.set()

        def produce() -> None:
            try:
                for item in events():
                    if stop.is_set():  # the client went away
                        return
                    put("item", item)
            except Exception as exc:
                put("error", exc)
            finally:
                put("end", None)

        future = self.submit(produce)
        return self._consume(queue, stop, future, loop.time() + self.timeout_s)

    async def _consume(
        self,
        queue: asyncio.Queue[tuple[str, Any]],
        stop: threading.Event,
        future: Future[None],
        deadline: float,
    ) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    kind, value = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise self._timeout() from None
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()
            future.cancel()

    def _timeout(self) -> Timeout:
        return Timeout(
            f"the request took longer than {self.timeout_s:g} s (RAG_REQUEST_TIMEOUT_S); retry, or raise the limit"
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

