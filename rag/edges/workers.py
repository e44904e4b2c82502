"""`rag serve --workers N`: N server processes answering on one listening socket.

The answer path is GIL-bound Python around a one-thread encoder, so one process keeps about one
core busy; a second process uses a second core (BENCHMARKS.md, "Several worker processes").

How: this process binds the port, builds the index when there is none (once, before any worker
loads it), then starts N processes. Each builds the engine, the API and the page as `rag serve`
does and runs uvicorn on the inherited socket; the kernel hands each new connection to one of
them. They are spawned, not forked: fresh interpreters, so no model, lock or thread of this
process is copied into them. Each tells this process when it can answer, and "Ready" is printed
once, when all of them can (before that, a question that reaches a worker still loading gets
503 "not ready"). SIGINT or SIGTERM stops them all; a worker that exits on its own stops the
others too, and the command exits with status 1 saying which worker and how it ended.

Why not uvicorn's own `workers=N`, which shares a socket the same way: it takes the app as an
import string, so `--index` and `--store` would have to travel through the environment; its
parent learns only that a worker's uvicorn started, not that its engine has loaded; and it
starts again, for ever, a worker that dies while loading (killed for memory, say), since only a
clean start-up failure (exit status 3) stops it.

Per process, as with one: admission (RAG_MAX_CONCURRENCY threads, RAG_MAX_QUEUE_WAIT_S), the
rate limit and query batching. An upload through one worker is seen by the others: each opens
the index directory `shared` (see `ingest.store.directory`). A worker whose engine cannot load
keeps answering /readyz with the reason, as `rag serve` does, and the reason is printed once.

The chat page is not served here (`/` says so): Gradio keeps a browser session in the memory of
the process that served it, so a page event that reaches another worker (a second connection
from the same browser) finds no session and the question is lost: 1 of 28 page questions in a
Chromium check with 2 workers (README, "Several worker processes"). Sticky routing would need a
proxy in front; the kernel's choice of worker cannot be steered by session.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import BadInput, RagError
from ingest.store import is_milvus_lite
from rag.edges.server import NO_INDEX_YET, ready_lines, url_host

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from rag.config import Settings

STOP_GRACE_S = 10.0  # after SIGTERM, how long the workers may finish requests in flight
POLL_S = 0.2
BACKLOG = 2048  # uvicorn's default
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve_workers(
    settings: Settings,
    index_dir: Path | None,
    host: str,
    port: int,
    workers: int,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Serve the API and the page on host:port from `workers` processes until SIGINT or SIGTERM
    (then raised again here, as one uvicorn process does) or until a worker exits.

    progress: told, in one line, when a one-time build (the model, its ONNX export) starts; a
    module-level function, since the workers get it by pickling.
    Returns the exit status: 1 when the port cannot be had, the index cannot be built or a
    worker exited on its own."""
    if is_milvus_lite(settings.store):
        raise BadInput(
            f"Milvus Lite ({settings.store}) is opened by one process only: serve it with --workers 1, "
            "or keep the collection on a Milvus server (RAG_STORE=http://host:19530) for several workers"
        )
    try:
        sock = _bind(host, port)
    except OSError as exc:
        print(f"error: could not serve on {host}:{port} ({exc.strerror or exc})", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    received: list[int] = []  # the stop signals, in the order they came
    previous = {sig: signal.signal(sig, lambda sig, _frame: received.append(sig)) for sig in STOP_SIGNALS}
    try:
        with sock:
            status = _ensure_index(context, settings, index_dir, workers, progress, received)
            if status == 0 and not received:
                base = f"http://{url_host(host)}:{port}"
                status = _supervise(context, settings, index_dir, sock, base, workers, progress, received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:  # end as one uvicorn process does: KeyboardInterrupt for SIGINT, death by SIGTERM
        signal.raise_signal(received[0])
    return status


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # As uvicorn: a restart need not wait for the last run's connections to leave TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)  # at once, as uvicorn does: a bound port no one listens on can be taken
    except OSError:
        sock.close()
        raise
    return sock


def _ensure_index(
    context: SpawnContext,
    settings: Settings,
    index_dir: Path | None,
    workers: int,
    progress: Callable[[str], None] | None,
    received: list[int],
) -> int:
    """Build the bundled report's index when there is none, once, before the workers start.

    In a process of its own: the model it loads (~600 MB) would otherwise stay in this one for
    as long as the workers run. Connections wait in the socket's queue meanwhile. Returns the
    exit status so far (1: the build failed)."""
    from rag.engine import Engine

    engine = Engine(settings, index_dir=index_dir)
    if engine.has_index():
        return 0
    meanwhile = f"the {workers} workers start when it is done"
    print(NO_INDEX_YET.format(index_dir=engine.index_dir, meanwhile=meanwhile), flush=True)
    builder = context.Process(target=build_index, args=(settings, index_dir, progress), name="rag-index-build")
    builder.start()
    while builder.exitcode is None and not received:
        builder.join(POLL_S)
    _stop([builder])  # joined: its exitcode is set
    if builder.exitcode == 0 or received:
        return 0
    print(f"error: building the index {_ended(builder.exitcode or 0)}", file=sys.stderr, flush=True)
    return 1


def build_index(settings: Settings, index_dir: Path | None, progress: Callable[[str], None] | None) -> None:
    """The index builder's process: the bundled report's index, as the first `rag serve` builds it."""
    from rag.engine import Engine

    signal.signal(signal.SIGTERM, _exit_normally)
    try:
        Engine(settings, index_dir=index_dir, progress=progress).ensure_index(progress=True)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the terminal's group
        sys.exit(130)


def _exit_normally(_sig: int, _frame: object) -> None:
    """SIGTERM as a normal exit: exit handlers then run and give back the named semaphores the
    libraries took (a spawned interpreter names them), which would otherwise be reported leaked."""
    sys.exit(0)


def _supervise(
    context: SpawnContext,
    settings: Settings,
    index_dir: Path | None,
    sock: socket.socket,
    base: str,
    workers: int,
    progress: Callable[[str], None] | None,
    received: list[int],
) -> int:
    """Start the workers, relay their news, and stop them all at the end."""
    processes: list[BaseProcess] = []
    news: dict[Connection, int] = {}  # one pipe from each worker: (kind, reason) messages
    try:
        for number in range(1, workers + 1):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=run_worker,
                args=(number, os.getpid(), settings, index_dir, sock, writer, progress),
                name=f"rag-worker-{number}",
            )
            process.start()
            writer.close()  # the worker holds its own end: a worker that dies closes the pipe
            processes.append(process)
            news[reader] = number
        return _watch(processes, news, received, base)
    finally:
        _stop(processes)
        for reader in news:
            reader.close()


def _watch(processes: list[BaseProcess], news: dict[Connection, int], received: list[int], base: str) -> int:
    """Relay the workers' news until a stop signal (0) or a worker's exit (1)."""
    ready: set[int] = set()
    said: set[str] = set()
    open_pipes = set(news)
    while not received:
        for source in wait([*open_pipes, *(process.sentinel for process in processes)], timeout=POLL_S):
            if not isinstance(source, Connection):
                continue  # a worker's sentinel: its exit is handled below
            try:
                kind, reason = source.recv()
            except EOFError:  # the worker is ending
                open_pipes.discard(source)
                continue
            if kind == "ready":
                ready.add(news[source])
                if len(ready) == len(processes):
                    pids = ", ".join(str(process.pid) for process in processes)
                    print(f"{ready_lines(base, page=False)}\n  workers     {len(processes)} processes ({pids})", flush=True)
            elif reason not in said:  # the same news from every worker: once
                said.add(reason)
                print(f"starting: {reason}", file=sys.stderr, flush=True)
        for number, process in enumerate(processes, start=1):
            if process.exitcode is not None and not received:
                when = "" if number in ready else " before it could answer"
                print(
                    f"error: worker {number} (pid {process.pid}) {_ended(process.exitcode)}{when}; "
                    "stopping the others",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
    return 0


def _ended(exitcode: int) -> str:
    if exitcode == -signal.SIGKILL:
        return "was killed by SIGKILL (out of memory? each worker holds its own model and index)"
    if exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with status {exitcode} (its messages are above)"


def _stop(processes: list[BaseProcess]) -> None:
    """SIGTERM to every worker still running (uvicorn then finishes the requests in flight);
    SIGKILL to any still there after STOP_GRACE_S."""
    for process in processes:
        if process.exitcode is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            print(f"{process.name} (pid {process.pid}) still running after {STOP_GRACE_S:g} s: killing it", file=sys.stderr)
            process.kill()
            process.join()


def run_worker(
    number: int,
    parent: int,
    settings: Settings,
    index_dir: Path | None,
    sock: socket.socket,
    news: Connection,
    progress: Callable[[str], None] | None,
) -> None:
    """One worker process: the app `rag serve` builds, under uvicorn on the shared socket;
    `news` carries its readiness to the parent."""
    import uvicorn

    from rag.edges.server import build_app

    # After uvicorn's graceful shutdown it raises the SIGTERM it handled again: end normally then.
    signal.signal(signal.SIGTERM, _exit_normally)
    try:
        try:
            app = build_app(settings, index_dir, progress, shared_store=True, page=False)
        except RagError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            sys.exit(1)
        host, port = sock.getsockname()[:2]
        # Our own access log (rag.api.access) replaces uvicorn's, as in `rag serve`.
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False))
        threading.Thread(target=_report, args=(server, app, news), name="rag-report", daemon=True).start()
        threading.Thread(target=_exit_with, args=(parent, server), name="rag-parent", daemon=True).start()
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the terminal's group
        return
    if not server.started:
        print(f"error: worker {number} could not start serving (uvicorn's message is above)", file=sys.stderr)
        sys.exit(1)


def _report(server: uvicorn.Server, app: FastAPI, news: Connection) -> None:
    from rag.edges.server import wait_until_ready

    try:
        wait_until_ready(server, app, lambda reason: news.send(("status", reason)))
        news.send(("ready", ""))
    except OSError:  # the parent is gone; `_exit_with` stops this worker
        pass


def _exit_with(parent: int, server: uvicorn.Server) -> None:
    """Stop serving when the parent is gone (killed with SIGKILL, which it cannot pass on)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    server.should_exit = True
