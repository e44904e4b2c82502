"""The bundled question set checks out against the bundled report."""

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from eval.dataset import TYPES, EvalItem, load_items, validate
from ingest.errors import BadInput

REPORT = Path(__file__).parents[2] / "ingest/corpus/000_a507548b56e5d456.txt"


@pytest.fixture(scope="module")
def report_text() -> str:
    return REPORT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    return load_items()


def test_bundled_set_validates(items, report_text):
    assert validate(items, report_text) == []


def test_minimum_counts(items):
    languages = Counter(item.language for item in items)
    assert len(items) >= 90
    assert languages["zh"] >= 45
    assert languages["en"] >= 30
    assert sum(not item.answerable for item in items) >= 14


def test_every_question_type_is_used(items):
    assert {item.type for item in items} == set(TYPES)


def test_every_report_paragraph_is_covered(items):
    covered = {item.paragraph for item in items}
    expected = {
        "headline", "subheads", "key_points", "opening", "theme_documents", "overview",
        "tech_innovation", "photo_caption", "industry_clusters", "opening_up", "beautiful_china",
        "public_services", "regional_cooperation", "press_conference", "gong_zheng",
        "liu_xiaotao", "liu_jie", "wang_qingxian", "side_events", "next_meeting",
    }  # fmt: skip
    assert expected <= covered


def _answerable(items: list[EvalItem]) -> EvalItem:
    return next(item for item in items if item.answerable and item.language == "zh")


def test_validator_catches_evidence_not_in_report(items, report_text):
    broken = dataclasses.replace(_answerable(items), evidence="会议在北京举行")
    problems = validate([*items[1:], broken], report_text)
    assert any("not a verbatim substring" in problem for problem in problems)


def test_validator_catches_answer_not_in_evidence(items, report_text):
    item = _answerable(items)
    broken = dataclasses.replace(item, answers=("北京",))
    problems = validate([broken], report_text)
    assert f"{item.id}: answer '北京' is not in its evidence" in problems


def test_validator_accepts_ascii_translation_only_for_english(report_text):
    base = EvalItem("x-1", "en", "Where?", ("安徽", "Anhui"), "在安徽省召开", True, "where", "next_meeting")
    assert not [p for p in validate([base], report_text) if p.startswith("x-1")]
    chinese = dataclasses.replace(base, language="zh")
    assert "x-1: answer 'Anhui' is not in its evidence" in validate([chinese], report_text)


def test_validator_catches_duplicates_unanswerable_labels_and_counts(items, report_text):
    unanswerable = next(item for item in items if not item.answerable)
    broken = dataclasses.replace(unanswerable, answers=("上海",))
    problems = validate([broken, broken], report_text)
    assert f"{unanswerable.id}: id used 2 times; ids must be unique" in problems
    assert any("unanswerable but has answers" in problem for problem in problems)
    assert any(problem.startswith("only 2 questions") for problem in problems)


def test_load_items_reports_a_missing_field(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text(
        json.dumps({"id": "zh-1", "question": "谁？"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with pytest.raises(BadInput, match="missing field"):
        load_items(path)


def test_load_items_reports_a_missing_file(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        load_items(tmp_path / "nope.jsonl")


def test_bundled_set_has_categories_and_the_frozen_split(items):
    from eval.dataset import UNANSWERABLE_CATEGORIES, split_of

    assert {item.category for item in items if not item.answerable} == set(UNANSWERABLE_CATEGORIES)
    assert all(item.split == split_of(item.id) for item in items)
    assert split_of("zh-001") in ("dev", "test")


def test_validator_catches_a_category_that_contradicts_answerable(items, report_text):
    unanswerable = next(item for item in items if not item.answerable)
    broken = dataclasses.replace(unanswerable, category="answerable")
    assert any("contradicts answerable" in p for p in validate([broken], report_text))
    moved = dataclasses.replace(unanswerable, split="dev" if unanswerable.split == "test" else "test")
    assert any("frozen rule" in p for p in validate([moved], report_text))
