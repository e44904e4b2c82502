"""`rag serve`: the HTTP API and the chat page in one uvicorn process (`--workers N`: in N of
them, see `rag.edges.workers`).

The page (`ui.app.mount_ui`) is mounted at `/` after the API routes, so they keep matching
first. The model and index load in the background (see `rag.edges.api.loader.Loader`): /healthz answers at
once, /readyz and the URLs printed here say when questions can be asked.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

# Printed by the first start, which builds the index before it can answer.
NO_INDEX_YET = "No index in {index_dir} yet: building the bundled report's index on this first start (a minute or so; {meanwhile})."

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from rag.config import Settings


def serve(
    settings: Settings,
    index_dir: Path | None,
    host: str,
    port: int,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Build the engine and the app, mount the page, and run uvicorn.

    progress: told, in one line, when a one-time build (the model, its ONNX export) starts.
    Returns the exit status: 0 after a normal shutdown, 1 when the server could not start."""
    import uvicorn

    app = build_app(settings, index_dir, progress)
    # Our own access log (rag.api.access) replaces uvicorn's: one JSON line per request.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False))
    base = f"http://{url_host(host)}:{port}"
    threading.Thread(
        target=_announce_when_ready, args=(server, app, base), name="rag-announce", daemon=True
    ).start()
    server.run()
    if not server.started:  # e.g. the port is taken: uvicorn has logged why
        print(f"error: could not serve on {host}:{port}", file=sys.stderr)
        return 1
    return 0


def build_app(
    settings: Settings,
    index_dir: Path | None,
    progress: Callable[[str], None] | None = None,
    shared_store: bool = False,
    page: bool = True,
) -> FastAPI:
    """The engine, the API over it and the page at `/`, as one app (not yet loaded: its
    lifespan starts the loader). Sets up the access log too.

    shared_store: other processes serve and change the same index (`rag.edges.workers`).
    page: mount the chat page; without it, `/` says where the page is served instead."""
    from rag.edges.api.app import create_app
    from rag.engine import Engine
    from ui.app import mount_ui

    _log_requests_as_json_lines()
    engine = Engine(settings, index_dir=index_dir, progress=progress, shared_store=shared_store)
    if not engine.has_index():
        meanwhile = "/healthz answers meanwhile, /readyz says when it is done"
        print(NO_INDEX_YET.format(index_dir=engine.index_dir, meanwhile=meanwhile), flush=True)
    app = create_app(engine, settings, progress=True, freeze_heap=True)
    if page:
        mount_ui(app, engine, settings)
    else:
        from fastapi.responses import PlainTextResponse

        @app.get("/", include_in_schema=False)
        def no_page() -> PlainTextResponse:
            return PlainTextResponse(PAGE_NOT_SERVED + "\nThe API is here: /docs, /ask, /v1.", status_code=404)

    return app


# Gradio keeps each browser session in the memory of the process that served it
# (gradio-app/gradio#10487): with several processes on one port, a page event that reaches another
# one finds no session and the question is silently lost. Better no page than a lossy one.
PAGE_NOT_SERVED = (
    "The chat page is not served with --workers above 1: Gradio keeps each browser session in one "
    "process. Run a one-process `rag serve` (--workers 1) for the page."
)


def _announce_when_ready(server: uvicorn.Server, app: FastAPI, base: str) -> None:
    """Print the URLs once uvicorn listens and the engine can answer (or why it cannot)."""
    wait_until_ready(server, app, lambda reason: print(f"starting: {reason}", file=sys.stderr, flush=True))
    print(ready_lines(base), flush=True)


def wait_until_ready(server: uvicorn.Server, app: FastAPI, told: Callable[[str], None]) -> None:
    """Return once uvicorn listens and the engine can answer; `told` each new reason why not yet."""
    loader = app.state.services.loader
    said = ""
    while True:
        ready, reason = loader.status()
        if ready and server.started:
            return
        if reason and reason != said:
            told(reason)
            said = reason
        time.sleep(0.2)


def ready_lines(base: str, page: bool = True) -> str:
    """What `rag serve` prints once it can answer: where the page and the APIs are."""
    lines = [f"Ready: {base}", f"  chat page   {base}/" if page else "  chat page   not served: --workers above 1"]
    lines.append(f"  API docs    {base}/docs")
    lines.append(f"  OpenAI API  {base}/v1  (model report-rag)")
    return "\n".join(lines)


def url_host(host: str) -> str:
    """`host` as it goes in a URL that works from this machine."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"  # listening on every address: the loopback one works from here
    return f"[{host}]" if ":" in host else host


def _log_requests_as_json_lines() -> None:
    """The access log to stderr, one JSON object per line, unless logging is set up already."""
    access = logging.getLogger("rag.api.access")
    if access.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG
    api = logging.getLogger("rag.api")
    if not api.handlers and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
