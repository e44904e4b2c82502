"""The directory store's top-k of BM25 scores equals the full stable sort it replaced."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.store.directory import top_rows


def _reference(scores: np.ndarray, k: int) -> list[int]:
    return [int(row) for row in np.argsort(-scores, kind="stable")[:k] if scores[row] > 0]


@pytest.mark.parametrize("k", [1, 2, 5, 10, 100, 1000, 5000])
def test_top_rows_equals_the_stable_sort(k: int) -> None:
    rng = np.random.default_rng(k)
    for zeros in (0.0, 0.5, 0.99, 1.0):
        # few distinct values: many ties, at the k-th place too
        scores = rng.integers(1, 6, size=3000).astype(np.float32) * (rng.random(3000) >= zeros)
        assert top_rows(scores, k) == _reference(scores, k)
    scores = rng.random(3000).astype(np.float32)
    assert top_rows(scores, k) == _reference(scores, k)


def test_empty_and_all_zero() -> None:
    assert top_rows(np.zeros(0, dtype=np.float32), 5) == []
    assert top_rows(np.zeros(10, dtype=np.float32), 5) == []
