"""SQuAD-format loading on a tiny parallel zh/en benchmark written to tmp_path."""

import json

import pytest

from eval.squad import load_squad
from ingest.errors import BadInput


def _qa(qid: str, question: str, answer: str | None) -> dict:
    answers = [] if answer is None else [{"answer_start": 0, "text": answer}]
    return {"id": qid, "question": question, "answers": answers}


def _squad(*articles: tuple[str, list[tuple[str, list[dict]]]]) -> dict:
    """A SQuAD v1.1 document from (title, [(context, [qa, ...]), ...]) pairs."""
    return {
        "version": "1.1",
        "data": [
            {"title": title, "paragraphs": [{"context": context, "qas": qas} for context, qas in paragraphs]}
            for title, paragraphs in articles
        ],
    }


ZH = _squad(
    (
        "Delta",
        [
            ("座谈会在上海举行。", [_qa("q1", "座谈会在哪里举行？", "上海")]),
            ("2027年度座谈会在安徽省召开。", [_qa("q2", "2027年度座谈会在哪里召开？", "安徽省")]),
        ],
    ),
    ("Forum", [("举办了第八届高层论坛。", [_qa("q3", "论坛是第几届？", "第八届")])]),
)

# Parallel English file: same ids, English wording and answers; q9 exists only here.
EN = _squad(
    ("Delta", [("The symposium was held in Shanghai.", [_qa("q1", "Where was it held?", "Shanghai")])]),
    (
        "Forum",
        [
            (
                "The eighth forum was held.",
                [_qa("q3", "Which edition was the forum?", "eighth"), _qa("q9", "Not in the corpus?", None)],
            )
        ],
    ),
)


def _write(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_corpus_passages_and_own_questions(tmp_path):
    bench = load_squad(_write(tmp_path / "zh.json", ZH))
    assert [(p.id, p.title, p.text) for p in bench.passages] == [
        ("Delta-0", "Delta", "座谈会在上海举行。"),
        ("Delta-1", "Delta", "2027年度座谈会在安徽省召开。"),
        ("Forum-0", "Forum", "举办了第八届高层论坛。"),
    ]
    assert [(q.id, q.language, q.gold_passage_id, q.answers) for q in bench.questions] == [
        ("q1", "zh", "Delta-0", ("上海",)),
        ("q2", "zh", "Delta-1", ("安徽省",)),
        ("q3", "zh", "Forum-0", ("第八届",)),
    ]
    assert all(q.answerable for q in bench.questions)


def test_parallel_questions_keep_corpus_gold(tmp_path):
    bench = load_squad(_write(tmp_path / "zh.json", ZH), _write(tmp_path / "en.json", EN))
    # The passages stay Chinese; English wording, Chinese gold passage and answers; q9 is not
    # in the corpus and is skipped.
    assert [p.id for p in bench.passages] == ["Delta-0", "Delta-1", "Forum-0"]
    assert [(q.id, q.question, q.language, q.gold_passage_id, q.answers) for q in bench.questions] == [
        ("q1", "Where was it held?", "en", "Delta-0", ("上海",)),
        ("q3", "Which edition was the forum?", "en", "Forum-0", ("第八届",)),
    ]


def test_missing_file(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        load_squad(tmp_path / "missing.json")


@pytest.mark.parametrize("content", ['{"rows": []}', "[1, 2]", '{"data": [{"title": "T"}]}', "not json"])
def test_non_squad_json(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInput, match="SQuAD"):
        load_squad(path)


def test_questions_file_without_common_ids(tmp_path):
    other = _squad(("X", [("c", [_qa("z", "?", None)])]))
    with pytest.raises(BadInput, match="shares no question id"):
        load_squad(_write(tmp_path / "zh.json", ZH), _write(tmp_path / "other.json", other))


def test_duplicate_titles_are_rejected(tmp_path):
    twice = {"data": [ZH["data"][0], ZH["data"][0]]}
    with pytest.raises(BadInput, match="occurs twice"):
        load_squad(_write(tmp_path / "twice.json", twice))
