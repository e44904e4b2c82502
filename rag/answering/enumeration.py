"""Questions that ask for the members of a set, and whether a sentence lists them.

"上海“五个中心”分别是哪五个中心？" or "Which airports make up the airport cluster?" is answered by
a sentence that names the members ("龚正、刘小涛、刘捷、王清宪分别代表三省一市讲话"), not by one
that only mentions the set ("常态化对接上海“五个中心”建设"). Reports often name a programme or a
slogan without spelling it out; the sentence that mentions it is then close to the question in
every way retrieval measures, and without this check it was given as the answer.

A list is counted generously (enumeration commas, 和/与/及, quoted terms, book titles, runs of
province abbreviations such as 苏浙皖): a false refusal costs more than a missed one. A chain
that holds the set's own name ("推动先导产业积厚成势、传统产业转型升级…" for "先导产业有哪些")
lists the set beside its siblings, not its members, and does not count; "A、B等X" does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text import jieba_posseg
from rag.answering.provinces import ABBREVIATION_RUN

_ZH_COUNT = "一二两三四五六七八九十"
_ZH_COUNT_VALUES = {char: value for value, char in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}
# "分别是哪五个", "包括哪些", "由哪些…组成", "具体指的是什么", "哪几位". Not a plain 有哪些: "童工产生的
# 根源有哪些？" is answered by one cause as often as by a list (XQuAD); 哪一位 asks for one, and
# 哪几天/哪几年 ask for a span.
_ZH_TRIGGER = re.compile(
    rf"分别[是为有]|包括哪|包含哪|涵盖哪|由哪些|具体指|具体内容|具体是哪|具体有哪|"
    rf"哪([{_ZH_COUNT[1:]}几])(?:个|位|项|类|种|级|条|家|座|大|方面)"
)
_ZH_ASKED_COUNT = re.compile(rf"哪([{_ZH_COUNT}])(?:个|位|项|类|种|级|条|家|座|大|方面)?")
_EN_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_EN_TRIGGER = re.compile(
    r"\b(?:which|what) (?:two|three|four|five|six|seven|eight|nine|ten)\b(?!-)|"
    r"\b(?:make|makes) up\b|\bconsists? of\b|\bbelongs? to\b|\bare (?:on|in|included in|part of) the\b|"
    r"\b(?:does|do) .+ (?:contain|include|comprise)\b"
)
# "What are the three tiers of …?", "What are Shanghai's "five centres"?": a counted or quoted set.
# Not "What are cilia used for?" or "What are the four regions going to nurture?", whose subject is
# not what is asked, nor "What are the most powerful class of drugs?" (XQuAD), which names no set.
_EN_WHAT_ARE = re.compile(
    r"^\s*what are\b(?=.*(?:[\"“]|\b(?:two|three|four|five|six|seven|eight|nine|ten)\b))"
    r"(?!.*\b(?:to|called|used|known|going|doing|living|causing)\b)"
)
# The asking words between the set's name and the trigger: "五个中心分别指", "港口群具体", "都是".
_ASKING_TAIL = re.compile(r"(?:分别|具体|都|主要|一共|共)*(?:指的是|指|是|为|有)?$")
# "清单里", "计划中": where in the set, not part of its name.
_WITHIN = re.compile(r"(?:里面|里|当中|之中|中|内)$")
_ZH_PEOPLE = re.compile(r"哪[几一二两三四五六七八九十]?[位名]|哪些(?:人|领导|官员|同志)")
# People as what is asked for, right after the asking words: "which four leaders", "name the NDRC
# officials"; not "the plan adopted by the leaders".
_EN_PEOPLE = re.compile(
    r"^(?:name the|which|what)(?: [\w\-]+){0,3} (?:leaders|officials|people|persons|speakers|ministers|governors|mayors|secretaries)\b"
)
# A numeral that counts something in a set's name (五个中心, 三地一区), not one inside a word (统一).
_COUNTING = re.compile(rf"([{_ZH_COUNT}])(?=个|地|区|项|大|类|种|条|方面|城)")
_CLAUSE_WITH_END = re.compile(r"([^，,。；;：:！!？?\n]*)([，,。；;：:！!？?\n]|$)")
_CONJUNCTION = re.compile(r"以及|和|与|及|\+|＋")  # not 并 or 同: 并行, 同时
_QUOTED = re.compile(r"[“\"「]([^”\"」]{1,30})[”\"」]")
_TITLE = re.compile(r"《[^》]{1,60}》")
# A set's name shorter than this is not looked for as such in a sentence: "要发挥" (what the
# question's words before its asking words give when they name no set) would match anything.
MIN_SET_MENTION = 4
# After the set's name, words that introduce its members ("X包括：", "X分别是", "X即"); before
# it in its clause, words that refer back to the list before it ("A、B，共同构成X", "…，这些X").
_INTRODUCES = re.compile(r"\S{0,3}(?:包括|包含|涵盖|分别|即|为|是|有)")
_LEADS_IN = re.compile(r"以下|如下|下列")
_REFERS_BACK = re.compile(r"构成|组成|合称|统称|即|等|这")


@dataclass(frozen=True)
class MembersAsked:
    count: int  # how many members the question expects, at least 2
    set_name: str  # the set as the question names it, in Chinese; "" when unknown (English)
    people: bool = False  # the members are people ("哪几位", "which four leaders")
    # the set's name stands right before the asking words ("“五个中心”分别是"), not as a word about
    # something else the question asks after ("图表“…”所依托的论文是由哪些人写的")
    adjacent: bool = True


def asked_members(question: str, language: str) -> MembersAsked | None:
    """Whether `question` asks for the members of a set, and how many."""
    if language == "zh":
        trigger = _ZH_TRIGGER.search(question)
        if trigger is None:
            return None
        counted = _ZH_ASKED_COUNT.search(question, trigger.start())
        set_name, adjacent = _set_name(question[: trigger.start()])
        count = _ZH_COUNT_VALUES.get(counted.group(1), 2) if counted else _counted_by_name(set_name)
        people = bool(_ZH_PEOPLE.search(question, trigger.start()))
        return MembersAsked(max(2, count), set_name, people, adjacent)
    lower = question.lower()
    people = bool(_EN_PEOPLE.search(lower))
    named = people and lower.startswith("name the ")  # "Name the officials who attended"
    if "how many" in lower or not (_EN_TRIGGER.search(lower) or _EN_WHAT_ARE.search(lower) or named):
        return None
    numbers = [_EN_NUMBERS[word] for word in re.findall(r"[a-z]+", lower) if word in _EN_NUMBERS]
    quoted = _QUOTED.findall(question)
    if quoted:  # "three places and one zone": the name counts its members
        named_numbers = [_EN_NUMBERS.get(word, 1 if word == "one" else 0) for word in re.findall(r"[a-z]+", quoted[-1].lower())]
        if sum(named_numbers) >= 2:
            numbers = [sum(named_numbers)]
    return MembersAsked(max(2, numbers[0] if numbers else 2), "", people)


def _counted_by_name(set_name: str) -> int:
    """How many members a set's name counts: 五个中心 five, 三地一区 four (three and one), 两个确立
    two; 2 when it counts none."""
    total = sum(_ZH_COUNT_VALUES[char] for char in _COUNTING.findall(set_name))
    return total if total >= 2 else 2


def _set_name(before: str) -> tuple[str, bool]:
    """The set's name at the end of the words before the trigger, and whether it stands there
    (`MembersAsked.adjacent`): "会议提到的先导产业" -> 先导产业, "上海“五个中心”" -> 五个中心,
    "“一网通办”三年行动计划" -> that whole name; "图表“千年北半球气温重建”所依托的论文是由" -> the
    quoted name, which is not the set's."""
    # "“两个确立”的具体内容": a quoted set's own 的 before the asking words does not part it from
    # them; "皖北地区参与结对合作的具体是哪些城市" names no set before its 的
    before = before.rstrip()
    if before.endswith(("”的", '"的', "」的")):
        before = before[:-1]
    tail = re.split(r"[的，,、？?]|说|提到|提出", before)[-1]
    tail = _WITHIN.sub("", _ASKING_TAIL.sub("", tail)).strip()
    quoted = list(_QUOTED.finditer(before))
    if quoted:
        last = quoted[-1]
        if last.group(0) in tail and not tail.endswith(last.group(0)):
            named = tail[tail.index(last.group(0)) :]  # a quoted word that qualifies the set's noun
            return named, True
        return last.group(1), tail.endswith(last.group(0))
    tail = tail.strip("“”\"' ")
    return (tail, True) if len(tail) >= 2 else ("", True)


def listed_members(text: str, set_name: str = "", adjacent: bool = True) -> int:
    """The most members any clause of `text` lists (1 when it lists none). A chain that holds
    `set_name` itself does not count, nor, when the name is of the set asked for (`adjacent`), a
    list in another clause than the one naming it (`_clauses_of_set`)."""
    return max((count for count, _ in _listing_clauses(text, set_name, adjacent)), default=1)


def listing_clause(text: str, set_name: str = "", adjacent: bool = True) -> str:
    """The clause of `text` that lists the most members ("推进上海与苏州结对合作"), or ""."""
    counted = _listing_clauses(text, set_name, adjacent)
    return max(counted, key=lambda item: item[0])[1] if counted else ""


def _listing_clauses(text: str, set_name: str, adjacent: bool) -> list[tuple[int, str]]:
    """Each clause that may list the set's members, with how many it lists."""
    mention = set_mention(text, set_name)
    counted = []
    for clause in _clauses_of_set(text, mention if adjacent else ""):
        quoted = [term for term in _QUOTED.findall(clause) if not (mention and mention in term)]
        titles = [title for title in _TITLE.findall(clause) if not (mention and mention in title)]
        run = max((len(r) for r in ABBREVIATION_RUN.findall(clause)), default=1)
        chained = 1 + clause.count("、") + len(_CONJUNCTION.findall(clause))
        if _beside_siblings(mention, clause):
            chained = 1
        counted.append((max(chained, len(quoted), len(titles), run), clause))
    return counted


def set_mention(text: str, set_name: str) -> str:
    """How `text` names the asked set: the whole name, or its longest ending of
    `MIN_SET_MENTION` characters or more ("实事项目清单" for 2026年度实事项目清单, written
    "2026年度长三角一体化发展实事项目清单": the ending is the set's head, its qualifiers are what
    a sentence rewords); "" when it holds neither."""
    if set_name and set_name in text:
        return set_name
    for start in range(1, len(set_name) - MIN_SET_MENTION + 1):
        if set_name[start:] in text:
            return set_name[start:]
    return ""


def introduces_members(text: str, mention: str) -> bool:
    """Whether `text` names the set as `mention` to present its members after it ("X包括：",
    "X主要有以下几个", "X分别是")."""
    return mention in text and _introduces(text.split(mention, 1)[1])


def _introduces(after: str, end: str = "") -> bool:
    """Whether the words `after` the set's name (to the end of its clause, which ends in `end`)
    introduce its members."""
    colon = after.lstrip().startswith((":", "：")) or (not after.strip() and end in (":", "："))
    return bool(colon or _INTRODUCES.match(after) or _LEADS_IN.search(after))


def _clauses_of_set(text: str, mention: str) -> list[str]:
    """The clauses of `text` that may list the members of the set it names as `mention`: the
    clause naming it; the ones after it when it introduces them ("X包括：A、B", "X：A；B"); the
    one before when it refers back ("A、B，共同构成X"). A sentence that names the set in one
    clause and lists in another ("审议通过《A》《B》,发布了X等成果") lists the set's siblings, not
    its members. All clauses when it does not name the set (the list's own sentence often does
    not)."""
    clauses = [(match.group(1), match.group(2)) for match in _CLAUSE_WITH_END.finditer(text) if match.group(1)]
    named = [i for i, (clause, _) in enumerate(clauses) if mention and mention in clause]
    if not named:
        return [clause for clause, _ in clauses]
    kept: set[int] = set()
    for i in named:
        kept.add(i)
        clause, end = clauses[i]
        before, after = clause.split(mention, 1)
        if _introduces(after, end):
            kept.update(range(i + 1, len(clauses)))
        if i > 0 and _REFERS_BACK.search(before):
            kept.add(i - 1)
    return [clauses[i][0] for i in sorted(kept)]


def _beside_siblings(set_name: str, clause: str) -> bool:
    """Whether the clause's chain holds the set beside its siblings ("推动X积厚成势、Y转型升级"),
    rather than presenting its members ("X包括A、B", "A、B等X", "A、B即X", or quoted right before it:
    "“硬设施+软环境”双轮驱动")."""
    if not set_name or set_name not in clause:
        return False
    name = re.escape(set_name)
    introduced = re.search(
        rf"(?:等|即|为|是|这|共)\S{{0,3}}{name}|[”\"」]{name}|{name}(?:[:：]|包括|包含|涵盖|为|是|即|分别)", clause
    )
    return introduced is None


# Parts of speech that end a list's first item's lead-in ("推动", "加快") or its last item's tail
# ("互认", "跨区域融合发展", "分别代表…").
_NOT_MEMBER = ("v", "d", "p", "c", "u", "r", "m", "q", "f", "ad", "y")


def members_span(text: str, set_name: str = "", adjacent: bool = True) -> str | None:
    """The list itself, as a short answer: "龚正、刘小涛、刘捷、王清宪" from "龚正、刘小涛、刘捷、
    王清宪分别代表三省一市讲话", "文化、旅游、体育" from "加快文化、旅游、体育跨区域融合发展";
    None when no clause lists two or more."""
    best: tuple[int, str] | None = None
    mention = set_mention(text, set_name)
    for clause in _clauses_of_set(text, mention if adjacent else ""):
        found: list[tuple[int, str]] = []
        runs = ABBREVIATION_RUN.findall(clause)
        if runs:
            run = max(runs, key=len)
            found.append((len(run), run))
        titles = [title for title in _TITLE.finditer(clause) if not (mention and mention in title.group())]
        if len(titles) >= 2:
            found.append((len(titles), clause[titles[0].start() : titles[-1].end()]))
        if "、" in clause and not _beside_siblings(mention, clause):
            items = clause.split("、")
            items[0], items[-1] = _lead_trimmed(items[0]), _tail_trimmed(items[-1])
            if all(items):
                found.append((len(items), "、".join(items)))
        for count, span in found:
            if best is None or count > best[0]:
                best = (count, span)
    return best[1] if best is not None and best[0] >= 2 else None


def _lead_trimmed(item: str) -> str:
    words = list(jieba_posseg().cut(item))
    while words and words[0].flag.startswith(_NOT_MEMBER):
        words.pop(0)
    return "".join(w.word for w in words)


def _tail_trimmed(item: str) -> str:
    kept = []
    for word in jieba_posseg().cut(item):
        if word.flag.startswith(_NOT_MEMBER) and word.flag != "vn":
            break
        kept.append(word.word)
    return "".join(kept)
