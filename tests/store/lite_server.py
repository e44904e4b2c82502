"""A `milvus-lite server` process for tests: started, stopped and restarted on one port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiteServer:
    """`milvus-lite server` in its own process, stoppable and restartable on the same port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.data_dir), "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.answers():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited with {self.process.returncode}")
            time.sleep(0.2)
        raise RuntimeError("milvus-lite server did not listen within 60 s")

    def answers(self) -> bool:
        """The port accepts and a gRPC call succeeds (after a restart it replays its WAL first)."""
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                return False
        from pymilvus import MilvusClient

        try:
            client = MilvusClient(uri=self.uri, timeout=5)
            client.list_collections()
            client.close()
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
