import pytest

from rag.retrieval.glossary import Glossary, lemmas, names_in_text

LEADERS = (
    "上海市委书记陈吉宁,上海市委副书记、市长龚正;江苏省委书记信长星,江苏省委副书记、省长刘小涛;"
    "浙江省委书记王浩,浙江省委副书记、省长刘捷;安徽省委书记梁言顺,安徽省委副书记、省长王清宪出席会议。"
)

# A few CC-CEDICT lines: enough to check parsing and ranking without the 9 MB dictionary.
SMALL_CEDICT = [
    "# CC-CEDICT\n",
    "會議 会议 [hui4 yi4] /meeting/conference/CL:場|场[chang3],屆|届[jie4]/\n",
    "會晤 会晤 [hui4 wu4] /to meet/meeting/conference/\n",
    "江蘇 江苏 [Jiang1 su1] /Jiangsu province (Kiangsu) in southeast China, abbr. 蘇|苏, capital Nanjing 南京/\n",
    "浙菜 浙菜 [Zhe4 cai4] /Zhejiang cuisine/\n",
    "宜興 宜兴 [Yi2 xing1] /Yixing, county-level city in Wuxi 無錫|无锡[Wu2 xi1], Jiangsu/\n",
    "蘇 苏 [Su1] /surname Su/abbr. for Jiangsu/\n",
    "省長 省长 [sheng3 zhang3] /governor of a province/\n",
    "舉行 举行 [ju3 xing2] /to hold (a meeting, ceremony etc)/\n",
]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    """The bundled CC-CEDICT, parsed once for the module."""
    return Glossary.load()


def test_load_reads_nothing_until_first_lookup() -> None:
    reads: list[int] = []

    def lines() -> list[str]:
        reads.append(1)
        return SMALL_CEDICT

    small = Glossary(lines)
    assert reads == []
    assert small.lookup("meeting") == ["会议", "会晤"]
    small.lookup("conference")
    assert reads == [1]  # parsed once, kept on the instance


def test_small_dictionary_ranks_and_skips_cross_references() -> None:
    small = Glossary.from_lines(SMALL_CEDICT)
    assert small.lookup("meeting") == ["会议", "会晤"]  # first sense beats third
    assert small.lookup("to meet") == ["会晤"]
    assert small.lookup("hold") == ["举行"]  # "to" and the parenthesis are dropped
    # "Jiangsu" names 江苏; not 苏 ("abbr. for"), 宜兴 (a city in Jiangsu) or 浙菜-like dishes.
    assert small.lookup("Jiangsu") == ["江苏"]
    assert small.lookup("jiangsu province") == ["江苏"]
    assert small.lookup("Zhejiang") == []
    assert small.lookup("surname") == []
    assert small.lookup("governor") == ["省长"]  # the head of "governor of a province"


def test_an_acronym_in_parentheses_translates_too() -> None:
    small = Glossary.from_lines(
        ["人工智能 人工智能 [ren2 gong1 zhi4 neng2] /artificial intelligence (AI)/\n", "哀 哀 [ai1] /sorrow/surname Ai/\n"]
    )
    assert small.lookup("AI") == ["人工智能"]
    assert small.lookup("artificial intelligence") == ["人工智能"]


def test_phrases_win_over_their_words(glossary: Glossary) -> None:
    assert glossary.translate_terms("Yangtze River Delta") == ["长三角", "长江三角洲"]
    assert glossary.translate_terms("science and technology") == ["科技", "科学技术"]
    assert "大气污染" in glossary.translate_terms("air pollution")
    assert "污染" not in glossary.translate_terms("air pollution")


def test_numbers_years_ordinals_and_dates_pass_through(glossary: Glossary) -> None:
    assert glossary.translate_terms("2027") == ["2027", "2027年"]
    assert glossary.translate_terms("308") == ["308"]
    assert glossary.translate_terms("eighth") == ["第八", "第8"]
    assert glossary.translate_terms("8th") == ["第8", "第八"]
    assert glossary.translate_terms("four") == ["四", "4"]
    assert glossary.translate_terms("May 20") == ["5月20日", "5月"]


def test_question_words_are_dropped_and_chinese_kept(glossary: Glossary) -> None:
    assert glossary.translate_terms("What is the") == []
    assert glossary.translate_terms("长三角 integration") == ["长三角", "一体化", "一元化"]


def test_whole_question(glossary: Glossary) -> None:
    terms = glossary.translate_terms("Which province will host the 2027 meeting?")
    assert terms[:3] == ["行省", "省份", "省"]
    assert {"2027", "2027年", "会议"} <= set(terms)
    assert len(glossary.translate_terms("Which province will host the 2027 meeting?", max_per_term=1)) == 5


def test_inflections_find_their_base_form(glossary: Glossary) -> None:
    assert glossary.lookup("cities")[0] == "城市"
    assert glossary.lookup("leaders")[0] == "领导人"
    assert glossary.lookup("meeting")[0] == "会议"  # a word of its own, not "meet"
    assert "province" in lemmas("provinces")
    assert "host" in lemmas("hosted")
    assert "host" in lemmas("hosting")
    assert "plan" in lemmas("planned")
    assert "hold" in lemmas("held")
    assert "tooth" in lemmas("teeth")  # an irregular plural


def test_names_in_text_by_pinyin() -> None:
    assert names_in_text("Xin Changxing", LEADERS) == ["信长星"]  # 长 read chang, not zhang
    assert names_in_text("Wang Hao", LEADERS) == ["王浩"]
    assert names_in_text("Liu Xiaotao", LEADERS) == ["刘小涛"]
    assert names_in_text("Changxing Xin", LEADERS) == ["信长星"]  # Western order
    assert names_in_text("Li Qiang", LEADERS) == []
    assert names_in_text("Wang", LEADERS) == []  # one syllable would match every 王
    assert names_in_text("Lü Bu", "吕布骑马。") == ["吕布"]
    assert names_in_text("Lv Bu", "吕布骑马。") == ["吕布"]
    assert names_in_text("", LEADERS) == []
