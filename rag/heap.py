"""The server's long-lived heap kept out of the garbage collector's way.

A warmed engine holds ~560k objects the cyclic collector tracks (the glossary, jieba's
dictionary, the index's chunks); a full collection walks them all in ~280 ms with the GIL held,
and every request in flight, a quick 503 included, stalls for it (bench.load at 512 clients:
503s 0.5 ms at p50 in the server, 450-840 ms at p99, with p99 about the maximum).
`gc.freeze()` after warm-up moves them to the permanent generation, which collections skip
(a full collection then takes ~0 ms). Objects freed by reference counting are still freed.
"""

from __future__ import annotations

import gc


def freeze_heap() -> None:
    """Collect once, then exempt everything alive from later collections (after warm-up)."""
    gc.collect()
    gc.freeze()


def refreeze_heap() -> None:
    """After a new index version is installed: when the heap was frozen, let the collector see
    the version it replaced (cyclic garbage in the permanent generation is never freed), then
    freeze the new one. Does nothing where nothing was frozen (the CLI, the eval)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        freeze_heap()
