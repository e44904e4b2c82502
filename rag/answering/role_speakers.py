"""A speaker named by post: "江苏省长说…", "what did Zhejiang's governor say".

News reports list who holds which post ("江苏省委副书记、省长刘小涛") and quote people by name
("刘小涛说,…"). A question that names the post instead asks what its holder said: resolved to
the name the report gives, it is checked like "刘小涛说…" (rag.answering.constraints: the
speaker's remarks, not a roster line or another governor's words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.text import CJK
from rag.answering.constraints import ASKED_SPEECH, EN_SPEECH_VERBS
from rag.answering.english import name_in_pinyin
from rag.answering.question_types import QuestionType
from rag.answering.roles import en_title_forms
from rag.answering.short_answer import extract_short_answer
from rag.answering.slots import looks_like_person
from rag.retrieval.glossary import Glossary

_ZH_POSTS = ("省委书记", "市委书记", "书记", "省长", "市长", "主席", "部长")
_ZH_SPEAKER_POST = re.compile(
    rf"(?:^|[,，。；;:：\s])([{CJK}]{{2,4}}?)({'|'.join(_ZH_POSTS)}){ASKED_SPEECH}"
)
_EN_POSTS = ("governor", "mayor", "party secretary", "party chief")  # their Chinese: rag.answering.roles
_EN_SPEAKER_POST = re.compile(
    rf"\b(?:did|does|do) (?:the )?(?:((?:[A-Z][a-z]+ ?){{1,2}}?)(?:'s)? ({'|'.join(_EN_POSTS)})"
    rf"|({'|'.join(_EN_POSTS)}) of ((?:[A-Z][a-z]+ ?){{1,2}}?)(?: [Pp]rovince)?) {EN_SPEECH_VERBS}\b"
)


@dataclass(frozen=True)
class SpeakerByPost:
    span: tuple[int, int]  # where the question names the post ("江苏省长", "Zhejiang's governor")
    places: tuple[str, ...]  # the place in Chinese (江苏)
    post: str  # the post in Chinese (省长)


def speaker_by_post(question: str, language: str, dictionary: Glossary | None) -> SpeakerByPost | None:
    """Whether the question asks what the holder of a post said, and which post."""
    if language == "zh":
        match = _ZH_SPEAKER_POST.search(question)
        if match is None:
            return None
        return SpeakerByPost((match.start(1), match.end(2)), (match.group(1),), match.group(2))
    match = _EN_SPEAKER_POST.search(question)
    if match is None or dictionary is None:
        return None
    # "Zhejiang's governor" or "the governor of Zhejiang"
    place, post = (1, 2) if match.group(1) else (4, 3)
    places = tuple(dictionary.lookup(match.group(place).strip(), 3))
    if not places:
        return None
    start = min(match.start(place), match.start(post))
    if question[:start].lower().endswith("the "):
        start -= len("the ")  # "did the governor of Zhejiang say" -> "did Liu Jie say"
    span = (start, max(match.end(place), match.end(post)))
    return SpeakerByPost(span, places, en_title_forms(match.group(post))[0])


def holder(asked: SpeakerByPost, sentences: Iterable[str], dictionary: Glossary | None) -> str | None:
    """The person the report names in that post, from the first sentence that gives one."""
    sentences = list(sentences)  # read once for each of the place's spellings
    for place in asked.places:
        question = f"{place}{asked.post}是谁？"
        for sentence in sentences:
            if place not in sentence or asked.post not in sentence:
                continue
            name = extract_short_answer(question, sentence, QuestionType.WHO, "zh", dictionary)
            if name and looks_like_person(name):
                return name
    return None


def with_holder(question: str, language: str, asked: SpeakerByPost, name: str) -> str:
    """The question asking after the holder by name: "刘小涛说…", "did Liu Xiaotao say"."""
    start, end = asked.span
    return question[:start] + (name if language == "zh" else name_in_pinyin(name)) + question[end:]
