"""Near-miss question generation on a tiny parallel zh/en benchmark written to tmp_path."""

import json

from eval.dataset import load_items as load_labelled
from eval.near_miss import (
    KINDS,
    Constraint,
    absent,
    en_constraints,
    generate,
    load_items,
    main,
    split_of,
    zh_constraints,
)


def _qa(qid: str, question: str, answer: str) -> dict:
    return {"id": qid, "question": question, "answers": [{"answer_start": 0, "text": answer}]}


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
        "Tesla",
        [
            (
                "特斯拉于1884年来到纽约，为爱迪生工作。",
                [
                    _qa("t1", "特斯拉为谁工作？", "爱迪生"),
                    _qa("t2", "特斯拉在1884年来到了哪个城市？", "纽约"),
                ],
            )
        ],
    ),
    (
        "Luther",
        [
            (
                "路德于1517年发表了论纲。",
                [
                    _qa("l1", "路德在哪一年发表了论纲？", "1517年"),
                    _qa("l2", "1517年路德发表了什么？", "论纲"),
                ],
            )
        ],
    ),
)

EN = _squad(
    (
        "Tesla",
        [
            (
                "Tesla came to New York in 1884 and worked for Edison.",
                [
                    _qa("t1", "Who did Tesla work for?", "Edison"),
                    _qa("t2", "Which city did Tesla come to in 1884?", "New York"),
                ],
            )
        ],
    ),
    (
        "Luther",
        [
            (
                "Luther published the theses in 1517.",
                [
                    _qa("l1", "In what year did Luther publish the theses?", "1517"),
                    _qa("l2", "What did Luther publish in 1517?", "the theses"),
                ],
            )
        ],
    ),
)


def _items(tmp_path, zh=ZH, en=EN):
    (tmp_path / "zh.json").write_text(json.dumps(zh, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "en.json").write_text(json.dumps(en), encoding="utf-8")
    return load_items(tmp_path / "zh.json", tmp_path / "en.json")


def test_constraints_of_a_chinese_and_an_english_question():
    assert zh_constraints("卡万·肖特在2015年第50届超级碗上得了几分？") == [
        Constraint(0, 5, "person", "卡万·肖特"),
        Constraint(6, 10, "year", "2015"),
        Constraint(11, 14, "ordinal", "第50"),
    ]
    assert en_constraints("How many points did Kawann Short score at the 50th Super Bowl in 2015?") == [
        Constraint(20, 32, "", "Kawann Short"),
        Constraint(46, 50, "ordinal", "50th"),
        Constraint(51, 61, "", "Super Bowl"),
        Constraint(65, 69, "year", "2015"),
    ]


def test_swaps_one_constraint_for_a_value_from_the_other_article(tmp_path):
    rows = generate(_items(tmp_path), seed=0, per_question=2)
    swaps = [(r.id, r.question, r.kind, r.original_value, r.swapped_value) for r in rows if not r.answerable]
    assert swaps == [
        ("t1:zh:swap0", "路德为谁工作？", "person", "特斯拉", "路德"),
        ("t2:zh:swap0", "路德在1884年来到了哪个城市？", "person", "特斯拉", "路德"),
        ("t2:zh:swap1", "特斯拉在1517年来到了哪个城市？", "year", "1884", "1517"),
        ("l1:zh:swap0", "特斯拉在哪一年发表了论纲？", "person", "路德", "特斯拉"),
        ("l2:zh:swap0", "1517年特斯拉发表了什么？", "person", "路德", "特斯拉"),
        ("l2:zh:swap1", "1884年路德发表了什么？", "year", "1517", "1884"),
        ("t1:en:swap0", "Who did Luther work for?", "person", "Tesla", "Luther"),
        ("t2:en:swap0", "Which city did Luther come to in 1884?", "person", "Tesla", "Luther"),
        ("t2:en:swap1", "Which city did Tesla come to in 1517?", "year", "1884", "1517"),
        ("l1:en:swap0", "In what year did Tesla publish the theses?", "person", "Luther", "Tesla"),
        ("l2:en:swap0", "What did Tesla publish in 1517?", "person", "Luther", "Tesla"),
        ("l2:en:swap1", "What did Luther publish in 1884?", "year", "1517", "1884"),
    ]
    originals = [(r.id, r.answers) for r in rows if r.answerable]
    assert originals[:2] == [("t1:zh", ["爱迪生"]), ("t2:zh", ["纽约"])]
    for row in rows:
        if not row.answerable:
            # Only the swapped span changes; the paragraph never mentions the new value.
            assert row.question == row.original_question.replace(row.original_value, row.swapped_value, 1)
            paragraph = [
                p["context"] for a in (ZH, EN)[row.language == "en"]["data"] for p in a["paragraphs"]
            ]
            assert row.swapped_value not in paragraph[row.context_id]


def test_a_donor_the_paragraph_mentions_is_not_used(tmp_path):
    zh = json.loads(json.dumps(ZH))
    zh["data"][0]["paragraphs"][0]["context"] = "特斯拉于1884年来到纽约，为爱迪生工作，读过路德的书。"
    rows = generate(_items(tmp_path, zh=zh), seed=0, per_question=2)
    assert not any(r.swapped_value == "路德" and r.context_id == 0 for r in rows)
    # The English Tesla paragraph lacks Luther, but the aligned Chinese one names 路德.
    assert not any(r.swapped_value == "Luther" and r.context_id == 0 for r in rows)


def test_absent_checks_digits_and_numeral_words():
    assert not absent("5", "number", ["He played five games."])
    assert not absent("5", "number", ["他打了五场比赛。"])
    assert not absent("1,200", "number", ["About 1200 people came."])
    assert absent("12", "number", ["In 2012 he came."])
    assert not absent("第三", "ordinal", ["the third edition"])
    assert not absent("贾里德·艾伦", "person", ["艾伦是五次职业碗选手。"])


def test_same_seed_same_rows_and_per_question_caps(tmp_path):
    items = _items(tmp_path)
    assert generate(items, seed=3, per_question=2) == generate(items, seed=3, per_question=2)
    one = generate(items, seed=3, per_question=1)
    assert sum(not r.answerable for r in one) == sum(r.answerable for r in one) == 8


def test_split_is_stable_and_takes_both_values():
    splits = {split_of(f"第{i}段文字。") for i in range(20)}
    assert splits == {"dev", "test"}
    assert split_of("华沙是波兰的首都。") == split_of("华沙是波兰的首都。")


def test_cli_writes_jsonl(tmp_path, capsys):
    _items(tmp_path)
    out = tmp_path / "nm.jsonl"
    argv = [
        str(tmp_path / "zh.json"),
        "--en",
        str(tmp_path / "en.json"),
        "--out",
        str(out),
        "--per-question",
        "2",
    ]
    assert main(argv) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 20
    assert set(rows[1]) == {
        "id", "language", "question", "answerable", "answers", "context_id", "split", "kind",
        "original_question", "original_value", "swapped_value",
        "evidence", "type", "paragraph", "category",
    }  # fmt: skip
    labelled = load_labelled(out)  # `rag eval --dataset` reads it as it is
    assert len(labelled) == 20 and {item.split for item in labelled} <= {"dev", "test"}
    assert {item.category for item in labelled if not item.answerable} <= set(KINDS)
    assert all(item.category == "answerable" for item in labelled if item.answerable)
    assert "person" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.json"), "--out", str(out)]) == 1
