"""The answer phrase inside an answer sentence: a name, a place, a date, a number, an edition.

The answerer has chosen a sentence; this picks the words in it that answer the question, so the
reply can lead with them ("安徽省") and still cite the sentence. Three steps:

1. Candidates of the kind the question asks for, from jieba's part-of-speech tags (nr person,
   ns place, nt organization, t time, m number) and regular expressions for the forms the tags
   miss (5月20日至21日, 2027年度, 第八届, 《...》, ...省, the words after 被称为).
2. Anchors: the stretches of the sentence that the question shares. An English question shares
   no characters with Chinese text, so its anchors are its glossary translations, its numbers and
   its names found by pinyin.
3. The candidate that is not itself in the question and sits closest to the anchors wins. In
   Chinese the question word stands where the answer stands ("江苏省委书记是谁" /
   "江苏省委书记信长星"), so context that matches on either side of it counts extra.

No candidate of the right kind means no short answer (None), never the whole sentence.
Measured on XQuAD by `bench/short_answer_xquad.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ingest.text import CJK_CHAR, ENGLISH_STOPWORDS, jieba, jieba_posseg
from rag.answering.question_types import QuestionType
from rag.answering.roles import asked_post, titled
from rag.retrieval.glossary import Glossary, capitalized_names, names_in_text

# Scoring weights, tuned on XQuAD (zh and en questions together; see the bench script).
_DECAY_CHARS = 16.0  # an anchor this many characters away counts 1/e as much as an adjacent one
_CLAUSE_CHARS = 10  # a comma or semicolon between candidate and anchor counts as this many characters
_ALIGN_WEIGHT = 1.5  # per character of question context matched next to the candidate
_FOCUS_WEIGHT = 3.0  # anchors translated from the noun an English question asks about ("which province")
_HEAD_WEIGHT = 1.0  # per character of the asked-about noun ("哪个...方案") found inside the candidate
_PRIOR_WEIGHT = 6.0  # how much the kind of candidate (a dotted name over a bare noun) counts

_SPACES = " \u3000\t\n"
PUNCT = set("，,。.！!？?；;：:、（）()《》“”\"'‘’「」【】[]—-…·") | set(_SPACES)
_CLAUSE_BREAK = set("，,。！!？?；;：:")
_WITHOUT_SPACES = str.maketrans("", "", _SPACES)
_ZH_STOP = frozenset("的了在是和与及或等也都就而并被把对为以于之其这那有个上下中将从到由向")
_COPULAS = "是为的"
_LEADING_FUNCTION = frozenset("由被向与和的是把将对从在给让令及")

ZH_NUM = "零〇一二两三四五六七八九十百千万亿"
_NUMBER = rf"(?:\d[\d,，]*(?:\.\d+)?|[{ZH_NUM}]+)"
_DATE_PART = r"(?:\d{1,4}|[零〇一二三四五六七八九十]{1,4})"
_RANGE = r"\s*(?:至|到|-|—|–|~|和)\s*"
_DAY = rf"{_DATE_PART}\s*[日号]"
_MONTH = rf"{_DATE_PART}\s*月(?:\s*{_DAY})?"
_FULL_DATE = rf"(?:公元前?\s*)?{_DATE_PART}\s*年(?:度)?(?:\s*{_MONTH})?|{_MONTH}|{_DAY}"
# A date, or a range of two ("5月20日至21日", "1964年和1968年").
_DATE = re.compile(rf"(?:{_FULL_DATE})(?:{_RANGE}(?:{_FULL_DATE}))?")
_YEAR_RANGE = re.compile(rf"(?<![\d.])\d{{3,4}}\s*年?{_RANGE}\d{{3,4}}\s*年(?:间|代)?")
_ERA = re.compile(r"(?:公元前?\s*)?\d{1,2}\s*世纪(?:\s*\d0\s*年代)?|[一二三四五六七八九十]+世纪|\d0\s*年代")
_YEAR = re.compile(r"(?:公元前?\s*)?(?<![\d.])\d{3,4}(?:\s*年(?!代))?(?![\d.])")
_ORDINAL = re.compile(rf"第\s*(?:\d+|[{ZH_NUM}]+)\s*(?:届|次|期|个|名|位|轮|代|季|大|号)?")
_SCORE = re.compile(r"(?<![\d.])\d+\s*[–\-—:：比]\s*\d+(?![\d.])")
# A title keeps its book-title marks (《长三角...方案》 is how it is cited); a quoted phrase does not.
_QUOTED = re.compile(
    r"《[^《》]{1,60}》|(?<=“)[^“”]{1,40}(?=”)|(?<=「)[^「」]{1,40}(?=」)|(?<=\")[^\"]{1,40}(?=\")"
)
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9&.'\-]*(?:\s+[A-Za-z0-9][A-Za-z0-9&.'\-]*)*")
_CALLED_WORDS = frozenset(
    {"称为", "称作", "叫做", "叫作", "名为", "命名为", "名叫", "又称", "简称", "即", "誉为"}
)
_CALLED_QUOTE = re.compile(
    r"(?:称为|称作|叫做|叫作|名为|命名为|名叫|又称|简称|誉为)\s*[“「\"]([^”」\"]{1,40})[”」\"]"
)
NAME_DOT = "·•‧・"
_WITHOUT_NAME_DOTS = str.maketrans("", "", NAME_DOT)
_UNITS = (
    "次个人名位年天日月周小时分钟秒岁米厘米毫米公里千米英里英尺英寸码吨公斤千克克磅元美元英镑欧元亿万千百"
    "倍家座所辆架艘条项种本部场届轮期层户只头件台颗枚"
)
PLACE_SUFFIX = (
    "省",
    "市",
    "县",
    "区",
    "州",
    "国",
    "岛",
    "镇",
    "村",
    "洲",
    "湾",
    "河",
    "江",
    "湖",
    "山",
    "城",
)
_ORG_SUFFIX = (
    "队",
    "公司",
    "大学",
    "学院",
    "组织",
    "党",
    "政府",
    "委员会",
    "协会",
    "俱乐部",
    "集团",
    "银行",
    "机构",
    "部门",
    "联盟",
    "中心",
    "医院",
    "法院",
    "议会",
    "学校",
    "研究所",
    "基金会",
    "电视台",
    "会",
)

# The most common Chinese surnames: a word jieba does not know (信长星) that starts with one of
# them and has two or three characters is most likely a person's name.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温"
    "康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂"
    "成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党"
    "宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝信"
)
_TITLES = re.compile(
    r"(?:书记|省长|市长|县长|区长|主席|总统|总理|部长|主任|局长|厅长|院长|校长|教授|博士|先生|女士|经理|董事长"
    r"|总裁|队长|教练|队友|球员|作者|记者|委员|代表|大使|国王|皇帝|女王|首相|得主)$"
)

# Chinese question words, to line up the question's context around them with the sentence's.
_ZH_WH = re.compile(
    r"第几[届次期个名位轮代]?|什么时候|什么时间|什么地方|什么名字|哪一年|哪一天|哪[个一些座位所种类条支家]?[省市县国城州区]*"
    r"|多少|几(?!乎)|谁|何时|何地|何处|什么|啥"
)
# "…的主题是什么？": the noun a what-question asks for, before its copula.
_NOUN_IS_WHAT = re.compile(r"([^，,。；;？?\s]{2,})是(?:什么|哪个|哪些|哪一个)[？?。.\s]*$")
_OPENING_QUOTES = "“「\"‘"
_CLOSING_QUOTES = "”」\"’"
_YEAR_QUESTION = re.compile(r"哪[一几些]?年|何年|\b(?:what|which) years?\b", re.IGNORECASE)
_YEARS_QUESTION = re.compile(r"哪[几些]年|\b(?:what|which) years\b", re.IGNORECASE)  # a span of years
# The kind of place a question names, and the endings of Chinese place names of that kind.
_PLACE_KINDS = (
    (re.compile(r"省|province", re.IGNORECASE), ("省",)),
    (re.compile(r"城市|市|城|\bcit(?:y|ies)\b|\btowns?\b", re.IGNORECASE), ("市", "城", "镇")),
    (re.compile(r"国家|国|\bcountr(?:y|ies)\b|\bnations?\b", re.IGNORECASE), ("国",)),
    (re.compile(r"县|\bcount(?:y|ies)\b", re.IGNORECASE), ("县", "郡")),
    (re.compile(r"州|\bstates?\b", re.IGNORECASE), ("州",)),
)
_DURATION_QUESTION = re.compile(r"多久|多长时间|多少年|how long", re.IGNORECASE)
_TIME_UNITS = ("年", "月", "天", "日", "周", "小时", "分钟", "秒", "世纪")
_COUNTED_UNIT = re.compile(rf"(?:多少|几)\s*([{_UNITS}])")
# What a how-many question counts, as written after its question word: 多少平方英里, 多少种树木.
_ASKED_UNIT = re.compile(r"(?:多少|几)\s*([^\s\d，,。？?！!、的是了呢吗]{1,4})")
_SHARE_QUESTION = re.compile(r"比例|百分比|百分之|几成|占.{0,6}多少")
_SHARE = re.compile(r"[%％]|百分之|[一二三四五六七八九十]成")
_UNIT_STARTS = (*_UNITS, "平方", "立方", "公顷")
_UNIT_WINDOW = 3  # characters after a number where its unit stands ("16,000 个品种")
_EN_SHARE_QUESTION = re.compile(r"\b(?:percent(?:age)?|proportion|share|fraction)\b", re.IGNORECASE)
_EN_COUNTED = re.compile(r"\bhow\s+many\s+([a-z-]+)(?:\s+([a-z]+))?", re.IGNORECASE)
_DIGIT_RUN = re.compile(rf"[\d{ZH_NUM}.,，½]+")
# The noun a Chinese question asks about: 哪个方案 / 什么组织 / 哪支球队 -> 方案 / 组织 / 球队.
ZH_ASKED = re.compile(
    r"(?:哪|什么|何)(?:一|个|些|位|种|类|支|家|条|座|所|项|部)?([^，,。？?！!是的了在和与]{2,6})"
)
_EN_FOCUS = re.compile(
    r"\b(?:how\s+(?:many|much)|what|which)\s+((?:[A-Za-z\-']+\s+){0,2}[A-Za-z\-']+)", re.IGNORECASE
)


class Token(NamedTuple):
    start: int
    end: int
    word: str
    tag: str


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    prior: float  # how typical this kind of candidate is for the question type


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    weight: float


# --- segmentation ---------------------------------------------------------------------------------


# jieba's tagger costs ~1 ms a sentence and was a third of an answer's time; a report's questions
# keep landing on the same sentences, so the tags of recent ones are kept (a few MB at most).
@lru_cache(maxsize=16384)
def pos_tags(text: str) -> tuple[Token, ...]:
    """jieba's words of `text` with their part-of-speech tags and offsets into `text`."""
    tokens = []
    position = 0
    for pair in jieba_posseg().cut(text):
        tokens.append(Token(position, position + len(pair.word), pair.word, pair.flag))
        position += len(pair.word)
    return tuple(tokens)


def known_word(word: str) -> bool:
    return bool(jieba().dt.FREQ.get(word))


# --- candidates ---------------------------------------------------------------------------------


def _trimmed(text: str, start: int, end: int, prior: float) -> Candidate | None:
    """A candidate without the spaces at its ends, or None when nothing is left."""
    while start < end and text[start] in _SPACES:
        start += 1
    while end > start and text[end - 1] in _SPACES:
        end -= 1
    return Candidate(start, end, prior) if end > start else None


def _regex_spans(pattern: re.Pattern[str], text: str, prior: float) -> Iterator[Candidate]:
    for match in pattern.finditer(text):
        candidate = _trimmed(text, match.start(), match.end(), prior)
        if candidate:
            yield candidate


def _runs(tokens: Sequence[Token], inside: Iterable[str], min_chars: int = 2) -> Iterator[tuple[int, int]]:
    """Maximal runs of tokens whose tag starts with one of `inside`; spaces may join them."""
    tags = tuple(inside)
    run: list[Token] = []
    for token in [*tokens, Token(0, 0, "", "x")]:
        if token.word.strip() and token.tag.startswith(tags):
            run.append(token)
        elif run and not token.word.strip() and token.word:
            continue  # a space inside a run ("Konwiktorska 大街")
        else:
            if run and run[-1].end - run[0].start >= min_chars:
                yield run[0].start, run[-1].end
            run = []


def _person_spans(sentence: str, tokens: Sequence[Token]) -> Iterator[Candidate]:
    """Names: nr tags, unknown surname-led words (信长星), and transliterations joined by ·."""
    for i, token in enumerate(tokens):
        if not CJK_CHAR.match(token.word):
            continue
        start = token.start
        # jieba glues a preposition to an unknown name (由约翰): the name starts after it.
        if len(token.word) >= 3 and token.word[0] in _LEADING_FUNCTION:
            start += 1
        after_title = i > 0 and bool(_TITLES.search(tokens[i - 1].word))
        if token.tag.startswith("nr"):
            yield Candidate(start, token.end, 1.0)
        elif 2 <= len(token.word) <= 3 and token.word[0] in SURNAMES and not known_word(token.word):
            yield Candidate(start, token.end, 0.9 if after_title else 0.7)
        elif after_title and 2 <= len(token.word) <= 3 and token.tag in ("n", "nz", "nrt"):
            yield Candidate(start, token.end, 0.6)
    # Transliterated names join their parts with a middle dot: 卡万·肖特, 约翰·菲茨杰拉德·肯尼迪.
    starts = {token.start: token for token in tokens}
    ends = {token.end: token for token in tokens}
    dotted: list[tuple[int, int]] = []
    for match in re.finditer(rf"[{NAME_DOT}]", sentence):
        left, right = ends.get(match.start()), starts.get(match.end())
        if not (left and right and CJK_CHAR.match(left.word) and CJK_CHAR.match(right.word)):
            continue
        if dotted and dotted[-1][1] == left.end:
            dotted[-1] = (dotted[-1][0], right.end)
        else:
            first = left.start + (len(left.word) >= 3 and left.word[0] in _LEADING_FUNCTION)
            dotted.append((first, right.end))
    for start, end in dotted:
        # a last part jieba cut in two (唐娜·诺 + 布尔) goes on while names follow unbroken
        while end in starts and CJK_CHAR.match(starts[end].word) and starts[end].tag.startswith("nr"):
            end = starts[end].end
        while start in ends and CJK_CHAR.match(ends[start].word) and _name_part(ends[start]):
            # and a first part (戈特弗 + 里德·森佩尔, 洛 + 塔尔·德梅齐埃), without a preposition
            # glued to it (和玛丽)
            before = ends[start]
            glued = len(before.word) >= 3 and before.word[0] in _LEADING_FUNCTION
            start = before.start + glued
            if glued:
                break
        yield Candidate(start, end, 1.2)


def _name_part(token: Token) -> bool:
    """A token that goes on a transliterated name: a name, or one character jieba tagged as any
    noun (洛 of 洛塔尔, tagged a place)."""
    return token.tag.startswith("nr") or (len(token.word) == 1 and token.tag.startswith("n"))


def _outside(candidates: list[Candidate], spans: list[Candidate]) -> list[Candidate]:
    """Candidates not strictly inside one of `spans` (约什 inside 约什·诺曼 is not a name)."""
    return [
        c
        for c in candidates
        if not any(
            s.start <= c.start and c.end <= s.end and (s.start, s.end) != (c.start, c.end) for s in spans
        )
    ]


def _org_spans(tokens: Sequence[Token], prior: float) -> Iterator[Candidate]:
    """Organizations and teams: nt words, and noun runs ending like one (新英格兰爱国者队)."""
    for start, end in _runs(tokens, ("nt",)):
        yield Candidate(start, end, prior)
    for start, end in _runs(tokens, ("n", "j", "eng")):
        text = "".join(token.word for token in tokens if start <= token.start < end)
        if text.endswith(_ORG_SUFFIX):
            yield Candidate(start, end, prior)


def _place_spans(tokens: Sequence[Token]) -> Iterator[Candidate]:
    for start, end in _runs(tokens, ("ns",)):
        yield Candidate(start, end, 1.0)
    for token in tokens:
        if len(token.word) >= 2 and token.word.endswith(PLACE_SUFFIX) and token.tag.startswith("n"):
            yield Candidate(token.start, token.end, 0.9)
    for start, end in _runs(tokens, ("nt",)):
        yield Candidate(start, end, 0.6)


# 谁 as the doer: not right after a preposition or a copula (与谁, 是谁, 被谁).
_ASKS_AGENT = re.compile(r"(?<![与和跟同给对向为被让把是叫])谁(?!的)")
_AGENT_MARK = re.compile(r"(?:由|被)\s*$")
_AGENT_BONUS = 0.5
# A name question about someone: the person names in the sentence are candidates in full.
_NAMES_A_PERSON = re.compile(
    r"人(?!口|民币)|者|(?<!国)家(?!族|庭|园)|员|师|领袖|领导|总统|总理|主席|首相|国王|皇帝|王子|公主|将军|"
    r"先生|女士|夫人|博士|教授|演员|[选歌投射对]手|[后前锋]卫|四分卫|安全卫|校友|他|她|谁|"
    r"\b(?:who|whom|person|man|woman)\b",
    re.IGNORECASE,
)
_THING_PERSON_PRIOR = 0.5
LOCATIVES = frozenset({"在", "于", "位于", "坐落在", "坐落于", "到", "至"})
_LOCATIVE_BONUS = 0.5


def _after(tokens: Sequence[Token], words: frozenset[str], prior: float) -> Iterator[Candidate]:
    """The noun phrase after one of `words` (在/位于...: the place; 称为...: the name)."""
    for i, token in enumerate(tokens):
        if token.word not in words:
            continue
        run: list[Token] = []
        for following in tokens[i + 1 :]:
            if not following.word.strip():
                if run:
                    run.append(following)
                continue
            if following.tag.startswith(("n", "j", "eng", "a", "b")) or (
                run and (following.tag == "f" or following.word == "的")
            ):
                run.append(following)
                continue
            break
        while run and (run[-1].tag in ("f", "uj", "a", "b") or not run[-1].word.strip()):
            run.pop()  # 中/上/内, 的 and modifiers close the phrase but are not part of it
        if run:
            yield Candidate(run[0].start, run[-1].end, prior)


_EDITION_YEAR = re.compile(r"\d{4}\s*年度")
_TITLE = re.compile(r"《[^》]*》")
_YEARS_BEFORE_NIAN = re.compile(r"(?:1\d|20)\d\d(?:\s*[-–—~至到]\s*(?:1\d|20)?\d\d)?")


def _numbers(sentence: str, tokens: Sequence[Token]) -> Iterator[Candidate]:
    """Numbers with the measure word that follows them: 308分, 24 次, 三次, 5.15亿年, 20–18."""
    pattern = re.compile(
        rf"(?:约|近|超过|逾|高达|大约|至少|多达)?\s*{_NUMBER}(?:\s*[-–~至到]\s*{_NUMBER}|分之{_NUMBER})?\s*(?:[%％]|[万亿千百]+)?"
        rf"(?:半)?(?:\s*(?:多|余|以上|以下|左右))?(?:\s*[{_UNITS}]{{1,2}})?"
    )
    numerals = [token for token in tokens if token.tag in ("m", "mq")]
    titles = [match.span() for match in _TITLE.finditer(sentence)]
    for candidate in _regex_spans(pattern, sentence, 1.0):
        text = sentence[candidate.start : candidate.end]
        if any(start < candidate.start < end for start, end in titles):
            continue  # part of a title (《…三年行动计划》) names a document, it counts nothing
        if not re.search(rf"[\d{ZH_NUM}]", text):
            continue
        # Numerals inside ordinary words (统一, 一些, 万一, 第八) are not quantities.
        if not re.search(r"\d", text) and not any(t.start <= candidate.start < t.end for t in numerals):
            continue
        if candidate.start > 0 and sentence[candidate.start - 1] == "第":
            continue
        if re.fullmatch(r"(?:1\d|20)\d\d(?:\s*[-–—~至到]\s*\d{2,4})?\s*年(?:代|度|间)?", text):
            continue  # a year is a date, not a quantity
        if _YEARS_BEFORE_NIAN.fullmatch(text.strip()) and sentence[candidate.end : candidate.end + 1] == "年":
            continue  # the same, with 年 left outside the span ("2026—2028年", "2026年度")
        yield candidate
    for candidate in _regex_spans(_SCORE, sentence, 0.9):
        text = sentence[candidate.start : candidate.end]
        if not (_YEARS_BEFORE_NIAN.fullmatch(text) and sentence[candidate.end : candidate.end + 1] == "年"):
            yield candidate  # a score (20–18), not the years of "2026—2028年"


def _compound(found: list[Candidate], sentence: str) -> list[Candidate]:
    """A quantity in two units is one answer: "3 分 08 秒", "1米 80"."""
    joined: list[Candidate] = []
    for candidate in sorted(found, key=lambda c: c.start):
        last = joined[-1] if joined else None
        if (
            last is not None
            and candidate.start >= last.end
            and not sentence[last.end : candidate.start].strip()
            and not sentence[last.end - 1].isdigit()
            and sentence[candidate.start].isdigit()
        ):
            joined[-1] = Candidate(last.start, candidate.end, max(last.prior, candidate.prior))
        else:
            joined.append(candidate)
    return joined


# Time words jieba tags t that place nothing in time: "未来" (the future; also in the name
# 上海未来启点社区), "同时", "期间". They do not answer "when".
_NO_TIME_POINT = frozenset(
    "未来 过去 现在 目前 当前 今后 此前 此后 以后 以前 之前 之后 当时 同时 如今 期间 近年来 随后 最近 近期 长期 短期 一时 有时".split()
)


def _dates(sentence: str, tokens: Sequence[Token], year_only: bool, several_years: bool = False) -> Iterator[Candidate]:
    if year_only:
        if several_years:
            yield from _regex_spans(_YEAR_RANGE, sentence, 1.1)
        yield from _regex_spans(_YEAR, sentence, 1.0)
        return
    found: list[Candidate] = []
    for candidate in _regex_spans(_DATE, sentence, 1.0):
        if re.search(r"[年月日号]", sentence[candidate.start : candidate.end]):
            # A season or time of day right after the date belongs to it (1521年夏天).
            following = next((t for t in tokens if t.start == candidate.end and t.tag == "t"), None)
            found.append(Candidate(candidate.start, following.end if following else candidate.end, 1.0))
    found += _regex_spans(_YEAR_RANGE, sentence, 1.1)
    found += _regex_spans(_ERA, sentence, 1.0)
    found += _regex_spans(_YEAR, sentence, 0.7)
    found += (
        Candidate(start, end, 0.6)
        for start, end in _runs(tokens, ("t",))
        if sentence[start:end] not in _NO_TIME_POINT
    )
    # "2026年度座谈会" names the year's session; it does not say when anything happened.
    yield from (c for c in found if not _EDITION_YEAR.match(sentence, c.start))


def _candidates(question: str, sentence: str, qtype: QuestionType) -> list[Candidate]:
    tokens = pos_tags(sentence)
    found: list[Candidate] = []
    if qtype is QuestionType.WHO:
        found += _person_spans(sentence, tokens)
        found = _outside(found, [c for c in found if c.prior > 1.0])
        found += _org_spans(tokens, 0.6)
        found += _regex_spans(LATIN, sentence, 0.4)
        if _ASKS_AGENT.search(question):
            # "谁领导了援军" is answered by the doer, who in a passive sentence follows 由/被
            # ("由 蒙科姆少将 率领"), not by the subject at its head.
            found = [
                Candidate(c.start, c.end, c.prior + _AGENT_BONUS) if _AGENT_MARK.search(sentence[: c.start]) else c
                for c in found
            ]
    elif qtype is QuestionType.WHICH_PLACE:
        found += _place_spans(tokens)
        found = _of_named_kind(question, sentence, found)
    elif qtype is QuestionType.WHERE:
        # A place right after 在/于 ("在上海举行") is where something happens; other places in
        # the sentence are often only its subject's name ("长三角地区…座谈会").
        after_locative = {c.start for c in _after(tokens, LOCATIVES, 0.8)}
        found += (
            Candidate(c.start, c.end, c.prior + _LOCATIVE_BONUS) if c.start in after_locative else c
            for c in _place_spans(tokens)
        )
        found += _after(tokens, LOCATIVES, 0.8)
    elif qtype is QuestionType.WHEN:
        found += _dates(
            sentence,
            tokens,
            year_only=bool(_YEAR_QUESTION.search(question)),
            several_years=bool(_YEARS_QUESTION.search(question)),
        )
    elif qtype is QuestionType.HOW_MANY:
        found += _compound(list(_numbers(sentence, tokens)), sentence)
        if _DURATION_QUESTION.search(question):
            durations = [c for c in found if sentence[c.start : c.end].endswith(_TIME_UNITS)]
            found = durations or found
        found = _of_asked_unit(question, sentence, found)
    elif qtype is QuestionType.WHICH_EDITION:
        found += _regex_spans(_ORDINAL, sentence, 1.0)
    elif qtype is QuestionType.NAME:
        found += _regex_spans(_QUOTED, sentence, 1.0)
        # What follows 称为 is the name itself: it outranks a nearby noun.
        found += _after(tokens, _CALLED_WORDS, 2.5)
        found += (Candidate(m.start(1), m.end(1), 2.5) for m in _CALLED_QUOTE.finditer(sentence))
        people = _person_spans(sentence, tokens)
        if not _NAMES_A_PERSON.search(question):
            # "那出剧目叫什么名字", "这种算法叫什么": the name of a thing, not of the people
            # the sentence mentions beside it (特雷弗·马丁 in 《神秘博士…》)
            people = (Candidate(c.start, c.end, c.prior * _THING_PERSON_PRIOR) for c in people)
        found += people
        # a lone letter is a variable or a grade ("(a, b, c)", "II级"), not a name
        found += (c for c in _regex_spans(LATIN, sentence, 0.6) if c.end - c.start > 1)
        found += (Candidate(start, end, 0.7) for start, end in _runs(tokens, ("nz",)))
    elif qtype is QuestionType.WHAT:
        # Only titles and quoted terms. A bare noun phrase (here and for NAME) was the exact
        # answer to 17% of XQuAD's "what" questions: too few to lead a reply with.
        found += _regex_spans(_QUOTED, sentence, 0.6)
    if qtype in (QuestionType.NAME, QuestionType.WHAT):
        # A title is one thing: the words inside 《...》 are not answers of their own.
        found = _outside(found, [c for c in found if sentence[c.start] == "《"])
    return found


_NAME_PART_TAGS = ("n", "nz", "ns", "nt", "vn", "eng", "j", "b", "l", "i", "a")
_MAX_NAME_WORDS = 6


# One-character words after a noun that place it in time or space ("温暖气候时"), not part of a name.
_LOCALIZERS = frozenset("时后前中上下内外间里旁边")


def english_named_phrase(question: str, sentence: str, glossary: Glossary | None) -> str | None:
    """For an English "which/what <noun>" question, the name `sentence` gives a thing of that
    kind: the run of noun-like words ending in a dictionary rendering of the noun ("Which fund"
    -> 长三角创业投资引导基金). None when the sentence names none, or only the bare noun."""
    nouns = [noun for noun in dict.fromkeys(_asked_terms(question, glossary)) if len(noun) >= 2]
    if not nouns:
        return None
    tokens = pos_tags(sentence)
    anchors = _en_anchors(question, sentence, glossary)
    best: tuple[float, int] | None = None
    span = (0, 0)
    for noun in nouns:
        for match in re.finditer(re.escape(noun), sentence):
            last = next((t for t in tokens if t.start < match.end() <= t.end), None)
            if last is None or last.start < match.start() and last.end > match.end():
                continue
            end = last.end  # a rendering that starts a longer word takes the word: 示范 -> 示范区
            following = next((t for t in tokens if t.start == end), None)
            if following is not None and following.tag == "n" and len(following.word) == 1 and following.word not in _LOCALIZERS:
                end = following.end  # and a one-character noun after it: 港口 -> 港口群
            start, words = last.start, 0
            for token in reversed([t for t in tokens if t.end <= last.start]):
                if token.end != start or not token.tag.startswith(_NAME_PART_TAGS) or words >= _MAX_NAME_WORDS:
                    break
                start, words = token.start, words + 1
            candidate = Candidate(start, end, 1.0)
            if not words or in_question(question, sentence, candidate, anchors):
                continue
            key = (proximity(sentence, candidate, anchors) + len(noun), end - start)
            if best is None or key > best:
                best, span = key, (start, end)
    return None if best is None else sentence[span[0] : span[1]]


def _of_named_kind(question: str, sentence: str, candidates: list[Candidate]) -> list[Candidate]:
    """ "Which province": a place named ...省 beats the region around it."""
    for pattern, endings in _PLACE_KINDS:
        if pattern.search(question):
            return [
                Candidate(c.start, c.end, c.prior + 0.5)
                if sentence[c.start : c.end].endswith(endings)
                else c
                for c in candidates
            ]
    return candidates


def _of_asked_unit(question: str, sentence: str, found: list[Candidate]) -> list[Candidate]:
    """The numbers that count what the question counts: "每年多少平方英里" is answered by the
    figure in 平方英里, not the one in 平方公里 beside it; "多少比例" by a share. The others stay
    when no number is of that unit."""
    if _SHARE_QUESTION.search(question) and (shares := _shares(sentence, found)):
        return shares
    asked = _ASKED_UNIT.search(question)
    # "多少碳" names what is counted, not the unit it is counted in
    if not asked or not found or not asked.group(1).startswith(_UNIT_STARTS):
        return found
    unit = compact(asked.group(1))

    def matched(candidate: Candidate) -> int:
        """How much of the asked unit stands right after the candidate's (last) number."""
        at = _after_last_number(sentence, candidate)
        if at is None:
            return 0
        tail = compact(sentence[at : candidate.end] + sentence[candidate.end : candidate.end + len(unit) + _UNIT_WINDOW])
        return max((n for n in range(len(unit), 0, -1) if unit[:n] in tail[: n + _UNIT_WINDOW - 1]), default=0)

    lengths = [matched(c) for c in found]
    best = max(lengths)
    return [c for c, n in zip(found, lengths, strict=True) if n == best] if best else found


def _after_last_number(sentence: str, candidate: Candidate) -> int | None:
    """Where the candidate's last run of digits or numerals ends, in `sentence`; None without one."""
    numbers = list(_DIGIT_RUN.finditer(sentence[candidate.start : candidate.end]))
    return candidate.start + numbers[-1].end() if numbers else None


def _shares(sentence: str, found: list[Candidate]) -> list[Candidate]:
    """The candidates that are a share (35%, 百分之七十, 七成)."""
    return [c for c in found if _SHARE.search(sentence[c.start : c.end + 1])]


def _of_english_unit(
    question: str, sentence: str, found: list[Candidate], glossary: Glossary | None
) -> list[Candidate]:
    """`_of_asked_unit` for an English question: "what percentage" takes a share, "how many
    species" a number followed by a rendering of the noun (种); the others stay when none is."""
    if _EN_SHARE_QUESTION.search(question) and (shares := _shares(sentence, found)):
        return shares
    asked = _EN_COUNTED.search(question)
    if glossary is None or asked is None:
        return found
    # the noun may take a second word ("square miles"); else the first word is it ("people live")
    words = [w.lower() for w in asked.groups() if w]
    glosses = glossary.lookup(" ".join(words), 6) or glossary.lookup(words[0], 6)
    renderings = {r[:1] for r in glosses if r}
    if not renderings:
        return found

    def unit_follows(candidate: Candidate) -> bool:
        at = _after_last_number(sentence, candidate)
        return at is not None and any(char in renderings for char in compact(sentence[at : at + _UNIT_WINDOW + 1]))

    kept = [c for c in found if unit_follows(c)]
    if kept:
        return kept
    # No number counts the asked noun; one that counts places ("三省一市": 3 provinces, 1
    # city) does not answer how many people or projects either, unless places were asked.
    return [c for c in found if not _counts_places(sentence, c) or renderings & set(_PLACE_UNITS)]


_PLACE_UNITS = "省市区县州国城镇村"


def _counts_places(sentence: str, candidate: Candidate) -> bool:
    at = _after_last_number(sentence, candidate)
    return at is not None and sentence[at : at + 1] in _PLACE_UNITS and at + 1 > candidate.start


def _without_counted_unit(question: str, sentence: str, candidate: Candidate) -> Candidate:
    """ "丢了多少分" asks for the number of 分: the answer is "308", not "308分"."""
    unit = _COUNTED_UNIT.search(question)
    text = sentence[candidate.start : candidate.end]
    if unit and text.endswith(unit.group(1)) and re.search(r"\d", text):
        return _trimmed(sentence, candidate.start, candidate.end - 1, candidate.prior) or candidate
    return candidate


# --- anchors ------------------------------------------------------------------------------------


def zh_anchors(question: str, sentence: str) -> list[Anchor]:
    """Stretches of `sentence` (two characters or more, or a number) that also occur in `question`."""
    anchors = []
    i = 0
    while i < len(sentence):
        length = 0
        while i + length < len(sentence) and sentence[i : i + length + 1] in question:
            length += 1
        text = sentence[i : i + length]
        content = [char for char in text if char not in PUNCT and char not in _ZH_STOP]
        if (length >= 2 and len(content) >= 2) or (length >= 1 and text.isdigit()):
            anchors.append(Anchor(i, i + length, float(len(content))))
            i += length
        else:
            i += 1
    return anchors


def _find(terms: Iterable[str], sentence: str, weight: float) -> Iterator[Anchor]:
    for term in dict.fromkeys(terms):
        if len(term) < 2 and not term.isdigit():
            continue  # one character matches inside unrelated words
        for match in re.finditer(re.escape(term), sentence, flags=re.IGNORECASE):
            yield Anchor(match.start(), match.end(), weight * min(len(term), 4))


def _en_anchors(question: str, sentence: str, glossary: Glossary | None) -> list[Anchor]:
    terms: list[str] = re.findall(r"\d+(?:\.\d+)?", question)
    terms += [
        word for word in re.findall(r"[A-Za-z][A-Za-z0-9.&\-]+", question) if word.lower() not in ENGLISH_STOPWORDS
    ]
    for name in capitalized_names(question):
        terms += names_in_text(name, sentence)
        for part in name.split():  # a surname alone ("Elway" -> 埃尔维 is out of reach, 王 is not)
            terms += names_in_text(part, sentence) if len(part) > 3 else []
    if glossary is not None:
        terms += glossary.translate_terms(question)
    anchors = [
        *_find(terms, sentence, 1.0),
        *_find(_asked_terms(question, glossary), sentence, _FOCUS_WEIGHT),
    ]
    # A term found inside a longer one ("2027" in "2027年") is the same evidence: keep the longer.
    return [
        a
        for a in anchors
        if not any(
            b.start <= a.start and a.end <= b.end and (b.end - b.start) > (a.end - a.start) for b in anchors
        )
    ]


def _asked_terms(question: str, glossary: Glossary | None) -> list[str]:
    """Chinese words for what an English question asks about ("which province" -> 省份, 省)."""
    asked = _EN_FOCUS.search(question)
    if glossary is None or asked is None:
        return []
    return glossary.translate_terms(asked.group(1))


def _head_match(
    question: str, sentence: str, candidate: Candidate, language: str, asked: list[str]
) -> float:
    """Characters of the asked-about noun inside the candidate: "哪个...方案" and "《...方案》"."""
    text = sentence[candidate.start : candidate.end]
    if language == "zh":
        return float(asked_noun_shared(question, text))
    # a dictionary term shares its head with the text's word: 行动计划 / 《…行动方案》
    return float(max((longest_shared(term, text) for term in asked if len(term) >= 2), default=0))


def longest_shared(a: str, b: str) -> int:
    """Length of the longest stretch of `a`, two characters or more, that occurs in `b` (else 0)."""
    for n in range(len(a), 1, -1):
        if any(a[i : i + n] in b for i in range(len(a) - n + 1)):
            return n
    return 0


# --- ranking ------------------------------------------------------------------------------------


def _gap(sentence: str, start: int, end: int) -> float:
    """Characters between two positions, a clause break counting as several."""
    between = sentence[start:end]
    return len(between) + _CLAUSE_CHARS * sum(map(between.count, _CLAUSE_BREAK))


def proximity(sentence: str, candidate: Candidate, anchors: list[Anchor]) -> float:
    score = 0.0
    for anchor in anchors:
        if anchor.end <= candidate.start:
            distance = _gap(sentence, anchor.end, candidate.start)
        elif candidate.end <= anchor.start:
            distance = _gap(sentence, candidate.end, anchor.start)
        else:
            distance = 0.0
        score += anchor.weight * math.exp(-distance / _DECAY_CHARS)
    return score


def compact(text: str) -> str:
    return text.translate(_WITHOUT_SPACES)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _alignment(question: str, sentence: str, candidate: Candidate) -> float:
    """Characters of the question next to its question word that sit next to the candidate too.

    A copula next to the question word ("浙江省长是谁") has no counterpart in the sentence
    ("省长刘捷"), so the context is also tried without it.
    """
    before, after = compact(sentence[: candidate.start])[::-1], compact(sentence[candidate.end :])
    return max(aligned(before, after, wh_contexts(question)), float(_inverted_copula(question, before, after)))


def _inverted_copula(question: str, before: str, after: str) -> int:
    """"会议的主题是什么" answered the other way round, "以“…”为主题": the characters of "以"
    and "为主题" around the candidate (0 unless the asked noun follows whole). `before` is
    reversed."""
    match = _NOUN_IS_WHAT.search(question)
    if match is None:
        return 0
    noun = match.group(1).rsplit("的", 1)[-1]
    named = _named_by(after, [noun, noun[-2:]])
    if not named:
        return 0
    return named + 1 + before.lstrip(_OPENING_QUOTES).startswith("以")


def _named_by(after: str, nouns: Iterable[str]) -> int:
    """Characters of the longest of `nouns` (two or more) that "为" names right after a phrase
    (`after`: the text that follows it, compacted): "”为主题" names the quoted words the theme."""
    after = after.lstrip(_CLOSING_QUOTES)
    return max((len(noun) for noun in nouns if len(noun) >= 2 and after.startswith("为" + noun)), default=0)


def _named_as(sentence: str, candidate: Candidate, asked: list[str]) -> float:
    """Characters of the asked noun (Chinese words for it) that the sentence names the candidate
    as: "以“奋楫扬帆…”为主题" makes the quoted words the theme."""
    return float(_named_by(compact(sentence[candidate.end :]), asked))


def phrase_named_as(question: str, sentence: str, phrase: str, glossary: Glossary | None) -> float:
    """`_named_as` for an English question and the first occurrence of `phrase` in `sentence`."""
    at = sentence.find(phrase)
    if at < 0:
        return 0.0
    return _named_as(sentence, Candidate(at, at + len(phrase), 0.0), _asked_terms(question, glossary))


def asked_noun_shared(question: str, phrase: str) -> int:
    """Characters of the noun a Chinese question asks about ("哪个...战略") found in `phrase`."""
    match = ZH_ASKED.search(question)
    return longest_shared(match.group(1), phrase) if match else 0


def phrase_alignment(question: str, sentence: str, phrase: str) -> float:
    """`_alignment` of the first occurrence of `phrase` in `sentence` (0 when it is not there)."""
    at = sentence.find(phrase)
    return 0.0 if at < 0 else _alignment(question, sentence, Candidate(at, at + len(phrase), 0.0))


def wh_contexts(question: str) -> list[tuple[set[str], set[str]]]:
    """For each question word, the question's text before it (reversed) and after it."""
    contexts = []
    for match in _ZH_WH.finditer(question):
        left, right = compact(question[: match.start()]), compact(question[match.end() :])
        contexts.append(({left[::-1], left.rstrip(_COPULAS)[::-1]}, {right, right.lstrip(_COPULAS)}))
    return contexts


def aligned(before: str, after: str, contexts: list[tuple[set[str], set[str]]]) -> float:
    """`_alignment` given the sentence's text before a candidate (reversed) and after it."""
    return aligned_sides(before, after, contexts)[0]


def aligned_sides(
    before: str, after: str, contexts: list[tuple[set[str], set[str]]]
) -> tuple[float, float, float]:
    """`aligned`, and of it the characters matched before the candidate and after it."""
    best = (0.0, 0.0, 0.0)
    for lefts, rights in contexts:
        left = max(_common_prefix(before, x) for x in lefts)
        right = max(_common_prefix(after, x) for x in rights)
        if left + right > best[0]:
            best = (float(left + right), float(left), float(right))
    return best


def in_question(question: str, sentence: str, candidate: Candidate, anchors: list[Anchor]) -> bool:
    """Whether the question already says the candidate (it cannot be the answer then)."""
    text = compact(sentence[candidate.start : candidate.end])
    if not text or text in compact(question):
        return True
    undotted = text.translate(_WITHOUT_NAME_DOTS)
    if len(undotted) < len(text) and undotted in compact(question).translate(_WITHOUT_NAME_DOTS):
        return True  # 唐娜·诺布尔, asked as 唐娜诺布尔
    # English questions: a candidate made only of the question's translated words.
    covered: set[int] = set()
    for anchor in anchors:
        covered.update(range(max(anchor.start, candidate.start), min(anchor.end, candidate.end)))
    return len(covered) >= candidate.end - candidate.start


# "在圆满完成座谈会各项议程后,举行了成果发布会": what the question asks about stands only as the
# time after (or before) which something else happened.
_RELATIVE_FRAME = re.compile(r"在[^，,。；;：:！!？?]{1,40}?(?:之后|以后|后|之前|以前)(?=[，,\s])")
_ASKS_RELATIVE_TIME = re.compile(r"[之以]?[后前]|\b(?:after|before)\b", re.IGNORECASE)


def _not_after_the_asked(sentence: str, candidates: list[Candidate], anchors: list[Anchor]) -> list[Candidate]:
    """Dates outside a "在…后" frame that holds the question's words, and nowhere else: such a
    date is when something after the asked event happened, not when it did."""
    frames = [match.span() for match in _RELATIVE_FRAME.finditer(sentence)]
    if not frames:
        return candidates

    def framed(start: int, end: int) -> bool:
        return any(f_start <= start and end <= f_end for f_start, f_end in frames)

    terms: dict[str, list[bool]] = {}
    for anchor in anchors:
        if anchor.end - anchor.start >= 2:
            terms.setdefault(sentence[anchor.start : anchor.end], []).append(framed(anchor.start, anchor.end))
    if not any(all(inside) for inside in terms.values()):
        return candidates
    return [c for c in candidates if framed(c.start, c.end)]


def extract_short_answer(
    question: str,
    sentence: str,
    qtype: QuestionType,
    language: str,
    glossary: Glossary | None = None,
    fits: Callable[[str], bool] | None = None,
) -> str | None:
    """The phrase of `sentence` that answers `question`, exactly as it appears there, or None.

    `qtype` decides which kinds of phrase are candidates (see `classify`); `language` is the
    question's ("zh" or "en"); `glossary` lets an English question find its words in Chinese text.
    WHAT/WHY/YESNO/OTHER questions and sentences without a candidate of the asked kind give None.
    `fits`: a check the phrase must also pass (the kind of place asked for: a city, not 长三角).
    """
    candidates = _candidates(question, sentence, qtype)
    if fits is not None:
        candidates = [c for c in candidates if fits(sentence[c.start : c.end])]
    if qtype is QuestionType.WHO and (posts := asked_post(question, language)):
        # Asked who holds a post, only a name with that title answers: of "上海市委书记陈吉宁,
        # 上海市委副书记、市长龚正" the mayor is 龚正, though 陈吉宁 stands nearer "上海".
        candidates = [c for c in candidates if titled(sentence, c.start, c.end, posts)]
    if not candidates:
        return None
    if qtype is QuestionType.HOW_MANY:
        candidates = [_without_counted_unit(question, sentence, candidate) for candidate in candidates]
        if language == "en":
            candidates = _of_english_unit(question, sentence, candidates, glossary)
    anchors = (
        zh_anchors(question, sentence) if language == "zh" else _en_anchors(question, sentence, glossary)
    )
    if qtype is QuestionType.WHEN and not _ASKS_RELATIVE_TIME.search(question):
        candidates = _not_after_the_asked(sentence, candidates, anchors)
    asked = _asked_terms(question, glossary) if language == "en" else []
    best: tuple[float, int, int] | None = None  # (score, length, -start): then longer, then earlier
    span = (0, 0)
    for candidate in candidates:
        if in_question(question, sentence, candidate, anchors):
            continue
        score = _PRIOR_WEIGHT * candidate.prior + proximity(sentence, candidate, anchors)
        if language == "zh":
            score += _ALIGN_WEIGHT * _alignment(question, sentence, candidate)
        head = _head_match(question, sentence, candidate, language, asked)
        if language == "en" and not head:
            head = _named_as(sentence, candidate, asked)  # "以“…”为主题" for "what is the theme"
        if language == "en" and qtype is QuestionType.WHAT and not head:
            # An English what-question has no Chinese words around its slot to align with, and a
            # quoted term that is not the asked thing ("硬设施+软环境" for "what kind of highland")
            # was right for 3 of 17 (report dev); its answer-type bonus also pulled the wrong
            # sentence up. Without the asked noun in it, the reply quotes the sentence instead.
            continue
        score += _HEAD_WEIGHT * head
        key = (score, candidate.end - candidate.start, -candidate.start)
        if best is None or key > best:
            best, span = key, (candidate.start, candidate.end)
    return None if best is None else sentence[span[0] : span[1]]
