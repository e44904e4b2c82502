"""ingest.chunking: greedy packing, overlap, sections, heading runs, contexts, captions and exact spans.

Unit tests count one token per character; the bundled-report tests also use tiktoken's
cl100k_base through ingest.tokens.
"""

import random
from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.errors import BadInput
from ingest.loading import load_text
from ingest.records import Chunk, ChunkingSettings, Document, text_at

REPORT = Path(__file__).resolve().parents[2] / "ingest" / "corpus" / "000_a507548b56e5d456.txt"
THREE_SENTENCES = "标题\n\n第一句。第二句。第三句。\n\n第四句。"
TITLE_CHUNK = (((0, 2),), "标题")  # the title of THREE_SENTENCES, a heading run of its own


def make(text: str) -> Document:
    return load_text("report.txt", text, "/reports/report.txt")


def chunks_of(text: str, max_tokens: int = 100, overlap: int = 1) -> list[Chunk]:
    doc = make(text)
    chunks = chunk_document(doc, ChunkingSettings(max_tokens=max_tokens, overlap_sentences=overlap), len)
    for chunk in chunks:
        assert text_at(doc.text, chunk.spans) == chunk.text
        assert all(text_at(doc.text, s.spans) == s.text for s in chunk.sentences)
    return chunks


def spans_and_text(chunks: list[Chunk]) -> list[tuple[tuple[tuple[int, int], ...], str]]:
    return [(c.spans, c.text) for c in chunks]


def spans_text_context(chunks: list[Chunk]) -> list[tuple[tuple[tuple[int, int], ...], str, str]]:
    return [(c.spans, c.text, c.context) for c in chunks]


def test_greedy_packing_with_one_sentence_of_overlap():
    chunks = chunks_of(THREE_SENTENCES, max_tokens=10)
    assert spans_and_text(chunks) == [
        TITLE_CHUNK,
        (((4, 12),), "第一句。第二句。"),
        (((8, 16),), "第二句。第三句。"),
        (((12, 22),), "第三句。\n\n第四句。"),  # across paragraphs the original break is kept
    ]
    assert [c.position for c in chunks] == [0, 1, 2, 3]
    # the title's own chunk has no context; the body's is the title
    assert [c.context for c in chunks] == ["", "标题", "标题", "标题"]
    assert [[s.text for s in c.sentences] for c in chunks][3] == ["第三句。", "第四句。"]


def test_overlap_is_dropped_when_it_leaves_no_room():
    chunks = chunks_of(THREE_SENTENCES, max_tokens=8)
    assert spans_and_text(chunks) == [
        TITLE_CHUNK,
        (((4, 12),), "第一句。第二句。"),
        (((8, 16),), "第二句。第三句。"),
        (((18, 22),), "第四句。"),
    ]


def test_no_overlap():
    chunks = chunks_of(THREE_SENTENCES, max_tokens=10, overlap=0)
    assert spans_and_text(chunks) == [
        TITLE_CHUNK,
        (((4, 12),), "第一句。第二句。"),
        (((12, 22),), "第三句。\n\n第四句。"),
    ]


def test_chunk_id_is_stable_and_built_from_doc_id_span_and_text():
    first, second = chunks_of(THREE_SENTENCES), chunks_of(THREE_SENTENCES)
    assert [c.id for c in first] == [c.id for c in second]
    title, body = first
    assert body.doc_id == title.doc_id == make(THREE_SENTENCES).id
    assert title.id.startswith(f"{title.doc_id}:0-2:") and len(title.id.rsplit(":", 1)[1]) == 8
    assert body.id.startswith(f"{body.doc_id}:4-22:") and len(body.id.rsplit(":", 1)[1]) == 8


def test_chunks_do_not_cross_headings_and_carry_them_as_context():
    chunks = chunks_of("# A\n\nOne. Two.\n\n# B\n\nThree.")
    assert spans_text_context(chunks) == [
        (((2, 3),), "A", ""),  # each heading is a run of its own; the "# " marker stays out
        (((5, 14),), "One. Two.", "A"),
        (((18, 19),), "B", "A"),
        (((21, 27),), "Three.", "A > B"),
    ]
    assert [c.position for c in chunks] == [0, 1, 2, 3]
    assert chunks[0].embedding_text() == "A"
    assert chunks[1].embedding_text() == "A\nOne. Two."


def test_list_markers_between_sentences_stay_in_the_chunk_text():
    chunks = chunks_of("Alpha one. Beta two.\n\n- Item one.\n- Item two.")
    assert spans_and_text(chunks) == [(((0, 45),), "Alpha one. Beta two.\n\n- Item one.\n- Item two.")]
    assert [s.spans for s in chunks[0].sentences] == [((0, 10),), ((11, 20),), ((24, 33),), ((36, 45),)]


def test_a_page_number_between_sentences_is_cut_out():
    assert spans_and_text(chunks_of("第一句。\n\n12\n\n第二句。")) == [
        (((0, 4), (10, 14)), "第一句。第二句。")
    ]


def test_caption_is_its_own_chunk_and_the_broken_sentence_stays_whole():
    chunks = chunks_of("会议指出,要共建中心,促进\n\n这是外景。 新华社图\n\n科技创新新提升。下一句。")
    assert spans_and_text(chunks) == [
        (((0, 13), (27, 39)), "会议指出,要共建中心,促进科技创新新提升。下一句。"),
        (((15, 25),), "这是外景。 新华社图"),
    ]
    assert chunks[0].sentences[0].spans == ((0, 13), (27, 35))


def test_sentence_over_budget_is_cut_at_clause_punctuation():
    chunks = chunks_of("第一部分很长，第二部分也长，第三部分。", max_tokens=8)
    assert spans_and_text(chunks) == [
        (((0, 7),), "第一部分很长，"),
        (((7, 14),), "第二部分也长，"),
        (((14, 19),), "第三部分。"),
    ]


def test_trailing_headings_become_a_chunk():
    assert spans_text_context(chunks_of("只有标题")) == [(((0, 4),), "只有标题", "")]
    assert spans_text_context(chunks_of("标题\n\n正文。\n\n尾注一\n\n尾注二")) == [
        (((0, 2),), "标题", ""),
        (((4, 7),), "正文。", "标题"),
        (((9, 17),), "尾注一\n\n尾注二", "标题"),
    ]
    assert chunks_of("") == []


HEADING_RUN = "标题\n\n正文一。\n\n小标题一\n\n小标题二\n\n正文二。"


def test_a_run_of_headings_is_a_chunk_of_its_own():
    chunks = chunks_of(HEADING_RUN)
    assert spans_text_context(chunks) == [
        (((0, 2),), "标题", ""),  # the run starts with the title: no context
        (((4, 8),), "正文一。", "标题"),
        # a run in the middle keeps the line breaks between its headings; its context is the title
        (((10, 20),), "小标题一\n\n小标题二", "标题"),
        # two headings are nested sections, not a headline block: title and nearest heading
        (((22, 26),), "正文二。", "标题 > 小标题二"),
    ]
    assert [[s.spans for s in c.sentences] for c in chunks][2] == [((10, 14),), ((16, 20),)]
    assert [c.position for c in chunks] == [0, 1, 2, 3]


def test_a_heading_run_over_budget_is_packed_like_sentences():
    chunks = chunks_of(HEADING_RUN, max_tokens=8)
    assert spans_text_context(chunks) == [
        (((0, 2),), "标题", ""),
        (((4, 8),), "正文一。", "标题"),
        (((10, 14),), "小标题一", "标题"),  # the overlap would not leave room: dropped
        (((16, 20),), "小标题二", "标题"),
        (((22, 26),), "正文二。", "标题 > 小标题二"),
    ]


def test_context_is_the_title_and_the_nearest_heading_only():
    # plain headings after body text nest in order: the chain is 标题 > 甲 > 乙, cut to the ends
    chunks = chunks_of("标题\n\n导语。\n\n甲\n\n乙\n\n正文。")
    assert [c.context for c in chunks] == ["", "标题", "标题", "标题 > 乙"]
    assert chunks_of("标题\n\n副题\n\n正文一。正文二。")[1].context == "标题 > 副题"


def test_body_below_a_three_heading_headline_block_has_only_the_title():
    chunks = chunks_of("标题\n\n副题一\n\n副题二\n\n正文一。正文二。")
    assert spans_text_context(chunks) == [
        (((0, 12),), "标题\n\n副题一\n\n副题二", ""),
        (((14, 22),), "正文一。正文二。", "标题"),
    ]
    assert [[s.spans for s in c.sentences] for c in chunks] == [
        [((0, 2),), ((4, 7),), ((9, 12),)],
        [((14, 18),), ((18, 22),)],
    ]


def test_a_headline_block_after_body_text_also_leaves_only_the_title():
    chunks = chunks_of("标题\n\n导语。\n\n甲\n\n乙\n\n丙\n\n正文。")
    assert spans_text_context(chunks) == [
        (((0, 2),), "标题", ""),
        (((4, 7),), "导语。", "标题"),
        (((9, 16),), "甲\n\n乙\n\n丙", "标题"),
        (((18, 21),), "正文。", "标题"),  # not "标题 > 丙"
    ]


def test_captions_below_a_headline_block_share_the_sections_title_context():
    text = "标题\n\n副题一\n\n副题二\n\n这是外景。 新华社图\n\n正文。\n\n这是内景。 新华社图\n\n正文二。"
    assert spans_text_context(chunks_of(text)) == [
        (((0, 12),), "标题\n\n副题一\n\n副题二", ""),
        # a caption right below the block changes neither its own context nor the body's
        (((14, 24),), "这是外景。 新华社图", "标题"),
        (((26, 29), (43, 47)), "正文。正文二。", "标题"),
        (((31, 41),), "这是内景。 新华社图", "标题"),
    ]


def test_nested_markdown_headings_give_the_title_and_the_nearest_one():
    chunks = chunks_of("# A\n\n## B\n\n### C\n\nBody one. Body two.")
    assert spans_text_context(chunks) == [
        # the "## " markers between the headings are not text: the spans break around them
        (((2, 3), (8, 9), (15, 16)), "ABC", ""),
        (((18, 37),), "Body one. Body two.", "A > C"),  # "#" levels are not a headline block
    ]
    assert chunks[1].embedding_text() == "A > C\nBody one. Body two."


def test_a_markdown_run_after_body_text_is_not_a_headline_block():
    chunks = chunks_of("# A\n\nIntro.\n\n## B\n\n### C\n\n#### D\n\nBody.")
    assert spans_text_context(chunks) == [
        (((2, 3),), "A", ""),
        (((5, 11),), "Intro.", "A"),
        (((16, 17), (23, 24), (31, 32)), "BCD", "A"),
        (((34, 39),), "Body.", "A > D"),
    ]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 1), (10, -1)])
def test_invalid_settings(max_tokens, overlap):
    with pytest.raises(BadInput, match="max_tokens"):
        chunks_of(THREE_SENTENCES, max_tokens=max_tokens, overlap=overlap)


# Fragments that exercise every rule: terminators, markers, captions, rejoins, odd whitespace.
FRAGMENTS = [
    *"ab长三角。，,.;!?-#•1 \n\r\u3000“”",
    "- ",
    "\n\n",
    "新华社图",
    "Photo: ",
    "图为",
    "U.S. ",
    "摄",
]


@pytest.mark.parametrize("seed", range(300))
def test_spans_and_budget_hold_for_any_text(seed):
    rng = random.Random(seed)
    text = "".join(rng.choices(FRAGMENTS, k=rng.randrange(80)))
    max_tokens, overlap = rng.randint(1, 30), rng.randint(0, 3)
    doc = Document("d", "d.txt", "/d.txt", text, "")
    chunks = chunk_document(doc, ChunkingSettings(max_tokens=max_tokens, overlap_sentences=overlap), len)
    for chunk in chunks:
        assert text_at(text, chunk.spans) == chunk.text and len(chunk.text) <= max_tokens
        assert all(a < b for a, b in chunk.spans)
        assert all(left[1] < right[0] for left, right in zip(chunk.spans, chunk.spans[1:], strict=False))
        for sentence in chunk.sentences:
            assert (
                sentence.text
                and text_at(text, sentence.spans) == sentence.text
                and sentence.text in chunk.text
            )


REPORT_TITLE = "深入推进长三角一体化发展"
# The report's headline block: its title and four subheads, five plain headings in a row.
HEADLINES = (
    REPORT_TITLE,
    "2026年度长三角地区主要领导座谈会在上海举行",
    "奋楫扬帆“十五五” 启航开拓新征程",
    "陈吉宁信长星王浩梁言顺龚正刘小涛刘捷王清宪出席",
    "会议确定2027年度长三角地区主要领导座谈会在安徽省召开",
)


def headline_block(doc: Document) -> tuple[int, int]:
    """Where the headline block starts and ends in the report's text."""
    start, end = doc.text.index(HEADLINES[0]), doc.text.index(HEADLINES[-1]) + len(HEADLINES[-1])
    assert doc.text[start:end].split("\n\n") == list(HEADLINES)
    return start, end


def check_report_chunks(doc: Document, chunks: list[Chunk], max_tokens: int, count) -> None:
    """The invariants every chunking of the bundled report must keep."""
    assert chunks
    for chunk in chunks:
        assert text_at(doc.text, chunk.spans) == chunk.text
        assert count(chunk.text) <= max_tokens
        for sentence in chunk.sentences:
            assert text_at(doc.text, sentence.spans) == sentence.text and sentence.text in chunk.text
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    # the headline block comes first, chunked on its own (it starts with the title: no context),
    # one chunk when it fits the budget; each heading is one whole sentence
    low, high = headline_block(doc)
    headline = [c for c in chunks if c.start < high]
    assert headline == chunks[: len(headline)]
    assert all(low <= c.start and c.end <= high and c.context == "" for c in headline)
    assert list(dict.fromkeys(s.text for c in headline for s in c.sentences)) == list(HEADLINES)
    if count(doc.text[low:high]) <= max_tokens:
        assert [(c.spans, c.text) for c in headline] == [(((low, high),), doc.text[low:high])]
    # every chunk below it (list items, body, the caption) has exactly the title as its context
    assert len(chunks) > len(headline)
    assert {c.context for c in chunks[len(headline) :]} == {REPORT_TITLE}
    # the two sentences broken in the file come out whole, each in one sentence with two spans
    # (the first phrase also opens the key points; "要共建" picks the body's copy)
    for phrase in (
        "要共建上海(长三角)国际科技创新中心,促进科技创新策源功能新提升",
        "公共服务便利共享,加强生态环境共保联治",
    ):
        holders = [c for c in chunks if phrase in c.text]
        assert holders, phrase
        for chunk in holders:
            (sentence,) = [s for s in chunk.sentences if phrase in s.text]
            assert len(sentence.spans) == 2
    # the caption is chunked on its own: no chunk mixes it with body text
    caption = "这是跨越沪苏浙三个省级行政区域的建筑工程、长三角生态绿色一体化发展示范区标志性建筑——方厅水院外景。 新华社图"
    low, high = doc.text.index(caption), doc.text.index(caption) + len(caption)
    touching = [c for c in chunks if any(a < high and low < b for a, b in c.spans)]
    assert all(low <= a and b <= high for c in touching for a, b in c.spans)
    if count(caption) <= max_tokens:
        assert [c.text for c in touching] == [caption]
    # no text is lost: headings included, every character but the six list markers is in a sentence
    covered = {i for c in chunks for s in c.sentences for a, b in s.spans for i in range(a, b)}
    missing = "".join(ch for i, ch in enumerate(doc.text) if i not in covered and not ch.isspace())
    assert missing == "-" * 6


@pytest.mark.parametrize("max_tokens", [40, 80, 160, 320])
def test_bundled_report_with_a_character_counter(max_tokens):
    doc = make(REPORT.read_text(encoding="utf-8"))
    check_report_chunks(
        doc, chunk_document(doc, ChunkingSettings(max_tokens=max_tokens), len), max_tokens, len
    )


@pytest.fixture(scope="module")
def tiktoken_count(tmp_path_factory):
    tokens = pytest.importorskip("ingest.tokens")
    encoding = tokens.get_encoding("cl100k_base", cache_root=tmp_path_factory.getbasetemp() / "tiktoken")

    def count(text: str) -> int:
        return tokens.count_tokens(text, encoding)

    return count


@pytest.mark.parametrize("max_tokens", [80, 120, 160, 240, 320])
def test_bundled_report_with_tiktoken(max_tokens, tiktoken_count):
    doc = make(REPORT.read_text(encoding="utf-8"))
    chunks = chunk_document(doc, ChunkingSettings(max_tokens=max_tokens), tiktoken_count)
    check_report_chunks(doc, chunks, max_tokens, tiktoken_count)


def test_bundled_report_headline_block_is_one_chunk_at_the_default_budget(tiktoken_count):
    doc = make(REPORT.read_text(encoding="utf-8"))
    settings = ChunkingSettings()
    chunks = chunk_document(doc, settings, tiktoken_count)
    check_report_chunks(doc, chunks, settings.max_tokens, tiktoken_count)
    low, high = headline_block(doc)
    assert (low, high) == (2, 113)
    first, *rest = chunks
    assert (first.spans, first.text, first.context) == (((2, 113),), doc.text[2:113], "")
    assert [s.text for s in first.sentences] == list(HEADLINES)
    assert [s.spans for s in first.sentences] == [
        ((2, 14),),
        ((16, 39),),
        ((41, 58),),
        ((60, 83),),
        ((85, 113),),
    ]
    assert "会议确定2027年度长三角地区主要领导座谈会在安徽省召开" in first.text
    assert first.embedding_text() == first.text
    # the body below the five-line block: title only, not "… > 会议确定2027年度…"
    assert [c.context for c in rest] == [REPORT_TITLE] * len(rest)
    assert rest[0].text.startswith("共建上海(长三角)国际科技创新中心") and rest[0].spans[0][0] == 117
    assert all(c.embedding_text() == f"{REPORT_TITLE}\n{c.text}" for c in rest)
    caption = next(c for c in rest if c.text.endswith("新华社图"))
    assert caption.context == REPORT_TITLE
