"""The HTTP API's request and response models, and the examples its OpenAPI docs show.

Pydantic models live here and nowhere else in the library: the records inside are dataclasses.
The question's length limit is a setting (RAG_MAX_QUESTION_CHARS): `ask_request(max_chars)`
gives the request model with that limit, and the OpenAI-compatible route validates its last
user message with the same model.
"""

import re
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from rag.answering.conversation import Turn
from rag.config import MAX_HISTORY_TURNS, MAX_TOP_K, Settings
from rag.retrieval.retriever import MODES

MODEL_ID = "report-rag"
MAX_ANSWER_CHARS = 20_000  # an earlier answer sent back as history
DEFAULT_MAX_QUESTION_CHARS: int = Settings.model_fields["max_question_chars"].default

# What str.strip() removes plus what ECMAScript's \s matches: the same "blank" for the server
# (Python) and for the schema's `pattern` (ECMAScript, used by clients and the fuzzer).
_BLANK = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NON_BLANK_PATTERN = f"[^{_BLANK}]"
_NON_BLANK = re.compile(NON_BLANK_PATTERN)


def non_blank(value: str) -> str:
    if not _NON_BLANK.search(value):
        raise ValueError("empty or only whitespace: type a question")
    return value


def _integral_float(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer; strict mode alone would refuse it (and rightly "5").
    return int(value) if isinstance(value, float) and value.is_integer() else value


TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K), BeforeValidator(_integral_float)]


def question_field(max_chars: int) -> Any:
    """A question: 1..max_chars characters, not only whitespace."""
    return Field(
        min_length=1,
        max_length=max_chars,
        description=f"the question, Chinese or English, at most {max_chars} characters (RAG_MAX_QUESTION_CHARS)",
        json_schema_extra={"pattern": NON_BLANK_PATTERN},
    )


NonBlank = Annotated[str, AfterValidator(non_blank)]


# --- requests ------------------------------------------------------------------------------
class TurnIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    question: str = Field(max_length=DEFAULT_MAX_QUESTION_CHARS)
    answer: str = Field("", max_length=MAX_ANSWER_CHARS)


class AskRequest(BaseModel):
    # POST /ask and /ask/stream at the default RAG_MAX_QUESTION_CHARS (`ask_request`: another limit).
    # A comment, not a docstring: a docstring would become the schema's description.
    model_config = ConfigDict(strict=True, extra="forbid")
    question: NonBlank = question_field(DEFAULT_MAX_QUESTION_CHARS)
    top_k: TopK | None = Field(None, description="passages to read (default RAG_TOP_K)")
    history: list[TurnIn] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS, description="earlier turns, oldest first"
    )
    use_llm: bool | None = Field(None, description="null: the LLM when RAG_LLM_* is configured")

    def turns(self) -> list[Turn]:
        return [Turn(turn.question, turn.answer) for turn in self.history]


@cache
def ask_request(max_chars: int) -> type[AskRequest]:
    """The AskRequest model whose questions (and earlier questions) hold at most `max_chars`."""
    if max_chars == DEFAULT_MAX_QUESTION_CHARS:
        return AskRequest
    turn = create_model(
        "TurnIn", __base__=TurnIn, question=(str, Field(max_length=max_chars))
    )
    return create_model(
        "AskRequest",
        __base__=AskRequest,
        question=(NonBlank, question_field(max_chars)),
        history=(
            list[turn],  # type: ignore[valid-type]
            Field(default_factory=list, max_length=MAX_HISTORY_TURNS, description="earlier turns, oldest first"),
        ),
    )


class ErrorDetail(BaseModel):
    type: str = Field(description="machine-readable kind, e.g. bad_input, busy, not_ready")
    message: str = Field(description="what went wrong and how to fix it")


class ErrorOut(BaseModel):
    error: ErrorDetail


class CitationOut(BaseModel):
    n: int = Field(description="the number of the [n] marker in the answer")
    doc_id: str
    source: str
    chunk_id: str
    text: str = Field(description="the cited passage")
    sentence: str = Field(description="the supporting sentence within the passage")
    spans: list[list[int]] = Field(description="character offsets of `sentence` in the source document")
    passage_spans: list[list[int]] = Field(description="character offsets of `text` in the source document")
    score: float


class HitOut(BaseModel):
    rank: int
    score: float
    dense_score: float | None
    lexical_score: float | None
    text: str
    context: str
    doc_id: str
    source: str
    chunk_id: str
    start: int
    end: int
    spans: list[list[int]]


class AnswerOut(BaseModel):
    question: str
    answer: str = Field(description="the answer with [n] citation markers, or a refusal")
    short_answer: str | None = Field(description="the answer phrase alone, when one was found")
    found: bool = Field(description="false when the report does not answer the question")
    partial: bool = Field(
        description="a refusal that cites what the report does say about the subject (found stays false)"
    )
    missing: list[str] = Field(description="what the question asked that the report does not say")
    citations: list[CitationOut]
    related: list[HitOut] = Field(description="passages to look at when nothing was found")
    language: Literal["zh", "en"]
    answerer: str = Field(
        description='"extractive", "llm" (unchecked, RAG_LLM_VERIFY=0), "llm+checked" (each sentence '
        'checked against its citations) or "extractive (fallback)" (the LLM failed; see notice)'
    )
    confidence: float
    retrieval_query: str
    notice: str
    grounding: dict[str, int] = Field(
        default_factory=dict,
        description="what the check did to the LLM answer's sentences: supported, recited, dropped counts",
    )
    timings_ms: dict[str, float]


class SearchOut(BaseModel):
    query: str
    language: str
    mode: str
    hits: list[HitOut]
    timings_ms: dict[str, float]


class DocumentOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    doc_id: str
    source: str


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class UploadOut(BaseModel):
    doc_id: str
    source: str
    status: Literal["added", "updated", "unchanged"]
    report: dict[str, Any] = Field(
        description="the ingest report: documents and chunks in the index, seconds"
    )


class RemovedOut(BaseModel):
    removed: str
    report: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]
    reason: str = Field("", description="why it is not ready, and what to do")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # OpenAI clients send many optional parameters (temperature, n, ...): accepted and ignored.
    model_config = ConfigDict(strict=True, extra="allow")
    model: str = Field(MODEL_ID, description=f"any name is answered by {MODEL_ID!r}")
    messages: list[ChatMessage] = Field(min_length=1, max_length=2 * MAX_HISTORY_TURNS + 2)
    stream: bool = False
    top_k: TopK | None = Field(None, description="passages to read (extension)")


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: Literal["stop"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationOut] = Field(description="the sources cited in the message (extension)")


SearchMode = Enum("SearchMode", {mode: mode for mode in MODES}, type=str)  # type: ignore[misc]

ASK_EXAMPLES = {
    "zh": {
        "summary": "中文提问",
        "value": {"question": "2026年度长三角地区主要领导座谈会是在哪个城市开的？", "top_k": 5},
    },
    "en": {
        "summary": "English question",
        "value": {"question": "Which city hosted the Yangtze River Delta leaders' symposium?"},
    },
    "follow_up": {
        "summary": "追问 (follow-up with history)",
        "value": {
            "question": "那2027年呢？",
            "history": [{"question": "2026年度座谈会在哪里召开？", "answer": "上海 [1]"}],
        },
    },
}
CHAT_EXAMPLES = {
    "zh": {
        "summary": "中文",
        "value": {"model": MODEL_ID, "messages": [{"role": "user", "content": "座谈会在哪个城市举行？"}]},
    },
    "en": {
        "summary": "English, streaming",
        "value": {
            "model": MODEL_ID,
            "stream": True,
            "messages": [{"role": "user", "content": "Which city hosted the symposium?"}],
        },
    },
}
SEARCH_EXAMPLES = {
    "zh": {"summary": "中文", "value": "长三角一体化 实事项目"},
    "en": {"summary": "English", "value": "air pollution action plan"},
}
SSE_EXAMPLE = (
    'event: citations\ndata: [{"n": 1, "source": "report.txt", "sentence": "…"}]\n\n'
    'event: delta\ndata: {"text": "上海 [1]"}\n\n'
    'event: done\ndata: {"answer": "上海 [1]", "found": true, "citations": []}\n\n'
)
