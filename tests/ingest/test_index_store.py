"""ingest.index on disk: save/load round trip, versions and CURRENT, crash safety, clear errors.

The deterministic HashingEmbedder stands in for the model: these tests are about files, not
about meaning. The crash test kills a real ingest process with SIGKILL while it writes.
"""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import chunk_document
from ingest.embedder import HashingEmbedder
from ingest.errors import IndexCorrupt, IndexNotFound, ModelMismatch
from ingest.index import CURRENT_FILE, VERSIONS_DIR, ReportIndex
from ingest.loading import load_text
from ingest.pipeline import update_index
from ingest.records import ChunkingSettings, Document

CHUNKING = ChunkingSettings(max_tokens=40, overlap_sentences=1)
REPORT_A = "长三角座谈会\n\n会议在上海举行。会议确定2027年度座谈会在安徽省召开。\n\nThe meeting was held in Shanghai."
REPORT_B = "高层论坛\n\n举办了第八届长三角一体化发展高层论坛。论坛发布了多项成果。"


def doc(name: str, text: str) -> Document:
    return load_text(name, text, f"/reports/{name}")


def build_in_memory(documents: list[Document], embedder: HashingEmbedder) -> ReportIndex:
    """What the pipeline builds, assembled by hand: chunks, then chunk and sentence vectors."""
    chunks = [chunk for d in documents for chunk in chunk_document(d, CHUNKING, len)]
    chunk_vectors = embedder.embed_passages([chunk.embedding_text() for chunk in chunks])
    sentence_vectors = embedder.embed_passages([s.text for chunk in chunks for s in chunk.sentences])
    return ReportIndex.build(
        documents,
        chunks,
        chunk_vectors,
        sentence_vectors,
        embed_model=embedder.model_id,
        chunking=CHUNKING.as_dict(),
        index_type="flat",
    )


def ingest(index_dir: Path, *documents: Document, embedder: HashingEmbedder | None = None) -> None:
    update_index(index_dir, embedder or HashingEmbedder(64), CHUNKING, len, add=list(documents))


def current(index_dir: Path) -> str:
    return (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()


def versions(index_dir: Path) -> set[str]:
    return {path.name for path in (index_dir / VERSIONS_DIR).iterdir()}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small saved index; tests that damage it copy it into their own tmp_path first."""
    index_dir = tmp_path_factory.mktemp("pristine") / "index"
    ingest(index_dir, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B))
    return index_dir


@pytest.fixture
def index_copy(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "index"))


def test_save_then_load_gives_back_the_same_index(tmp_path: Path) -> None:
    documents = [doc("a.txt", REPORT_A), doc("b.txt", REPORT_B)]
    built = build_in_memory(documents, HashingEmbedder(64))
    built.save(tmp_path)

    loaded = ReportIndex.load(tmp_path, expected_model="hashing-64")

    assert loaded.chunks == built.chunks
    assert loaded.documents == built.documents
    assert loaded.manifest == built.manifest
    np.testing.assert_array_equal(loaded.chunk_vectors, built.chunk_vectors)
    np.testing.assert_array_equal(loaded.sentence_vectors, built.sentence_vectors)
    assert loaded.sentence_rows == built.sentence_rows
    query = HashingEmbedder(64).embed_queries(["安徽省召开"])
    assert [a.tolist() for a in loaded.vectors.search(query, 3)] == [
        a.tolist() for a in built.vectors.search(query, 3)
    ]
    tokens = ["安徽", "论坛", "shanghai"]
    np.testing.assert_array_equal(loaded.lexical.scores(tokens), built.lexical.scores(tokens))
    assert loaded.manifest.documents[documents[0].id]["chunks"] == sum(
        chunk.doc_id == documents[0].id for chunk in built.chunks
    )


def test_current_names_the_live_version_and_one_previous_version_is_kept(tmp_path: Path) -> None:
    names = []
    for n in range(3):
        ingest(tmp_path, doc("a.txt", REPORT_A + f"\n\n第{n}次修订。"))
        names.append(current(tmp_path))

    assert len(set(names)) == 3
    assert current(tmp_path) == names[2]
    assert versions(tmp_path) == {names[1], names[2]}  # the oldest is removed, the previous kept
    loaded = ReportIndex.load(tmp_path)
    assert "第2次修订。" in "".join(chunk.text for chunk in loaded.chunks)
    assert (tmp_path / VERSIONS_DIR / names[1] / "manifest.json").is_file()


# Runs in a subprocess so that it can be SIGKILLed: a real ingest, as `rag ingest` runs it.
CRASHING_INGEST = """
import sys
from pathlib import Path
from ingest.embedder import HashingEmbedder
from ingest.pipeline import ingest_paths
from ingest.records import ChunkingSettings
ingest_paths([Path(sys.argv[1])], Path(sys.argv[2]), HashingEmbedder(int(sys.argv[3])),
             ChunkingSettings(max_tokens=40, overlap_sentences=1), len)
"""
# Wide vectors make the save take a few tenths of a second (the files are ~80 MB), a window
# the poller below cannot miss; the embedding before it stays cheap.
CRASH_DIMENSION = 8192


def write_big_corpus(directory: Path) -> None:
    directory.mkdir()
    for i in range(20):
        paragraphs = (f"第{i}号文件第{j}段。Sentence {j} of document {i}." for j in range(20))
        (directory / f"doc{i:02d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def test_a_kill_in_the_middle_of_saving_leaves_the_previous_index_loadable(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    embedder = HashingEmbedder(CRASH_DIMENSION)
    ingest(index_dir, doc("a.txt", REPORT_A), embedder=embedder)
    before = ReportIndex.load(index_dir, expected_model=embedder.model_id)
    live = current(index_dir)
    corpus = tmp_path / "big"
    write_big_corpus(corpus)

    process = subprocess.Popen(
        [sys.executable, "-c", CRASHING_INGEST, str(corpus), str(index_dir), str(CRASH_DIMENSION)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while not list((index_dir / VERSIONS_DIR).glob(".v*.tmp")):
            if process.poll() is not None:
                pytest.fail(
                    f"the ingest ended (rc {process.returncode}) before it was caught mid-save: "
                    f"{process.stderr.read().decode()[-2000:] if process.stderr else ''}"
                )
            if time.monotonic() > deadline:
                pytest.fail("the ingest never started writing a new version")
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    # It died mid-save: its unfinished version is still there, and was never made live.
    assert list((index_dir / VERSIONS_DIR).glob(".v*.tmp"))
    assert current(index_dir) == live
    after = ReportIndex.load(index_dir, expected_model=embedder.model_id)
    assert after.chunks == before.chunks
    assert after.documents.keys() == before.documents.keys()
    np.testing.assert_array_equal(after.chunk_vectors, before.chunk_vectors)
    np.testing.assert_array_equal(after.sentence_vectors, before.sentence_vectors)

    # The killed writer's lock died with it; the next ingest works and clears the leftovers.
    ingest(index_dir, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B), embedder=embedder)
    assert not list((index_dir / VERSIONS_DIR).glob(".v*.tmp"))
    assert len(ReportIndex.load(index_dir).documents) == 2


def garble_manifest(index_dir: Path) -> None:
    (index_dir / VERSIONS_DIR / current(index_dir) / "manifest.json").write_text(
        "{not json", encoding="utf-8"
    )


def manifest_of_wrong_shape(index_dir: Path) -> None:
    (index_dir / VERSIONS_DIR / current(index_dir) / "manifest.json").write_text(
        json.dumps({"format_version": 1}), encoding="utf-8"
    )


def delete(name: str):
    def damage(index_dir: Path) -> None:
        (index_dir / VERSIONS_DIR / current(index_dir) / name).unlink()

    return damage


def truncate_chunks(index_dir: Path) -> None:
    path = index_dir / VERSIONS_DIR / current(index_dir) / "chunks.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def point_current_at(name: str):
    def damage(index_dir: Path) -> None:
        (index_dir / CURRENT_FILE).write_text(name, encoding="utf-8")

    return damage


@pytest.mark.parametrize(
    "damage",
    [
        delete("manifest.json"),
        garble_manifest,
        manifest_of_wrong_shape,
        delete("chunk_vectors.npy"),
        delete("sentence_vectors.npy"),
        delete("vectors.faiss"),
        delete("chunks.jsonl"),
        truncate_chunks,
        point_current_at("v123-gone"),
        point_current_at(""),
    ],
    ids=[
        "manifest-deleted",
        "manifest-garbled",
        "manifest-wrong-shape",
        "chunk-vectors-missing",
        "sentence-vectors-missing",
        "faiss-missing",
        "chunks-missing",
        "chunks-truncated",
        "current-names-missing-version",
        "current-empty",
    ],
)
def test_a_damaged_index_is_index_corrupt_saying_to_rebuild(index_copy: Path, damage) -> None:
    damage(index_copy)
    with pytest.raises(IndexCorrupt) as error:
        ReportIndex.load(index_copy)
    assert "`rag ingest --rebuild" in str(error.value)
    assert str(index_copy) in str(error.value)


@pytest.mark.parametrize("make_dir", [False, True], ids=["no-directory", "empty-directory"])
def test_a_missing_index_is_index_not_found_saying_to_ingest(tmp_path: Path, make_dir: bool) -> None:
    index_dir = tmp_path / "index"
    if make_dir:
        index_dir.mkdir()
    with pytest.raises(IndexNotFound) as error:
        ReportIndex.load(index_dir)
    assert "`rag ingest" in str(error.value)
    assert str(index_dir) in str(error.value)


def test_loading_with_another_model_is_model_mismatch_naming_both(index_copy: Path) -> None:
    with pytest.raises(ModelMismatch) as error:
        ReportIndex.load(index_copy, expected_model="multilingual-e5-small")
    message = str(error.value)
    assert "hashing-64" in message
    assert "multilingual-e5-small" in message
    assert "rag ingest --rebuild" in message


def test_ingesting_with_another_model_is_model_mismatch_and_changes_nothing(index_copy: Path) -> None:
    live = current(index_copy)
    with pytest.raises(ModelMismatch) as error:
        ingest(index_copy, doc("c.txt", "新文件。"), embedder=HashingEmbedder(32))
    assert "hashing-64" in str(error.value) and "hashing-32" in str(error.value)
    assert current(index_copy) == live


@pytest.mark.parametrize(("requested", "recorded"), [("auto", "flat"), ("hnsw", "hnsw")])
def test_the_manifest_records_the_vector_index_kind_that_was_built(
    tmp_path: Path, requested: str, recorded: str
) -> None:
    index_dir = tmp_path / "index"
    update_index(index_dir, HashingEmbedder(64), CHUNKING, len, add=[doc("a.txt", REPORT_A)], index_type=requested)

    loaded = ReportIndex.load(index_dir)

    assert loaded.manifest.index_type == recorded
    assert json.loads((index_dir / VERSIONS_DIR / current(index_dir) / "manifest.json").read_text())["index_type"] == recorded


def test_a_bad_index_type_fails_before_anything_is_written(tmp_path: Path) -> None:
    from ingest.errors import BadInput

    with pytest.raises(BadInput, match="RAG_INDEX_TYPE"):
        update_index(tmp_path / "index", HashingEmbedder(64), CHUNKING, len, add=[doc("a.txt", REPORT_A)], index_type="ivf")
    assert not (tmp_path / "index").exists()
