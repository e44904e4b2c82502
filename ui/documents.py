"""The page's document panel: the indexed documents, and uploads under the API's rule.

Uploads are possible only when RAG_API_KEY is set, and the page asks for that key as the API
does (`Authorization: Bearer <key>`): opening the page grants reading, never writing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from ingest.errors import RagError, Unauthorized, WritesDisabled
from rag.config import Settings
from rag.engine import Engine

log = logging.getLogger("ui.documents")

Progress = Callable[[float, str], None]  # (fraction done, what is happening)

UPLOADS_OFF = (
    "上传已关闭：在服务器上设置 RAG_API_KEY 后可添加文档。"
    " / Uploads are off: set RAG_API_KEY on the server to add documents here or via POST /documents."
)


def uploads_enabled(settings: Settings) -> bool:
    return bool(settings.api_key)


def add_upload(
    engine: Engine, settings: Settings, file_path: str | None, key: str, progress: Progress
) -> str:
    """Check the key, then read and index one uploaded file; a line for the user either way.

    The key check and the upload itself are the API's (`Settings.authorize_write`,
    `Engine.add_upload`); only the wording is the page's."""
    try:
        settings.authorize_write(key or "")
    except WritesDisabled:
        return UPLOADS_OFF
    except Unauthorized:
        return "密钥错误 / Wrong API key: enter the server's RAG_API_KEY."
    if not file_path:
        return "请选择文件 / Choose a file first."
    path = Path(file_path)
    # Gradio stores uploads under a random folder with the original file name kept.
    name = path.name
    try:
        progress(0.1, f"读取 / reading {name}")
        data = path.read_bytes()
        progress(0.3, f"索引中 / indexing {name} ({len(data)} bytes)")
        upload = engine.add_upload(name, data)
        progress(1.0, "完成 / done")
    except RagError as exc:
        return f"⚠️ {exc}"
    except Exception:
        log.exception("indexing upload %s failed", name)
        return "⚠️ 内部错误，详见服务器日志。/ Internal error while indexing; see the server log."
    labels = {"added": "已添加 / added", "updated": "已更新 / updated", "unchanged": "未变化 / unchanged"}
    report = upload.report
    return f"{name}: {labels[upload.status]} ({report.chunks} 段 / passages in the index, {report.seconds:.1f} s)."
