"""Server start-up time and memory: `rag serve` from start to ready over an existing index,
resident memory idle and under load (bench/load.py's concurrent POST /ask clients), read from
/proc/<pid>/status; and how long the CLI takes to start (`rag --help`).

    python -m bench.memory [--starts 2] [--clients 4] [--seconds 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import (
    free_port,
    memory_mb,
    print_table,
    serve_command,
    start_server,
    stop_server,
    write_results,
)


def build_index(index_dir: Path) -> None:
    """The bundled report's index, built by the CLI in its own process."""
    rag = Path(sys.executable).parent / "rag"
    subprocess.run([str(rag), "ingest", "--index", str(index_dir)], check=True, capture_output=True)


def cli_start_s(runs: int = 3) -> float:
    """Median wall seconds of `rag --help`: what the CLI's imports cost before any work."""
    rag = Path(sys.executable).parent / "rag"
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(rag), "--help"], check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return sorted(timings)[len(timings) // 2]


def peak_during(pid: int, work: Any) -> tuple[Any, float]:
    """Run `work()` while sampling the process's VmRSS every 50 ms; (result, peak MiB)."""
    peak = [memory_mb(pid).get("VmRSS", 0.0)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak.append(memory_mb(pid).get("VmRSS", 0.0))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, max(peak)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=2, help="server starts timed (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients under load (default 4)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds under load (default 20)")
    args = parser.parse_args(argv)

    from bench.load import run as drive_load

    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {"starts": []}
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        build_index(index_dir)
        for start in range(1, args.starts + 1):
            port = free_port()
            command, env, label = serve_command(index_dir, port)
            process, ready_s = start_server(command, port, env, timeout_s=600.0)
            try:
                time.sleep(2.0)  # let start-up garbage settle before reading "idle"
                idle = memory_mb(process.pid)
                entry: dict[str, Any] = {"server": label, "ready_s": round(ready_s, 2), "idle": idle}
                if start == 1:  # load once: it is the same server each time
                    url = f"http://127.0.0.1:{port}"
                    levels, sampled_peak = peak_during(
                        process.pid, lambda url=url: drive_load(url, None, [args.clients], args.seconds)
                    )
                    entry["load"] = {
                        "clients": args.clients,
                        "seconds": args.seconds,
                        "requests_ok": levels[0].ok,
                        "errors": levels[0].errors,
                        "requests_per_s": levels[0].throughput_rps,
                        "latency_ms": {"p50": levels[0].p50_ms, "p95": levels[0].p95_ms},
                        "sampled_peak_rss_mb": sampled_peak,
                        "after": memory_mb(process.pid),
                    }
            finally:
                stop_server(process)
            results["starts"].append(entry)
            rows.append({"measure": f"start-up to ready (start {start})", "value": entry["ready_s"], "unit": "s"})
    first = results["starts"][0]
    results["cli_help_s"] = round(cli_start_s(), 2)
    rows += [
        {"measure": "RSS idle", "value": first["idle"]["VmRSS"], "unit": "MiB"},
        {"measure": "peak RSS by ready (VmHWM)", "value": first["idle"]["VmHWM"], "unit": "MiB"},
        {"measure": f"RSS under load, sampled peak ({args.clients} clients)", "value": first["load"]["sampled_peak_rss_mb"], "unit": "MiB"},
        {"measure": "peak RSS after load (VmHWM)", "value": first["load"]["after"]["VmHWM"], "unit": "MiB"},
        {"measure": "throughput under load", "value": first["load"]["requests_per_s"], "unit": "req/s"},
        {"measure": "latency under load p50", "value": first["load"]["latency_ms"]["p50"], "unit": "ms"},
        {"measure": "latency under load p95", "value": first["load"]["latency_ms"]["p95"], "unit": "ms"},
        {"measure": "CLI start (`rag --help`, median of 3)", "value": results["cli_help_s"], "unit": "s"},
    ]
    print_table(f"server start-up and memory ({first['server']})", rows, ["measure", "value", "unit"])
    write_results("memory", {**results, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
