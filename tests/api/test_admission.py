"""Admission by wait budget (rag.edges.api.admission.WorkPool), with a slow fake engine call:
requests queue while their expected wait fits the budget, and beyond it get 503 at once with a
Retry-After from the estimate. No timings are asserted: the fake call blocks until released."""

import threading
from concurrent.futures import Future

import pytest

from ingest.errors import Busy
from rag.edges.api.admission import FIRST_SERVICE_S, WorkPool


class SlowEngine:
    """A fake engine call that holds its worker until the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0
        self._lock = threading.Lock()

    def answer(self, question: str) -> str:
        with self._lock:
            self.started += 1
        self.release.wait(30)
        return f"answer to {question}"


def ask_many(pool: WorkPool, engine: SlowEngine, count: int) -> tuple[list[Future[str]], list[Busy]]:
    """Submit `count` questions at once; (admitted calls, refusals)."""
    admitted, refused = [], []
    for n in range(count):
        try:
            admitted.append(pool.submit(engine.answer, f"q{n}"))
        except Busy as exc:
            refused.append(exc)
    return admitted, refused


def test_requests_queue_within_the_wait_budget_and_get_503_beyond_it() -> None:
    # 2 workers, the first-guess service time (0.05 s), a 0.5 s budget: the n-th request (0-based)
    # expects (n + 1 - 2) x 0.05 / 2 s of queueing, within budget up to n = 21; the 23rd is refused.
    pool, engine = WorkPool(workers=2, timeout_s=60, wait_budget_s=0.5), SlowEngine()

    try:
        admitted, refused = ask_many(pool, engine, 25)
        queued = len(admitted) - engine.started
        engine.release.set()
        answers = [future.result(timeout=30) for future in admitted]
    finally:
        engine.release.set()
        pool.close()

    assert answers == [f"answer to q{n}" for n in range(22)]  # every admitted request is answered
    assert queued >= 20  # all but the two on workers waited in the queue instead of being refused
    assert len(refused) == 3
    assert refused[0].status == 503
    assert "RAG_MAX_QUEUE_WAIT_S" in str(refused[0])
    # 22 ahead x 0.05 s / 2 workers = 0.55 s expected, 0.05 s over the budget: retry in 1 s
    assert [busy.headers["Retry-After"] for busy in refused] == ["1", "1", "1"]


def test_retry_after_is_the_expected_wait_beyond_the_budget() -> None:
    pool = WorkPool(workers=4, timeout_s=60, wait_budget_s=2.0)
    try:
        assert pool.expected_wait_s(pending=3) == 0  # a worker is free
        assert pool.expected_wait_s(pending=4) == pytest.approx(FIRST_SERVICE_S / 4)
        assert pool.expected_wait_s(pending=403) == pytest.approx(400 * FIRST_SERVICE_S / 4)  # 5 s
    finally:
        pool.close()
    pool = WorkPool(workers=1, timeout_s=60, wait_budget_s=2.02)  # off the 2.0 s boundary of 40 x 0.05
    engine = SlowEngine()
    try:
        _, refused = ask_many(pool, engine, 100)  # 1 on the worker + 40 queued: 2.0 s at 0.05 s each
    finally:
        engine.release.set()
        pool.close()
    assert len(refused) == 100 - 41
    assert refused[0].headers["Retry-After"] == "1"  # 2.05 s expected: over by 0.03 s, rounded up


def test_the_default_budget_is_the_timeout_less_one_service_time() -> None:
    pool = WorkPool(workers=2, timeout_s=10)
    try:
        assert pool.budget_s() == pytest.approx(10 - FIRST_SERVICE_S)
        pool.submit(lambda: None).result(timeout=10)
        assert pool.service_s < FIRST_SERVICE_S  # measured: an instant call pulls the estimate down
        assert pool.budget_s() == pytest.approx(10 - pool.service_s)
    finally:
        pool.close()


def test_the_wait_budget_never_exceeds_the_request_timeout() -> None:
    pool = WorkPool(workers=1, timeout_s=3, wait_budget_s=5.0)
    try:
        assert pool.budget_s() == pytest.approx(3 - FIRST_SERVICE_S)
    finally:
        pool.close()
    pool = WorkPool(workers=1, timeout_s=60, wait_budget_s=5.0)
    try:
        assert pool.budget_s() == 5.0
    finally:
        pool.close()
