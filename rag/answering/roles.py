"""Titles and posts (省长, 市委书记, "vice governor") and who holds one in a sentence.

Reports name officials title first: "上海市委副书记、市长龚正", several titles joined by "、". A
question that asks who holds a post is answered by the name its title stands with, not by another
name in the same list ("上海市委书记陈吉宁" is not the mayor). Shared by the constraint checks
(`rag.answering.constraints`) and the short answer (`rag.answering.short_answer`).
"""

from __future__ import annotations

import re

from ingest.text import jieba_posseg
from rag.retrieval.glossary import names_in_text

# Roles, longest first so that 副省长 is read before 省长 and "vice governor" before "governor".
ZH_ROLES = (
    "纪委书记", "政协主席", "人大常委会主任", "组织部部长", "宣传部部长", "统战部部长", "政法委书记",
    "省委副书记", "市委副书记", "省委书记", "市委书记", "县委书记", "区委书记", "党委书记", "总书记",
    "副书记", "书记", "副省长", "省长", "副市长", "市长", "副县长", "县长", "副区长", "区长",
    "副总理", "总理", "副主席", "主席", "副总统", "总统", "首相", "副部长", "部长", "秘书长", "副主任",
    "主任", "局长", "厅长", "副校长", "校长", "院长", "董事长", "总经理", "总裁", "大使", "发言人",
    "主编", "省委常委", "市委常委", "常委",
)  # fmt: skip
EN_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"(?:party )?discipline (?:inspection )?(?:commission )?(?:chief|secretary|head)", ("纪委书记",)),
    (r"deputy party secretary|deputy secretary", ("副书记",)),
    (r"party secretary|party chief|party boss|secretary of the [a-z ]*party committee", ("书记",)),
    (r"general secretary", ("总书记",)),
    (r"secretary[- ]general", ("秘书长",)),
    (r"vice[- ]governor|deputy governor|lieutenant governor", ("副省长",)),
    (r"governor", ("省长",)),
    (r"vice[- ]mayor|deputy mayor", ("副市长",)),
    (r"mayor", ("市长",)),
    (r"vice[- ]premier", ("副总理",)),
    (r"premier|prime minister", ("总理", "首相")),
    (r"vice[- ]president", ("副主席", "副总统", "副校长")),
    (r"president", ("主席", "总统", "校长", "院长")),
    (r"vice[- ]chairman|vice[- ]chair", ("副主席",)),
    (r"chairman|chairwoman|chairperson", ("主席", "董事长")),
    (r"deputy minister|vice[- ]minister", ("副部长",)),
    (r"minister", ("部长",)),
    (r"ambassador", ("大使",)),
    (r"spokes(?:man|woman|person)", ("发言人",)),
    (r"chief executive|ceo", ("总裁", "总经理", "首席执行官")),
    (r"editor[- ]in[- ]chief|chief editor", ("主编",)),
    (r"director(?:[- ]general)?|head of the [a-z ]*(?:office|bureau|department|commission)", ("主任", "局长", "司长", "处长", "厅长", "院长", "馆长", "总监", "所长")),
)
EN_ROLE = re.compile(r"\b(?:" + "|".join(f"(?:{pattern})" for pattern, _ in EN_ROLES) + r")s?\b")


def role_in(role: str, text: str, holder: bool = True) -> bool:
    """`role` in `text`, not as the tail of a deputy's title (省长 is not met by 副省长), nor as
    the name of a meeting of such people (研究室主任座谈会 holds no director)."""
    return any(_held_at(role, text, match.start(), holder) for match in re.finditer(re.escape(role), text))


def _held_at(role: str, text: str, start: int, holder: bool = True) -> bool:
    """Whether `role`, standing at text[start:], is that title itself: not a deputy's tail, nor
    (with `holder`) the name of a meeting of such people."""
    deputy = not role.startswith("副") and start > 0 and text[start - 1] == "副"
    return not deputy and not (holder and _ROLE_AS_MODIFIER.match(text, start + len(role)))


# A title that names a gathering or an office of its holders, not a holder.
_ROLE_AS_MODIFIER = re.compile(r"(?:联席)?(?:座谈会|会议|办公会|热线|信箱|论坛|培训班|工作会)")

# "Who is the mayor of X?", "Who was Zhejiang's governor?": the question asks who holds the post
# (not "Who appointed the governor?", nor "Who is the governor's wife?").
_EN_ASKS_HOLDER = re.compile(
    r"^\s*who\s+(?:is|was|are|were|will be|has been|had been|became|becomes|serves as|served as)\s+(.+)$",
    re.IGNORECASE,
)
_EN_POSSESSIVE = re.compile(r"\s*['’]s\b")
# "江苏省长是谁", "谁是上海市长", "浙江省省长叫什么名字"
_ZH_HOLDER_AFTER = re.compile(r"\s*(?:是谁|是哪位|是何人|叫什么|名叫什么|由谁担任|为谁)")
_ZH_HOLDER_BEFORE = re.compile(r"谁(?:是|担任|出任)")
# Where a title run ends: a clause break, or a conjunction joining two titled names. Spaces do not
# count (XQuAD's Chinese sets names apart: "最后一任总理 洛塔尔·德梅齐埃").
_TITLE_RUN_BREAK = re.compile(r"[，,。；;：:！!？?（(）)“”\"\n]|和|与|及")
_SPACES = re.compile(r"\s+")
# The title given after the name: "任命威廉·西蒙为联邦能源办公室首任主任".
_TITLE_AFTER = re.compile(r"(?:为|担任|出任|是)([^，,。；;：:！!？?]{1,20})")


def zh_roles_in(text: str) -> list[tuple[str, int, int]]:
    """The titles `text` names, each where it stands; 副省长 is one title, not 省长 as well."""
    found = []
    taken = [False] * len(text)
    for role in ZH_ROLES:
        for match in re.finditer(re.escape(role), text):
            start, end = match.span()
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(role)
                found.append((role, start, end))
    return found


def en_title_forms(title: str) -> tuple[str, ...]:
    """The Chinese forms of an English title as `EN_ROLE` finds it ("governors" -> 省长)."""
    singular = title[:-1] if title.endswith("s") and not title.endswith("ss") else title
    for pattern, forms in EN_ROLES:
        if re.fullmatch(pattern, singular):
            return forms
    return ()


def asked_post(question: str, language: str) -> tuple[str, ...]:
    """The Chinese forms of the post whose holder `question` asks for, or () when it asks no such
    thing. Only the copular questions: who is, who was, ...是谁."""
    if language == "zh":
        for role, start, end in zh_roles_in(question):
            if _ZH_HOLDER_AFTER.match(question, end) or _ZH_HOLDER_BEFORE.search(question, 0, start):
                return (role,)
        return ()
    asked = _EN_ASKS_HOLDER.match(question)
    if asked is None:
        return ()
    rest = asked.group(1).lower()
    match = EN_ROLE.search(rest)
    if match is None or _EN_POSSESSIVE.match(rest, match.end()):
        return ()
    return en_title_forms(match.group(0))


def titled(sentence: str, start: int, end: int, forms: tuple[str, ...]) -> bool:
    """Whether the name at sentence[start:end] bears one of the titles `forms`: in the run of
    titles just before it ("上海市委副书记、市长龚正" makes 龚正 市长 and 市委副书记), or right
    after it ("奥巴马总统", "任命威廉·西蒙为…首任主任")."""
    after = _SPACES.sub("", sentence[end:])
    given = _TITLE_AFTER.match(after)
    if any(after.startswith(form) or (given and _ends_with_title(given.group(1), form)) for form in forms):
        return True
    titles = _SPACES.sub("", sentence[title_run_start(sentence, start) : start]).split("、")
    if not titles[-1] or not any(titles[-1].endswith(role) for role in ZH_ROLES + forms):
        return False  # no title right before the name
    return any(_ends_with_title(title, form) for title in titles for form in forms)


def title_run_start(sentence: str, start: int) -> int:
    """Where the run of titles before sentence[start] may begin: after the last clause break or
    conjunction before it."""
    return max((m.end() for m in _TITLE_RUN_BREAK.finditer(sentence, 0, start)), default=0)


def _ends_with_title(text: str, form: str) -> bool:
    """`text` ends with the title `form`, not with a deputy's (市长 is not 副市长's tail)."""
    return text.endswith(form) and role_in(form, text[-len(form) - 1 :])


# "王浩担任的是什么职务", "龚正在上海担任什么职务", "王清宪在安徽身兼哪两个职务": the posts a named person
# holds. The name is what stands before the verb (a place in between is allowed: "在上海").
_ZH_POSTS_OF = re.compile(
    r"^([\u4e00-\u9fff]{2,4}?)(?:在[\u4e00-\u9fff]{2,4})?(?:担任|身兼|任|是)(?:的是|了|过)?"
    r"(?:什么|哪个|哪些|哪两个|哪几个|何种)?(?:党内)?(?:职务|职位|官职)"
)
_EN_POSTS_OF = re.compile(
    r"\bwhat (?:other )?(?:party )?(?:position|post|title|office)s? (?:does|did|do) "
    r"((?:[A-Z][a-z]+ ?){1,3}) (?:hold|have|occupy)\b|\bwhat is ((?:[A-Z][a-z]+ ?){1,3})['’]s (?:position|post|title)\b",
    re.IGNORECASE,
)


def posts_asked_of(question: str, language: str) -> str | None:
    """The person whose posts `question` asks for ("王浩", "Liang Yanshun"), or None."""
    match = (_ZH_POSTS_OF if language == "zh" else _EN_POSTS_OF).search(question.strip())
    if match is None:
        return None
    name = next(group for group in match.groups() if group)
    return name.strip() if language == "zh" or name[:1].isupper() else None


def titles_of(person: str, sentence: str, language: str) -> str | None:
    """The run of titles `sentence` gives `person` (asked in Chinese, or in pinyin), or None:
    "浙江省委副书记、省长" of 刘捷 in "浙江省委书记王浩,浙江省委副书记、省长刘捷;"."""
    names = [person] if language == "zh" else names_in_text(person, sentence)
    for name in names:
        for match in re.finditer(re.escape(name), sentence):
            run = sentence[title_run_start(sentence, match.start()) : match.start()].strip()
            if run and run.endswith(ZH_ROLES):
                return run
    return None


# A title's qualifier is what is left once its role is taken off, with the organ's characters:
# "上海市委副书记" -> 上海, "安徽省委书记" -> 安徽.
_ORGAN_TAIL = re.compile(r"[省市区县州]?[委党]?$")
_QUALIFIER_TAGS = ("ns", "nt", "nz", "j")


def title_evidence(
    text: str, roles: tuple[str, ...], qualifiers: tuple[str, ...], holders: tuple[str, ...]
) -> tuple[bool, bool]:
    """What `text` says of a title a question gives, as (bears it out, contradicts it).

    With a holder ("安徽省委书记王浩"): each place `text` titles him bears it out when the title is
    one of `roles` with one of `qualifiers` (or no place at all: "总统奥巴马"), and contradicts it
    when he is given other titles only ("浙江省委书记王浩"). Without one ("苏州市长"): each holder
    of one of `roles` bears it out when named with one of `qualifiers` or none, and contradicts it
    when named with another place ("上海市委副书记、市长"). A name without titles says nothing."""
    text = _SPACES.sub("", text)
    supports = contradicts = False
    if holders:
        spots = [(m.start(), m.end()) for name in holders for m in re.finditer(re.escape(name), text)]
        for start, end in spots:
            if not titled(text, start, end, ZH_ROLES):
                continue  # "陈吉宁信长星王浩…出席": named, not titled
            if titled(text, start, end, roles):
                verdict = _qualified(text[title_run_start(text, start) : start], qualifiers)
                supports |= verdict is not False
                contradicts |= verdict is False
            else:
                contradicts = True
        return supports, contradicts
    for role in roles:
        for match in re.finditer(re.escape(role), text):
            if not _held_at(role, text, match.start()):
                continue  # a deputy's title, or a meeting of such people
            verdict = _qualified(text[title_run_start(text, match.start()) : match.start()], qualifiers)
            supports |= verdict is not False
            contradicts |= verdict is False
    return supports, contradicts


def _qualified(run: str, qualifiers: tuple[str, ...]) -> bool | None:
    """Whether the titles before a name or role (`run`) place it where the question does: True
    when they name one of `qualifiers`, False when they name somewhere else, None when they
    name no place (or `qualifiers` is empty: any place will do)."""
    if not qualifiers or any(q and q in run for q in qualifiers):
        return True
    for piece in run.split("、"):
        body = _ORGAN_TAIL.sub("", _strip_role(piece))
        if not body:
            continue
        tokens = list(jieba_posseg().cut(body))
        if tokens and tokens[-1].flag in _QUALIFIER_TAGS:
            return False
    return None


def _strip_role(piece: str) -> str:
    for role in ZH_ROLES:  # longest first
        if piece.endswith(role):
            return piece[: -len(role)]
    return piece
