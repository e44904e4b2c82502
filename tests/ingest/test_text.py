"""ingest.text: one CJK range for every module, and jieba loaded one way."""

from ingest.text import CJK_CHAR, CJK_RUN, ENGLISH_STOPWORDS, SEARCH_STOPWORDS, jieba, jieba_posseg


def test_cjk_is_the_ideographs_of_every_block_and_nothing_else() -> None:
    ideographs = "中㐀豈𠀀"  # main block, Extension A, Compatibility, Extension B
    assert all(CJK_CHAR.fullmatch(char) for char in ideographs)
    assert not any(CJK_CHAR.fullmatch(char) for char in "a1，。䷀ア가")  # hexagram, kana, hangul
    assert CJK_RUN.findall("2027年度在安徽省召开 (Anhui)") == ["年度在安徽省召开"]


def test_stopwords_keep_content_words_out() -> None:
    assert {"的", "什么", "the", "which"} <= SEARCH_STOPWORDS
    assert "安徽" not in SEARCH_STOPWORDS
    assert {"which", "named"} <= ENGLISH_STOPWORDS and "anhui" not in ENGLISH_STOPWORDS


def test_jieba_is_loaded_once_with_its_dictionary_and_tagger() -> None:
    assert jieba() is jieba()
    assert jieba().dt.FREQ.get("安徽省", 0) > 0
    assert [(pair.word, pair.flag) for pair in jieba_posseg().cut("安徽省召开")][0] == ("安徽省", "ns")
