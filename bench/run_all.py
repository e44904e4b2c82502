"""Run every benchmark, print each table, write bench/results/*.json (`make bench`).

The default profile aims at 15 minutes on a 2-core machine (8-11 measured when it was quiet):
the peer comparison over all 240 XQuAD paragraphs with the first 600 questions per language;
the ONNX lever in full (its verdict turns on a couple of points of English hit@5, which a
subset misjudged: int8 passed on 80 paragraphs and failed on 240); ingest throughput over the
first 80 paragraphs (rates per document do not need all 240); vector corpora of 10k and 100k.
An HNSW build of 1M vectors alone takes 8-16 minutes on 2 cores, so 1M runs only with --full,
which also uses every question and paragraph (about 35 minutes).
Each benchmark runs in its own process: models, indexes and thread settings do not leak from
one into the next.

    python -m bench.run_all [--xquad DIR] [--full]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.common import DEFAULT_XQUAD, print_table, write_results, xquad_files


def steps(xquad: Path, full: bool) -> list[tuple[str, list[str]]]:
    x = ["--xquad", str(xquad)]
    return [
        ("ingest_speed", x + ([] if full else ["--xquad-docs", "80"])),
        ("query_latency", []),
        ("memory", []),
        ("peer_haystack", x + ([] if full else ["--limit", "600"])),  # builds (or reuses) the XQuAD index scale draws on
        ("onnx_lever", x),
        ("scale", x + ([] if full else ["--sizes", "10000,100000", "--random-sizes", "10000"])),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="XQuAD directory (default ../shared/benchmarks/xquad)")
    parser.add_argument("--full", action="store_true", help="every question and paragraph, 1M vectors (~35 min)")
    args = parser.parse_args(argv)
    if not xquad_files(args.xquad):
        print(f"note: XQuAD not found at {args.xquad}: its parts are skipped (pass --xquad DIR)")

    rows = []
    started = time.perf_counter()
    for name, extra in steps(args.xquad, args.full):
        print(f"\n##### {name} {' '.join(extra)}", flush=True)
        began = time.perf_counter()
        status = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], check=False).returncode
        rows.append({"benchmark": name, "seconds": round(time.perf_counter() - began, 1), "status": "ok" if status == 0 else f"failed ({status})"})
    total = time.perf_counter() - started
    rows.append({"benchmark": "total", "seconds": round(total, 1), "status": ""})
    print_table("bench run (wall seconds; a shared machine: other jobs may run too)", rows)
    write_results("run_all", {"profile": "full" if args.full else "default", "rows": rows})
    return 0 if all(row["status"] in ("ok", "") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
