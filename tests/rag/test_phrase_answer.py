"""The what-question phrase (`rag.answering.phrase_answer`) with the shipped model: which stretches
of a sentence are candidates, when the best one is offered, and how the answerer uses it."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answering.phrase_answer import (
    FEATURES,
    PhraseModel,
    best_phrase,
    default_model,
    phrase_candidates,
    slot_alignment,
    what_phrase,
)
from rag.answering.short_answer import aligned_sides, compact, wh_contexts
from rag.engine import Engine

HUB = "进一步提升虹桥国际开放枢纽服务辐射能级,加快建设安徽联动发展区。"
GREEN = "共同打造绿色低碳发展高地,加快行业数字化智能化同绿色化深度融合,共建长三角新型能源体系。"
CENTRES = "以上海“五个中心”建设为牵引,发挥苏浙皖比较优势。"


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # the question's own noun closes the name it asks for
        ("需要进一步提升服务辐射能级的是哪个枢纽？", HUB, "虹桥国际开放枢纽"),
        # ... but a verb after 什么 does not: what is merged is 绿色化, not 绿色化深度融合
        ("行业数字化智能化要同什么深度融合？", GREEN, "绿色化"),
        # a quoted term without its quotation marks, never half of them
        ("会议要求以上海的什么建设为牵引？", CENTRES, "五个中心"),
        # a name is not cut inside its compound (国家发展 | 改革委)
        ("哪些中央部门的同志应邀出席？", "中央财办、国家发展改革委相关负责同志应邀出席会议。", "中央财办、国家发展改革委"),
    ],
)
def test_the_phrase_where_the_question_word_stands(question: str, sentence: str, expected: str) -> None:
    assert what_phrase(question, sentence) == expected


def test_a_phrase_does_not_stop_short_of_a_bound_morpheme() -> None:
    # 委 is a morpheme of its own to jieba (国家发展改革 + 委)
    question = "哪些中央部门的同志应邀出席？"
    sentence = "中央财办、国家发展改革委相关负责同志应邀出席会议。"
    phrases = {sentence[c.start : c.end] for c in phrase_candidates(question, sentence)}
    assert "中央财办、国家发展改革委" in phrases
    assert not any(phrase.endswith("改革") for phrase in phrases)


def test_candidates_share_nothing_with_the_question_and_stay_in_one_clause() -> None:
    question = "需要进一步提升服务辐射能级的是哪个枢纽？"
    for candidate in phrase_candidates(question, HUB):
        text = HUB[candidate.start : candidate.end]
        assert "," not in text and "。" not in text
        assert "服务辐射" not in text and "进一步提升" not in text
        assert len(candidate.features) == len(FEATURES)


def test_a_phrase_that_does_not_stand_out_is_not_offered() -> None:
    question = "函数问题一般可以重新表述为什么？"
    sentence = "然而，实际情况并非如此，因为函数问题可以重新定义为决策问题。"
    found = best_phrase(question, sentence)
    assert found is not None and found[1] < default_model().threshold
    assert what_phrase(question, sentence) is None
    # the same pick is offered once the threshold allows it: the gate is what withheld it
    assert what_phrase(question, sentence, replace(default_model(), threshold=0.0)) == found[0]


def test_a_sentence_that_only_repeats_the_question_has_no_phrase() -> None:
    assert what_phrase("会议要求什么？", "会议要求。") is None


def test_a_model_fitted_on_other_features_is_refused_with_the_fix(tmp_path: Path) -> None:
    stale = tmp_path / "phrase_model.json"
    stale.write_text(
        json.dumps({"features": ["alignment"], "weights": [1.0], "means": [0.0], "scales": [1.0], "threshold": 0.5}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="eval.fit_phrases"):
        PhraseModel.load(stale)


def test_a_chinese_what_question_leads_with_its_phrase(bundled_engine: Engine) -> None:
    answer = bundled_engine.answer("需要进一步提升服务辐射能级的是哪个枢纽？")
    assert answer.found and answer.short_answer == "虹桥国际开放枢纽"
    assert answer.short_answer in answer.citations[0].sentence
    assert answer.answer.startswith("虹桥国际开放枢纽 [1]")


def test_an_english_which_question_leads_with_the_name_of_the_asked_kind(bundled_engine: Engine) -> None:
    # "energy system" glosses to 体系 among others; the noun run ending in it is the system's name.
    answer = bundled_engine.answer("What new energy system will the region build together?")
    assert answer.found and answer.short_answer == "长三角新型能源体系"
    assert answer.short_answer in answer.citations[0].sentence
    assert answer.answer.startswith("长三角新型能源体系")
    # A verb inside the name (开放 in 虹桥国际开放枢纽) ends the run: no phrase, the quote only.
    hub = bundled_engine.answer("Which hub should raise its service radiation capacity?")
    assert hub.found and hub.short_answer is None and "虹桥国际开放枢纽" in hub.citations[0].sentence


def test_an_english_named_phrase_is_a_whole_name_or_nothing() -> None:
    from rag.answering.short_answer import english_named_phrase
    from rag.retrieval.glossary import Glossary

    glossary = Glossary.load()
    sentence = "高标准推进长三角生态绿色一体化发展示范区建设。"
    question = "Which demonstration zone should be advanced to a high standard?"
    # the rendering 示范 starts the word 示范区, which the name takes whole
    assert english_named_phrase(question, sentence, glossary) == "长三角生态绿色一体化发展示范区"
    # a sentence that names no such thing gives no phrase
    assert english_named_phrase(question, "会议指出,要共创美丽中国先行区。", glossary) is None
    # a one-character noun after the rendering goes with it (航道 -> 航道网), a localizer does not
    network = "Which waterway network should be improved?"
    assert english_named_phrase(network, "优化完善长三角高等级航道网。", glossary) == "长三角高等级航道网"
    assert english_named_phrase(network, "提升长三角高等级航道时,统筹推进。", glossary) == "长三角高等级航道"


def test_a_quoted_term_unrelated_to_the_question_does_not_pull_its_sentence_up(bundled_engine: Engine) -> None:
    # "三地一区" in Wang Qingxian's remarks is quoted, so it used to earn the answer-type bonus
    # and outrank the roster line that holds his two posts.
    answer = bundled_engine.answer("王清宪在安徽身兼哪两个职务？")
    assert answer.found
    assert "安徽省委副书记、省长王清宪" in answer.citations[0].sentence


def test_alignment_is_counted_on_each_side_of_the_phrase() -> None:
    question = "会议要求以上海的什么建设为牵引？"
    sentence = "以上海的五个中心建设为牵引。"
    start = sentence.index("五个中心")
    end = start + len("五个中心")
    # "以上海的" before it and "建设为牵引" after it, as around 什么 in the question
    assert aligned_sides(compact(sentence[:start])[::-1], compact(sentence[end:]), wh_contexts(question)) == (
        9.0,
        4.0,
        5.0,
    )


def test_slot_alignment_prefers_the_sentence_that_holds_the_open_slot() -> None:
    question = "会议要求以上海的什么建设为牵引？"
    holds_it = slot_alignment(question, CENTRES)  # "…建设为牵引" right after the slot
    shares_words = slot_alignment(question, "上海要加强建设,发挥牵引作用。")
    assert holds_it > shares_words > 0
    assert slot_alignment("长三角的人口是多少？", "上海要加强建设。") == 0.0
