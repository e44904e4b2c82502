"""What a question pins down, and whether a sentence meets it.

A sentence that matches a question's words but names another place, role, year or attribute
does not answer it: "江苏省副省长是谁？" is not answered by "江苏省委副书记、省长刘小涛", nor
"Who is the mayor of Hangzhou?" by Shanghai's mayor. The question is parsed into the slot it asks
for (`QuestionType`) and its constraints: named entities, roles and titles, years and ordinals,
and the attribute asked about (area, cost, population...). Each constraint lists the Chinese forms
that satisfy it; English questions are glossed through CC-CEDICT and pinyin as retrieval does.

A constraint is checked against a sentence with its passage and the document's headline as
context (a speaker named in the passage before his quote still counts), except roles and
attributes, which must be in the sentence itself: the role held by the person named, the area
the number measures. A what-question's subject need only be named in the sentence's document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Protocol

from ingest.text import CJK, CJK_CHAR, jieba_posseg
from rag.answering.enumeration import (
    MIN_SET_MENTION,
    asked_members,
    introduces_members,
    listed_members,
    listing_clause,
    members_span,
    set_mention,
)
from rag.answering.provinces import ABBREVIATION_RUN, PROVINCE_ABBREVIATIONS
from rag.answering.roles import (
    EN_ROLE,
    ZH_ROLES,
    en_title_forms,
    role_in,
    title_evidence,
    title_run_start,
    zh_roles_in,
)
from rag.answering.short_answer import SURNAMES, longest_shared
from rag.answering.slots import looks_like_person
from rag.retrieval.glossary import chinese_number, name_runs, names_in_text


class Kind(Enum):
    ENTITY = "entity"  # a person, place or organization
    ROLE = "role"  # a title: 市长, 省委书记, vice governor
    YEAR = "year"
    ORDINAL = "ordinal"  # 第八届, the 8th
    ATTRIBUTE = "attribute"  # what is asked about the subject: area, cost, capital...
    MEMBERS = "members"  # the members of a set: "分别是哪五个", "which airports make up"
    SPEAKER = "speaker"  # who said it: "刘小涛说江苏要…", "What did Liu Jie say…"
    PLACE_TYPE = "place type"  # the kind of place asked for: "安徽省的哪座城市", "which district"
    TITLED = "titled"  # a title the question gives someone or somewhere: 安徽省委书记王浩, 苏州市长
    ACT = "act"  # an act asked about by its verb: who chaired (主持), what was signed (签)


# What the question asks for rather than names: checked on one sentence, never report-wide (some
# list or city somewhere says nothing about this one), and not a fact a generated sentence states.
ASKED_KINDS = frozenset({Kind.MEMBERS, Kind.SPEAKER, Kind.PLACE_TYPE})
SENTENCE_KINDS = frozenset({Kind.ROLE, Kind.ATTRIBUTE}) | ASKED_KINDS
# Premises, checked against the report as a whole and never on the sentence: the sentence that
# answers what 龚正 said does not repeat that he is Shanghai's mayor, nor does "1992年的《马斯特里赫特
# 条约》" say the treaty was signed then.
PREMISE_KINDS = frozenset({Kind.TITLED, Kind.ACT})


@dataclass(frozen=True)
class Constraint:
    kind: Kind
    surface: str  # as the question writes it
    forms: tuple[str, ...]  # Chinese (or literal) forms, any of which satisfies it
    pinyin_name: bool = False  # an English name also satisfied by characters that spell it
    # A strict constraint must be met where the answer is; a loose one ("Communist", glossed
    # 共产 where the report says 党) only counts when the whole report lacks it.
    strict: bool = True
    count: int = 0  # MEMBERS: how many the sentence must list; forms[0] is the set's name or ""
    speaker: str = ""  # SPEAKER: the name as the question writes it (forms are its Chinese forms)
    # TITLED: forms are the title's Chinese forms; where it is held and by whom, in Chinese (or
    # the holder's pinyin, `speaker`, with pinyin_name)
    qualifier: tuple[str, ...] = ()
    holder: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """A constraint's outcome against one sentence."""

    constraint: Constraint
    met: bool


class Translator(Protocol):
    def lookup(self, phrase: str, limit: int = 4) -> list[str]: ...

    def english(self, chinese: str) -> str | None: ...

    def sense(self, chinese: str) -> str | None: ...



# Who held a post before or after someone: a report that lists today's officials does not say.
_EN_TENURE = re.compile(r"\bbefore (?:becoming|being|taking)\b|\bbefore [A-Z][a-z]+ [A-Z][a-z]+|\b(?:predecessor|successor|preceded|succeeded)\b")
_TENURE_FORMS = ("前任", "继任", "接任", "卸任", "曾任", "此前", "之前", "原任", "以前", "离任", "调任")
# Attributes asked about: the word in the question -> forms a sentence stating it would hold.
_ZH_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("面积", ("面积", "平方")),
    ("人口", ("人口",)),
    ("预算", ("预算", "经费")),
    ("经费", ("经费", "预算", "资金")),
    ("费用", ("费用", "花费", "成本", "资金", "投入", "投资")),
    ("成本", ("成本", "费用", "造价")),
    ("造价", ("造价", "成本")),
    ("花了多少钱", ("元", "资金", "费用", "投资")),
    ("多少钱", ("元", "资金", "费用", "投资", "价格")),
    ("投资额", ("投资", "亿元", "万元")),
    ("价格", ("价格", "价", "元")),
    ("房价", ("房价",)),
    ("票价", ("票价",)),
    ("省会", ("省会", "首府")),
    ("首府", ("首府", "省会")),
    ("首都", ("首都",)),
    ("天气", ("天气", "气温", "晴", "雨", "雪")),
    ("气温", ("气温", "温度", "℃")),
    ("温度", ("温度", "气温", "℃")),
    ("生产总值", ("生产总值", "GDP", "经济总量")),
    ("GDP", ("生产总值", "GDP", "经济总量")),
    ("经济总量", ("生产总值", "GDP", "经济总量")),
    ("工资", ("工资", "薪")),
    ("收入", ("收入",)),
    ("营收", ("营收", "营业收入")),
    ("利润", ("利润",)),
    ("年龄", ("岁", "年龄", "出生")),
    ("多大年纪", ("岁", "年龄", "出生")),
    ("几岁", ("岁",)),
    ("出生", ("出生", "生于")),
    ("籍贯", ("籍贯", "出生", "生于")),
    ("毕业", ("毕业",)),
    ("妻子", ("妻子", "夫人")),
    ("丈夫", ("丈夫",)),
    ("老家", ("老家", "故乡", "籍贯", "出生")),
    ("前任", _TENURE_FORMS),
    ("继任", _TENURE_FORMS),
    ("接任", _TENURE_FORMS),
    ("曾任", _TENURE_FORMS),
    ("身高", ("身高",)),
    ("海拔", ("海拔",)),
    ("长度", ("长度", "公里", "千米", "米", "长")),
    ("全长", ("全长", "公里", "千米")),
    ("高度", ("高度", "米", "高")),
    ("距离", ("距离", "公里", "千米")),
    ("电话", ("电话",)),
    ("网址", ("网址", "网站")),
    ("邮编", ("邮编",)),
    ("人数", ("人数", "名", "人次", "万人")),
    ("增长率", ("增长", "增速", "%", "百分")),
    ("增速", ("增长", "增速", "%", "百分")),
    ("排名", ("排名", "位列", "第")),
    ("市值", ("市值",)),
    ("主题", ("主题",)),
    ("装机", ("装机", "千瓦")),
    ("容量", ("容量", "千瓦", "立方米", "吨")),
    ("口号", ("口号",)),
)
# Acts a report states with their own verb, asked about by it: who chaired, what was signed.
_ZH_ACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("主持", ("主持",)),
    ("签署", ("签",)),
    ("签订", ("签",)),
    ("签约", ("签",)),
)
_EN_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"area|size|how large|how big|square (?:kilomet(?:er|re)s|meters|metres|miles)", ("面积", "平方", "规模")),
    (r"population|inhabitants|residents live", ("人口",)),
    (r"budget|funding", ("预算", "经费", "资金")),
    (r"cost|costs|price|prices|spent|spend|spending|expense|expenses|how much money", ("费用", "成本", "造价", "资金", "投资", "元", "价格")),
    (r"house prices?|housing prices?|home prices?", ("房价",)),
    (r"capital(?! city of the| of the region)", ("省会", "首府", "首都")),
    (r"weather|rain|sunny", ("天气", "气温", "晴", "雨", "雪")),
    (r"temperature", ("气温", "温度", "℃")),
    (r"gdp|gross domestic product|economic output", ("生产总值", "GDP", "经济总量")),
    (r"salary|salaries|wage|wages", ("工资", "薪")),
    (r"income", ("收入",)),
    (r"revenue", ("营收", "收入")),
    (r"profit|profits", ("利润",)),
    (r"how old|age", ("岁", "年龄", "出生")),
    (r"born|birthday|birth", ("出生", "生于")),
    (r"height|how tall", ("身高", "高度", "米")),
    (r"length|how long is|kilomet(?:er|re)s long", ("长度", "全长", "公里", "千米", "米")),
    (r"distance|how far", ("距离", "公里", "千米")),
    (r"phone number|telephone", ("电话",)),
    (r"website|web address|url", ("网址", "网站")),
    (r"growth rate", ("增长", "增速", "%", "百分")),
    (r"ranking|ranked", ("排名", "位列")),
    (r"market value|market cap", ("市值",)),
    (r"theme|motto|slogan", ("主题", "口号")),
    (r"(?:installed )?capacity", ("装机", "容量", "千瓦", "吨", "标箱")),
    (r"number of (?:participants|attendees|people|delegates)|how many people", ("人数", "名", "人次", "万人")),
)  # fmt: skip
# Acts asked about by their verb, wherever it stands ("Who chaired…", "What was signed…"); not the
# nouns ("the chair of the IPCC", "sign language").
_EN_ACTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\b(?:chaired|presided|presiding)\b"), ("主持",)),
    (re.compile(r"\b(?:signed|signing)\b"), ("签",)),
)
# Asked wherever they stand: a person's birth and schooling are never a report's aside. ("married"
# and "children" are not: "same-sex married couples", "working children" ask about others.)
_EN_PERSONAL = re.compile(r"\b(?:born|birthplace|hometown|home town|native place|alma mater|graduated?(?: from)?)\b")
_PERSONAL_FORMS = ("出生", "生于", "籍贯", "毕业", "老家", "故乡")
# Asked about, not merely mentioned: "the budget of", "its population", "how much ... cost";
# "activities to boost spending" asks for activities.
_EN_ATTRIBUTE = tuple(
    (re.compile(rf"\b(?:(?:the|its|their|his|her|what|whose|total|average)\s+(?:[a-z\-]+\s+)?(?:{pattern})\b|how (?:much|large|big|old|tall|long|far)\b.*\b(?:{pattern})\b|(?:{pattern})\s+(?:of|is|was|are|were)\b)"), forms)
    for pattern, forms in _EN_ATTRIBUTES
)

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_ZH_ORDINAL = re.compile(r"第\s*([0-9]+|[一二三四五六七八九十百]+)\s*(?=[届次期轮])|首届")
_FIRST_EDITION = ("首届", "第一届", "第1届")
_EN_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20,
}  # fmt: skip
# "first" counts only before an edition noun ("the first forum": 首届), as every ordinal here
# does: "for the first time" is 首次, which says nothing of an edition.
_EN_ORDINAL = re.compile(r"\b(?:(\d+)(?:st|nd|rd|th)|(" + "|".join(_EN_ORDINAL_WORDS) + r"))\b")
_EN_ORDINAL_NOUN = re.compile(r"^\s+(?:[a-z\-()'’]+\s+){0,6}?(?:edition|session|forum|meeting|symposium|conference|round|congress|plenum|games|summit|expo|plenary)")

_PLACE_SUFFIX = re.compile(r"(?<=..)(?:省|市|县|区|自治区|特别行政区)$")
_ORGAN_SUFFIX = re.compile(r"(?<=[省市县区])(?:委|政府)$|(?:省委|市委|县委|区委)$")
_ENTITY_TAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz"})
# Characters that spell foreign names (埃尔维, 唐娜, 布尔): two of them mark a transliteration.
_TRANSLITERATION = frozenset(
    "阿埃艾奥欧乌伊安恩尔斯特克德格布普夫维威瓦娜娃诺洛罗莫姆曼尼纳丹登顿逊森蒂迪利里拉莱雷伦琳玛马麦米蒙默穆"
    "赫亨汉哈霍休希西谢萨塞索苏沙舍桑巴贝比拜邦鲍博伯波杰吉基加贾凯卡科柯库奎昆肯"
)
# jieba tags some common words as names; these are never the entity a question pins down.
_NOT_ENTITIES = frozenset(
    "中国 国家 中央 全国 地方 地区 城市 省份 省市 国际 世界 本报 会议 报告 报道 座谈会 领导 东西 南北".split()
)


def _roles_zh(question: str) -> list[Constraint]:
    return [Constraint(Kind.ROLE, role, (role,)) for role, _, _ in zh_roles_in(question)]


def _roles_en(question: str) -> list[Constraint]:
    titles = (match.group(0) for match in EN_ROLE.finditer(question.lower()))
    return [Constraint(Kind.ROLE, title, forms) for title in titles if (forms := en_title_forms(title))]


def _attributes_zh(question: str) -> list[Constraint]:
    found: list[Constraint] = []
    for word, forms in _ZH_ATTRIBUTES:
        if word in question and not any(word in c.surface for c in found):
            found.append(Constraint(Kind.ATTRIBUTE, word, forms))
    return found


def _attributes_en(question: str) -> list[Constraint]:
    lower = question.lower()
    found = []
    for pattern, forms in _EN_ATTRIBUTE:
        match = pattern.search(lower)
        if match:
            found.append(Constraint(Kind.ATTRIBUTE, match.group(0), forms))
    tenure = _EN_TENURE.search(question)
    if tenure:
        found.append(Constraint(Kind.ATTRIBUTE, tenure.group(0), _TENURE_FORMS))
    personal = _EN_PERSONAL.search(lower)
    if personal and not any(set(c.forms) & set(_PERSONAL_FORMS) for c in found):
        found.append(Constraint(Kind.ATTRIBUTE, personal.group(0), _PERSONAL_FORMS))
    return found


def _acts(question: str, language: str) -> list[Constraint]:
    if language == "zh":
        return [Constraint(Kind.ACT, verb, forms) for verb, forms in _ZH_ACTS if verb in question]
    lower = question.lower()
    return [Constraint(Kind.ACT, m.group(0), forms) for pattern, forms in _EN_ACTS if (m := pattern.search(lower))]


def _years(question: str) -> list[Constraint]:
    return [Constraint(Kind.YEAR, year, (year,)) for year in dict.fromkeys(_YEAR.findall(question))]


def _ordinals_zh(question: str) -> list[Constraint]:
    found = []
    for match in _ZH_ORDINAL.finditer(question):
        value = match.group(1)
        if value is None:  # 首届: the first edition, said either way
            found.append(Constraint(Kind.ORDINAL, match.group(0), _FIRST_EDITION))
            continue
        if value in ("1", "一"):
            continue  # 第一次 is "for the first time" as often as it is an ordinal
        forms = {f"第{value}"}
        if value.isdigit():
            forms.add(f"第{chinese_number(int(value))}")
        found.append(Constraint(Kind.ORDINAL, match.group(0), tuple(sorted(forms))))
    return found


def _ordinals_en(question: str) -> list[Constraint]:
    lower = question.lower()
    found = []
    for match in _EN_ORDINAL.finditer(lower):
        rest = lower[match.end() :]
        if not _EN_ORDINAL_NOUN.match(rest) or re.match(r"\s+times?\b", rest):
            continue
        n = int(match.group(1)) if match.group(1) else _EN_ORDINAL_WORDS[match.group(2)]
        forms = _FIRST_EDITION if n == 1 else (f"第{n}", f"第{chinese_number(n)}")
        found.append(Constraint(Kind.ORDINAL, match.group(0), forms))
    return found


def _place_forms(word: str) -> tuple[str, ...]:
    forms = [word]
    stripped = _PLACE_SUFFIX.sub("", word)
    if stripped != word:
        forms.append(stripped)
    return tuple(forms)


def _entities_zh(
    question: str, roles: list[Constraint], attributes: list[Constraint], translator: Translator | None
) -> list[Constraint]:
    taken = {c.surface for c in roles} | {c.surface for c in attributes}
    found: list[Constraint] = []
    pairs = list(jieba_posseg().cut(question))
    for at, pair in enumerate(pairs):
        word, tag = pair.word, pair.flag
        following = pairs[at + 1].word if at + 1 < len(pairs) else ""
        if tag == "n" and following.startswith(_PLACE_TITLE_STARTS) and _dictionary_place(word, translator):
            tag = "ns"  # jieba tags 合肥 a common noun before 市委书记
        if tag not in _ENTITY_TAGS or len(word) < 2 or word in _NOT_ENTITIES:
            continue
        body = _ORGAN_SUFFIX.sub("", word)
        if body != word and len(body) >= 2 and any(surface.startswith(word[len(body):]) for surface in taken):
            # "福建省委" cut before the role "省委书记": the place is what the question pins down.
            word, tag = body, "ns"
        if any(word in surface or surface in word for surface in taken):
            continue
        if any(c.surface == word for c in found):
            continue
        found.append(Constraint(Kind.ENTITY, word, _place_forms(word), strict=_firm_name(word, tag, translator)))
    return found


def _dictionary_place(word: str, translator: Translator | None) -> bool:
    """A word CC-CEDICT glosses first as a place ("Hefei, capital of Anhui Province"), not as a
    thing ("Spring Festival"). Only asked before a title: 长子 is "Zhangzi county" first too."""
    sense = translator.sense(word) if translator is not None and len(word) >= 2 else None
    return bool(sense and sense[:1].isupper() and _PLACE_SENSE.search(sense))


# What follows a place that heads a title or an office: 合肥 + 市委书记, 市长, 市政府.
_PLACE_TITLE_STARTS = ("市", "省", "县", "区", "州")
# A dictionary sense that makes a name a place.
_PLACE_SENSE = re.compile(
    r"\b(?:city|municipality|county|district|province|prefecture|capital|town|village|river|lake|mountain|island)\b",
    re.IGNORECASE,
)


def transliterated(word: str) -> bool:
    """A name spelled out in the characters used for foreign sounds (特斯拉, 哈佛, 纽卡斯尔)."""
    return sum(char in _TRANSLITERATION for char in word) >= 2


def _firm_name(word: str, tag: str, translator: Translator | None) -> bool:
    """Whether jieba's name is sure enough to refuse on: a place or organization that
    CC-CEDICT glosses as a proper noun (杭州 -> "Hangzhou", not 高山 -> "high mountain"), or a
    Chinese personal name (a common surname and two or three characters: 刘小涛). Not sure: an
    "other proper noun" (nz), a fragment jieba's HMM cut out (了旭烈, 雨林中), a common word it
    tags as a name (钱财, 友谊) or a transliteration (埃尔维), which the text may write otherwise."""
    if transliterated(word):
        return False
    if tag in ("ns", "nt", "nz"):
        english = translator.english(word) if translator is not None else None
        if tag == "nz":
            # an other proper noun only as a name of several words ("World Cup"), not a people's
            # or a language's adjective ("British person", "Mongolian language")
            words = (english or "").split()
            return len(words) >= 2 and all(w[:1].isupper() for w in words)
        return bool(english and english[:1].isupper())
    if not tag.startswith("nr") or not 2 <= len(word) <= 3 or word[0] not in SURNAMES:
        return False
    if _english_word((word,), translator):
        return False  # a common noun jieba tags as a name: 申请人 "applicant"
    known = bool(jieba_posseg().dt.tokenizer.FREQ.get(word))
    return not known or len(word) == 3


_EN_WORD = re.compile(r"[A-Za-z][A-Za-z]*(?:-[A-Za-z]+)*|\S")
_QUESTION_OPENERS = frozenset("who whom whose what which where when why how is are was were do does did can could will would should name list give tell".split())


def _name_runs(question: str) -> list[str]:
    """Runs of capitalized words, the first word included unless it opens the question."""

    def counts(index: int, word: str) -> bool:
        # A capitalized first word is a name only when it spells pinyin ("Liu Jie is...");
        # otherwise it is just the sentence's start ("According to...", "Besides...").
        return index > 0 or (word.lower() not in _QUESTION_OPENERS and _looks_like_pinyin(word))

    return name_runs(_EN_WORD.findall(question), counts)


# Capitals and digits: not a measure ("2-yard", "24-hour") or a word with a digit ("internet2").
_CODE = re.compile(r"(?<![\w-])(?=[A-Z\d-]*[A-Z])(?=[A-Z\d-]*\d)[A-Z\d][A-Z\d-]*[A-Z\d](?![\w-])")


def _entities_en(question: str, translator: Translator | None) -> list[Constraint]:
    found = []
    role_words = {w for c in _roles_en(question) for w in c.surface.lower().split()}
    # A title inside a run of capitals parts two names: "Anhui Governor Wang Qingxian".
    phrases = [
        " ".join(part.split())
        for name in _name_runs(question)
        for part in re.split("|".join(rf"\b{re.escape(w)}\b" for w in role_words) or "$^", name, flags=re.I)
        if part.strip()
    ]
    codes = _CODE.findall(question)
    # A code of capitals and digits ("G60", "C919") is written the same in Chinese text: it binds
    # as written, and its letters alone ("G") are not a name.
    found += [Constraint(Kind.ENTITY, code, (code,)) for code in codes]
    phrases = [phrase for phrase in phrases if not any(phrase in code for code in codes)]
    for phrase in phrases:
        pinyin = _looks_like_pinyin(phrase)
        # An acronym's gloss is a guess ("AI" -> 哀); it stays uncheckable unless it is pinyin.
        acronym = phrase.isupper() and len(phrase) <= 5
        forms = tuple(translator.lookup(phrase, limit=6)) if translator is not None and not acronym else ()
        if not forms and translator is not None and pinyin and " " not in phrase:
            # CC-CEDICT glosses some provinces only with the word: "Anhui Province", not "Anhui"
            forms = tuple(translator.lookup(f"{phrase} Province", limit=6))
        # "House" (of Commons) spells pinyin too; a word CC-CEDICT renders as a common English
        # word is an English word, not a name (Nanjing -> "Nanjing", House -> "house").
        strict = pinyin and not _english_word(forms, translator)
        found.append(Constraint(Kind.ENTITY, phrase, forms, pinyin_name=pinyin, strict=strict))
    return found


def _english_word(forms: Sequence[str], translator: Translator | None) -> bool:
    """Whether the dictionary's first rendering of the Chinese `forms` an English word was
    glossed as is a lowercase common word."""
    renderings = (translator.english(form) for form in forms) if translator is not None else ()
    first = next((english for english in renderings if english), None)
    return bool(first and first[:1].islower())


@cache
def _pinyin_syllables() -> frozenset[str]:
    from pypinyin.constants import PINYIN_DICT

    syllables: set[str] = set()
    import unicodedata

    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = "".join(c for c in unicodedata.normalize("NFKD", reading) if not unicodedata.combining(c))
            syllables.add(plain.lower().replace("ü", "v"))
    return frozenset(s for s in syllables if s.isalpha())


def _syllable_count(word: str) -> int | None:
    """The fewest pinyin syllables of two or more letters that spell `word`, or None."""
    syllables = _pinyin_syllables()
    best: list[int | None] = [0] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end - 1):
            previous = best[start]
            if previous is not None and word[start:end] in syllables:
                if best[end] is None or previous + 1 < best[end]:  # type: ignore[operator]
                    best[end] = previous + 1
    return best[len(word)]


# Spellings that only pinyin has among the names an English question carries.
_PINYIN_MARK = re.compile(r"zh|ch|sh|x|q|j|iao|ian|iang|ang|ong|ing|ui|uo|ai|ei|ao|ou")


def _looks_like_pinyin(phrase: str) -> bool:
    """ "Liu Xiaotao", "Hangzhou": a Chinese name or place in pinyin, which the report would
    write in characters. Every word spells at most two pinyin syllables, and a lone word must
    look like pinyin ("Anhui", not "Lane" or "Polonia")."""
    words = re.findall(r"[A-Za-z]+", phrase)
    if not words or sum(map(len, words)) < 4 or any(len(word) > 1 and word.isupper() for word in words):
        return False  # "AI", "NDRC": acronyms, not names
    counts = [_syllable_count(word.lower()) for word in words]
    if any(count is None or count > 2 for count in counts):
        return False
    return len(words) >= 2 or bool(_PINYIN_MARK.search(words[0].lower()))


def _members(question: str, language: str) -> list[Constraint]:
    asked = asked_members(question, language)
    if asked is None:
        return []
    if asked.people:
        surface = "具体是哪几位" if language == "zh" else "who they are"
    else:
        surface = "具体包括哪些" if language == "zh" else "what they are"
    # forms: the set's name, then "people" when the members must be people and "adjacent" when
    # the name is of the set asked for (`MembersAsked.adjacent`)
    forms = (asked.set_name, *(["people"] if asked.people else []), *(["adjacent"] if asked.adjacent else []))
    return [Constraint(Kind.MEMBERS, surface, forms, count=asked.count)]


def names_asked_set(constraint: Constraint) -> bool:
    """Whether a MEMBERS constraint's name (forms[0]) is of the set asked for, not of something
    else the question asks after (`MembersAsked.adjacent`)."""
    return "adjacent" in constraint.forms[1:]


def parse(question: str, language: str, translator: Translator | None = None) -> tuple[Constraint, ...]:
    """The constraints `question` places on its answer. `language` is "zh" or "en"."""
    if language == "zh":
        roles = _roles_zh(question)
        attributes = _attributes_zh(question)
        entities = _entities_zh(question, roles, attributes, translator)
        ordinals = _ordinals_zh(question)
    else:
        roles = _roles_en(question)
        attributes = _attributes_en(question)
        entities = _entities_en(question, translator)
        ordinals = _ordinals_en(question)
        # Chinese written inside an English question ("Where is 方厅水院?") is checked as is.
        # Only in a mostly English question: "V＆A服装收藏品大约有多少件" is Chinese with a Latin name.
        cjk = re.findall(rf"[{CJK}]{{2,8}}", question)
        if sum(map(len, cjk)) * 3 < len(question):
            entities += [Constraint(Kind.ENTITY, word, _place_forms(word)) for word in cjk]
    speakers = _speaker_zh(question, entities) if language == "zh" else _speaker_en(question, entities)
    asked = _members(question, language) + speakers + _place_type(question, language)
    titles = _titled_zh(question, entities) if language == "zh" else _titled_en(question, entities)
    premises = titles + _acts(question, language)
    return tuple(entities + roles + _years(question) + ordinals + attributes + premises + asked)


# The verbs that quote someone, and, in a question, where he may speak before them ("在会上说").
SPEECH_VERBS = "(?:说|表示|指出|强调|介绍)"
ASKED_SPEECH = rf"(?:在[{CJK}]{{1,6}}?)?{SPEECH_VERBS}"
EN_SPEECH_VERBS = "(?:say|said|mention|stress|note)"
# "刘捷说,", "王清宪表示": the speaker a sentence quotes.
_SPOKEN = re.compile(rf"(?:^|[,，。；;:：\s])([{CJK}]{{2,4}}?){SPEECH_VERBS}")
# ... the speaker a question asks after: "刘小涛在会上说了什么", "上海市长龚正说了什么"
_ASKED_SPOKEN = re.compile(rf"(?:^|[,，。；;:：\s])([{CJK}]{{2,4}}?){ASKED_SPEECH}")
_TITLED_SPOKEN = re.compile(rf"(?:{'|'.join(ZH_ROLES)})([{CJK}]{{2,3}}?){ASKED_SPEECH}")
_EN_SPOKEN = re.compile(
    rf"\b(?:did|does|do) (.+?) {EN_SPEECH_VERBS}\b|\baccording to (.+?)(?:,|\?|$)|^(.+?) said\b", re.I
)


# The kind of place asked for -> its name's suffixes and the words a dictionary sense of one uses.
_PLACE_TYPES = {
    # what the sense calls the word itself, before its first comma: "Hefei prefecture-level
    # city and ...", "Shanghai municipality, ..."; not "Anhui Province ..., capital Hefei"
    "city": ("市", r"^[^,;]*\b(?:city|municipality|town|metropolis)\b|\bcapital of\b"),
    "district": ("区县", r"^[^,;]*\b(?:district|county)\b"),
}
# Institutions asked for ("哪所大学", "which university hosted"), named by their suffix alone. Not
# companies: XQuAD writes them without 公司 (维珍传媒, BSkyB) as often as with it.
_INSTITUTIONS = {
    "university": ("大学", "学院"),
    "school": ("学校", "中学", "小学", "大学", "学院"),
    "hospital": ("医院",),
    "museum": ("博物馆", "美术馆", "纪念馆", "展览馆", "展示馆"),
    "venue": ("馆", "中心", "会场", "酒店", "宾馆", "大厦", "礼堂", "会堂", "广场", "剧院", "体育场", "园"),
}
_ZH_INSTITUTION = re.compile(r"哪(?:一)?(?:所|家|个|座)(大学|学院|学校|医院|博物馆|场馆|会场|酒店|宾馆)")
_ZH_INSTITUTION_KEYS = {
    "大学": "university", "学院": "university", "学校": "school", "医院": "hospital", "博物馆": "museum",
    "场馆": "venue", "会场": "venue", "酒店": "venue", "宾馆": "venue",
}  # fmt: skip
# ... followed by its verb: "What university alumni member..." asks for a person.
_EN_INSTITUTION = re.compile(
    r"\b(?i:which|what)(?: [A-Z][a-z]+)? (university|college|school|hospital|museum|venue|hotel)"
    r"(?=\s+(?:did|does|do|was|were|is|are|has|have|had|will|would|can|could|\w+ed)\b)"
)
# Senses that make a place something other than a city or a district.
_OTHER_PLACE_KIND = re.compile(
    r"\b(?:province|state|country|nation|republic|kingdom|empire|river|lake|mountains?|range|region|delta"
    r"|sea|ocean|bay|island|peninsula|continent|desert|plain|valley|canal|strait|municipality|prefecture)\b",
    re.I,
)
# A sense that is only a name, perhaps with its country: "New York", "Melbourne, Australia".
_BARE_PLACE = re.compile(r"^[A-Z][\w'-]*(?: [A-Z][\w'-]*)*(?:, [A-Z][\w'-]*(?: [A-Z][\w'-]*)*)?$")
_COUNTED_PLACES = re.compile(r"^[一二两三四五六七八九十几数多]+[省市区县州国城镇村]$")
# Not provinces: a report names them inside titles ("安徽省委书记"), where no word stands alone.
# One or several ("哪些城市", "which counties"): a list of provinces ("沪苏浙") names no city.
_ZH_PLACE_TYPE = re.compile(r"哪(?:一|些|[几两三四五六七八九十]个)?(?:座|个)?(城市|市|区|县)(?![委长别])")
_ZH_PLACE_KEYS = {"城市": "city", "市": "city", "区": "district", "县": "district"}
_EN_PLACE_TYPE = re.compile(
    r"\b(?i:which|what)(?: (?:two|three|four|five|[A-Z][a-z]+))? (city|cities|district|districts|county|counties)\b"
)
_EN_PLACE_KEYS = {"cities": "city", "county": "district", "districts": "district", "counties": "district"}


def _place_type(question: str, language: str) -> list[Constraint]:
    """"2027年度座谈会在安徽省的哪座城市召开？" asks for a city: "在安徽省召开" names none."""
    if language == "zh":
        match = _ZH_PLACE_TYPE.search(question)
        key = _ZH_PLACE_KEYS[match.group(1)] if match else ""
    else:
        match = _EN_PLACE_TYPE.search(question)
        key = _EN_PLACE_KEYS.get(match.group(1), match.group(1)) if match else ""
    if match is None:
        match = (_ZH_INSTITUTION if language == "zh" else _EN_INSTITUTION).search(question)
        if match is None:
            return []
        word = match.group(1)
        key = _ZH_INSTITUTION_KEYS[word] if language == "zh" else {"college": "university", "hotel": "venue"}.get(word, word)
    # forms: the kind, then the question itself (its places are not the answer)
    return [Constraint(Kind.PLACE_TYPE, match.group(0), (key, question))]


def _place_type_met(constraint: Constraint, sentence: str, translator: Translator | None) -> bool:
    """Whether the sentence names a place of the asked kind that the question does not: by its
    suffix (合肥市, 闵行区), or by its dictionary sense (合肥: "...city and capital of Anhui
    Province"). A place the dictionary does not know (a transliteration) gets the benefit of the
    doubt; one it glosses as another kind (长三角: "Yangtze River Delta") does not count."""
    if translator is None:
        return True
    key, question = constraint.forms
    if key in _INSTITUTIONS:
        # a name ending in the suffix that the question does not write: 复旦大学, not 哪所大学
        return any(
            sentence[match.start() - 2 : match.end()] not in question
            for suffix in _INSTITUTIONS[key]
            for match in re.finditer(rf"(?<=[{CJK}]{{2}}){suffix}", sentence)
        )
    suffixes, sense_pattern = _PLACE_TYPES[key]
    pairs = list(jieba_posseg().cut(sentence))
    if any(word not in question for word in _foreign_names(pairs, translator)):
        return True  # a foreign place the dictionary lacks (杰克逊维尔, 维多利亚); not 长江口
    for pair in pairs:
        word = pair.word
        if len(word) < 2 or word in question or _PLACE_SUFFIX.sub("", word) in question:
            continue
        if word[-1] in suffixes and pair.flag == "ns" and len(word) in (3, 4):
            return True  # 合肥市, 闵行区; not 社区, 地区, 长三角地区
        if not pair.flag.startswith("n") or _COUNTED_PLACES.match(word):
            continue  # a city is tagged "n" as often as "ns"; 三省, 一市 count places, not name them
        sense = translator.sense(word)
        # A name's sense starts with the name ("Hefei prefecture-level city"); 城市's is "city".
        if sense is None or not sense[:1].isupper():
            continue
        if re.search(sense_pattern, sense):
            return True
        if pair.flag == "ns" and _BARE_PLACE.match(sense) and not _OTHER_PLACE_KIND.search(sense):
            return True  # a place of no stated kind ("Melbourne, Australia"); not "Yangtze River Delta"
    return False


def names_place_type(constraint: Constraint, phrase: str, translator: Translator | None) -> bool:
    """Whether `phrase` itself is a place of the kind asked for: by its suffix (合肥市), its
    dictionary sense ("Shanghai municipality", "Hefei, capital of Anhui", "Melbourne,
    Australia"), or, unknown to the dictionary, as a transliteration (杰克逊维尔). Not a region
    (长三角: "Yangtze River Delta"), a province or a country ("China"). Other asked kinds pass."""
    key = constraint.forms[0]
    if constraint.kind is not Kind.PLACE_TYPE or key not in _PLACE_TYPES or translator is None:
        return True
    suffixes, sense_pattern = _PLACE_TYPES[key]
    phrase = phrase.strip()
    if phrase[-1:] in suffixes and 3 <= len(phrase) <= 4:
        return True
    sense = translator.sense(phrase)
    if sense is None:
        return transliterated(phrase)
    if re.search(sense_pattern, sense):
        return True
    return "," in sense and bool(_BARE_PLACE.match(sense)) and not _OTHER_PLACE_KIND.search(sense)


def _foreign_names(pairs: list[Any], translator: Translator) -> Iterator[str]:
    """Runs of name-tagged words spelled mostly in transliteration characters, three characters
    or more (jieba cuts 杰克逊维尔 into 杰克逊/nr 维尔/nrt); not a dictionary's common word."""

    def foreign(pair: Any) -> bool:
        if pair is None or not pair.flag.startswith("n"):
            return False
        if 2 * sum(char in _TRANSLITERATION for char in pair.word) < len(pair.word):
            return False
        sense = translator.sense(pair.word)
        return sense is None or sense[:1].isupper()

    run = ""
    for pair in [*pairs, None]:
        if foreign(pair):
            run += pair.word
            continue
        if len(run) >= 3:
            yield run
        run = ""


def _speaker_zh(question: str, entities: list[Constraint]) -> list[Constraint]:
    spoken = {match.group(1) for match in _ASKED_SPOKEN.finditer(question)}
    found = [Constraint(Kind.SPEAKER, f"{c.surface}的说法", c.forms, speaker=c.surface) for c in entities if c.strict and c.surface in spoken and _a_person(c)]
    # A speaker given his title ("上海市长龚正说"), whom jieba often cuts apart (龚 / 正说).
    for match in _TITLED_SPOKEN.finditer(question):
        name = match.group(1)
        if looks_like_person(name) and not any(c.speaker == name for c in found):
            found.append(Constraint(Kind.SPEAKER, f"{name}的说法", (name,), speaker=name))
    return found


def _speaker_en(question: str, entities: list[Constraint]) -> list[Constraint]:
    match = _EN_SPOKEN.search(question)
    if match is None:
        return []
    said_by = next(group for group in match.groups() if group)
    return [
        Constraint(Kind.SPEAKER, f"what {c.surface} said", c.forms, pinyin_name=c.pinyin_name, speaker=c.surface)
        for c in entities
        if c.strict and c.pinyin_name and c.surface in said_by and _a_person(c)
    ]


# What may stand between a holder's name and what follows it in a question: not part of a name.
_NOT_IN_NAME = frozenset("说在的是和与及对将曾也都于为任")
# Between an English place and its title: "Anhui's governor", "Anhui provincial party secretary".
_EN_PLACE_TO_TITLE = r"(?:['’]s)?(?: (?:province|provincial|municipal|city|municipality))?\s+$"


def _titled_zh(question: str, entities: list[Constraint]) -> list[Constraint]:
    """The titles the question gives a named place or person ("安徽省委书记王浩", "苏州市长"): a
    premise the report must not contradict, whatever is asked about them."""
    roles = zh_roles_in(question)
    found = []
    for role, start, end in sorted(roles, key=lambda r: r[1]):
        run_start = title_run_start(question, start)
        run = question[run_start:start]
        # the place (or body) the title is of: an entity in the run of titles, a person only
        # when right before the title (jieba takes 嘉兴 for a name)
        places = [
            c for c in entities
            if c.forms and any(f in run for f in c.forms) and (not _a_person(c) or run.endswith(c.forms))
        ]  # fmt: skip
        # the name after the run of titles: "浙江省委副书记、省长刘捷" gives both titles to 刘捷
        after = end
        for _, other_start, other_end in roles:
            if other_start >= after and re.fullmatch(rf"、[{CJK}]{{0,6}}", question[after:other_start]):
                after = other_end
        named = [c.surface for c in entities if question.startswith(c.surface, after)]
        holder = named[0] if named else _zh_holder(question, after)
        if not places and holder is None:
            continue
        qualifier = tuple(f for c in places for f in c.forms)
        at = [position for f in qualifier if (position := run.find(f)) >= 0]
        first = run_start + min(at, default=len(run))
        surface = question[first : after + (len(holder) if holder else 0)]
        found.append(Constraint(Kind.TITLED, surface, (role,), qualifier=qualifier, holder=(holder,) if holder else ()))
    return found


def _zh_holder(question: str, at: int) -> str | None:
    """The person named right after a title at `at`, if any: three characters or two."""
    for length in (3, 2):
        name = question[at : at + length]
        if len(name) == length and re.fullmatch(f"[{CJK}]+", name) and name[-1] not in _NOT_IN_NAME:
            if looks_like_person(name):
                return name
    return None


def _titled_en(question: str, entities: list[Constraint]) -> list[Constraint]:
    """As `_titled_zh`, in English: "Anhui party secretary Wang Hao", "the mayor of Suzhou"."""
    found = []
    lower = question.lower()
    for match in EN_ROLE.finditer(lower):
        forms = en_title_forms(match.group(0))
        if not forms:
            continue
        start, end = match.span()
        before, after = question[:start], question[end:]
        places = [
            c for c in entities if c.forms and not _a_person(c) and (
                re.search(re.escape(c.surface) + _EN_PLACE_TO_TITLE, before, re.I)
                or re.match(rf"\s+of (?:the )?{re.escape(c.surface)}\b", after)
            )
        ]  # fmt: skip
        tail = after
        for place in places:
            of = re.match(rf"\s+of (?:the )?{re.escape(place.surface)}(?: (?:province|city|municipality))?\b", after, re.I)
            tail = after[of.end() :] if of else tail
        holder = next(
            (c for c in entities if c.pinyin_name and _a_person(c) and re.match(rf",?\s+{re.escape(c.surface)}\b", tail)),
            None,
        )
        if not places and holder is None:
            continue
        qualifier = tuple(f for c in places for f in c.forms)
        surface = " ".join([*(c.surface for c in places), match.group(0), *([holder.surface] if holder else [])])
        found.append(
            Constraint(
                Kind.TITLED, surface, forms, qualifier=qualifier, holder=holder.forms if holder else (),
                pinyin_name=bool(holder and not holder.forms), speaker=holder.surface if holder else "",
            )
        )  # fmt: skip
    return found


def _a_person(constraint: Constraint) -> bool:
    """Whether a speaker is a person, whose remarks can be told apart ("刘小涛说"); a province
    ("浙江说", "what did Zhejiang say") speaks through several people."""
    if constraint.forms:
        return any(looks_like_person(form) for form in constraint.forms)
    return constraint.pinyin_name  # a pinyin name the dictionary does not know: a person's


def _speaker_met(constraint: Constraint, sentence: str, before: str | None = None) -> bool:
    """A sentence that quotes someone else ("刘捷说,…" for "刘小涛说…") does not answer. One
    that quotes nobody continues the remarks of the last speaker before it in the document
    (`before`): it answers only when that is the asked one, so a roster line that merely names
    him does not. Without `before`, it gets the benefit of the doubt."""
    if before is None and not _SPOKEN.search(sentence):
        return True
    return spoken_by(constraint, [before or "", sentence])[-1]


def spoken_by(constraint: Constraint, sentences: Sequence[str]) -> list[bool]:
    """For a document's sentences in order, whether each is the asked speaker's: one that quotes
    someone is theirs when it quotes them ("刘小涛说,…"); one that quotes nobody continues the
    last speaker before it, so his remarks run to the next speaker, across paragraphs."""
    asked = Constraint(Kind.ENTITY, constraint.speaker, constraint.forms, pinyin_name=constraint.pinyin_name)
    theirs = []
    last = None
    for sentence in sentences:
        speakers = [match.group(1) for match in _SPOKEN.finditer(sentence)]
        if speakers:
            theirs.append(any(_entity_in(asked, speaker) for speaker in speakers))
            last = speakers[-1]
        else:
            theirs.append(last is not None and _entity_in(asked, last))
    return theirs


def _entity_in(constraint: Constraint, text: str) -> bool:
    if any(form and form in text for form in constraint.forms):
        return True
    for form in constraint.forms:
        abbreviation = PROVINCE_ABBREVIATIONS.get(_PLACE_SUFFIX.sub("", form))
        if abbreviation and any(abbreviation in run for run in ABBREVIATION_RUN.findall(text)):
            return True
    return constraint.pinyin_name and bool(names_in_text(constraint.surface, text))


def met(constraint: Constraint, text: str, translator: Translator | None = None) -> bool:
    """Whether `text` satisfies `constraint` (the sentence, or the sentence with its context).
    Spaces do not count: "第 33 届" meets 第33."""
    if " " in text:
        text = text.replace(" ", "")
    if constraint.kind is Kind.ROLE:
        return any(role_in(form, text) for form in constraint.forms)
    if constraint.kind is Kind.ENTITY:
        return _entity_in(constraint, text)
    if constraint.kind is Kind.SPEAKER:
        return _speaker_met(constraint, text)
    if constraint.kind is Kind.PLACE_TYPE:
        return _place_type_met(constraint, text, translator)
    if constraint.kind is Kind.TITLED:
        return title_met(*titles_in(constraint, text))
    if constraint.kind is Kind.MEMBERS:
        adjacent = names_asked_set(constraint)
        if listed_members(text, constraint.forms[0], adjacent) < constraint.count:
            return False
        if "people" in constraint.forms[1:]:
            # "中央财办、国家发展改革委" lists offices, not the officials asked for
            span = members_span(text, constraint.forms[0], adjacent)
            return span is not None and looks_like_person(span)
        return True
    return any(form in text for form in constraint.forms)


def titles_in(constraint: Constraint, text: str) -> tuple[bool, bool]:
    """What `text` says of the title a TITLED constraint gives: (bears it out, contradicts it)."""
    holders = constraint.holder
    if constraint.pinyin_name:
        holders = tuple(names_in_text(constraint.speaker, text))
        if not holders:
            return False, False
    return title_evidence(text, constraint.forms, constraint.qualifier, holders)


def title_met(supports: bool, contradicts: bool) -> bool:
    """A title is taken as given unless the text only contradicts it."""
    return supports or not contradicts


def mentioned(constraint: Constraint, text: str) -> bool:
    """Whether `text` mentions what `constraint` names at all: as `met`, except that a title
    naming a gathering counts ("秘书长座谈会" mentions 秘书长). For the report-wide check."""
    if constraint.kind is Kind.ROLE:
        return any(role_in(form, text.replace(" ", ""), holder=False) for form in constraint.forms)
    return met(constraint, text)


def checkable(constraint: Constraint) -> bool:
    """Whether the constraint can be checked at all: an English name with no Chinese form that
    is not pinyin either ("Fangting Water Courtyard") cannot be told present or absent."""
    return bool(constraint.forms) or constraint.pinyin_name


def report_wide(constraint: Constraint) -> bool:
    """Whether the report as a whole can lack `constraint` (not what the question asks for)."""
    return checkable(constraint) and constraint.kind not in ASKED_KINDS


def binding(constraint: Constraint, person_asked: bool, fact_asked: bool = True) -> bool:
    """Whether a candidate sentence must meet `constraint`, or only the report as a whole.

    A role binds the sentence when the question asks who holds it ("江苏省副省长是谁"); in
    "江苏省长在讲话中说…" it only names the speaker, whose quote will not repeat the title.
    An entity binds when the question asks for a fact about it (who, where, when, how many:
    "苏州市委书记是谁"); a what-question's subject ("三省一市要协同实施什么行动") is often named
    paragraphs before the sentence that answers it, so it binds the sentence's document instead
    (`document_bound`)."""
    if not constraint.strict or not checkable(constraint):
        return False
    if constraint.kind is Kind.ROLE:
        return person_asked
    if constraint.kind is Kind.ENTITY:
        return fact_asked
    return constraint.kind not in PREMISE_KINDS


def document_bound(constraint: Constraint, fact_asked: bool) -> bool:
    """Whether a candidate's document must name `constraint` though its sentence need not.

    A what-question's subject is often named paragraphs before the sentence that answers it
    (`binding`), but in a document that never names it the sentence is about something else:
    "芝加哥大学的校训是什么" is not answered by another university's motto. Only a firm name
    binds so; a typed question's entities already bind the sentence and its passage."""
    return not fact_asked and constraint.kind is Kind.ENTITY and constraint.strict and checkable(constraint)


def named_in_document(constraint: Constraint, document: str, translator: Translator | None = None) -> bool:
    """Whether `document` names the entity, as written or by the usual short form of a long
    Chinese name: its first character and that of its last word (芝加哥大学 -> 芝大)."""
    if met(constraint, document, translator):
        return True
    word = constraint.surface
    if len(word) < 4 or not all(CJK_CHAR.match(char) for char in word):
        return False
    return word[0] + word[-2] in document


def check(
    constraints: Iterable[Constraint],
    sentence: str,
    context: str,
    person_asked: bool,
    fact_asked: bool = True,
    translator: Translator | None = None,
    before: str | None = None,
    document: str | None = None,
) -> list[Check]:
    """Each binding constraint against a sentence. Entities, years and ordinals may also be met
    by `context` (the passage and headline around the sentence); a year, where the context names
    others too ("2026年度…举行。会议确定,2027年度…"), only as the year of the dated sentence this
    one retells (`_lends_year`). Roles and attributes must be in the sentence, next to the answer.
    `before`: the document's text before the sentence, which tells whose remarks a sentence
    continues; `document`: all of its text, which tells whether it names a set asked for."""
    constraints = list(constraints)
    has_role = any(c.kind is Kind.ROLE for c in constraints)
    checks = []
    for constraint in constraints:
        if not binding(constraint, person_asked, fact_asked):
            continue
        # Asked who holds a role ("Who is the governor of Anhui?"), the place must be named with
        # the role in the sentence: the passage around lists every province's governor.
        in_sentence = constraint.kind in SENTENCE_KINDS or (constraint.kind is Kind.ENTITY and person_asked and has_role)
        if constraint.kind is Kind.SPEAKER:
            checks.append(Check(constraint, _speaker_met(constraint, sentence, before)))
            continue
        if constraint.kind is Kind.MEMBERS:
            listed = met(constraint, sentence, translator) and _lists_the_set(constraint, sentence, document, before)
            for place in (c for c in constraints if c.kind is Kind.PLACE_TYPE):
                # "哪些城市": the list is of cities ("上海与苏州"), not "更大力度、更实举措" in a
                # sentence that names a city elsewhere
                clause = listing_clause(sentence, constraint.forms[0], names_asked_set(constraint))
                listed = listed and _place_type_met(place, clause, translator)
            checks.append(Check(constraint, listed))
            continue
        if constraint.kind is Kind.YEAR and not _lends_year(constraint, sentence, context):
            in_sentence = True  # a passage about several years does not lend one to a sentence
        where = sentence if in_sentence else sentence + "\n" + context
        checks.append(Check(constraint, met(constraint, where, translator)))
    return checks


def _lists_the_set(constraint: Constraint, sentence: str, document: str | None, before: str | None) -> bool:
    """Whether a list in `sentence` can be of the set asked for. Where its document names the set,
    the list's sentence or the one before it names it too: in a report that names "长三角其他自贸
    试验区" once, a list elsewhere ("构建信息、资源、服务等协同的出海服务生态") is of something else."""
    set_name = constraint.forms[0]
    if not names_asked_set(constraint) or not document or len(set_mention(document, set_name)) < MIN_SET_MENTION:
        return True
    if set_mention(sentence, set_name):
        return True
    # The sentence before may name the set for this one: as it introduces the list ("X包括以下
    #几项：") or as this one refers back to it ("其中…", "这些…").
    previous = before.rsplit("\n", 1)[-1] if before else ""
    mention = set_mention(previous, set_name)
    return bool(mention) and (introduces_members(previous, mention) or _REFERS_BACK_TO_BEFORE.match(sentence) is not None)


_REFERS_BACK_TO_BEFORE = re.compile(r"\s*(?:其中|其|这些|这|它们|该|此|上述|以上)")


# Where a passage's sentences end, for telling which of them a year stands in.
_CONTEXT_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_SAME_EVENT_CHARS = 8  # what a sentence must share with a dated one to be about the same event


def _lends_year(constraint: Constraint, sentence: str, context: str) -> bool:
    """Whether the passage around `sentence` lends it the asked year. A passage naming no other
    year does; one about several ("2026年度…在上海举行。会议确定,2027年度…在安徽省召开") lends
    the year of its dated sentence that shares the most with this one, when that shares a run of
    `_SAME_EVENT_CHARS` or more ("本报讯 5月20日至21日,长三角地区主要领导座谈会在上海举行" retells
    the 2026 headline)."""
    if not any(year not in constraint.forms for year in _YEAR.findall(context)):
        return True
    best, best_years, tied = 0, set(), False
    for part in _CONTEXT_SENTENCE.findall(context):
        years = set(_YEAR.findall(part))
        if not years or part.strip() == sentence.strip():
            continue
        shared = longest_shared(_YEAR.sub("", sentence), _YEAR.sub("", part))
        if shared > best:
            best, best_years, tied = shared, years, False
        elif shared == best and years != best_years:
            tied = True
    return best >= _SAME_EVENT_CHARS and not tied and best_years <= set(constraint.forms)


def absent(constraints: Iterable[Constraint], corpus_has: Callable[[Constraint], bool]) -> list[Constraint]:
    """The checkable constraints that nothing in the indexed text meets."""
    return [c for c in constraints if report_wide(c) and not corpus_has(c)]
