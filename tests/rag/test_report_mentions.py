"""ReportMentions answers exactly what `met` / `mentioned` answer over the whole text joined.

The reference is the scan the answerer did before (all chunk text joined with newlines); the
index must agree with it on every constraint the bundled questions parse to, on constraints made
to hit its edges (absent forms, deputies, abbreviations, pinyin names in both orders), and on
substring presence of windows cut from the report.
"""

from __future__ import annotations

import random

import pytest

from eval.dataset import load_items
from rag.answering.constraints import Constraint, Kind, mentioned, met, parse
from rag.answering.report_mentions import ReportMentions
from rag.engine import Engine


@pytest.fixture(scope="module")
def texts(bundled_engine: Engine) -> list[str]:
    return [chunk.embedding_text() for chunk in bundled_engine.index.chunks]


@pytest.fixture(scope="module")
def mentions(texts: list[str]) -> ReportMentions:
    return ReportMentions(texts)


def _same(mentions: ReportMentions, joined: str, constraint: Constraint) -> None:
    assert mentions.met(constraint) == met(constraint, joined), constraint
    assert mentions.mentioned(constraint) == mentioned(constraint, joined), constraint


def test_every_bundled_question_constraint(bundled_engine: Engine, texts: list[str], mentions: ReportMentions) -> None:
    joined = "\n".join(texts)
    constraints = {
        c
        for item in load_items()
        for c in parse(item.question, item.language, bundled_engine.glossary)
        if c.kind not in (Kind.PLACE_TYPE,)  # its check reads the dictionary, not only the text
    }
    outcomes = set()
    for constraint in constraints:
        _same(mentions, joined, constraint)
        outcomes.add(mentions.mentioned(constraint))
    assert len(constraints) > 200 and outcomes == {True, False}


@pytest.mark.parametrize(
    "constraint",
    [
        Constraint(Kind.ROLE, "省长", ("省长",)),
        Constraint(Kind.ROLE, "副省长", ("副省长",)),
        Constraint(Kind.ROLE, "秘书长", ("秘书长",)),
        Constraint(Kind.ROLE, "市长", ("市长",)),
        Constraint(Kind.ENTITY, "杭州", ("杭州",)),
        Constraint(Kind.ENTITY, "安徽省", ("安徽省", "安徽")),
        Constraint(Kind.ENTITY, "广东省", ("广东省", "广东")),  # 粤: in no abbreviation run here
        Constraint(Kind.ENTITY, "Liu Xiaotao", (), pinyin_name=True),
        Constraint(Kind.ENTITY, "Xiaotao Liu", (), pinyin_name=True),
        Constraint(Kind.ENTITY, "Wang Qingxian", (), pinyin_name=True),
        Constraint(Kind.ENTITY, "Zhang Sanfeng", (), pinyin_name=True),
        Constraint(Kind.ENTITY, "Hangzhou", ("杭州",), pinyin_name=True),
        Constraint(Kind.ENTITY, "Wang", (), pinyin_name=True),
        Constraint(Kind.YEAR, "2027", ("2027",)),
        Constraint(Kind.YEAR, "1999", ("1999",)),
        Constraint(Kind.ORDINAL, "第 8", ("第 8",)),  # a form with a space never matches
        Constraint(Kind.ATTRIBUTE, "面积", ("面积", "平方")),
        Constraint(Kind.ATTRIBUTE, "GDP", ("生产总值", "GDP", "经济总量")),
        Constraint(Kind.ATTRIBUTE, "empty", ("",)),
        # titles: borne out, contradicted, and given to a name the report never titles
        Constraint(Kind.TITLED, "浙江省委书记王浩", ("省委书记",), qualifier=("浙江",), holder=("王浩",)),
        Constraint(Kind.TITLED, "安徽省委书记王浩", ("省委书记",), qualifier=("安徽",), holder=("王浩",)),
        Constraint(Kind.TITLED, "苏州市长", ("市长",), qualifier=("苏州",)),
        Constraint(Kind.TITLED, "上海市长", ("市长",), qualifier=("上海",)),
        Constraint(Kind.TITLED, "市长张三", ("市长",), holder=("张三",)),
        Constraint(Kind.TITLED, "Anhui governor Liu Xiaotao", ("省长",), qualifier=("安徽",), pinyin_name=True, speaker="Liu Xiaotao"),
    ],
)
def test_edges(texts: list[str], mentions: ReportMentions, constraint: Constraint) -> None:
    _same(mentions, "\n".join(texts), constraint)


def test_substrings_and_near_misses(texts: list[str], mentions: ReportMentions) -> None:
    joined = "\n".join(texts).replace(" ", "")
    rng = random.Random(0)
    forms = []
    for _ in range(2000):
        start = rng.randrange(len(joined))
        form = joined[start : start + rng.randint(1, 8)]
        forms += [form, form[::-1], form[:-1] + "鑫"]
    for form in forms:
        assert mentions.contains(form) == (form in joined), form


def test_never_across_chunks() -> None:
    mentions = ReportMentions(["江苏省", "长刘小涛说", "沪苏 浙"])
    assert not mentions.contains("省长")
    assert mentions.contains("省\n长")  # as in the joined text
    assert mentions.contains("沪苏浙")  # spaces never count
    joined = "江苏省\n长刘小涛说\n沪苏 浙"
    for constraint in (
        Constraint(Kind.ROLE, "省长", ("省长",)),
        Constraint(Kind.ENTITY, "浙江省", ("浙江省", "浙江")),
        Constraint(Kind.ENTITY, "Liu Xiaotao", (), pinyin_name=True),
        Constraint(Kind.ENTITY, "Su Zhang", (), pinyin_name=True),
    ):
        _same(mentions, joined, constraint)


def test_a_later_form_in_a_chunk_an_earlier_form_only_resembles() -> None:
    # 总理 stands only as 副总理; the second chunk holds 总 and 理 apart, and 首相
    texts = ["副总理讲话", "总是理解首相"]
    premier = Constraint(Kind.ROLE, "premier", ("总理", "首相"))
    _same(ReportMentions(texts), "\n".join(texts), premier)
    assert ReportMentions(texts).met(premier)
