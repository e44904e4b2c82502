"""ingest.pipeline: incremental ingest over real files, with a deterministic embedder.

`RecordingEmbedder` is the HashingEmbedder that also remembers what it was asked to embed, so
a test can see which documents were re-embedded and which reused their vectors.
"""

from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import chunk_document
from ingest.embedder import HashingEmbedder
from ingest.errors import BadInput, DocumentNotFound
from ingest.index import CURRENT_FILE, VERSIONS_DIR, ReportIndex
from ingest.loading import load_document
from ingest.pipeline import IngestReport, ingest_paths, update_index
from ingest.records import ChunkingSettings

CHUNKING = ChunkingSettings(max_tokens=40, overlap_sentences=1)
TEXT_A = "座谈会\n\n会议在上海举行。会议确定2027年度座谈会在安徽省召开。\n\n与会各方通报了主要成果。"
TEXT_A_NEW = "座谈会\n\n会议在南京举行。会议确定2028年度座谈会在浙江省召开。"
TEXT_B = "高层论坛\n\n举办了第八届长三角一体化发展高层论坛。论坛发布了多项成果。"


class RecordingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.passages: list[str] = []

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.passages.extend(texts)
        return super().embed_passages(texts, progress)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT_A, encoding="utf-8")
    (folder / "b.txt").write_text(TEXT_B, encoding="utf-8")
    return folder


@pytest.fixture
def index_dir(tmp_path: Path, corpus: Path) -> Path:
    """An index of `corpus`, already built once."""
    index_dir = tmp_path / "index"
    report = run(corpus, index_dir)
    assert report.added and report.changed
    return index_dir


def run(
    corpus: Path,
    index_dir: Path,
    embedder: HashingEmbedder | None = None,
    chunking: ChunkingSettings = CHUNKING,
    **options: bool,
) -> IngestReport:
    return ingest_paths([corpus], index_dir, embedder or RecordingEmbedder(), chunking, len, **options)


def doc_id(path: Path) -> str:
    return load_document(path).id


def snapshot(index_dir: Path) -> tuple[str, set[str], float]:
    current = index_dir / CURRENT_FILE
    return (
        current.read_text(),
        {p.name for p in (index_dir / VERSIONS_DIR).iterdir()},
        current.stat().st_mtime,
    )


def chunk_count(path: Path, chunking: ChunkingSettings = CHUNKING) -> int:
    return len(chunk_document(load_document(path), chunking, len))


def test_reingesting_unchanged_documents_writes_nothing(corpus: Path, index_dir: Path) -> None:
    before = snapshot(index_dir)
    embedder = RecordingEmbedder()

    report = run(corpus, index_dir, embedder)

    assert not report.changed
    assert report.embedded_chunks == 0
    assert embedder.passages == []
    assert sorted(report.unchanged) == sorted([doc_id(corpus / "a.txt"), doc_id(corpus / "b.txt")])
    assert report.added == report.updated == report.removed == []
    assert report.documents == 2
    assert report.chunks == chunk_count(corpus / "a.txt") + chunk_count(corpus / "b.txt")
    assert snapshot(index_dir) == before


def test_a_changed_document_replaces_its_chunks_and_the_others_are_reused(
    corpus: Path, index_dir: Path
) -> None:
    old = ReportIndex.load(index_dir)
    b = doc_id(corpus / "b.txt")
    old_b_rows = [row for row, chunk in enumerate(old.chunks) if chunk.doc_id == b]
    (corpus / "a.txt").write_text(TEXT_A_NEW, encoding="utf-8")
    embedder = RecordingEmbedder()

    report = run(corpus, index_dir, embedder)

    a = doc_id(corpus / "a.txt")
    assert report.updated == [a] and report.unchanged == [b] and report.changed
    assert report.embedded_chunks == chunk_count(corpus / "a.txt")
    assert not any("高层论坛" in text or "第八届" in text for text in embedder.passages)  # b not re-embedded
    new = ReportIndex.load(index_dir)
    a_text = "".join(chunk.text for chunk in new.chunks if chunk.doc_id == a)
    assert "南京" in a_text and "2028年度" in a_text
    for stale in ("上海", "2027", "安徽", "与会各方"):
        assert not any(stale in chunk.text for chunk in new.chunks), stale
    assert new.documents[a].text == TEXT_A_NEW
    new_b_rows = [row for row, chunk in enumerate(new.chunks) if chunk.doc_id == b]
    assert [new.chunks[row] for row in new_b_rows] == [old.chunks[row] for row in old_b_rows]
    np.testing.assert_array_equal(new.chunk_vectors[new_b_rows], old.chunk_vectors[old_b_rows])
    assert len(new.chunks) == new.manifest.chunk_count == report.chunks


def test_documents_not_named_are_kept_unless_pruned(corpus: Path, index_dir: Path, tmp_path: Path) -> None:
    b = doc_id(corpus / "b.txt")
    (corpus / "b.txt").unlink()

    kept = run(corpus, index_dir)
    assert kept.removed == [] and not kept.changed
    assert b in ReportIndex.load(index_dir).documents

    pruned = run(corpus, index_dir, prune=True)
    assert pruned.removed == [b] and pruned.changed
    assert pruned.embedded_chunks == 0
    index = ReportIndex.load(index_dir)
    assert list(index.documents) == [doc_id(corpus / "a.txt")]
    assert all(chunk.doc_id != b for chunk in index.chunks)
    assert not any("高层论坛" in chunk.text for chunk in index.chunks)


def test_removing_by_id(corpus: Path, index_dir: Path) -> None:
    b = doc_id(corpus / "b.txt")
    report = update_index(index_dir, RecordingEmbedder(), CHUNKING, len, remove_ids=[b])
    assert report.removed == [b] and report.documents == 1
    assert b not in ReportIndex.load(index_dir).documents


def test_removing_an_unknown_id_is_document_not_found_and_changes_nothing(index_dir: Path) -> None:
    before = snapshot(index_dir)
    with pytest.raises(DocumentNotFound) as error:
        update_index(index_dir, RecordingEmbedder(), CHUNKING, len, remove_ids=["no-such-doc"])
    assert "no-such-doc" in str(error.value)
    assert "rag documents" in str(error.value)
    assert snapshot(index_dir) == before


def test_removing_the_last_document_is_bad_input(corpus: Path, index_dir: Path) -> None:
    ids = [doc_id(corpus / "a.txt"), doc_id(corpus / "b.txt")]
    with pytest.raises(BadInput, match="empty"):
        update_index(index_dir, RecordingEmbedder(), CHUNKING, len, remove_ids=ids)
    assert len(ReportIndex.load(index_dir).documents) == 2


def test_new_chunking_settings_rechunk_every_document(corpus: Path, index_dir: Path) -> None:
    wider = ChunkingSettings(max_tokens=200, overlap_sentences=0)
    embedder = RecordingEmbedder()

    report = run(corpus, index_dir, embedder, chunking=wider)

    assert sorted(report.updated) == sorted([doc_id(corpus / "a.txt"), doc_id(corpus / "b.txt")])
    expected = chunk_count(corpus / "a.txt", wider) + chunk_count(corpus / "b.txt", wider)
    assert report.embedded_chunks == report.chunks == expected
    assert expected < chunk_count(corpus / "a.txt") + chunk_count(corpus / "b.txt")
    index = ReportIndex.load(index_dir)
    assert index.manifest.chunking == wider.as_dict()
    assert len(index.chunks) == expected


def test_rebuild_reembeds_everything_into_a_new_version(corpus: Path, index_dir: Path) -> None:
    before = snapshot(index_dir)
    embedder = RecordingEmbedder()

    report = run(corpus, index_dir, embedder, rebuild=True)

    assert report.embedded_chunks == report.chunks > 0
    assert sorted(report.added) == sorted([doc_id(corpus / "a.txt"), doc_id(corpus / "b.txt")])
    assert snapshot(index_dir)[0] != before[0]
    assert len(ReportIndex.load(index_dir).chunks) == report.chunks


def test_rebuild_is_the_fix_for_a_corrupt_or_mismatched_index(corpus: Path, index_dir: Path) -> None:
    """The errors say "run `rag ingest --rebuild`": that must work on the index they are about."""
    live = index_dir / VERSIONS_DIR / (index_dir / CURRENT_FILE).read_text().strip()
    (live / "manifest.json").write_text("{garbled", encoding="utf-8")
    assert run(corpus, index_dir, rebuild=True).documents == 2

    other_model = HashingEmbedder(32)
    report = run(corpus, index_dir, other_model, rebuild=True)
    assert report.documents == 2
    assert ReportIndex.load(index_dir, expected_model="hashing-32").manifest.dimension == 32
