"""A what-question's subject must be named in the answer's document (rag.answering.answerer,
`_verify`; constraints.document_bound): the sentence need not repeat it, but a sentence from a
document that never names it is about something else. Five short real documents: two give a
university's motto, a third names a university whose motto no document gives; one gives
Hangzhou's most famous sight, another says of Nanjing only where it lies."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import engine_over

from ingest.embedder import Embedder
from rag.engine import Engine

TSINGHUA = "清华大学校训\n\n清华大学的校训是“自强不息，厚德载物”。这八个字出自《周易》。"
PEKING = "北大校训\n\n北大的校训是“爱国、进步、民主、科学”。"
FUDAN = "复旦大学简介\n\n复旦大学位于上海市杨浦区，创建于1905年，与北京大学、清华大学同为国内知名高校。"
WEST_LAKE = "杭州西湖\n\n西湖是杭州最著名的景点，湖边有苏堤和白堤。"
NANJING = "南京简介\n\n南京位于长江下游，是六朝古都。"
MOTTOS = ("自强不息", "厚德载物", "爱国、进步")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, cache_root: Path, embedder: Embedder) -> Engine:
    documents = {"tsinghua": TSINGHUA, "peking": PEKING, "fudan": FUDAN, "west_lake": WEST_LAKE, "nanjing": NANJING}
    return engine_over(tmp_path_factory.mktemp("document_names"), documents, cache_root, embedder)


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("复旦大学的校训是什么？", "复旦"),  # Tsinghua's motto is not Fudan's
        ("南京最著名的景点是什么？", "南京"),  # West Lake is Hangzhou's
        # English: a pinyin name binds (Nanjing); "Fudan University" would be loose (not pinyin)
        ("What is the most famous sight in Nanjing?", "南京"),
    ],
)
def test_another_documents_sentence_does_not_answer_for_the_subject_asked(
    engine: Engine, question: str, subject: str
) -> None:
    evidence = engine.evidence(question)
    # only the document that names the subject is left to answer from
    assert [item.sentence.text for item in evidence.ranked if subject not in item.chunk.text] == []
    answer = engine.answer(question)
    assert not any(other in answer.answer for other in (*MOTTOS, "西湖")), answer.answer
    assert all(subject in citation.text for citation in answer.citations), answer.citations


def test_a_document_naming_the_subject_by_its_short_form_stays_a_candidate(engine: Engine) -> None:
    # Peking's document writes 北大 only; Fudan's names 北京大学 in passing and ranks first on
    # its words, which is sentence selection's call, not verification's
    evidence = engine.evidence("北京大学的校训是什么？")
    assert any("爱国、进步、民主、科学" in item.sentence.text for item in evidence.ranked), evidence.ranked


def test_the_motto_of_a_university_the_corpus_gives_is_answered(engine: Engine) -> None:
    answer = engine.answer("清华大学的校训是什么？")
    assert answer.found and "自强不息" in answer.answer, answer.answer
