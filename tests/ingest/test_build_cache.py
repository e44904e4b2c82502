"""ingest.build_cache: a directory is built beside its target and swapped in whole, or not at all."""

import threading
import time
from pathlib import Path

import pytest

from ingest.build_cache import build_into, build_lock, file_lock


def _write(text: str):  # type: ignore[no-untyped-def]
    def build(tmp: Path) -> str:
        (tmp / "file.txt").write_text(text, encoding="utf-8")
        return text

    return build


def test_a_build_replaces_the_target_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "model"
    (tmp_path / ".model.tmp-crashed").mkdir()  # a crashed build's leftover

    with build_lock(target):
        assert build_into(target, _write("one")) == "one"
        assert build_into(target, _write("two")) == "two"

    assert (target / "file.txt").read_text(encoding="utf-8") == "two"
    assert sorted(path.name for path in tmp_path.iterdir()) == [".model.lock", "model"]


def test_a_failed_build_leaves_the_old_target(tmp_path: Path) -> None:
    target = tmp_path / "model"
    build_into(target, _write("good"))

    def broken(tmp: Path) -> None:
        (tmp / "half.txt").write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        build_into(target, broken)

    assert (target / "file.txt").read_text(encoding="utf-8") == "good"
    assert [path.name for path in tmp_path.iterdir()] == ["model"]


def test_the_lock_lets_one_holder_in_at_a_time(tmp_path: Path) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    def hold() -> None:
        with file_lock(tmp_path / "sub" / ".lock"):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert overlaps == []
