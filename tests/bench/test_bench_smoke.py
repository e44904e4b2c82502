"""The scale benchmark end to end at 1k vectors (seconds), and the table helper."""

from __future__ import annotations

import numpy as np

from bench.common import format_table
from bench.scale import NOISE, measure, synthetic


def test_scale_bench_at_1k_vectors() -> None:
    result = measure(1000, "random", None, queries=20)

    assert result["auto"]["choice"] == "flat" and result["auto"]["recall@10"] == 1.0
    assert result["flat"]["search_ms"]["p50"] > 0
    # efSearch 512 over 1,000 vectors visits nearly all of them: HNSW must then agree with exact.
    widest = next(cell for cell in result["hnsw"]["grid"] if cell["efSearch"] == 512)
    assert widest["recall@10"] >= 0.99


def test_synthetic_vectors_cluster_around_their_base() -> None:
    base = np.eye(4, 384, dtype=np.float32)
    vectors = synthetic(200, base, np.random.default_rng(0))

    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    nearest = (vectors @ base.T).max(axis=1)
    assert abs(float(nearest.mean()) - 1 / np.sqrt(1 + NOISE**2)) < 0.02


def test_format_table_aligns_columns() -> None:
    table = format_table([{"name": "flat", "p50": 0.5}, {"name": "hnsw", "p50": 12.25}])

    assert table.splitlines() == ["name    p50", "flat  0.500", "hnsw   12.2"]


def test_scale_bench_reports_the_automatic_choice_above_the_threshold() -> None:
    base = np.eye(8, 384, dtype=np.float32)
    result = measure(2000, "realistic", base, queries=20, approximate_above=1000)

    assert result["auto"]["choice"] in {"hnsw", "flat (HNSW missed the target)"}
    assert result["auto"]["recall@10"] >= 0.95
