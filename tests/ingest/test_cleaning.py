"""ingest.cleaning: paragraphs with exact spans, kinds, rejoins and heading context."""

from pathlib import Path

import pytest

from ingest.cleaning import heading_context, is_caption, is_heading, paragraphs, title
from ingest.records import Paragraph, text_at

REPORT = Path(__file__).resolve().parents[2] / "ingest" / "corpus" / "000_a507548b56e5d456.txt"


def shape(text: str) -> list[tuple[str, tuple[tuple[int, int], ...], str]]:
    found = paragraphs(text)
    for paragraph in found:
        assert text_at(text, paragraph.spans) == paragraph.text
    return [(p.text, p.spans, p.kind) for p in found]


def test_chinese_heading_body_and_list_items_without_markers():
    text = "标题\n\n第一段，结尾。\n\n- 要点一。\n- 要点二。"
    assert shape(text) == [
        ("标题", ((0, 2),), "heading"),
        ("第一段，结尾。", ((4, 11),), "body"),
        ("要点一。", ((15, 19),), "list"),
        ("要点二。", ((22, 26),), "list"),
    ]


def test_surrounding_whitespace_and_crlf_stay_out_of_spans():
    assert shape("  标题 \r\n\r\n\u3000正文，内容。\r\n") == [
        ("标题", ((2, 4),), "heading"),
        ("正文，内容。", ((10, 16),), "body"),
    ]


def test_sentence_broken_by_a_photo_caption_is_rejoined_and_the_caption_follows():
    text = "会议指出,要共建中心,促进\n\n这是外景。 新华社图\n\n科技创新新提升。"
    assert shape(text) == [
        ("会议指出,要共建中心,促进科技创新新提升。", ((0, 13), (27, 35)), "body"),
        ("这是外景。 新华社图", ((15, 25),), "caption"),
    ]


def test_sentence_broken_by_a_page_break_is_rejoined_without_separator():
    assert shape("会议指出,深化公共服\n\n务便利共享。") == [
        ("会议指出,深化公共服务便利共享。", ((0, 10), (12, 18)), "body")
    ]


def test_hard_wrapped_english_keeps_the_line_break_as_separator():
    text = "The committee agreed to\nextend the deadline.\n\nNext paragraph."
    assert shape(text) == [
        ("The committee agreed to\nextend the deadline.", ((0, 44),), "body"),
        ("Next paragraph.", ((46, 61),), "body"),
    ]


def test_english_rejoined_across_a_caption_when_the_next_part_starts_in_lower_case():
    text = "Growth was driven by\n\nPhoto: Xinhua\n\nstrong exports."
    assert shape(text) == [
        ("Growth was driven by\nstrong exports.", ((0, 20), (36, 52)), "body"),
        ("Photo: Xinhua", ((22, 35),), "caption"),
    ]


def test_hyphenated_word_is_rejoined_keeping_the_hyphen():
    text = "The talks, held in May, were inter-\nnational in scope."
    assert shape(text) == [
        ("The talks, held in May, were inter-national in scope.", ((0, 35), (36, 54)), "body")
    ]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("第一段结束。\n\n第二段。", ["body", "body"]),  # a complete paragraph
        ("会议指出,要\n\n小标题\n\n正文。", ["body", "heading", "body"]),  # a heading
        ("会议指出,要\n\u3000\u3000新段落开始。", ["body", "body"]),  # an indented new paragraph
        ("The plan, approved in May, covers\n\nShanghai, Jiangsu and Zhejiang.", ["body", "body"]),
        ("会议指出,要\n\n- 列表项。", ["body", "list"]),
    ],
)
def test_no_rejoin(text, kinds):
    assert [kind for _, _, kind in shape(text)] == kinds


def test_decorations_and_page_numbers_are_dropped():
    assert shape("---\n\n- \n\n第 3 页\n\n正文。\n\n12") == [("正文。", ((16, 19),), "body")]


@pytest.mark.parametrize(
    "line",
    [
        "这是方厅水院外景。 新华社图",
        "图为会议现场。",
        "代表们在会场交流。新华社记者 李明 摄",
        "会场一角。（本报记者 王芳 摄）",
        "Photo: delegates arrive in Shanghai",
        "Delegates arrive in Shanghai. Photo by Li Ming",
    ],
)
def test_captions(line):
    assert is_caption(line)


@pytest.mark.parametrize(
    "line", ["会议指出,要推进科技创新。", "The plan was announced on Monday.", "蓝图已经绘就,关键在落实。"]
)
def test_not_captions(line):
    assert not is_caption(line)


@pytest.mark.parametrize(
    "line",
    [
        "深入推进长三角一体化发展",
        "一、总体要求",
        "1.2 背景",
        "Introduction",
        "奋楫扬帆“十五五” 启航开拓新征程",
    ],
)
def test_headings(line):
    assert is_heading(line)


@pytest.mark.parametrize("line", ["会议指出,要共建", "and then the plan", "会议确定。", "A" * 61])
def test_not_headings(line):
    assert not is_heading(line)


def test_markdown_heading_levels_nest():
    text = "# Title\n\n## Part A\n\nText one.\n\n## Part B\n\nText two."
    found = paragraphs(text)
    assert [(p.text, p.spans, p.kind) for p in found] == [
        ("Title", ((2, 7),), "heading"),
        ("Part A", ((12, 18),), "heading"),
        ("Text one.", ((20, 29),), "body"),
        ("Part B", ((34, 40),), "heading"),
        ("Text two.", ((42, 51),), "body"),
    ]
    assert heading_context(text, found) == ["", "Title", "Title > Part A", "Title", "Title > Part B"]


def test_plain_heading_runs_nest_and_a_later_heading_starts_a_section():
    text = "标题\n\n副标题\n\n正文。\n\n第二节\n\n正文二。"
    found = paragraphs(text)
    assert heading_context(text, found) == ["", "标题", "标题 > 副标题", "标题", "标题 > 第二节"]
    assert title(found) == "标题"


def test_title_is_empty_without_headings():
    assert title([Paragraph("正文。", ((0, 3),))]) == ""


def test_bundled_report():
    text = REPORT.read_text(encoding="utf-8")
    found = paragraphs(text)
    for paragraph in found:
        assert text_at(text, paragraph.spans) == paragraph.text
        assert paragraph.text == paragraph.text.strip()
    kinds = [p.kind for p in found]
    assert kinds[:11] == ["heading"] * 5 + ["list"] * 6
    assert kinds.count("caption") == 1 and kinds.count("heading") == 5
    rejoined = [i for i, p in enumerate(found) if len(p.spans) > 1]
    assert len(rejoined) == 2
    first, second = (found[i] for i in rejoined)
    assert "国际科技创新中心,促进科技创新策源功能新提升。着力加强基础研究合作" in first.text
    assert "深化公共服务便利共享,加强生态环境共保联治" in second.text
    assert found[rejoined[0] + 1].kind == "caption"
    assert found[rejoined[0] + 1].text.endswith("方厅水院外景。 新华社图")
    assert "新华社图" not in first.text
    assert title(found) == "深入推进长三角一体化发展"
    contexts = heading_context(text, found)
    assert contexts[-1].startswith("深入推进长三角一体化发展 > 2026年度长三角地区主要领导座谈会在上海举行")
    # nothing but whitespace, list markers and the lifted caption's surroundings is dropped
    covered = sorted(span for p in found for span in p.spans)
    dropped = "".join(text[a[1] : b[0]] for a, b in zip(covered, covered[1:], strict=False)).replace("- ", "")
    assert dropped.strip() == ""
