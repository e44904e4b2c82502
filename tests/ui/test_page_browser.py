"""The chat page in a real browser (Debian's chromium driven by Playwright) against the real
server (API + page, uvicorn on loopback), plus HTTP probes that the page serves no files.

Screenshots go to $RAG_TEST_ARTIFACTS when set, else to a pytest tmp dir; their paths are
printed. Without /usr/bin/chromium the browser tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from ui_helpers import LivePage

from rag.engine import Engine

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Playwright adds a fresh temporary --user-data-dir itself (a non-persistent launch).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSWERABLE = "which province hosts 2027?"
UNANSWERABLE = "杭州亚运会是哪一年举办的？"
REFUSAL = "报告中没有找到相关内容"
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"Debian's chromium is missing ({CHROMIUM}): install it with `make browser`"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    explicit = os.environ.get("RAG_TEST_ARTIFACTS")
    folder = Path(explicit) if explicit else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(
    page: Any, folder: Path, name: str, capsys: pytest.CaptureFixture[str], full: bool = True
) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    with capsys.disabled():
        print(f"\nscreenshot: {path}")
    return path


@pytest.fixture
def open_page(browser: Any, live_page: LivePage) -> Iterator[Callable[..., Any]]:
    """`open_page(**context_options)`: a new tab on the page, closed after the test (an open tab
    holds a heartbeat stream that would keep the server from stopping)."""
    contexts: list[Any] = []

    def open_(**options: Any) -> Any:
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        # The page works offline: everything it loads comes from this server.
        foreign: list[str] = []
        page.on(
            "request",
            lambda request: (
                foreign.append(request.url)
                if not request.url.startswith((live_page.url, "data:", "blob:"))
                else None
            ),
        )
        page.foreign_requests = foreign
        page.goto(live_page.url)
        page.locator("#rr-input textarea").wait_for(timeout=20_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def ask(page: Any, question: str) -> None:
    page.locator("#rr-input textarea").fill(question)
    page.locator("#rr-input textarea").press("Enter")


def feedback_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_answers_cite_highlight_refuse_and_take_feedback(
    open_page: Callable[..., Any],
    live_page: LivePage,
    ui_engine: Engine,
    artifacts: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from playwright.sync_api import expect

    page = open_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    expect(page.locator("#rr-header")).to_contain_text("Ready")
    expect(page.get_by_role("button", name="江苏省委书记是谁？")).to_be_visible()
    screenshot(page, artifacts, "desktop-first-screen", capsys, full=False)

    ask(page, ANSWERABLE)
    answer = page.locator("#rr-chat .rr-found").last
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    expect(answer).to_contain_text("安徽")
    marker = answer.locator("a.rr-cite").first
    expect(marker).to_have_text("[1]")
    expect(marker).to_have_attribute("href", "#rr-src-0-1")

    expected = ui_engine.answer(ANSWERABLE, top_k=live_page.settings.top_k).citations[0]
    card = page.locator("#rr-sources-panel #rr-src-0-1")
    highlighted = card.locator("mark.rr-mark")
    expect(highlighted).to_have_count(1)
    assert "安徽" in highlighted.inner_text()
    assert highlighted.inner_text().split() == expected.sentence.split()
    expect(card).to_contain_text(f"chars {expected.spans[0][0]}–{expected.spans[-1][1]}")

    marker.click()
    expect(card).to_be_in_viewport()
    expect(card).to_have_class("rr-card rr-flash")

    # Thumbs up writes a line at once; a comment adds a complete second line.
    page.locator("#rr-chat button[aria-label='Like']").last.click()
    expect(page.get_by_placeholder("补充说明（可选）/ Comment (optional)")).to_be_visible()
    page.get_by_placeholder("补充说明（可选）/ Comment (optional)").fill("clear and cited")
    page.get_by_role("button", name="提交 / Send").click()
    expect(page.get_by_text("Comment saved")).to_be_visible()
    lines = feedback_lines(live_page.settings.feedback_path)
    assert [(line["rating"], line["comment"]) for line in lines] == [("up", ""), ("up", "clear and cited")]
    assert lines[1]["question"] == ANSWERABLE and "安徽" in lines[1]["answer"]
    assert lines[1]["citations"][0]["sentence"] == expected.sentence and lines[1]["timestamp"]

    ask(page, UNANSWERABLE)
    refusal = page.locator("#rr-chat .rr-not-found").last
    refusal.wait_for(timeout=ANSWER_TIMEOUT_MS)
    expect(refusal).to_contain_text(REFUSAL)
    expect(refusal.locator("a.rr-cite")).to_have_count(0)
    expect(page.locator("#rr-sources-panel")).to_contain_text("Not in the report")
    assert page.locator("#rr-sources-panel .rr-related").count() >= 1
    screenshot(page, artifacts, "desktop-answer-and-refusal", capsys)
    assert page.js_errors == []
    assert page.foreign_requests == []


def test_phone_width_in_chinese(
    open_page: Callable[..., Any], artifacts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    page = open_page(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    assert page.evaluate("navigator.language") == "zh-CN"
    expect(page.locator("#rr-header")).to_contain_text("就绪")
    # The chat, not the settings sidebar, comes first; the input and the examples need no scrolling.
    expect(page.locator("#rr-input textarea")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Who attended on behalf of Zhejiang?")).to_be_in_viewport()
    screenshot(page, artifacts, "phone-first-screen", capsys, full=False)

    page.get_by_role("button", name="2027年度座谈会在哪里召开？").click()
    answer = page.locator("#rr-chat .rr-found").last
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    expect(answer).to_contain_text("安徽")
    answer.locator("a.rr-cite").first.tap()
    expect(page.locator("#rr-src-0-1")).to_be_in_viewport()
    expect(page.locator("#rr-src-0-1 mark.rr-mark")).to_contain_text("安徽")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at 390px"
    screenshot(page, artifacts, "phone-answer", capsys)
    assert page.js_errors == []
    assert page.foreign_requests == []


# --- HTTP: what the server serves besides the page ---------------------------------------------
TRAVERSAL_PROBES = (
    "/file=../../etc/passwd",
    "/file=/etc/passwd",
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=..%2F..%2Fetc%2Fpasswd",
    "/gradio_api/file=../../etc/passwd",
    "/gradio_api/file=%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/gradio_api/file/etc/passwd",
    "/gradio_api/file=/proc/self/environ",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/assets/..%2f..%2f..%2f..%2fetc/passwd",
    "/eval-report/../../etc/passwd",
    "/eval-report%2f..%2f..%2fetc%2fpasswd",
)


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written: no client-side dot-segment removal or re-encoding."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", TRAVERSAL_PROBES)
def test_path_traversal_probes_are_refused(live_page: LivePage, path: str) -> None:
    status, body = raw_get(live_page.url, path)
    assert status in (403, 404), (path, status, body[:200])
    assert b"root:" not in body and b"PATH=" not in body


def test_the_servers_own_files_are_not_served(live_page: LivePage, ui_engine: Engine) -> None:
    live_page.settings.feedback_path.parent.mkdir(parents=True, exist_ok=True)
    live_page.settings.feedback_path.touch()
    private = [
        live_page.settings.feedback_path,
        live_page.settings.eval_report_path,  # only through GET /eval-report
        ui_engine.index_dir / "CURRENT",
        Path(__file__).resolve(),
    ]
    for path in private:
        status, _ = raw_get(live_page.url, f"/gradio_api/file={path}")
        assert status in (403, 404), (path, status)
    status, body = raw_get(live_page.url, "/gradio_api/proxy=http://127.0.0.1:9/")
    assert status in (400, 403, 404), body[:200]


def test_api_routes_and_the_eval_report_survive_the_mount(live_page: LivePage) -> None:
    with httpx.Client(base_url=live_page.url, timeout=30) as http_client:
        assert http_client.get("/healthz").json() == {"status": "ok"}
        asked = http_client.post("/ask", json={"question": ANSWERABLE})
        assert asked.status_code == 200 and "安徽" in asked.json()["answer"]
        assert http_client.get("/docs").status_code == 200
        page = http_client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        report = http_client.get("/eval-report")
        assert report.status_code == 200 and "eval report" in report.text
        assert "default-src 'none'" in report.headers["content-security-policy"]


def test_gradio_uploads_are_refused_while_writes_are_disabled(live_page: LivePage) -> None:
    if live_page.settings.api_key:
        pytest.skip("this server has write access enabled")
    with httpx.Client(base_url=live_page.url, timeout=30) as http_client:
        response = http_client.post("/gradio_api/upload", files={"files": ("x.txt", b"hello")})
    assert response.status_code == 403
    assert "RAG_API_KEY" in response.json()["error"]["message"]
