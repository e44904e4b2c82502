"""Concurrent questions share one encoder call (ingest.query_batch), and that changes nothing:
on the real model, batched query vectors and whole answers equal those of single calls."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ingest.embedder import Embedder
from ingest.query_batch import QueryBatcher
from rag.config import Settings
from rag.engine import Engine

QUESTIONS_FILE = Path(__file__).resolve().parents[2] / "eval" / "data" / "report_questions.jsonl"


def eval_questions(count: int) -> list[str]:
    """`count` questions spread over the eval set (Chinese and English, answerable or not)."""
    rows = [json.loads(line) for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows[:: len(rows) // count]][:count]


class GatedEmbedder:
    """The real embedder, whose first call after `arm()` waits until `callers - 1` other queries
    are queued behind it in `batcher`: batches then form however the threads are scheduled."""

    def __init__(self, embedder: Embedder, callers: int) -> None:
        self.embedder, self.model_id, self.dimension = embedder, embedder.model_id, embedder.dimension
        self.batcher: QueryBatcher | None = None
        self.callers = callers
        self.sizes: list[int] = []
        self._armed = False

    def arm(self) -> None:
        self._armed, self.sizes = True, []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if self._armed:
            self._armed = False
            assert self.batcher is not None
            deadline = time.monotonic() + 60  # a bound, not a timing: the test then just batches less
            while len(self.batcher._queue) < self.callers - 1 and time.monotonic() < deadline:
                threading.Event().wait(0.005)
        self.sizes.append(len(texts))
        return self.embedder.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.embedder.embed_passages(texts, progress=progress)


def gated_batcher(embedder: Embedder, callers: int, max_batch: int = 8) -> tuple[QueryBatcher, GatedEmbedder]:
    gated = GatedEmbedder(embedder, callers)
    batcher = QueryBatcher(gated, max_batch=max_batch)
    gated.batcher = batcher
    gated.arm()
    return batcher, gated


def test_batched_query_vectors_are_bit_identical_to_single_calls(embedder: Embedder) -> None:
    questions = eval_questions(24)
    single = [embedder.embed_queries([question])[0] for question in questions]
    batcher, gated = gated_batcher(embedder, callers=len(questions))

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        batched = list(pool.map(lambda question: batcher.embed_queries([question])[0], questions))

    assert max(gated.sizes) > 1 and len(gated.sizes) < len(questions)  # batches really formed
    assert max(gated.sizes) <= 8  # max_batch
    for question, alone, together in zip(questions, single, batched, strict=True):
        assert np.array_equal(alone, together), question


def test_answers_under_concurrent_batching_equal_unbatched_single_calls(bundled_engine: Engine, embedder: Embedder) -> None:
    questions = eval_questions(24)
    settings = bundled_engine.settings
    unbatched = Engine(settings.model_copy(update={"query_batch": 1}), bundled_engine.index_dir, embedder=embedder)
    expected = [unbatched.answer(question).as_dict() for question in questions]
    batcher, gated = gated_batcher(embedder, callers=len(questions))
    gated._armed = False
    batched = Engine(settings, bundled_engine.index_dir, embedder=batcher)
    batched.warm_up()
    gated.arm()  # warm_up's own question went through; gate the concurrent ones

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        answers = list(pool.map(lambda question: batched.answer(question).as_dict(), questions))

    assert max(gated.sizes) > 1  # the questions' embeddings were batched
    for want, got in zip(expected, answers, strict=True):
        want.pop("timings_ms"), got.pop("timings_ms")
        assert got == want


def test_a_failing_query_fails_alone(embedder: Embedder) -> None:
    class Picky:
        model_id, dimension = embedder.model_id, embedder.dimension

        def embed_queries(self, texts: list[str]) -> np.ndarray:
            if "bad" in texts:
                raise ValueError("bad query")
            return embedder.embed_queries(texts)

        def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
            raise NotImplementedError

    batcher, gated = gated_batcher(Picky(), callers=4)  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(batcher.embed_queries, [text]) for text in ("长三角", "bad", "上海", "安徽")]
    with pytest.raises(ValueError, match="bad query"):
        futures[1].result()
    assert [future.result().shape for n, future in enumerate(futures) if n != 1] == [(1, embedder.dimension)] * 3


class CountingEmbedder:
    """The real embedder, counting which way each question was embedded."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder, self.model_id, self.dimension = embedder, embedder.model_id, embedder.dimension
        self.alone = self.shared = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.shared += 1
        return self.embedder.embed_queries(texts)

    def embed_query_alone(self, text: str) -> np.ndarray:
        self.alone += 1
        return self.embedder.embed_queries([text])

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.embedder.embed_passages(texts, progress=progress)


def test_a_question_is_embedded_alone_only_while_no_other_answer_is_in_flight(
    bundled_engine: Engine, embedder: Embedder
) -> None:
    counting = CountingEmbedder(embedder)
    batcher = QueryBatcher(counting)  # type: ignore[arg-type]
    engine = Engine(bundled_engine.settings, bundled_engine.index_dir, embedder=batcher)
    question = "2027年度座谈会在哪里召开？"
    expected = engine.answer(question).as_dict()
    assert (counting.alone, counting.shared) == (1, 0)

    with batcher.asking():  # another answer in flight: its Python needs a core
        busy = engine.answer(question).as_dict()
    assert (counting.alone, counting.shared) == (1, 1)
    list(engine.stream(question))  # a stream counts while it runs, and stops counting at its end
    engine.search(question)
    assert (counting.alone, counting.shared) == (3, 1)
    for answer in (expected, busy):
        answer.pop("timings_ms")
    assert busy == expected


def test_settings_default_batches_and_one_turns_it_off() -> None:
    assert Settings().query_batch == 16
    assert Settings(query_batch=1).query_batch == 1
