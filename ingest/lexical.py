"""BM25 over Chinese word segmentation (jieba, search mode) and English word tokens.

Search-mode segmentation emits both a long word and its parts ("长三角地区" -> 长三角, 地区,
长三角地区), so a question that words it differently from the report still shares terms.
Scoring is bm25s (a well-kept, numpy-only BM25); it saves to plain .npy/.json files, no pickles.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

# Function words and question words: they match everywhere and would drown the content terms.
STOPWORDS = frozenset(
    """
    的 了 在 是 和 与 及 或 等 也 都 就 而 并 被 把 对 为 以 于 之 其 这 那 有 个 上 下 中
    什么 哪里 哪儿 哪个 哪些 哪位 哪 谁 吗 呢 吧 啊 怎么 怎样 如何 为什么 多少 几 何时 是否 请问
    the a an of to in on at for by with from and or is are was were be been being do does did
    what which who whom whose where when why how that this these those it its as into about
    """.split()
)

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _jieba():
    import jieba

    jieba.setLogLevel(60)  # jieba prints its dictionary-loading chatter on stderr otherwise
    return jieba


def tokenize(text: str) -> list[str]:
    """Lexical tokens of `text`: jieba search-mode words for CJK runs, lowercase words otherwise."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for piece in _jieba().lcut_for_search(text):
        piece = piece.strip()
        if not piece or piece in STOPWORDS:
            continue
        if _CJK.search(piece):
            tokens.append(piece)
        else:
            tokens.extend(word for word in _WORD.findall(piece) if word not in STOPWORDS)
    return tokens


class LexicalIndex:
    """BM25 over a fixed list of documents (chunks), addressed by row number."""

    def __init__(self, bm25: object, vocabulary: frozenset[str], size: int) -> None:
        self._bm25 = bm25
        self._vocabulary = vocabulary
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25()
        corpus_tokens = [tokenize(text) or ["<empty>"] for text in texts]
        bm25.index(corpus_tokens, show_progress=False)
        return cls(bm25, frozenset(bm25.vocab_dict), len(texts))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens (unknown tokens ignored)."""
        known = [token for token in query_tokens if token in self._vocabulary]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25.load(str(directory), load_corpus=False)
        return cls(bm25, frozenset(bm25.vocab_dict), size)
