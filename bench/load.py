"""Load test of the HTTP API: N concurrent clients asking questions on loopback for a bounded time.

Usage: python -m bench.load [--url http://127.0.0.1:8000 --pid PID] [--clients 1,8,32]
                            [--seconds 15] [--index DIR] [--out FILE]

Without --url it starts `rag serve` on a free loopback port (over --index, default RAG_INDEX_DIR;
the bundled report's index is built there on first start) and stops it afterwards; RAG_*
variables (RAG_MAX_CONCURRENCY, ...) reach that server. Each client sends POST /ask with the
next question of the bundled eval set, waits for the answer, and sends the next one. Prints,
per concurrency level: answered requests per second, p50/p95/p99 latency of the answered ones,
errors by status (503 "busy" is the server refusing work beyond RAG_MAX_CONCURRENCY and its
queue; a refused client waits its Retry-After before asking again), and the server's resident
memory. The clients run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import (
    REPO_ROOT,
    free_port,
    memory_mb,
    print_table,
    serve_command,
    start_server,
    stop_server,
    write_results,
)
from eval.metrics import percentile

QUESTIONS_FILE = REPO_ROOT / "eval" / "data" / "report_questions.jsonl"
FALLBACK_QUESTIONS = [
    "2026年度长三角地区主要领导座谈会是在哪个城市开的？",
    "2027年度长三角地区主要领导座谈会在哪里召开？",
    "Which city hosted the Yangtze River Delta leaders' symposium?",
    "What plans did the meeting approve?",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Level:
    """What one concurrency level measured."""

    clients: int
    seconds: float
    requests: int = 0
    ok: int = 0
    errors: int = 0
    errors_by_status: dict[str, int] = field(default_factory=dict)
    throughput_rps: float = 0.0
    p50_ms: float = float("nan")
    p95_ms: float = float("nan")
    p99_ms: float = float("nan")
    rss_mb: float | None = None
    peak_rss_mb: float | None = None


def load_questions(path: Path = QUESTIONS_FILE) -> list[str]:
    """The eval set's questions (Chinese and English), or a few built-in ones without it."""
    if not path.is_file():
        return FALLBACK_QUESTIONS
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows if row.get("question")] or FALLBACK_QUESTIONS


async def drive(url: str, questions: list[str], clients: int, seconds: float) -> Level:
    """`clients` concurrent askers for `seconds`; each waits for its answer before asking again."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120.0, limits=limits) as http:

        async def asker(first: int) -> None:
            n = first
            while loop.time() < deadline:
                question = questions[n % len(questions)]
                n += clients
                started = time.perf_counter()
                retry_after = 0.0
                try:
                    response = await http.post("/ask", json={"question": question})
                    status = str(response.status_code)
                    retry_after = float(response.headers.get("Retry-After", 0))
                except httpx.HTTPError as exc:  # a refused or dropped connection counts as an error
                    status = type(exc).__name__
                if status == "200":
                    latencies.append((time.perf_counter() - started) * 1000.0)
                statuses[status] += 1
                if retry_after:  # a polite client waits as told (503 busy, 429) instead of hammering
                    await asyncio.sleep(min(retry_after, max(0.0, deadline - loop.time())))

        started = loop.time()
        deadline = started + seconds
        await asyncio.gather(*(asker(n) for n in range(clients)))
        elapsed = loop.time() - started
    errors = {status: count for status, count in statuses.items() if status != "200"}
    return Level(
        clients=clients,
        seconds=round(elapsed, 2),
        requests=sum(statuses.values()),
        ok=len(latencies),
        errors=sum(errors.values()),
        errors_by_status=errors,
        throughput_rps=round(len(latencies) / elapsed, 2),
        p50_ms=round(percentile(latencies, 50), 1),
        p95_ms=round(percentile(latencies, 95), 1),
        p99_ms=round(percentile(latencies, 99), 1),
    )


def resident_memory(pid: int) -> tuple[float | None, float | None]:
    """(current, peak) resident memory of `pid` in MiB: psutil when installed, else /proc."""
    try:
        import psutil
    except ImportError:
        fields = memory_mb(pid)
        return fields.get("VmRSS"), fields.get("VmHWM")
    process = psutil.Process(pid)
    peak = memory_mb(pid).get("VmHWM")  # psutil has no portable peak; Linux /proc does
    return round(process.memory_info().rss / 2**20, 1), peak


def check_loopback(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(
            f"error: --url must be a loopback address ({', '.join(sorted(LOOPBACK))}), got {host!r}"
        )
    return url.rstrip("/")


def run(url: str, pid: int | None, levels: list[int], seconds: float) -> list[Level]:
    questions = load_questions()
    results = []
    httpx.post(
        f"{url}/ask", json={"question": questions[0]}, timeout=120.0
    )  # warm: first answers load caches
    for clients in levels:
        level = asyncio.run(drive(url, questions, clients, seconds))
        if pid is not None:
            level.rss_mb, level.peak_rss_mb = resident_memory(pid)
        results.append(level)
        print_table(f"{clients} concurrent clients, {seconds:g} s", [_row(level)])
    return results


def _row(level: Level) -> dict[str, Any]:
    return {
        "clients": level.clients,
        "requests": level.requests,
        "ok": level.ok,
        "errors": level.errors,
        "req/s": level.throughput_rps,
        "p50 ms": level.p50_ms,
        "p95 ms": level.p95_ms,
        "p99 ms": level.p99_ms,
        "rss MiB": level.rss_mb,
        "peak MiB": level.peak_rss_mb,
        "errors by status": json.dumps(level.errors_by_status) if level.errors_by_status else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server on loopback (default: start `rag serve`)")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, for its memory")
    parser.add_argument(
        "--clients", default="1,8,32", help="concurrency levels, comma-separated (default 1,8,32)"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per level (default 15)")
    parser.add_argument(
        "--index", type=Path, help="index directory for the started server (default RAG_INDEX_DIR)"
    )
    parser.add_argument(
        "--out", type=Path, help="write the results as JSON here (default bench/results/load.json)"
    )
    args = parser.parse_args(argv)
    levels = [int(part) for part in args.clients.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        parser.error("--clients needs positive whole numbers, e.g. 1,8,32")

    process = None
    if args.url:
        url, pid, label, ready_s = check_loopback(args.url), args.pid, "given --url", None
    else:
        from rag.config import Settings

        port = free_port()
        command, env, label = serve_command(args.index or Settings().index_dir, port)
        process, ready_s = start_server(command, port, env, timeout_s=600.0)
        url, pid = f"http://127.0.0.1:{port}", process.pid
        print(f"server: {label} on {url}, ready in {ready_s:.1f} s", flush=True)
    try:
        results = run(url, pid, levels, args.seconds)
    finally:
        if process is not None:
            stop_server(process)

    print_table("summary", [_row(level) for level in results])
    data = {"url": url, "server": label, "ready_s": ready_s, "levels": [asdict(level) for level in results]}
    if args.out:
        payload = json.dumps({"benchmark": "load", **data}, ensure_ascii=False, indent=1)
        args.out.write_text(payload, encoding="utf-8")
        print(f"results: {args.out}")
    else:
        write_results("load", data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
