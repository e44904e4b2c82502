"""A directory index of synthetic documents built in bulk, for scale benchmarks up to 1M chunks.

The real ingest runs at ~146 chunks/s here (bench.store_scale), hours for 1M chunks; almost all
of it is jieba segmenting each chunk for BM25 (~4.9 ms a chunk, measured). The documents here are
drawn from a small pool of sentences (XQuAD en and zh, ~2.4k distinct), so this builder does each
per-sentence step once per distinct sentence (as the chunker splits them) and assembles chunks
from the results:

* documents: 40 pool sentences, one a line, loaded and chunked by the real `load_text` and
  `chunk_document` (~7.5k chunks/s). One a line, not joined by spaces as bench.store_scale's
  pipeline documents are: the splitter does not end an English sentence before a Chinese one,
  so spaces make new distinct sentences without end as the corpus grows (11.5k at 100k
  chunks, each to be embedded), lines keep them at the pool's ~2.6k at any size;
* BM25 tokens of a chunk: its context's tokens, then its sentences' `tokenize` tokens (jieba is
  not run across the line break between two sentences; `token_agreement` measures how often
  that equals tokenizing the chunk whole);
* sentence vectors: the real e5 passage vectors of those sentences (embedded once, kept in
  `cache` for the next size);
* chunk vectors: the normalized sum of its sentence vectors plus a little noise, so chunks
  cluster as real ones do (HNSW's recall on uniform random vectors says nothing, see
  ingest/vector_index.py) and no two chunks share a vector;
* FAISS, bm25s and the version directory: the real `VectorIndex.build` (auto: HNSW above 200k
  with measured recall), bm25s indexing and `ReportIndex.save`.

So the index a server loads is the same kind of index an ingest of these documents writes; only
the BM25 token boundaries between sentences and the chunk vectors are approximations.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES_PER_DOC = 40
CHUNK_NOISE = 0.05  # norm of the noise added to a chunk's summed sentence vectors (cosine ~0.999)


@dataclass(frozen=True)
class BulkReport:
    chunks: int
    documents: int
    sentences: int
    seconds: dict[str, float]


def _sentence_vectors(texts: list[str], embedder: Any, cache: Path) -> np.ndarray:
    """The real passage vectors of `texts`; those embedded before are read from `cache` (a
    directory of texts.json and vectors.npy), the rest embedded and added to it."""
    known: dict[str, np.ndarray] = {}
    if (cache / "texts.json").exists():
        stored = np.load(cache / "vectors.npy", allow_pickle=False)
        known = dict(zip(json.loads((cache / "texts.json").read_text(encoding="utf-8")), stored, strict=True))
    missing = [text for text in texts if text not in known]
    if missing:
        known.update(zip(missing, np.asarray(embedder.embed_passages(missing), dtype=np.float32), strict=True))
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "texts.json").write_text(json.dumps(list(known), ensure_ascii=False), encoding="utf-8")
        np.save(cache / "vectors.npy", np.vstack(list(known.values())), allow_pickle=False)
    return np.vstack([known[text] for text in texts])


@dataclass(frozen=True)
class BulkCorpus:
    """Documents, chunks (rows sorted by document id, then position) and what each store writes."""

    documents: list[Any]
    chunks: list[Any]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray  # one row per sentence of each chunk, in chunk order
    tokens: list[list[str]]  # each chunk's BM25 tokens (see `_tokens`)
    seconds: dict[str, float]


def bulk_corpus(
    chunks: int, sentences: list[str], embedder: Any, settings: Any, cache: Path, seed: int = 0
) -> BulkCorpus:
    """About `chunks` synthetic chunks with their vectors and BM25 tokens (the module docstring).

    settings: rag.config.Settings (chunking, token encoding); cache: where the sentence vectors
    are kept between builds."""
    from ingest.chunking import chunk_document
    from ingest.lexical import tokenize
    from ingest.loading import load_text
    from ingest.tokens import count_tokens, get_encoding

    seconds: dict[str, float] = {}
    pool = sorted(set(sentences))
    started = time.perf_counter()
    encoding = get_encoding(settings.token_encoding, settings.cache_dir)
    rng = random.Random(seed)
    documents, all_chunks = [], []
    number = 0
    while len(all_chunks) < chunks:
        text = "\n".join(rng.choice(pool) for _ in range(SENTENCES_PER_DOC))
        name = f"d{number:07d}.txt"
        document = load_text(name, text, f"/bulk/{name}")
        documents.append(document)
        all_chunks += chunk_document(document, settings.chunking, lambda t: count_tokens(t, encoding))
        number += 1
    # Rows sorted by document id, each document's chunks in order, as DirectoryStore.write does.
    documents.sort(key=lambda doc: doc.id)
    order = {doc.id: i for i, doc in enumerate(documents)}
    all_chunks.sort(key=lambda chunk: (order[chunk.doc_id], chunk.position))
    seconds["chunk"] = time.perf_counter() - started

    # The chunker's sentences are not always the pool's (it splits at more than "。" and ". "),
    # but they are as few: each distinct one is embedded and tokenized once.
    started = time.perf_counter()
    distinct = sorted({s.text for chunk in all_chunks for s in chunk.sentences})
    vectors = _sentence_vectors(distinct, embedder, cache)
    tokens_of = {text: tokenize(text) for text in distinct}
    contexts = {chunk.context: tokenize(chunk.context) for chunk in all_chunks if chunk.context}
    tokens = [_tokens(chunk, tokens_of, contexts) for chunk in all_chunks]
    row_of = {text: row for row, text in enumerate(distinct)}
    sentence_rows = [row_of[s.text] for chunk in all_chunks for s in chunk.sentences]
    seconds["sentences"] = time.perf_counter() - started

    started = time.perf_counter()
    sentence_vectors = vectors[np.asarray(sentence_rows, dtype=np.int64)]
    noise = np.random.default_rng(seed).standard_normal((len(all_chunks), vectors.shape[1])).astype(np.float32)
    chunk_vectors = noise * (CHUNK_NOISE / np.sqrt(vectors.shape[1]))
    row = 0
    for i, chunk in enumerate(all_chunks):
        count = len(chunk.sentences)
        chunk_vectors[i] += sentence_vectors[row : row + count].sum(axis=0) / max(count, 1)
        row += count
    chunk_vectors /= np.linalg.norm(chunk_vectors, axis=1, keepdims=True)
    seconds["vectors"] = time.perf_counter() - started
    return BulkCorpus(documents, all_chunks, chunk_vectors, sentence_vectors, tokens, seconds)


def _report(corpus: BulkCorpus, seconds: dict[str, float]) -> BulkReport:
    return BulkReport(
        len(corpus.chunks),
        len(corpus.documents),
        len(corpus.sentence_vectors),
        {k: round(v, 1) for k, v in {**corpus.seconds, **seconds}.items()},
    )


def build_bulk(
    target: Path,
    chunks: int,
    sentences: list[str],
    embedder: Any,
    settings: Any,
    cache: Path,
    seed: int = 0,
) -> BulkReport:
    """Write an index of about `chunks` synthetic chunks to the index directory `target`.

    settings: rag.config.Settings (chunking, token encoding, index type); cache: where the
    sentence vectors are kept between builds."""
    import bm25s

    from ingest.index import ReportIndex, manifest_for
    from ingest.lexical import LexicalIndex
    from ingest.vector_index import VectorIndex

    corpus = bulk_corpus(chunks, sentences, embedder, settings, cache, seed)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index([tokens or ["<empty>"] for tokens in corpus.tokens], show_progress=False)
    lexical = LexicalIndex(bm25, frozenset(bm25.vocab_dict), len(corpus.chunks))
    seconds["bm25"] = time.perf_counter() - started

    started = time.perf_counter()
    index_kind = VectorIndex.build(corpus.chunk_vectors, settings.index_type)
    seconds["faiss"] = time.perf_counter() - started

    started = time.perf_counter()
    dimension = int(corpus.chunk_vectors.shape[1])
    manifest = manifest_for(
        corpus.documents,
        corpus.chunks,
        str(embedder.model_id),
        dimension,
        settings.chunking.as_dict(),
        index_kind.kind,
    )
    index = ReportIndex(
        manifest,
        {doc.id: doc for doc in corpus.documents},
        corpus.chunks,
        corpus.chunk_vectors,
        corpus.sentence_vectors,
        index_kind,
        lexical,
    )
    index.save(target)
    seconds["save"] = time.perf_counter() - started
    return _report(corpus, seconds)


def build_bulk_milvus(
    uri: str,
    collection: str,
    chunks: int,
    sentences: list[str],
    embedder: Any,
    settings: Any,
    cache: Path,
    seed: int = 0,
) -> BulkReport:
    """Write the same corpus as `build_bulk` into the Milvus `collection` at `uri`, replacing it,
    through `MilvusStore.write` with the BM25 tokens computed once per sentence.

    The rows, batches, index choice and manifest row are the store's; only the tokenizer is the
    bulk one (`tokenize` of a chunk's text is looked up from `_tokens`)."""
    from ingest.store.base import DocumentPart, StoreInfo
    from ingest.store.milvus import MilvusStore

    corpus = bulk_corpus(chunks, sentences, embedder, settings, cache, seed)
    started = time.perf_counter()
    tokens_of = {chunk.embedding_text(): tokens for chunk, tokens in zip(corpus.chunks, corpus.tokens, strict=True)}
    parts, row, sentence_row = [], 0, 0
    by_doc: dict[str, list[Any]] = {}
    for chunk in corpus.chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    for document in corpus.documents:
        own = by_doc.get(document.id, [])
        sentence_count = sum(len(chunk.sentences) for chunk in own)
        parts.append(
            DocumentPart(
                document,
                own,
                corpus.chunk_vectors[row : row + len(own)],
                corpus.sentence_vectors[sentence_row : sentence_row + sentence_count],
            )
        )
        row += len(own)
        sentence_row += sentence_count
    info = StoreInfo(str(embedder.model_id), int(corpus.chunk_vectors.shape[1]), settings.chunking.as_dict())
    store = MilvusStore(uri, collection, index_type=settings.index_type, tokenize=tokens_of.__getitem__)
    store.write(info, parts, replace_all=True)
    return _report(corpus, {"write": time.perf_counter() - started})


def _tokens(chunk: Any, tokens_of: dict[str, list[str]], contexts: dict[str, list[str]]) -> list[str]:
    """A chunk's BM25 tokens from its context's and its sentences' (see the module docstring)."""
    return [*contexts.get(chunk.context, []), *(t for s in chunk.sentences for t in tokens_of[s.text])]


def token_agreement(sentences: list[str], documents: int = 20, seed: int = 0) -> float:
    """Share of chunks whose sentence-by-sentence tokens equal `tokenize` of the whole chunk."""
    from ingest.chunking import chunk_document
    from ingest.lexical import tokenize
    from ingest.loading import load_text
    from ingest.records import ChunkingSettings

    rng = random.Random(seed)
    same = total = 0
    for number in range(documents):
        text = "\n".join(rng.choice(sentences) for _ in range(SENTENCES_PER_DOC))
        document = load_text(f"t{number}.txt", text, f"/bulk/t{number}.txt")
        for chunk in chunk_document(document, ChunkingSettings(), lambda t: len(t) // 2):
            tokens_of = {s.text: tokenize(s.text) for s in chunk.sentences}
            contexts = {chunk.context: tokenize(chunk.context)} if chunk.context else {}
            same += _tokens(chunk, tokens_of, contexts) == tokenize(chunk.embedding_text())
            total += 1
    return same / total if total else 1.0
