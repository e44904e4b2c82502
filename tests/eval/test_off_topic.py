"""Off-topic questions in bulk (eval.off_topic): a tiny parallel zh/en benchmark's questions,
written as unanswerable items that `rag eval --dataset` reads."""

import json

from eval.dataset import load_items
from eval.near_miss import split_of
from eval.off_topic import main
from tests.eval.test_near_miss import EN, ZH


def test_every_question_of_each_file_becomes_an_off_topic_item(tmp_path, capsys):
    (tmp_path / "zh.json").write_text(json.dumps(ZH, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "en.json").write_text(json.dumps(EN), encoding="utf-8")
    out = tmp_path / "off_topic.jsonl"
    assert main([str(tmp_path / "zh.json"), "--questions", str(tmp_path / "en.json"), "--out", str(out)]) == 0
    assert "{'zh': 4, 'en': 4}" in capsys.readouterr().out
    items = load_items(out)
    assert [item.question for item in items if item.language == "en"] == [
        "Who did Tesla work for?",
        "Which city did Tesla come to in 1884?",
        "In what year did Luther publish the theses?",
        "What did Luther publish in 1517?",
    ]
    assert all(not item.answerable and item.category == "off_topic" and not item.answers for item in items)
    assert len({item.id for item in items}) == 8
    # a question keeps its paragraph's split, as the near misses do
    tesla = ZH["data"][0]["paragraphs"][0]["context"]
    assert {item.split for item in items if "Tesla" in item.question or "特斯拉" in item.question} == {split_of(tesla)}


def test_a_missing_file_is_an_error_naming_it(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere.json"), "--out", str(tmp_path / "out.jsonl")]) == 1
    assert "nowhere.json" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()
