"""`rag serve`: the HTTP API and the chat page in one uvicorn process.

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

    from rag.edges.api.app import create_app
    from rag.engine import Engine
    from ui.app import mount_ui

    _log_requests_as_json_lines()
    engine = Engine(settings, index_dir=index_dir, progress=progress)
    if not engine.has_index():
        print(
            f"No index in {engine.index_dir} yet: building the bundled report's index on this first start "
            "(a minute or so; /healthz answers meanwhile, /readyz says when it is done).",
            flush=True,
        )
    app = create_app(engine, settings, progress=True)
    mount_ui(app, engine, settings)

    # Our own access log (rag.api.access) replaces uvicorn's: one JSON line per request.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False))
    base = f"http://{_url_host(host)}:{port}"
    threading.Thread(
        target=_announce_when_ready, args=(server, app, base), name="rag-announce", daemon=True
    ).start()
    server.run()
    if not server.started:  # e.g. the port is taken: uvicorn has logged why
        print(f"error: could not serve on {host}:{port}", file=sys.stderr)
        return 1
    return 0


def _announce_when_ready(server: uvicorn.Server, app: FastAPI, base: str) -> None:
    """Print the URLs once uvicorn listens and the engine can answer (or why it cannot)."""
    loader = app.state.services.loader
    said = ""
    while True:
        ready, reason = loader.status()
        if ready and server.started:
            break
        if reason and reason != said:
            print(f"starting: {reason}", file=sys.stderr, flush=True)
            said = reason
        time.sleep(0.2)
    lines = [f"Ready: {base}", f"  chat page   {base}/"]
    lines.append(f"  API docs    {base}/docs")
    lines.append(f"  OpenAI API  {base}/v1  (model report-rag)")
    print("\n".join(lines), flush=True)


def _url_host(host: str) -> str:
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
