"""Loads the engine in the background so /healthz answers at once; /readyz reports its progress."""

import logging
import threading

from ingest.errors import NotReady, RagError
from rag.engine import Engine
from rag.heap import freeze_heap

log = logging.getLogger("rag.api")


class Loader:
    """Loads the engine off the event loop and says whether it can answer yet, and why not.

    Written by the loader thread, read by every request: all under one lock."""

    def __init__(self, engine: Engine, build_index: bool, progress: bool, freeze_heap: bool = False) -> None:
        self.engine = engine
        self.build_index = build_index
        self.progress = progress
        self.freeze_heap = freeze_heap
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._state = "idle"  # idle | loading | no_index | failed | ready
        self._reason = "waiting for the server to start"

    def start(self) -> None:
        with self._lock:
            if self._state in ("loading", "ready"):
                return
            self._state, self._reason = "loading", "loading the model and index"
        threading.Thread(target=self._load, name="rag-api-loader", daemon=True).start()

    def _set(self, state: str, reason: str = "") -> None:
        with self._lock:
            self._state, self._reason = state, reason
        if state == "ready":
            self.ready.set()

    def _load(self) -> None:
        try:
            if not self.engine.has_index():
                if not self.build_index:
                    self._set("no_index", f"no index in {self.engine.index_dir}: run `rag ingest`")
                    return
                self._set("loading", "building the index of the bundled report (first start)")
                self.engine.ensure_index(progress=self.progress)
            self._set("loading", "loading the model and index")
            self.engine.warm_up()
            if self.freeze_heap:
                freeze_heap()  # what warm-up loaded lives as long as the server (see rag.heap)
        except RagError as exc:
            self._set("failed", str(exc))
        except Exception as exc:  # reported by /readyz, never raised into a request
            log.exception("loading the engine failed")
            self._set("failed", f"loading failed ({type(exc).__name__}: {exc}); see the server log")
        else:
            self._set("ready")

    def status(self) -> tuple[bool, str]:
        """(ready, reason). An index built since (`rag ingest`) is picked up here."""
        with self._lock:
            state, reason = self._state, self._reason
        if state == "no_index" and self.engine.has_index():
            self.start()
            return False, "an index appeared: loading it"
        return state == "ready", reason

    def require_ready(self) -> None:
        ready, reason = self.status()
        if not ready:
            raise NotReady(f"not ready: {reason}", headers={"Retry-After": "5"})

