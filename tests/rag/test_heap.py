"""The server's heap freezing (rag.heap): what it exempts, and what a new index version frees."""

from __future__ import annotations

import gc
import weakref

from rag.heap import freeze_heap, refreeze_heap


class Version:
    """Stands for an installed index version: it refers to itself, as cyclic structures do."""

    def __init__(self) -> None:
        self.me = self


def test_a_frozen_heap_is_skipped_until_a_new_version_is_installed() -> None:
    old = Version()
    replaced = weakref.ref(old)
    freeze_heap()
    try:
        del old
        gc.collect()
        assert replaced() is not None  # cyclic garbage in the permanent generation stays
        refreeze_heap()
        assert replaced() is None  # the version a reload replaced is freed
        assert gc.get_freeze_count() > 0  # and what is alive is frozen again
    finally:
        gc.unfreeze()


def test_refreezing_does_nothing_where_nothing_was_frozen() -> None:
    garbage = Version()
    collected = weakref.ref(garbage)
    del garbage
    gc.disable()  # no collection of its own may run meanwhile
    try:
        refreeze_heap()
        assert gc.get_freeze_count() == 0
        assert collected() is not None  # no collection ran: the CLI pays nothing
    finally:
        gc.enable()
        gc.collect()
