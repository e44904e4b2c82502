"""Helpers the benchmarks share: timing, percentiles, tables, JSON results, machine facts,
and starting a server subprocess.

Every benchmark prints a plain-text table and writes `bench/results/<name>.json` (gitignored).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.metrics import percentile

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_XQUAD = REPO_ROOT.parent / "shared" / "benchmarks" / "xquad"


# --- an engine ready to answer ---------------------------------------------------------------
def ready_engine(index_dir: Path | None, *, llm: bool = False, warm: bool = True) -> Any:
    """An Engine over `index_dir` (default RAG_INDEX_DIR), its index built if missing and, with
    `warm`, loaded; `llm`: exit with the variables to set unless an LLM server is configured."""
    from rag.config import Settings
    from rag.engine import Engine

    settings = Settings()
    if llm and not settings.llm_enabled:
        raise SystemExit("set RAG_LLM_BASE_URL and RAG_LLM_MODEL (see the module docstring)")
    engine = Engine(settings, index_dir=index_dir)
    engine.ensure_index()
    if warm:
        engine.warm_up()
    return engine


# --- timing --------------------------------------------------------------------------------
def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def time_calls(fn: Callable[[Any], object], items: Sequence[Any]) -> list[float]:
    """Milliseconds of `fn(item)` for each item, one call at a time."""
    timings = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        timings.append(ms_since(started))
    return timings


def p50_p95(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(list(values), 50), 3), "p95": round(percentile(list(values), 95), 3)}


def ratio(ours: float, peer: float) -> float:
    return round(ours / peer, 3) if peer else float("nan")


# --- output --------------------------------------------------------------------------------
def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of dicts as aligned text columns; floats get 3 significant decimals at most."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            if value != value:
                return "-"
            return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    lines = [list(columns)] + [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join("  ".join(text.rjust(width) for text, width in zip(line, widths, strict=True)) for line in lines)


def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    print(f"\n== {title}")
    print(format_table(rows, columns))
    sys.stdout.flush()


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write `data` with the machine facts to bench/results/<name>.json; returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"benchmark": name, "machine": machine_info(), **data}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"results: {path.relative_to(REPO_ROOT)}")
    return path


# --- machine -------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    """Where the figures came from (versions read without importing torch or faiss twice)."""
    from importlib.metadata import PackageNotFoundError, version

    def package(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), 0)
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 2**20, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),  # the machine is shared: other jobs run too
        "python": platform.python_version(),
        "torch": package("torch"),
        "faiss": package("faiss-cpu"),
        "sentence_transformers": package("sentence-transformers"),
        "onnxruntime": package("onnxruntime"),
        "haystack": package("haystack-ai"),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MiB."""
    fields = {}
    for line in _read(f"/proc/{pid}/status").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


# --- xquad ---------------------------------------------------------------------------------
def xquad_files(directory: Path | None) -> tuple[Path, Path] | None:
    """(Chinese corpus, English questions) in an XQuAD directory, or None when absent."""
    if directory is None:
        return None
    zh, en = directory / "xquad.zh.json", directory / "xquad.en.json"
    return (zh, en) if zh.is_file() and en.is_file() else None


def write_passages(corpus: Path, directory: Path, limit: int | None = None) -> int:
    """One .txt file per paragraph of a SQuAD-format corpus (as `rag eval --squad` ingests
    them), the first `limit` paragraphs only if given; returns how many were written."""
    from eval.squad import load_squad

    directory.mkdir(parents=True, exist_ok=True)
    passages = load_squad(corpus).passages[:limit]
    for number, passage in enumerate(passages):
        (directory / f"p{number:05d}.txt").write_text(passage.text, encoding="utf-8")
    return len(passages)


# --- servers -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_app() -> Any:
    """The HTTP API over the index in RAG_INDEX_DIR (a uvicorn factory, for when `rag serve`
    is not there to start it)."""
    from rag.config import Settings
    from rag.edges.api.app import create_app
    from rag.engine import Engine

    settings = Settings()
    return create_app(Engine(settings), settings, build_index=False)


def serve_command(index_dir: Path, port: int) -> tuple[list[str], dict[str, str], str]:
    """(command, environment, label) that serves `index_dir` on `port`: `rag serve` when the
    project has it, else uvicorn over `rag.edges.api.app.create_app` (what `rag serve` runs)."""
    env = {"RAG_INDEX_DIR": str(index_dir), "RAG_PORT": str(port)}
    if (REPO_ROOT / "rag" / "edges" / "server.py").is_file():
        rag = Path(sys.executable).parent / "rag"
        return [str(rag), "serve", "--index", str(index_dir), "--port", str(port)], env, "rag serve"
    command = [sys.executable, "-m", "uvicorn", "bench.common:http_app", "--factory", "--port", str(port), "--log-level", "warning"]
    return command, env, "uvicorn rag.edges.api.app:create_app (rag/edges/server.py not present)"


def start_server(
    command: list[str], port: int, env: dict[str, str], timeout_s: float = 180.0
) -> tuple[subprocess.Popen[bytes], float]:
    """Start `command`, poll /readyz until 200; returns (process, seconds to ready).

    The server's output goes to bench/results/server.log. Raises RuntimeError when it exits or
    is not ready within `timeout_s`.
    """
    import httpx

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with (RESULTS_DIR / "server.log").open("ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}/readyz"
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} (see bench/results/server.log)")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop_server(process)
    raise RuntimeError(f"server not ready after {timeout_s:.0f} s (see bench/results/server.log)")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
