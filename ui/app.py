"""The chat page: a Gradio app mounted at `/` in the API's FastAPI app (`mount_ui`).

Layout: a header (what this is, readiness, links), a settings sidebar (passages, answerer,
documents and upload), the chat with example questions and thumbs, and a sources panel whose
cards the [n] markers in each answer link to. The logic lives in `ui.chat` (asking, feedback),
`ui.documents` (upload) and `ui.render` (HTML); this module only wires Gradio to them.

Only `rag.edges.server` imports this module, so Gradio is loaded only by the process that serves it.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import FileResponse

from ingest.errors import NotFound, RagError, WritesDisabled
from ingest.loading import SUPPORTED_SUFFIXES
from rag.config import MAX_TOP_K, Settings
from rag.engine import Engine
from ui import render
from ui.chat import Chat, ChatTurn, Readiness
from ui.documents import UPLOADS_OFF, add_upload, uploads_enabled
from ui.feedback import FeedbackLog

TITLE = "报告问答 / Report Q&A"
EVAL_REPORT_ROUTE = "/eval-report"
EXAMPLES = (
    "2027年度座谈会在哪里召开？",
    "which province hosts 2027?",
    "江苏省委书记是谁？",
    "Who attended on behalf of Zhejiang?",
)
# System fonts only: the default theme's Source Sans Pro has no CJK glyphs, so mixed lines
# switch fonts mid-word; a system stack renders Chinese and English alike, and loads nothing.
FONTS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "PingFang SC",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "sans-serif",
)
STATUS_POLL_S = 2.0  # how often the page asks whether the server is ready, until it is

CSS = """
.rr-header h1 { font-size: 1.35rem; margin: 0 0 .2rem 0; }
.rr-header p { margin: .15rem 0; color: var(--body-text-color-subdued); }
.rr-header-meta { font-size: .9em; }
.rr-status.rr-ready { color: #2b8a3e; }
.rr-status.rr-loading { color: #e67700; }
a.rr-cite { display: inline-block; padding: 0 .3em; margin: 0 .1em; border-radius: .35em;
  background: var(--color-accent-soft); color: var(--color-accent) !important; font-weight: 600;
  font-size: .85em; text-decoration: none; }
a.rr-cite:hover, a.rr-source-link:hover { text-decoration: underline; }
.rr-answer p { margin: .25rem 0; }
.rr-answer-sources { font-size: .85em; color: var(--body-text-color-subdued); }
a.rr-source-link { color: var(--color-accent) !important; text-decoration: none; margin-right: .5em;
  overflow-wrap: anywhere; }
.rr-notice, .rr-hint { font-size: .85em; color: var(--body-text-color-subdued); }
.rr-refusal { font-weight: 600; }
.rr-partial-badge { display: inline-block; font-size: 0.85em; background: #fff3bf; color: #5c3c00;
                    border-radius: var(--radius-md); padding: 0 0.5em; margin: 0 0 0.3em; }
.rr-error p { color: #c92a2a; }
.rr-cursor { animation: rr-blink 1s steps(2) infinite; }
@keyframes rr-blink { 50% { opacity: 0; } }
#rr-sources-panel { max-height: 72vh; overflow-y: auto; padding-right: .25rem; }
.rr-sources-empty { color: var(--body-text-color-subdued); padding: .5rem; }
.rr-turn { margin: 0 0 .6rem 0; }
.rr-turn > summary { cursor: pointer; font-weight: 600; padding: .3rem 0; overflow-wrap: anywhere; }
.rr-q { color: var(--color-accent); margin-right: .3em; }
.rr-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: .55rem .75rem; margin: .45rem 0; background: var(--block-background-fill);
  scroll-margin: 4rem; }
.rr-card.rr-related { border-style: dashed; }
.rr-card.rr-flash { animation: rr-flash 1.8s ease-out; }
@keyframes rr-flash { 0% { box-shadow: 0 0 0 3px var(--color-accent); } 100% { box-shadow: 0 0 0 0 transparent; } }
.rr-card-head { display: flex; flex-wrap: wrap; gap: .15rem .6rem; font-size: .82em;
  color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.rr-n { font-weight: 700; color: var(--color-accent); }
.rr-doc { overflow-wrap: anywhere; }
.rr-passage { margin: 0; line-height: 1.7; white-space: pre-wrap; overflow-wrap: anywhere; }
mark.rr-mark { background: #ffe066; color: #212529; padding: 0 .1em; border-radius: .2em; }
.rr-not-found-banner { background: #fff3bf; color: #5c3c00; border-radius: var(--radius-md);
  padding: .4rem .6rem; margin: .3rem 0; font-size: .9em; }
.rr-docs { list-style: none; padding: 0; margin: 0; }
.rr-docs li { display: flex; flex-direction: column; padding: .3rem 0;
  border-bottom: 1px solid var(--border-color-primary); }
.rr-doc-meta { font-size: .8em; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.rr-note { font-size: .85em; color: var(--body-text-color-subdued); }
#rr-examples { gap: .4rem; flex-wrap: wrap; }
#rr-examples button { flex: 0 1 auto; min-width: 0; white-space: normal; }
@media (max-width: 768px) {
  /* A phone sees the input and the example questions without scrolling. */
  #rr-chat { height: 44vh !important; min-height: 260px !important; }
  #rr-sources-panel { max-height: none; overflow-y: visible; }
  .rr-header h1 { font-size: 1.15rem; }
  .rr-header p { font-size: .85em; }
}
"""

# Markers and source links point at cards in the sources panel: open the card's section,
# scroll it into view and flash it. Delegated from the document, as chat messages are
# re-rendered on every update; capture phase, so it runs before the chat's own handlers.
HEAD = """
<script>
(() => {
  if (window.__rrCitations) return;
  window.__rrCitations = true;
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href^="#rr-"]') : null;
    if (!link) return;
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    const section = target.closest("details");
    if (section) section.open = true;
    target.scrollIntoView({ behavior: "smooth", block: "center" });
    target.classList.remove("rr-flash");
    void target.offsetWidth;
    target.classList.add("rr-flash");
  }, true);
  // The settings sidebar starts closed (a phone sees the chat first); open it where there is room.
  if (window.matchMedia("(min-width: 1024px)").matches) {
    let tries = 0;
    const timer = setInterval(() => {
      const toggle = document.querySelector("#rr-sidebar:not(.open) .toggle-button");
      if (toggle) toggle.click();
      if (toggle || ++tries > 100) clearInterval(timer);
    }, 100);
  }
})();
</script>
"""

PLACEHOLDER = (
    "<div style='text-align:center'><p><b>问报告一个问题 / Ask the report a question</b></p>"
    "<p>中文或英文均可。每个回答都标注出处 [n]，点击即可查看原文段落；报告里没有的内容会直接告诉你。</p>"
    "<p>Chinese or English. Every answer cites its passage [n]: click to see it. "
    "If the report does not say, the page tells you so.</p></div>"
)


def build_ui(engine: Engine, settings: Settings, readiness: Readiness | None = None) -> gr.Blocks:
    """The chat page over `engine`. `readiness` says whether the engine can answer yet (the
    API's loader when mounted; otherwise: is there an index)."""
    readiness = readiness or _index_readiness(engine)
    chat = Chat(engine, settings, readiness, FeedbackLog(settings.feedback_path))
    llm = settings.llm_enabled

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.State([])
        question = gr.State("")  # the question being asked, once the textbox is cleared
        rated = gr.State(None)  # (message index, liked) awaiting an optional comment

        header = gr.HTML(render.header_html(render.status_html(*readiness()), None), elem_id="rr-header")

        # Closed by default, so a phone opens on the chat; HEAD opens it on wide screens.
        with gr.Sidebar(label="设置 / Settings", open=False, width=300, elem_id="rr-sidebar"):
            gr.Markdown("### 设置 / Settings")
            top_k = gr.Slider(
                1,
                MAX_TOP_K,
                value=settings.top_k,
                step=1,
                label="检索段落数 / Passages per question",
            )
            answerer = gr.Radio(
                [("抽取式 / Extractive", "extractive"), ("LLM 生成 / LLM", "llm")],
                value="llm" if llm else "extractive",
                label="回答方式 / Answerer",
                interactive=llm,
                info=None if llm else "LLM 未配置：设置 RAG_LLM_BASE_URL 与 RAG_LLM_MODEL / not configured",
            )
            gr.Markdown("### 文档 / Documents")
            documents = gr.HTML(_documents_panel(chat), elem_id="rr-documents")
            if uploads_enabled(settings):
                upload_file = gr.File(
                    label="添加文档 / Add a document",
                    file_types=list(SUPPORTED_SUFFIXES),
                    file_count="single",
                    type="filepath",
                )
                key = gr.Textbox(label="API 密钥 / API key (RAG_API_KEY)", type="password", max_lines=1)
                add = gr.Button("添加并索引 / Add and index", variant="secondary")
                upload_status = gr.Markdown()
            else:
                gr.Markdown(UPLOADS_OFF, elem_classes="rr-note")

        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="对话 / Chat",
                    elem_id="rr-chat",
                    height="60vh",
                    min_height=320,
                    placeholder=PLACEHOLDER,
                    render_markdown=False,  # messages are HTML from ui.render, escaped there
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=[],
                    feedback_options=("Like", "Dislike"),
                    layout="bubble",
                )
                with gr.Row(equal_height=True):
                    textbox = gr.Textbox(
                        show_label=False,
                        placeholder="输入问题，回车发送 / Type a question, press Enter",
                        max_length=settings.max_question_chars,
                        max_lines=4,
                        scale=5,
                        min_width=180,
                        elem_id="rr-input",
                        autofocus=True,
                    )
                    ask = gr.Button("提问 / Ask", variant="primary", scale=1, min_width=90, elem_id="rr-ask")
                gr.Markdown("试试 / Try:", elem_classes="rr-note")
                with gr.Row(elem_id="rr-examples"):
                    example_buttons = [gr.Button(text, size="sm", variant="secondary") for text in EXAMPLES]
                with gr.Row(visible=False) as comment_row:
                    comment = gr.Textbox(
                        show_label=False,
                        placeholder="补充说明（可选）/ Comment (optional)",
                        max_lines=3,
                        scale=5,
                        min_width=180,
                    )
                    send_comment = gr.Button("提交 / Send", size="sm", scale=1, min_width=80)
                feedback_note = gr.Markdown(elem_classes="rr-note")
                clear = gr.Button("新对话 / New chat", size="sm", variant="secondary")
            with gr.Column(scale=2, min_width=300):
                gr.Markdown("### 来源 / Sources")
                sources = gr.HTML(render.SOURCES_EMPTY, elem_id="rr-sources-panel")
        timer = gr.Timer(STATUS_POLL_S)

        # --- events --------------------------------------------------------------------
        private: dict[str, Any] = {"api_visibility": "private"}  # the HTTP API is /ask, not these

        def run_ask(text: str, history: list[ChatTurn], k: float, mode: str) -> Any:
            for update in chat.ask(text, history, k, mode):
                yield update.messages, update.sources, update.turns

        def take(text: str) -> tuple[Any, ...]:
            return "", text, gr.Row(visible=False), ""

        ask_args: dict[str, Any] = {
            "fn": run_ask,
            "inputs": [question, turns, top_k, answerer],
            "outputs": [chatbot, sources, turns],
            "show_progress": "hidden",
            "concurrency_limit": settings.max_concurrency,
            **private,
        }
        staged = [textbox, question, comment_row, feedback_note]
        for trigger in (textbox.submit, ask.click):
            trigger(take, [textbox], staged, queue=False, **private).then(**ask_args)
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(lambda t=text: take(t), None, staged, queue=False, **private).then(**ask_args)

        def on_like(history: list[ChatTurn], data: gr.LikeData) -> tuple[Any, ...]:
            note = chat.rate(history, int(data.index), data.liked)  # type: ignore[arg-type]
            return gr.Row(visible=True), note, (int(data.index), data.liked)  # type: ignore[arg-type]

        chatbot.like(on_like, [turns], [comment_row, feedback_note, rated], queue=False, **private)

        def on_comment(text: str, pending: Any, history: list[ChatTurn]) -> tuple[Any, ...]:
            if not pending or not (text or "").strip():
                return gr.Row(visible=True), "请先写评论 / Write a comment first.", pending, text
            note = chat.rate(history, pending[0], pending[1], text)
            return gr.Row(visible=False), note, None, ""

        comment_outputs = [comment_row, feedback_note, rated, comment]
        send_comment.click(on_comment, [comment, rated, turns], comment_outputs, queue=False, **private)
        comment.submit(on_comment, [comment, rated, turns], comment_outputs, queue=False, **private)

        def on_clear() -> tuple[Any, ...]:
            return [], render.SOURCES_EMPTY, [], None, gr.Row(visible=False), ""

        cleared = [chatbot, sources, turns, rated, comment_row, feedback_note]
        clear.click(on_clear, None, cleared, queue=False, **private)
        chatbot.clear(on_clear, None, cleared, queue=False, **private)  # the chat's own bin icon

        def refresh() -> tuple[Any, ...]:
            ready, reason = readiness()
            head = render.header_html(render.status_html(ready, reason), _eval_report_url(settings))
            return head, _documents_panel(chat), gr.Timer(active=not ready)

        demo.load(refresh, None, [header, documents, timer], queue=False, **private)
        timer.tick(refresh, None, [header, documents, timer], queue=False, **private)

        if uploads_enabled(settings):
            # Gradio finds the progress tracker by this default value: its documented idiom.
            def on_upload(
                path: str | None,
                given_key: str,
                progress: gr.Progress = gr.Progress(),  # noqa: B008
            ) -> tuple[str, str]:
                message = add_upload(
                    engine, settings, path, given_key, lambda done, what: progress(done, desc=what)
                )
                return message, _documents_panel(chat)

            add.click(
                on_upload,
                [upload_file, key],
                [upload_status, documents],
                concurrency_limit=1,  # writes are serialised by the engine anyway
                **private,
            )
    return demo


def mount_ui(app: FastAPI, engine: Engine, settings: Settings, path: str = "/") -> FastAPI:
    """Mount the chat page on `app` at `path`, after the API routes (which keep precedence).

    Adds GET /eval-report (the latest eval HTML report, that one file) before mounting: a
    mount at "/" catches every path not matched earlier. Serves no other files: no
    allowed_paths, the data folders blocked, no share link, no SSR, no MCP, no run history."""
    add_eval_report_route(app, settings.eval_report_path)
    if not settings.api_key:
        refuse_gradio_uploads(app, path)
    services = getattr(app.state, "services", None)
    readiness = services.loader.status if services is not None else None
    blocks = build_ui(engine, settings, readiness)
    blocked = {
        engine.index_dir,
        settings.index_dir,
        settings.cache_dir,
        settings.feedback_path,
        settings.eval_report_path,
    }
    return gr.mount_gradio_app(
        app,
        blocks,
        path=path,
        theme=gr.themes.Default(font=FONTS),
        css=CSS,
        head=HEAD,
        footer_links=[],
        run_history=False,
        mcp_server=False,
        ssr_mode=False,
        pwa=False,
        enable_monitoring=False,
        show_error=False,  # errors reach the user as chat messages, never as tracebacks
        max_file_size=settings.max_upload_bytes,
        allowed_paths=None,
        blocked_paths=sorted(str(Path(p).expanduser().resolve()) for p in blocked),
    )


def refuse_gradio_uploads(app: FastAPI, path: str) -> None:
    """With writes disabled the page has no upload control, so Gradio's upload endpoint (open to
    anyone by default) answers 403 instead of storing files; an API route matches before the mount."""

    async def uploads_disabled() -> Any:
        # the API's error handler turns it into its JSON error body
        raise WritesDisabled("uploads are disabled: set RAG_API_KEY on the server to enable document uploads")

    app.add_api_route(f"{path.rstrip('/')}/gradio_api/upload", uploads_disabled, methods=["POST"], include_in_schema=False)


def add_eval_report_route(app: FastAPI, report: Path) -> None:
    """GET /eval-report: the eval HTML report at `report`, 404 while there is none."""

    async def eval_report() -> Any:
        if not report.is_file():
            raise NotFound(f"no eval report yet: run `rag eval` (writes {report.name})")
        # The report is self-contained (inline CSS, JS, SVG): it may load nothing else.
        policy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
        return FileResponse(
            report,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"},
        )

    app.add_api_route(EVAL_REPORT_ROUTE, eval_report, methods=["GET"], include_in_schema=False)


def _eval_report_url(settings: Settings) -> str | None:
    return EVAL_REPORT_ROUTE if settings.eval_report_path.is_file() else None


def _documents_panel(chat: Chat) -> str:
    ready, reason = chat.readiness()
    if not ready:
        return f'<p class="rr-note">加载中 / Loading: {escape(reason)}</p>'
    try:
        return render.documents_html(chat.engine.documents())
    except RagError as exc:
        return f'<p class="rr-note">⚠️ {escape(str(exc))}</p>'


def _index_readiness(engine: Engine) -> Readiness:
    """Readiness without the API's loader: answerable once an index exists (loaded on first use)."""

    def ready() -> tuple[bool, str]:
        if engine.has_index():
            return True, ""
        return False, f"no index in {engine.index_dir}: run `rag ingest`"

    return ready
