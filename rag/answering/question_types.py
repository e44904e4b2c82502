"""What kind of answer a question asks for: a person, a place, a date, a number, an edition...

Short-answer extraction picks its candidates by this type. Chinese puts the question word in
place ("江苏省委书记是谁"), so the first matching pattern in a fixed priority order decides.
English fronts it, but a relative clause may bring a second one ("What team did the player who
scored..."), so the question word that comes first decides.
"""

from __future__ import annotations

import re
from enum import Enum


class QuestionType(Enum):
    WHO = "who"
    WHERE = "where"
    WHICH_PLACE = "which_place"  # which province / city / country
    WHEN = "when"
    HOW_MANY = "how_many"
    WHICH_EDITION = "which_edition"  # 第几届, which edition / session
    NAME = "name"  # 叫什么, what is it called, titles of documents
    WHAT = "what"
    WHY = "why"
    YESNO = "yesno"
    OTHER = "other"



# Chinese patterns, checked in order: the more specific forms come before the words they contain
# (几月 before 几, 哪个省 before 哪个, 第几 before 几, 叫什么 before 什么).
_ZH_RULES: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    (QuestionType.WHICH_EDITION, re.compile(r"第几|哪一?届|哪一?期")),
    (
        QuestionType.WHEN,
        re.compile(
            r"什么时候|何时|哪[一些几]?年|何年|几月|几号|几点|哪[一几些]?天|哪一?日|哪个?月|哪个?世纪|哪个?朝代"
            r"|什么时间|什么时期|什么年代|什么世纪|什么年份|哪个?年代|哪个?时期|哪个?季节|多会儿|哪个?时间"
        ),
    ),
    (
        QuestionType.WHICH_PLACE,
        re.compile(
            # 市场 / 区别 / 国籍 start with a place character but are not places.
            r"哪(?:一|个|些|座|所)?(?:省|市(?!场|值|民)|城市|城镇|城|国(?!籍)|州|县|地区|区(?!别|分)|镇|村|岛"
            r"|大陆|首都)"
            r"|哪(?:一|个|些|座)[\u4e00-\u9fff]{1,2}?(?:国家|城市|省份|地区)|什么(?:省|城市|国家|地区|地方)"
        ),
    ),
    (
        QuestionType.WHO,
        re.compile(
            r"谁|哪位|哪(?:个|些)?人|什么人|哪(?:个|些|一|名)[\u4e00-\u9fff]{0,3}?(?:球员|演员|人员|队员|成员|人物"
            r"|作者|作家|科学家|学者|领导人|领袖|总统|国王|皇帝|女王|教练|选手|歌手|艺术家|官员|书记|主席|部长)"
        ),
    ),
    (
        QuestionType.NAME,
        re.compile(
            r"叫什么|叫做什么|叫作什么|什么名|哪个名|称谓|名称是|名字是|姓什么|称为什么|被称为|称作什么|命名为什么"
            r"|名为什么|名为[？?]*$|称为[？?]*$|《[^》]*》(?:是什么|指什么)"
        ),
    ),
    # 在哪/去哪 followed by a classifier ask "which thing" (失去哪种工厂, 在哪个波长, 在哪场战役,
    # 在哪件事上): not a place.
    (
        QuestionType.WHERE,
        re.compile(r"哪里|哪儿|何处|何地|什么地方|哪个地方|[在去从到]哪(?![个种些类一位场次届项条件几方批轮])"),
    ),
    (
        QuestionType.HOW_MANY,
        # 几乎 / 几何 are "almost" / "geometry", not a question; 哪几 asks which ones, not how many.
        re.compile(r"多少|(?<!哪)几(?!乎|何)|多大|多高|多长|多久|多远|多重|多深|多宽|多老|百分之几|比例是"),
    ),
    (QuestionType.WHY, re.compile(r"为什么|为何|什么原因|何故|原因是什么|为啥")),
    (QuestionType.YESNO, re.compile(r"吗[？?。\s]*$|是否|是不是|有没有|能否|可否|会不会|能不能")),
    (QuestionType.WHAT, re.compile(r"什么|啥|哪(?:个|些|一|种|类)?|何种|何为|指的是")),
)

# English: the noun after "what/which" (up to two modifiers between) refines the type.
_PLACE_NOUNS = (
    r"provinces?|city|cities|country|countries|nations?|nationality|states?|regions?|towns?|county"
    r"|counties|continents?|capital|municipality|islands?|villages?|districts?|places?|locations?|areas?"
)
_TIME_NOUNS = r"years?|dates?|months?|days?|time|century|centuries|decades?|period|era|season|week"
_EDITION_NOUNS = r"edition|session|round|iteration|installment|instalment"
_NUMBER_NOUNS = (
    r"number|percentage|percent|amount|proportion|fraction|share|total|quantity|score|rate|speed"
    r"|temperature|population|distance|size|length|height|weight|cost|price|value|age|ranking|rank"
    r"|yard line"
)
_NAME_NOUNS = r"name|names|title|term|nickname|last name|first name|surname"
_PERSON_NOUNS = (
    r"person|people|man|men|woman|women|individual|leader|official|actor|actress|player|singer"
    r"|author|writer|artist|scientist|president|king|queen|emperor|ruler|governor|minister|mayor"
    r"|secretary|chairman|founder|inventor|coach|quarterback|figure|physicist|philosopher|poet"
    r"|architect|composer|general|commander|defender|member|students?|teachers?|doctor|engineer"
)
_EN_WH = re.compile(
    r"\b(?:how\s+(?:many|much|long|old|big|large|far|tall|high|often|deep|wide|heavy|fast)"
    r"|who|whom|whose|when|where|why|what|which|how)\b"
)
# The noun closest to "what/which" decides ("what number of provinces" asks for a number), so
# kinds are tried with no modifier in between first, then one, then two.
_NOUN_KINDS: tuple[tuple[QuestionType, str], ...] = (
    (QuestionType.WHICH_EDITION, _EDITION_NOUNS),
    (QuestionType.WHEN, _TIME_NOUNS),
    (QuestionType.WHICH_PLACE, _PLACE_NOUNS),
    (QuestionType.HOW_MANY, _NUMBER_NOUNS),
    (QuestionType.NAME, _NAME_NOUNS),
    (QuestionType.WHO, _PERSON_NOUNS),
)
_MAX_MODIFIERS = 2
# "What did the governor say" asks what was said: a verb after "what" ends the noun phrase.
_AUXILIARIES = r"(?:did|does|do|has|have|had|will|would|can|could|should|might|may|must)\b"
_EN_NOUN_AFTER_WHAT = tuple(
    tuple(
        (
            qtype,
            re.compile(
                rf"^(?:(?:is|was|are|were|'s)\s+)?(?:(?:the|its|his|her|their)\s+)?"
                rf"(?:(?!type\b|kind\b|sort\b|{_AUXILIARIES})[a-z.\-']+\s+){{{modifiers}}}(?:{nouns})\b"
            ),
        )
        for qtype, nouns in _NOUN_KINDS
    )
    for modifiers in range(_MAX_MODIFIERS + 1)
)
_EN_CALLED = re.compile(r"\b(?:called|named|titled|known as)\b")
_EN_SIMPLE = {
    "who": QuestionType.WHO,
    "whom": QuestionType.WHO,
    "whose": QuestionType.WHO,
    "when": QuestionType.WHEN,
    "where": QuestionType.WHERE,
    "why": QuestionType.WHY,
    "how": QuestionType.OTHER,
}
_EN_YESNO = re.compile(
    r"^(?:is|are|was|were|am|do|does|did|can|could|will|would|should|shall|has|have|had|may|might|must)"
    r"(?:n't)?\b"
)
_EN_IMPERATIVE = re.compile(r"^(?:name|list|give|identify|describe|explain|state)\b")


def _classify_zh(question: str) -> QuestionType:
    for qtype, pattern in _ZH_RULES:
        if pattern.search(question):
            return qtype
    return QuestionType.OTHER


def _classify_en(question: str) -> QuestionType:
    text = question.lower().replace("\u2019", "'").strip()
    # "When many people are arrested, what is a common tactic?": a leading clause may open with a
    # question word used as a conjunction; the main question then follows the last comma.
    _, comma, tail = text.rpartition(",")
    if comma and (_EN_WH.search(tail) or _EN_YESNO.match(tail.strip())):
        text = tail.strip()
    match = _EN_WH.search(text)
    if match is None:
        if _EN_YESNO.match(text):
            return QuestionType.YESNO
        return QuestionType.WHAT if _EN_IMPERATIVE.match(text) else QuestionType.OTHER
    word = match.group(0)
    if word.startswith("how "):
        return QuestionType.HOW_MANY
    if word in _EN_SIMPLE:
        return _EN_SIMPLE[word]
    rest = text[match.end() :].strip()
    for kinds in _EN_NOUN_AFTER_WHAT:
        for qtype, pattern in kinds:
            if pattern.search(rest):
                return qtype
    return QuestionType.NAME if _EN_CALLED.search(rest) else QuestionType.WHAT


def classify(question: str, language: str) -> QuestionType:
    """The answer type `question` asks for; `language` is "zh" or "en" (see `detect_language`).

    A mixed question ("2027年 which province") is tried in the other language's forms too when
    its own language finds no question word.
    """
    first, second = (_classify_zh, _classify_en) if language == "zh" else (_classify_en, _classify_zh)
    qtype = first(question)
    if qtype is QuestionType.OTHER:
        qtype = second(question)
    return qtype
