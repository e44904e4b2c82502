"""BM25 over Chinese word segmentation (jieba, search mode) and English word tokens.

Search-mode segmentation emits both a long word and its parts ("长三角地区" -> 长三角, 地区,
长三角地区), so a question that words it differently from the report still shares terms.
Scoring is bm25s (a well-kept, numpy-only BM25); it saves to plain .npy/.json files, no pickles.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from ingest.text import CJK_CHAR, SEARCH_STOPWORDS, jieba

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lexical tokens of `text`: jieba search-mode words for CJK runs, lowercase words otherwise."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for piece in jieba().lcut_for_search(text):
        piece = piece.strip()
        if not piece or piece in SEARCH_STOPWORDS:
            continue
        if CJK_CHAR.search(piece):
            tokens.append(piece)
        else:
            tokens.extend(word for word in _WORD.findall(piece) if word not in SEARCH_STOPWORDS)
    return tokens


class LexicalIndex:
    """BM25 over a fixed list of documents (chunks), addressed by row number."""

    def __init__(self, bm25: Any, vocabulary: frozenset[str], size: int) -> None:
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
