"""The ONNX encoder's cost per query at batch sizes 1, 4, 8 and 16 (why `ingest.query_batch`
batches concurrent questions), and whether a batched row equals the query embedded alone.

Usage: python -m bench.encoder_batch [--rounds 8]

Batches are drawn from the eval set's questions; the sizes take turns round by round, so the
machine's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.common import p50_p95, print_table, time_calls, write_results
from bench.load import load_questions

SIZES = (1, 4, 8, 16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="rounds of 32 queries per batch size (default 8)")
    args = parser.parse_args(argv)
    from ingest.embedder import load_embedder
    from rag.config import Settings

    settings = Settings()
    embedder = load_embedder(settings.embed_model or None, settings.cache_dir, backend=settings.embed_backend)
    questions = load_questions()
    alone = np.stack([embedder.embed_queries([question])[0] for question in questions[:64]])
    identical = {
        size: int(
            sum(
                np.array_equal(row, alone[start + n])
                for start in range(0, 64, size)
                for n, row in enumerate(embedder.embed_queries(questions[start : start + size]))
            )
        )
        for size in SIZES[1:]
    }
    rng = np.random.default_rng(0)
    per_query: dict[int, list[float]] = {size: [] for size in SIZES}
    for _ in range(args.rounds):
        for size in SIZES:
            batches = [[questions[i] for i in rng.integers(0, len(questions), size)] for _ in range(32 // size)]
            per_query[size] += [ms / size for ms in time_calls(embedder.embed_queries, batches)]
    rows = [
        {
            "batch": size,
            "ms per query p50": p50_p95(per_query[size])["p50"],
            "vs batch 1": round(p50_p95(per_query[size])["p50"] / p50_p95(per_query[1])["p50"], 2),
            "rows identical to alone": "-" if size == 1 else f"{identical[size]}/64",
        }
        for size in SIZES
    ]
    print_table(f"ONNX encoder ({type(embedder).__name__}), {args.rounds} rounds", rows)
    write_results("encoder_batch", {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
