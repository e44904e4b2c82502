"""Exact (flat) vs approximate (HNSW) vector search on synthetic corpora of 384-d vectors.

Two kinds of corpus:
- realistic: real e5 passage and sentence vectors (an index's chunk and sentence vectors) each
  copied many times with gaussian noise, renormalized: clusters around real embeddings;
- random: uniform on the sphere (the worst case for a graph index: no structure at all).
Queries are fresh draws from the same distribution, not in the index.

Per size: build time, resident memory added by the index, single-query (k=10) search p50/p95,
and HNSW's recall@10 against exact search, with the project's parameters
(`ingest.vector_index.HNSW_*`) and over a small efSearch grid (and an M grid with --m-grid).

    python -m bench.scale [--sizes 10000,100000,1000000] [--xquad DIR] [--kinds realistic,random]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_XQUAD, memory_mb, p50_p95, print_table, write_results, xquad_files

K = 10
NOISE = 0.5  # norm of the noise added to a unit vector: cosine to its source ~0.89
EF_GRID = (32, 64, 128, 256, 512)
M_GRID = (16, 32, 48)
CHUNK = 50_000  # rows generated at a time, to keep float64 temporaries small


def base_vectors(xquad_dir: Path | None) -> tuple[np.ndarray, str]:
    """Real e5 vectors to build clusters around: the XQuAD index's (cached by `rag eval
    --squad`) when XQuAD is there, else a fresh index of the bundled report."""
    from rag.config import Settings
    from rag.engine import Engine

    engine = Engine(Settings())
    files = xquad_files(xquad_dir)
    if files:
        from eval.runner import prepare_squad_engine

        engine, _ = prepare_squad_engine(engine, files[0], None)
        source = "XQuAD zh passages and sentences"
    else:
        engine = Engine(engine.settings, index_dir=Path(tempfile.mkdtemp()) / "index", embedder=engine.embedder)
        engine.ingest()
        source = "bundled report chunks and sentences"
    index = engine.index
    return np.concatenate([index.chunk_vectors, index.sentence_vectors]).astype(np.float32), source


def synthetic(n: int, base: np.ndarray | None, rng: np.random.Generator, dimension: int = 384) -> np.ndarray:
    """n unit vectors: noisy copies of random `base` rows, or uniform on the sphere if no base."""
    out = np.empty((n, base.shape[1] if base is not None else dimension), dtype=np.float32)
    for start in range(0, n, CHUNK):
        rows = min(CHUNK, n - start)
        noise = rng.standard_normal((rows, out.shape[1]), dtype=np.float32)
        if base is None:
            block = noise
        else:
            block = base[rng.integers(0, len(base), rows)] + noise * (NOISE / np.sqrt(out.shape[1]))
        out[start : start + rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def single_query_ms(search: Any, queries: np.ndarray) -> list[float]:
    """Milliseconds per query, one query at a time (as a question is served)."""
    timings = []
    for row in range(len(queries)):
        started = time.perf_counter()
        search(queries[row : row + 1], K)
        timings.append((time.perf_counter() - started) * 1000.0)
    return timings


def timed_search(index: Any, probes: np.ndarray) -> dict[str, Any]:
    """Single-query latency the way the product searches (`VectorIndex.search`: 1 faiss thread
    for a single query), and with faiss's default team of one thread per core for comparison."""
    from ingest.cpus import usable_cpus
    from ingest.vector_index import faiss_threads

    product = p50_p95(single_query_ms(index.search, probes))
    with faiss_threads(usable_cpus()):
        team = p50_p95(single_query_ms(index._index.search, probes))  # around the product's 1-thread choice
    return {"search_ms": product, "search_ms_all_threads": team}


def measure(
    n: int, kind: str, base: np.ndarray | None, queries: int, m_grid: bool = False, seed: int = 0, approximate_above: int | None = None
) -> dict[str, Any]:
    """All figures for one corpus size and kind.

    Above the auto threshold the HNSW index is built once and then put through exactly what
    `VectorIndex.build(vectors, "auto")` does with it (`_tune_ef_search`), so the bench reports
    the automatic choice without a second build; its recall is then measured on fresh queries.
    """
    import faiss

    from ingest.vector_index import (
        APPROXIMATE_ABOVE,
        EF_SEARCH_CANDIDATES,
        HNSW_EF_CONSTRUCTION,
        HNSW_EF_SEARCH,
        HNSW_M,
        RECALL_TARGET,
        VectorIndex,
        recall_at_k,
        resolve_index_type,
    )

    rng = np.random.default_rng(seed)
    vectors = synthetic(n, base, rng)
    probes = synthetic(queries, base, rng)
    starting_point = resolve_index_type("auto", n, APPROXIMATE_ABOVE if approximate_above is None else approximate_above)
    result: dict[str, Any] = {"size": n, "kind": kind, "queries": queries}

    gc.collect()
    before = memory_mb()["VmRSS"]
    started = time.perf_counter()
    flat = VectorIndex.build(vectors, "flat")
    result["flat"] = {"build_s": round(time.perf_counter() - started, 3), "rss_added_mb": round(memory_mb()["VmRSS"] - before, 1), **timed_search(flat, probes), "recall@10": 1.0}
    result["vectors_mb"] = round(vectors.nbytes / 2**20, 1)
    _, truth = flat.search(probes, K)
    del flat

    gc.collect()
    before = memory_mb()["VmRSS"]
    started = time.perf_counter()
    hnsw = VectorIndex._hnsw(vectors)  # the build "auto" and "hnsw" share
    result["hnsw"] = {
        "build_s": round(time.perf_counter() - started, 3),
        "rss_added_mb": round(memory_mb()["VmRSS"] - before, 1),
        **timed_search(hnsw, probes),
        "params": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH},
        "recall@10": round(recall_at_k(hnsw.search(probes, K)[1], truth), 4),
    }
    grid = []
    for ef in EF_GRID:
        hnsw._index.hnsw.efSearch = ef  # the bench probes settings the class fixes
        grid.append({"M": HNSW_M, "efSearch": ef, "recall@10": round(recall_at_k(hnsw.search(probes, K)[1], truth), 4), **_p50(hnsw, probes)})
    result["hnsw"]["grid"] = grid

    if starting_point == "flat":
        result["auto"] = {"choice": "flat", "efSearch": None, "tuning_s": 0.0, "recall@10": 1.0}
    else:
        started = time.perf_counter()
        kept = hnsw._tune_ef_search(vectors, RECALL_TARGET, EF_SEARCH_CANDIDATES)
        tuning_s = round(time.perf_counter() - started, 2)
        if kept:
            auto_recall = recall_at_k(hnsw.search(probes, K)[1], truth)
            result["auto"] = {"choice": "hnsw", "efSearch": hnsw.ef_search, "tuning_s": tuning_s, "recall@10": round(auto_recall, 4), **timed_search(hnsw, probes)}
        else:  # "auto" rebuilds exact: recall 1.0 by construction, latency as the flat row
            result["auto"] = {"choice": "flat (HNSW missed the target)", "efSearch": None, "tuning_s": tuning_s, "recall@10": 1.0}
    del hnsw

    if m_grid:
        for m in (m for m in M_GRID if m != HNSW_M):
            raw = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
            raw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            started = time.perf_counter()
            raw.add(vectors)
            build_s = round(time.perf_counter() - started, 1)
            index = VectorIndex(raw, "hnsw")
            for ef in EF_GRID:
                raw.hnsw.efSearch = ef
                result["hnsw"]["grid"].append(
                    {"M": m, "efSearch": ef, "recall@10": round(recall_at_k(index.search(probes, K)[1], truth), 4), "build_s": build_s, **_p50(index, probes)}
                )
            del index, raw
    return result


def _p50(index: Any, probes: np.ndarray) -> dict[str, float]:
    return {"p50_ms_1_thread": p50_p95(single_query_ms(index.search, probes[:50]))["p50"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated corpus sizes (realistic)")
    parser.add_argument("--random-sizes", default="10000,100000", help="sizes of the uniform-random corpora ('' for none)")
    parser.add_argument("--queries", type=int, default=200, help="queries per size (recall and latency)")
    parser.add_argument("--queries-large", type=int, default=100, help="queries at 1M and above")
    parser.add_argument("--m-grid", action="store_true", help=f"also rebuild HNSW with M in {M_GRID} (slow)")
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="XQuAD directory: its e5 vectors seed the clusters")
    args = parser.parse_args(argv)

    from ingest.cpus import usable_cpus
    from ingest.vector_index import APPROXIMATE_ABOVE, HNSW_EF_SEARCH, RECALL_TARGET

    sizes = [int(size) for size in args.sizes.split(",") if size]
    random_sizes = [int(size) for size in args.random_sizes.split(",") if size]
    base, source = base_vectors(args.xquad) if sizes else (None, "")
    runs = [("realistic", n, base) for n in sizes] + [("random", n, None) for n in random_sizes]
    results = []
    started = time.perf_counter()
    for kind, n, seed_vectors in runs:
        queries = args.queries if n < 1_000_000 else args.queries_large
        results.append(measure(n, kind, seed_vectors, queries, m_grid=args.m_grid and n < 1_000_000))
        print(f"  {kind} {n}: done at {time.perf_counter() - started:.0f} s", file=sys.stderr)

    rows = []
    grid_rows = []
    auto_rows = []
    for r in results:
        for name in ("flat", "hnsw"):
            rows.append(
                {
                    "kind": r["kind"],
                    "size": r["size"],
                    "index": name if name == "flat" else f"hnsw ef{HNSW_EF_SEARCH}",
                    "build_s": r[name]["build_s"],
                    "rss_added_mb": r[name]["rss_added_mb"],
                    "p50_ms": r[name]["search_ms"]["p50"],
                    "p95_ms": r[name]["search_ms"]["p95"],
                    "p50_all_threads_ms": r[name]["search_ms_all_threads"]["p50"],
                    "recall@10": r[name]["recall@10"],
                }
            )
        auto = r["auto"]
        auto_rows.append(
            {
                "kind": r["kind"],
                "size": r["size"],
                "auto picks": auto["choice"],
                "efSearch": auto["efSearch"] or "-",
                "tuning_s": auto["tuning_s"],
                "recall@10": auto["recall@10"],
                "p50_ms": auto.get("search_ms", r["flat"]["search_ms"])["p50"],
                "meets 0.95": "yes" if auto["recall@10"] >= 0.95 else "NO",
            }
        )
        grid_rows += [{"kind": r["kind"], "size": r["size"], **cell} for cell in r["hnsw"]["grid"]]
    print_table(f"vector search at scale (k={K}, single queries as served: 1 faiss thread; all_threads = faiss's default {usable_cpus()})", rows)
    print_table("HNSW recall@10 vs exact over a parameter grid (fresh queries)", grid_rows)
    print_table(f"the automatic choice (flat up to {APPROXIMATE_ABOVE:,}; above, HNSW tuned to recall {RECALL_TARGET} on its own probes, else flat)", auto_rows)
    if base is not None:
        print(f"realistic corpora: noisy copies (noise norm {NOISE}) of {len(base)} {source}")
    write_results("scale", {"noise": NOISE, "base": {"source": source, "vectors": 0 if base is None else len(base)}, "rows": rows, "grid": grid_rows, "auto": auto_rows, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
