"""Ingest throughput: documents/s, chunks/s and embedding tokens/s, cold and warm.

Each corpus is ingested by a fresh process into a temporary index: "cold" is the wall time from
starting that process (interpreter, imports, model load included) to the index written; "warm"
is a second ingest of the same files, in the same process, into another empty index. Tokens
are the model's own (XLM-R) tokens of every text embedded, passage prompt included.

    python -m bench.ingest_speed [--xquad DIR] [--xquad-docs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_XQUAD, print_table, write_passages, write_results, xquad_files

CHILD_MARK = "INGEST_SPEED "


class CountingEmbedder:
    """Passes through to an embedder, keeping the passage texts and the seconds spent embedding."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.texts: list[str] = []
        self.seconds = 0.0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.embed_passages(texts, progress=progress)
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return vectors

    def model_tokens(self) -> int:
        model = self.inner.model
        prefix = model.prompts.get(self.inner.passage_prompt_name or "", "") or ""
        encoded = model.tokenizer([prefix + text for text in self.texts], truncation=True, max_length=model.max_seq_length)
        return sum(len(ids) for ids in encoded["input_ids"])


def child(source: Path, started: float) -> dict[str, Any]:
    """Runs in the fresh process: ingest `source` cold, then warm; returns the figures."""
    from ingest.embedder import load_embedder
    from rag.config import Settings
    from rag.engine import Engine

    imported = time.time()
    settings = Settings()
    loaded = time.perf_counter()
    embedder = CountingEmbedder(
        load_embedder(settings.embed_model or None, settings.cache_dir, backend=settings.embed_backend)
    )
    model_load_s = time.perf_counter() - loaded
    passes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("cold", "warm"):
            embedder.texts, embedder.seconds = [], 0.0
            engine = Engine(settings, index_dir=Path(tmp) / name, embedder=embedder)
            began = time.perf_counter()
            report = engine.ingest([source])
            ingest_s = time.perf_counter() - began
            wall_s = time.time() - started if name == "cold" else ingest_s
            passes[name] = {
                "seconds": round(wall_s, 3),
                "ingest_s": round(ingest_s, 3),
                "embed_s": round(embedder.seconds, 3),
                "documents": report.documents,
                "chunks": report.chunks,
                "embedded_texts": len(embedder.texts),
                "tokens": embedder.model_tokens(),
            }
    return {"startup_imports_s": round(imported - started, 3), "model_load_s": round(model_load_s, 3), **passes}


def measure(source: Path) -> dict[str, Any]:
    """Ingest `source` in a new process; the cold clock starts before the process does."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.ingest_speed", "--child", str(source), "--started", repr(started)],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((line for line in done.stdout.splitlines() if line.startswith(CHILD_MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"ingest child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(line[len(CHILD_MARK) :])


def rows_of(corpus: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in ("cold", "warm"):
        run = figures[name]
        seconds = run["seconds"]
        rows.append(
            {
                "corpus": corpus,
                "run": name,
                "docs": run["documents"],
                "chunks": run["chunks"],
                "texts": run["embedded_texts"],
                "tokens": run["tokens"],
                "seconds": seconds,
                "docs/s": run["documents"] / seconds,
                "chunks/s": run["chunks"] / seconds,
                "tokens/s": run["tokens"] / seconds,
                "embed tokens/s": run["tokens"] / run["embed_s"] if run["embed_s"] else None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="XQuAD directory (xquad.zh.json)")
    parser.add_argument("--xquad-docs", type=int, default=None, help="ingest only the first N XQuAD paragraphs (default: all 240)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(CHILD_MARK + json.dumps(child(args.child, args.started or time.time())))
        return 0

    from rag.config import bundled_corpus

    results: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    results["report"] = measure(bundled_corpus())
    rows += rows_of("report", results["report"])
    files = xquad_files(args.xquad)
    notes = []
    if files:
        with tempfile.TemporaryDirectory() as tmp:
            count = write_passages(files[0], Path(tmp), args.xquad_docs)
            results["xquad"] = measure(Path(tmp))
        rows += rows_of(f"xquad-zh ({count} paragraphs)", results["xquad"])
    else:
        notes.append(f"XQuAD not found at {args.xquad}: skipped (pass --xquad DIR)")
    print_table("ingest throughput (cold = new process incl. imports + model load; warm = model loaded)", rows)
    for corpus, figures in results.items():
        print(f"{corpus}: imports {figures['startup_imports_s']:.1f} s, model load {figures['model_load_s']:.1f} s")
    for note in notes:
        print(note)
    write_results("ingest_speed", {"rows": rows, "raw": results, "notes": notes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
