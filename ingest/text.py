"""Text facts shared by indexing, retrieval and answering: what counts as a CJK character, the
stopwords, and jieba, loaded one way.

CJK is the Unified Ideographs block with Extension A, the Compatibility Ideographs and the
Supplementary Ideographic Plane (Extensions B-F), without the Yijing hexagram symbols between
Extension A and the main block: letters, not symbols.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from types import ModuleType

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"  # for use inside [...]
CJK_CHAR = re.compile(f"[{CJK}]")
CJK_RUN = re.compile(f"[{CJK}]+")

# Function words and question words, Chinese and English: in BM25 they match everywhere and would
# drown the content terms.
SEARCH_STOPWORDS = frozenset(
    """
    的 了 在 是 和 与 及 或 等 也 都 就 而 并 被 把 对 为 以 于 之 其 这 那 有 个 上 下 中
    什么 哪里 哪儿 哪个 哪些 哪位 哪 谁 吗 呢 吧 啊 怎么 怎样 如何 为什么 多少 几 何时 是否 请问
    the a an of to in on at for by with from and or is are was were be been being do does did
    what which who whom whose where when why how that this these those it its as into about
    """.split()
)

# English function, question and filler words: not looked up in the glossary, not taken for a
# name when capitalized, not a keyword of the question.
ENGLISH_STOPWORDS = frozenset(
    """
    a an the of to in on at for by with from and or but nor as into onto about over under than then
    is are was were be been being am do does did done doing has have had having can could will would
    shall should may might must what which who whom whose where when why how that this these those
    it its it's he she they them their his her him we us our you your i me my mine there here
    not no yes any some all each every other another such same own so too very just only also
    if because while during before after above below up down out off again further once both either
    neither more most many much few less least one ones s t don't doesn't didn't isn't aren't wasn't
    weren't name named called known kind type sort
    """.split()
)


@cache
def jieba() -> ModuleType:
    """jieba, quiet and with its dictionary loaded (once per process, ~1 s)."""
    import jieba as module

    module.setLogLevel(60)  # jieba prints its dictionary-loading chatter on stderr otherwise
    module.initialize()
    return module


@cache
def jieba_posseg() -> ModuleType:
    """jieba's part-of-speech tagger (`cut` yields words with their tags)."""
    jieba()
    return importlib.import_module("jieba.posseg")
