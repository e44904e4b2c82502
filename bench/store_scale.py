"""Both stores at 10k / 100k (/ 1M) synthetic chunks: ingest throughput, end-to-end ask p50/p95,
resident memory, and recall@10 of the store's dense search against exact search (issue 14).

Documents are real sentences (XQuAD en and zh paragraphs, shuffled into 40-sentence documents),
chunked, tokenized and written by the real pipeline; only the passage embedding is synthetic
(seeded random unit vectors: embedding 1M chunks with e5 on this machine would take hours, and
its throughput is measured in bench.ingest_speed). Questions are embedded by the real model and
answered by `Engine.answer` (embedding, both searches, fusion, sentence selection, no LLM).

Each (store, size) is built in one process and queried in a fresh one, so the RSS is what a
server holding that store needs.

    python -m bench.store_scale [--sizes 10000,100000] [--stores directory,lite] [--questions 40]

1M is `--sizes 1000000`. `--bulk` builds each store with bench.bulk_index instead of the ingest
pipeline (what it approximates is said there): the directory index written directly (minutes
for 1M), the Milvus Lite collection through `MilvusStore.write` (~1,170 chunks/s here; Lite holds
the collection in this process's memory, ~53 MB per 1k chunks at build time, so 1M does not fit
in 24 GB: BENCHMARKS.md). The query phase is the same.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_XQUAD, REPO_ROOT, format_table, memory_mb, p50_p95

K = 10
SENTENCES_PER_DOC = 40


class SyntheticPassages:
    """The real model's name, dimension and queries; seeded random unit vectors for passages."""

    def __init__(self, real: Any, seed: int = 0) -> None:
        self.real, self.rng = real, np.random.default_rng(seed)

    @property
    def model_id(self) -> str:
        return str(self.real.model_id)

    @property
    def dimension(self) -> int:
        return int(self.real.dimension)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.real.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = self.rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _sentences(xquad: Path) -> tuple[list[str], list[str]]:
    from eval.squad import load_squad

    sentences, questions = [], []
    for language in ("en", "zh"):
        benchmark = load_squad(xquad / f"xquad.{language}.json", None)
        for passage in benchmark.passages:
            splitter = "。" if language == "zh" else ". "
            sentences += [
                s.strip() + ("。" if language == "zh" else ".")
                for s in passage.text.split(splitter)
                if s.strip()
            ]
        questions += [q.question for q in benchmark.questions[:200]]
    return sentences, questions


def _write_documents(target: Path, chunks: int, sentences: list[str]) -> None:
    """About `chunks` chunks (at ~18 chunks per 40-sentence document, as measured; the build reports the real count)."""
    rng = random.Random(0)
    target.mkdir(parents=True, exist_ok=True)
    for number in range(max(1, chunks // 18)):
        text = " ".join(rng.choice(sentences) for _ in range(SENTENCES_PER_DOC))
        (target / f"d{number:07d}.txt").write_text(text, encoding="utf-8")


def _engine(store: str, work: Path, embedder: Any = None) -> Any:
    from rag.config import Settings
    from rag.engine import Engine

    spec = "" if store == "directory" else str(work / "lite.db")
    return Engine(Settings().model_copy(update={"store": spec}), index_dir=work / "index", embedder=embedder)


def build(store: str, size: int, work: Path, xquad: Path, bulk: bool = False) -> dict[str, Any]:
    from rag.config import Settings
    from rag.engine import Engine

    sentences, _ = _sentences(xquad)
    if bulk:
        from bench.bulk_index import build_bulk, build_bulk_milvus
        from ingest.store.milvus import collection_name

        settings, embedder = Settings(), Engine(Settings()).embedder
        cache = work.parent.parent / "sentences"
        started = time.perf_counter()
        if store == "directory":
            built = build_bulk(work / "index", size, sentences, embedder, settings, cache)
        else:
            uri = str(work / "lite.db")
            built = build_bulk_milvus(uri, collection_name(work / "index"), size, sentences, embedder, settings, cache)
        seconds = time.perf_counter() - started
        return _ingest_result(
            built.chunks, built.documents, seconds, bulk_s=built.seconds, build_peak_rss_mb=_peak_rss_mb()
        )
    docs = work / "docs"
    if not docs.exists():
        _write_documents(docs, size, sentences)
    real = Engine(Settings()).embedder
    engine = _engine(store, work, SyntheticPassages(real))
    started = time.perf_counter()
    report = engine.ingest([docs], progress=False)
    seconds = time.perf_counter() - started
    return _ingest_result(report.chunks, report.documents, seconds)


def _ingest_result(chunks: int, documents: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "chunks": chunks,
        "documents": documents,
        "ingest_s": round(seconds, 1),
        "ingest_chunks_per_s": round(chunks / seconds, 1),
        **extra,
    }


def _peak_rss_mb() -> float:
    """This process's peak resident memory (Milvus Lite 3 serves a `.db` from threads in it)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def query(store: str, work: Path, xquad: Path, questions: int) -> dict[str, Any]:
    _, pool = _sentences(xquad)
    rng = random.Random(1)
    asked = rng.sample(pool, questions)
    engine = _engine(store, work)
    started = time.perf_counter()
    engine.warm_up()
    load_s = time.perf_counter() - started
    engine.answer(asked[0])
    latencies = []
    for question in asked:
        started = time.perf_counter()
        engine.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
    rss = memory_mb()
    # recall@10 of the store's dense search against exact search over the stored vectors
    ids = [chunk.id for chunk in engine.index.chunks]
    vectors = []
    for start in range(0, len(ids), 2000):
        fetched = engine.store.fetch(ids[start : start + 2000])
        vectors += [fetched[i].vector for i in ids[start : start + 2000]]
    matrix = np.vstack(vectors).astype(np.float32)
    query_vectors = engine.embedder.embed_queries(asked)
    recalls = []
    for vector in query_vectors:
        exact = {ids[i] for i in np.argsort(-(matrix @ vector))[:K]}
        found = {chunk_id for chunk_id, _ in engine.store.dense_search(vector, K)}
        recalls.append(len(exact & found) / K)
    return {
        **{f"ask_{k}_ms": round(v, 1) for k, v in p50_p95(latencies).items()},
        "load_s": round(load_s, 1),
        "rss_mb": rss.get("VmRSS"),
        "recall@10": round(float(np.mean(recalls)), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--stores", default="directory,lite")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--bulk", action="store_true", help="build each store in bulk (bench.bulk_index)")
    parser.add_argument("--phase", choices=("build", "query"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--store", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        if args.phase == "build":
            result = build(args.store, args.size, args.work, args.xquad, args.bulk)
        else:
            result = query(args.store, args.work, args.xquad, args.questions)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    root = args.work or Path(tempfile.mkdtemp(prefix="store-scale-"))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for store in args.stores.split(","):
            work = root / f"{size}"
            (work / store).mkdir(parents=True, exist_ok=True)
            row: dict[str, Any] = {"store": store, "target": size}
            for phase in ("build", "query"):
                command = [
                    sys.executable,
                    "-m",
                    "bench.store_scale",
                    "--phase",
                    phase,
                    "--store",
                    store,
                    "--size",
                    str(size),
                    "--work",
                    str(work / store),
                    "--xquad",
                    str(args.xquad),
                    "--questions",
                    str(args.questions),
                    *(["--bulk"] if args.bulk else []),
                ]
                out = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
                lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
                if not lines:
                    print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
                    raise SystemExit(f"{phase} {store} {size} failed")
                row.update(json.loads(lines[-1][7:]))
            rows.append(row)
            print(format_table([row]), flush=True)
    print(format_table(rows))
    out_path = REPO_ROOT / "bench" / "results" / "store_scale.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
