"""Admission of engine work by wait budget: a request is queued while the wait it can expect
fits the budget, and refused at once (503 with Retry-After) beyond it.

The expected wait of a new request is (requests ahead of it) x (recent service time) / workers:
with 8 workers finishing a question every 80 ms each, the 100th in line waits about 1 s. The
budget is RAG_MAX_QUEUE_WAIT_S (default 5 s), never more than the request timeout less one service
time, so that an admitted request is expected to be answered before it times out (504). A refusal's Retry-After
is the part of the expected wait beyond the budget, rounded up to whole seconds.

The routes use two verbs, `run(fn, *args)` and `stream(events)`, and `close()` at shutdown; the
policy deciding who gets in lives here alone.
"""

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from ingest.errors import Busy, Timeout

T = TypeVar("T")
FIRST_SERVICE_S = 0.05  # the service time assumed until one is measured (an answer takes ~20 ms)
MIN_SERVICE_S = 0.001  # a floor, so that a run of instant failures cannot open the queue without bound
SMOOTHING = 0.2  # weight of the newest service time in the running average


class WorkPool:
    """Runs engine calls on `workers` threads; admits while the expected wait fits `wait_budget_s`.

    A dedicated pool, not the event loop's default one: an abandoned (timed-out) call keeps its
    thread until it ends, so the number of threads doing engine work stays bounded.

    wait_budget_s: the longest expected queueing a request is admitted with, capped at (and with
    None equal to) `timeout_s` less the recent service time.
    """

    def __init__(self, workers: int, timeout_s: float, wait_budget_s: float | None = None) -> None:
        self.workers = workers
        self.timeout_s = timeout_s
        self.wait_budget_s = wait_budget_s
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rag-api")
        self._lock = threading.Lock()
        self._pending = 0  # running and queued
        self._service_s = FIRST_SERVICE_S

    @property
    def service_s(self) -> float:
        """The recent service time of one call (a running average), in seconds."""
        return self._service_s

    def budget_s(self) -> float:
        within_timeout = max(0.0, self.timeout_s - self._service_s)
        if self.wait_budget_s is None:
            return within_timeout
        return min(self.wait_budget_s, within_timeout)

    def expected_wait_s(self, pending: int | None = None) -> float:
        """How long a request arriving now can expect to queue before a worker takes it."""
        ahead = (self._pending if pending is None else pending) + 1 - self.workers
        return max(0, ahead) * self._service_s / self.workers

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        with self._lock:
            wait, budget = self.expected_wait_s(), self.budget_s()
            if wait > budget:
                retry = max(1, math.ceil(wait - budget))
                raise Busy(
                    f"busy: about {wait:.1f} s of questions are queued ahead, over the {budget:.1f} s "
                    f"wait budget (RAG_MAX_QUEUE_WAIT_S); retry in {retry} s",
                    headers={"Retry-After": str(retry)},
                )
            self._pending += 1
        try:
            future = self._executor.submit(self._timed, fn, *args)
        except RuntimeError:  # shutting down
            self._release()
            raise Busy("the server is shutting down; retry shortly", headers={"Retry-After": "5"}) from None
        future.add_done_callback(self._release)
        return future

    def _timed(self, fn: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            took = max(MIN_SERVICE_S, time.perf_counter() - started)
            with self._lock:
                self._service_s += SMOOTHING * (took - self._service_s)

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

