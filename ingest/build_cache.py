"""Build a cached directory once, however many processes ask for it at the same time: take a
lock beside it, build into a sibling temporary directory, swap it in with one rename.

Used for the embedding model and its ONNX export; `file_lock` also serialises index writers. A
process that dies drops its lock (the OS releases it) and leaves only a `.NAME.tmp-*` directory,
which the next build removes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on the file `path` (created with its folder when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def build_lock(target: Path) -> Iterator[None]:
    """The lock that guards building the directory `target` (a hidden file beside it)."""
    with file_lock(target.parent / f".{target.name}.lock"):
        yield


def build_into(target: Path, build: Callable[[Path], T]) -> T:
    """Run `build(tmp)` on a fresh sibling directory of `target`, then swap it in as `target`;
    return what `build` returned. Call with `build_lock(target)` held. On any failure the
    temporary directory is removed and `target` is left as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):  # crashed builds; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        result = build(tmp)
        swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


def swap_in(tmp: Path, target: Path) -> None:
    """Replace the directory `target` (if any) by `tmp`, a sibling, with one rename."""
    if target.exists():  # an invalid old build: move it aside so the swap stays one rename
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-old-", dir=target.parent))
        os.replace(target, old / "dir")
        shutil.rmtree(old, ignore_errors=True)
    os.replace(tmp, target)
