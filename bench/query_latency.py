"""Question latency per stage (p50/p95) over the labelled report questions, in process and
end to end over HTTP (POST /ask against a server on a loopback port).

Stages are the ones the engine reports in `Answer.timings_ms`: query embedding, dense search,
lexical search (with the glossary for English questions), dense rerank, fusion, sentence
selection, answer extraction, and the total.

    python -m bench.query_latency [--rounds N]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ms_since,
    p50_p95,
    print_table,
    serve_command,
    start_server,
    stop_server,
    write_results,
)

STAGES = (
    "embed_query",
    "dense_search",
    "lexical_search",
    "dense_rerank",
    "fusion",
    "sentence_selection",
    "answer",
    "total",
)


def in_process(index_dir: Path, questions: list[str], rounds: int) -> dict[str, list[float]]:
    """Stage timings of `engine.answer` for every question, `rounds` times."""
    from rag.config import Settings
    from rag.engine import Engine

    engine = Engine(Settings(), index_dir=index_dir)
    engine.ingest()
    engine.warm_up()
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(rounds):
        for question in questions:
            answer = engine.answer(question)
            for stage in STAGES:
                if stage in answer.timings_ms:
                    timings[stage].append(answer.timings_ms[stage])
    timings[REENCODE] = reencode_ms(engine, questions[:REENCODE_SAMPLE])
    return timings


REENCODE = "re-encode sentences (no cache)"
REENCODE_SAMPLE = 30


def reencode_ms(engine: Any, questions: list[str]) -> list[float]:
    """What sentence selection would add if sentence vectors were not stored at ingest:
    embedding the sentences of the passages an answer reads (the lever kept)."""
    timings = []
    for question in questions:
        hits = engine.search(question, k=engine.settings.top_k).hits
        sentences = [sentence.text for hit in hits for sentence in hit.chunk.sentences]
        started = time.perf_counter()
        engine.embedder.embed_passages(sentences)
        timings.append(ms_since(started))
    return timings


def over_http(index_dir: Path, questions: list[str], rounds: int) -> tuple[list[float], str, float]:
    """Client-side milliseconds of POST /ask for every question; also the server label and
    its seconds from start to ready."""
    import httpx

    from bench.common import free_port

    port = free_port()
    command, env, label = serve_command(index_dir, port)
    process, ready_s = start_server(command, port, env, timeout_s=600.0)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as client:
            client.post("/ask", json={"question": questions[0]}).raise_for_status()  # warm the connection
            timings = []
            for _ in range(rounds):
                for question in questions:
                    started = time.perf_counter()
                    client.post("/ask", json={"question": question}).raise_for_status()
                    timings.append(ms_since(started))
    finally:
        stop_server(process)
    return timings, label, ready_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="times each question is asked (default 1)")
    args = parser.parse_args(argv)

    from eval.dataset import load_items

    questions = [item.question for item in load_items()]
    notes: list[str] = []
    results: dict[str, Any] = {"questions": len(questions), "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        stages = in_process(index_dir, questions, args.rounds)
        rows = [{"stage": stage, "n": len(values), **p50_p95(values)} for stage, values in stages.items() if values]
        if importlib.util.find_spec("rag.edges.api.app") is not None:
            http, label, ready_s = over_http(index_dir, questions, args.rounds)
            rows.append({"stage": "HTTP POST /ask (client)", "n": len(http), **p50_p95(http)})
            notes.append(f"HTTP server: {label}, ready in {ready_s:.1f} s")
            results["http_ms"] = p50_p95(http)
        else:
            notes.append("rag/edges/api/app.py not found: HTTP end-to-end skipped")
    print_table(f"question latency, ms ({len(questions)} report questions x {args.rounds})", rows, ["stage", "n", "p50", "p95"])
    for note in notes:
        print(note)
    write_results("query_latency", {**results, "rows": rows, "notes": notes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
