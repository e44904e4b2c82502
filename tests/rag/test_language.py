import pytest

from rag.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("江苏省委书记是谁？", "zh"),
        ("2026年度座谈会什么时候举行？", "zh"),
        ("Who is the party secretary of Jiangsu?", "en"),
        ("How many?", "en"),
        # Mixed: the frame decides, not the quoted names or years.
        ("2027年 which province", "en"),
        ("Who is 信长星?", "en"),
        ("长三角 GDP growth 是多少", "zh"),
        ("iPhone 15 是什么时候发布的", "zh"),
        ("Yangtze River Delta 长三角", "en"),
        # A quoted English title inside a Chinese question stays Chinese.
        ("《The Art of War》的作者是谁", "zh"),
        # All of it quoted: the quote is the question.
        ('"What is it?"', "en"),
        # Neither script: the reports' language.
        ("2027?", "zh"),
        ("", "zh"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
