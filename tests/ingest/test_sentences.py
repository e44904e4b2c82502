"""ingest.sentences: sentence boundaries in Chinese and English, with exact source spans."""

import pytest

from ingest.records import Paragraph, Sentence, text_at
from ingest.sentences import slice_spans, split_sentences, split_to_fit


def split(text: str, offset: int = 0, **options) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    return [
        (s.text, s.spans)
        for s in split_sentences(Paragraph(text, ((offset, offset + len(text)),)), **options)
    ]


def test_chinese_terminators_keep_closing_quotes_and_ellipses():
    assert split("他说：“好。”我们走吧！真的？是的……结束；最后") == [
        ("他说：“好。”", ((0, 7),)),
        ("我们走吧！", ((7, 12),)),
        ("真的？", ((12, 15),)),
        ("是的……", ((15, 19),)),
        ("结束；", ((19, 22),)),
        ("最后", ((22, 24),)),
    ]


def test_spans_are_source_offsets():
    assert split("第一句。第二句。", offset=100) == [("第一句。", ((100, 104),)), ("第二句。", ((104, 108),))]


def test_english_abbreviations_initials_and_decimals_do_not_split():
    text = "Dr. Smith met U.S. officials on Monday. The deal is worth 3.5 billion, e.g. for roads! Is it done? Yes."
    assert split(text) == [
        ("Dr. Smith met U.S. officials on Monday.", ((0, 39),)),
        ("The deal is worth 3.5 billion, e.g. for roads!", ((40, 86),)),
        ("Is it done?", ((87, 98),)),
        ("Yes.", ((99, 103),)),
    ]


def test_ascii_semicolon_ends_a_sentence_only_after_chinese():
    assert split("龚正;江苏省委书记信长星。One; two. Three") == [
        ("龚正;", ((0, 3),)),
        ("江苏省委书记信长星。", ((3, 13),)),
        ("One; two.", ((13, 22),)),
        ("Three", ((23, 28),)),
    ]


def test_quoted_english_sentence_keeps_its_closing_quote():
    assert split('He said "Stop." Then he left.') == [
        ('He said "Stop."', ((0, 15),)),
        ("Then he left.", ((16, 29),)),
    ]


def test_blank_line_splits_but_a_single_line_break_does_not():
    assert split("First line\nstill same.\n\nNew one") == [
        ("First line\nstill same.", ((0, 22),)),
        ("New one", ((24, 31),)),
    ]


def test_whitespace_is_stripped_from_text_and_spans():
    assert split("  你好。  再见。 ") == [("你好。", ((2, 5),)), ("再见。", ((7, 10),))]


def test_sentence_across_a_rejoin_gets_two_spans():
    paragraph = Paragraph("促进科技。下一句。", ((10, 12), (20, 27)))
    assert [(s.text, s.spans) for s in split_sentences(paragraph)] == [
        ("促进科技。", ((10, 12), (20, 23))),
        ("下一句。", ((23, 27),)),
    ]


def test_round_trip_against_a_source():
    source = "会议指出,深化公共服\n\n新华社图\n\n务便利共享。加强合作。"
    paragraph = Paragraph("会议指出,深化公共服务便利共享。加强合作。", ((0, 10), (18, 29)))
    assert len(source) == 29 and text_at(source, paragraph.spans) == paragraph.text
    sentences = split_sentences(paragraph)
    assert [s.spans for s in sentences] == [((0, 10), (18, 24)), ((24, 29),)]
    assert all(text_at(source, s.spans) == s.text for s in sentences)


def test_long_sentence_falls_back_to_clause_punctuation():
    assert split("一二三四五，六七八九十，甲乙丙丁戊。", max_chars=10) == [
        ("一二三四五，", ((0, 6),)),
        ("六七八九十，", ((6, 12),)),
        ("甲乙丙丁戊。", ((12, 18),)),
    ]


def test_long_sentence_without_punctuation_is_cut_between_characters():
    assert split("一二三四五六七八九十甲乙丙丁戊", max_chars=6) == [
        ("一二三四五六", ((0, 6),)),
        ("七八九十甲乙", ((6, 12),)),
        ("丙丁戊", ((12, 15),)),
    ]


def test_sentences_under_the_limit_are_untouched():
    assert split("一二三四五，六七八九十。", max_chars=12) == [("一二三四五，六七八九十。", ((0, 12),))]


def test_split_to_fit_packs_clauses_and_then_words():
    sentence = Sentence("alpha beta, gamma delta epsilon, zeta", ((5, 42),))
    pieces = split_to_fit(sentence, lambda text: len(text.split()) <= 2)
    assert [(p.text, p.spans) for p in pieces] == [
        ("alpha beta,", ((5, 16),)),
        ("gamma delta", ((17, 28),)),
        ("epsilon,", ((29, 37),)),
        ("zeta", ((38, 42),)),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(0, 2, ((10, 12),)), (1, 5, ((11, 12), (20, 23))), (2, 4, ((20, 22),)), (0, 9, ((10, 12), (20, 27)))],
)
def test_slice_spans(start, end, expected):
    assert slice_spans(((10, 12), (20, 27)), start, end) == expected
