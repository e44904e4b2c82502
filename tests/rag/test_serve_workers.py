"""`rag serve --workers N` as a real command: N processes on one port, one "Ready" line,
answers from each, an upload through one seen by the other, and nothing left after SIGTERM.

Real processes on a loopback port, the real model (loaded once per worker) over a copy of the
session's bundled index. Every wait is bounded by a deadline that only turns a hang into a
failure; nothing asserts on time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rag.edges.cli import main
from rag.engine import Engine

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
API_KEY = "workers-test-key"
START_DEADLINE_S = 240  # two model loads on two shared cores; only a hang reaches it
STOP_DEADLINE_S = 60
QUESTION = "2026年度长三角地区主要领导座谈会是在哪个城市开的？"  # eval zh-001: 上海
FACT_NAME = "qingshi-2031.md"
FACT = "# 青石镇2031年工作报告\n\n青石镇2031年的吉祥物是一只名叫墨团的蓝色水獭。\n\n该镇当年新修了三座石桥。\n"
FACT_QUESTION = "青石镇2031年的吉祥物叫什么名字？"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    out: Path
    err: Path

    def log(self) -> str:
        return f"stdout:\n{self.out.read_text()[-3000:]}\nstderr:\n{self.err.read_text()[-3000:]}"


def children(pid: int) -> set[int]:
    """Every process whose parent is `pid` (the workers, and multiprocessing's resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: Callable[[], bool], seconds: float, served: Served, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {seconds:g} s\n{served.log()}")
        time.sleep(0.2)


@contextmanager
def rag_serve(index_dir: Path, tmp_path: Path, cache_root: Path, *args: str) -> Iterator[Served]:
    """`rag serve --index DIR ARGS` in its own process on a free loopback port, killed if still there."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("RAG_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        RAG_CACHE_DIR=str(cache_root),
        RAG_API_KEY=API_KEY,
        RAG_FEEDBACK_PATH=str(tmp_path / "feedback.jsonl"),
        RAG_EVAL_REPORT_PATH=str(tmp_path / "eval-report.html"),
    )
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    command = [sys.executable, "-m", "rag.edges.cli", "serve", "--index", str(index_dir)]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port), *args], env=env, stdout=stdout, stderr=stderr
        )
    served = Served(process, f"http://127.0.0.1:{port}", out, err)
    try:
        yield served
    finally:
        if process.poll() is None:
            for pid in children(process.pid):
                os.kill(pid, signal.SIGKILL)
            process.kill()
            process.wait()


def served_by(responses: list[httpx.Response]) -> set[int]:
    """The worker pids that answered (X-Server-Pid)."""
    missing = [response for response in responses if "X-Server-Pid" not in response.headers]
    assert not missing, [(r.status_code, dict(r.headers), r.text[:200]) for r in missing[:3]]
    return {int(response.headers["X-Server-Pid"]) for response in responses}


def ask_on_new_connections(url: str, question: str, rounds: int = 6) -> list[httpx.Response]:
    """`rounds` of 8 concurrent /ask, each on a connection of its own (the kernel gives each new
    connection to one worker; busy ones take fewer)."""

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=120) as http:
            return http.post("/ask", json={"question": question})

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(8 * rounds)))


@pytest.fixture
def index_copy(bundled_engine: Engine, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundled_engine.index_dir, tmp_path / "index"))


def test_two_workers_share_the_port_and_stop_together(index_copy: Path, tmp_path: Path, cache_root: Path) -> None:
    with rag_serve(index_copy, tmp_path, cache_root, "--workers", "2") as served:
        started = lambda: "Ready:" in served.out.read_text() or served.process.poll() is not None  # noqa: E731
        wait_for(started, START_DEADLINE_S, served, "Ready")
        assert served.process.poll() is None, served.log()
        out = served.out.read_text()
        assert out.count("Ready:") == 1, out  # once, for both workers
        workers_line = next(line for line in out.splitlines() if line.strip().startswith("workers"))
        pids = {int(pid) for pid in workers_line.split("(")[1].rstrip(")").split(", ")}
        assert len(pids) == 2 and pids <= children(served.process.pid), (workers_line, served.log())

        with httpx.Client(base_url=served.url, timeout=120) as http:
            assert http.get("/readyz").json() == {"status": "ready", "reason": ""}
            # no chat page: Gradio's sessions live in one process, so a page spread over two
            # would lose questions; `/` says where to get it
            page = http.get("/")
            assert page.status_code == 404 and "--workers 1" in page.text
        assert "chat page   not served" in out

        answers = ask_on_new_connections(served.url, QUESTION)
        assert {response.status_code for response in answers} == {200}
        assert {response.json()["short_answer"] for response in answers} == {"上海"}
        assert served_by(answers) == pids, served.log()

        # An upload through one worker is answered by both.
        with httpx.Client(base_url=served.url, timeout=120) as http:
            added = http.post(
                "/documents",
                files={"file": (FACT_NAME, FACT.encode("utf-8"))},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
        assert added.status_code == 201, added.text
        doc_id = added.json()["doc_id"]
        answers = ask_on_new_connections(served.url, FACT_QUESTION)
        assert served_by(answers) == pids, served.log()
        writer = int(added.headers["X-Server-Pid"])
        for response in answers:
            answer = response.json()
            where = f"worker {response.headers['X-Server-Pid']} (the upload's: {writer})"
            assert "墨团" in answer["answer"] and answer["citations"][0]["doc_id"] == doc_id, (where, answer)

        helpers = children(served.process.pid)  # the workers and the resource tracker
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=STOP_DEADLINE_S)
        assert served.process.returncode == -signal.SIGTERM  # as one uvicorn process ends
        wait_for(lambda: not any(alive(pid) for pid in helpers), STOP_DEADLINE_S, served, "no process left")
        err = served.err.read_text()
        assert "Traceback" not in err and "leaked" not in err, err[-3000:]


def test_a_worker_that_dies_stops_the_command(index_copy: Path, tmp_path: Path, cache_root: Path) -> None:
    with rag_serve(index_copy, tmp_path, cache_root, "--workers", "2") as served:

        def workers() -> set[int]:
            return {
                pid
                for pid in children(served.process.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            }

        wait_for(lambda: len(workers()) == 2, START_DEADLINE_S, served, "two workers")
        started = workers()
        victim = min(started)
        os.kill(victim, signal.SIGKILL)  # as the out-of-memory killer would

        assert served.process.wait(timeout=STOP_DEADLINE_S) == 1, served.log()
        err = served.err.read_text()
        assert f"(pid {victim}) was killed by SIGKILL" in err and "stopping the others" in err, err[-3000:]
        wait_for(lambda: not any(alive(pid) for pid in started), STOP_DEADLINE_S, served, "no worker left")


def test_a_taken_port_is_one_line_and_status_1(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RAG_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = ["serve", "--index", str(tmp_path / "index"), "--host", "127.0.0.1", "--port", str(port)]
        result = subprocess.run(
            [sys.executable, "-m", "rag.edges.cli", *command, "--workers", "2"],
            env={**env, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=STOP_DEADLINE_S,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: could not serve on 127.0.0.1:{port} (Address already in use)"


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_a_bad_worker_count_says_the_fix(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--workers", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --workers:" in err and "Traceback" not in err
    assert ("must be 1 or more" if value != "two" else "is not a whole number") in err


def test_rag_workers_is_checked_like_every_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_WORKERS", "0")
    assert main(["serve"]) == 1
    assert capsys.readouterr().err.startswith("error: invalid setting RAG_WORKERS='0'")


def test_milvus_lite_is_refused_for_several_workers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--store", str(tmp_path / "reports.db"), "--workers", "2"]) == 1
    err = capsys.readouterr().err
    assert "Milvus Lite" in err and "--workers 1" in err and "Milvus server" in err
