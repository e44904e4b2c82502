"""Reading report files into Documents: .txt/.md, .html/.htm, .pdf, .docx.

`Document.text` is what every offset points into. For .txt and .md it is the decoded file,
character for character (line endings included). For the other formats it is our plain-text
rendering of the file: Markdown-style ``#`` headings and ``- `` list items, blank lines between
blocks, so the cleaner sees the structure the format had.

A document's id comes from its file name and absolute path, not its content: re-ingesting a
changed file replaces the old version. `content_hash` tells versions apart.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ingest.cleaning import paragraphs, title
from ingest.errors import BadInput, TooLarge, UnsupportedFile
from ingest.records import Document

# Checked in this order: the UTF-32 LE mark starts with the UTF-16 LE one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
HTML_DROP = ["script", "style", "noscript", "template", "head", "svg", "iframe"]
HTML_BLOCKS = [
    "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote",
    "pre", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "figure", "figcaption", "address",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "form", "fieldset", "details", "summary",
]  # fmt: skip


def _undecodable(name: str) -> BadInput:
    return BadInput(
        f"Cannot decode {name}: it is not text in an encoding we recognise. Convert it to UTF-8 and try again."
    )


def decode_text(data: bytes, name: str) -> str:
    """Decode a text file: a byte order mark first, then strict UTF-8, then charset-normalizer.

    name: the file name, for the error message. Raises BadInput for binary or undecodable data.
    """
    text: str | None = None
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise _undecodable(name) from None
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            from charset_normalizer import from_bytes

            best = from_bytes(data).best()
            if best is None:
                raise _undecodable(name) from None
            text = str(best)
    if "\x00" in text:  # a NUL never occurs in text; this is a binary file
        raise _undecodable(name)
    return text


def _html_text(data: bytes, name: str) -> str:
    """Visible text of an HTML page, one block per paragraph, headings and list items marked."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(data, "html.parser")  # detects the encoding from <meta charset> or the bytes
    for tag in soup(HTML_DROP):
        tag.decompose()
    # HTML collapses whitespace inside text (outside <pre>); only blocks and <br> break lines.
    for node in soup.find_all(string=True):
        if type(node) is NavigableString and node.find_parent("pre") is None:
            node.replace_with(re.sub(r"\s+", " ", str(node)))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.insert(0, "#" * level + " ")
    for item in soup.find_all("li"):
        item.insert(0, "- ")
    for cell in soup.find_all(["td", "th"]):
        if cell.find_next_sibling(["td", "th"]):
            cell.append(" | ")
    for block in soup.find_all(HTML_BLOCKS):
        block.insert_before("\n\n")
        block.append("\n\n")
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in soup.get_text().split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _pdf_text(data: bytes, name: str) -> str:
    """Text of each page, pages separated by a blank line (the cleaner rejoins split sentences)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadInput(f"{name} is password-protected; save an unprotected copy and ingest that.")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except BadInput:
        raise
    except Exception as exc:  # pypdf raises many types on malformed files; all mean the same to us
        raise BadInput(f"Cannot read {name} as a PDF ({exc}); check that the file is a valid PDF.") from exc
    text = "\n\n".join(page for page in pages if page)
    if not text:
        raise BadInput(
            f"{name} has no extractable text (a scanned PDF?); run OCR on it first, e.g. with ocrmypdf."
        )
    return text


def _numbered(paragraph: Any) -> bool:
    """Whether a Word paragraph has list numbering applied directly (python-docx has no public
    accessor for it, so this reads the paragraph's XML properties)."""
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _docx_text(data: bytes, name: str) -> str:
    """Paragraphs and tables in document order; Heading/Title styles become ``#`` lines, list
    paragraphs and table rows ``- `` items."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # not a zip, or a zip without a Word document inside
        raise BadInput(
            f"Cannot read {name} as a .docx file ({exc}); save it as .docx from Word and retry."
        ) from exc
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                # a merged cell is repeated once per grid column it spans
                unique = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
                if unique:
                    rows.append("- " + " | ".join(unique))
            if rows:
                blocks.append("\n".join(rows))
            continue
        text = block.text.strip()
        if not text:
            continue
        style = block.style.name if block.style is not None else ""
        level = style.removeprefix("Heading ")
        if style == "Title":
            text = f"# {text}"
        elif level.isdigit():
            text = f"{'#' * min(int(level), 6)} {text}"
        elif "List" in style or _numbered(block):
            text = f"- {text}"
        blocks.append(text)
    return "\n\n".join(blocks)


# suffix -> decoder(file bytes, file name) -> Document.text
DECODERS: dict[str, Callable[[bytes, str], str]] = {
    ".txt": decode_text,
    ".md": decode_text,
    ".markdown": decode_text,
    ".html": _html_text,
    ".htm": _html_text,
    ".pdf": _pdf_text,
    ".docx": _docx_text,
}
SUPPORTED_SUFFIXES = tuple(sorted(DECODERS))


def check_upload_size(name: str, size: int, limit: int) -> None:
    """TooLarge when an upload of `size` bytes is over `limit` (RAG_MAX_UPLOAD_BYTES)."""
    if size > limit:
        raise TooLarge(f"{name} has {size} bytes, over the upload limit of {limit} (RAG_MAX_UPLOAD_BYTES)")


def unsupported(name: str) -> UnsupportedFile:
    return UnsupportedFile(
        f"Cannot ingest {name}: unsupported file type. Supported types: {', '.join(SUPPORTED_SUFFIXES)}."
    )


def document_id(source_name: str, path: str) -> str:
    """Stable id from the file name and its path: "report-1a2b3c4d". Content changes keep it."""
    slug = re.sub(r"[\W]+", "-", Path(source_name).stem.lower()).strip("-_")[:40].strip("-_") or "doc"
    return f"{slug}-{hashlib.sha256(path.encode('utf-8')).hexdigest()[:8]}"


def load_text(source_name: str, text: str, path: str) -> Document:
    """A Document for already decoded text (an upload); `path` identifies it, as for files."""
    return Document(
        id=document_id(source_name, path),
        source=source_name,
        path=path,
        text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        title=title(paragraphs(text)),
    )


def load_bytes(source_name: str, data: bytes, path: str) -> Document:
    """A Document from a file's bytes, decoded by the suffix of `source_name`."""
    decoder = DECODERS.get(Path(source_name).suffix.lower())
    if decoder is None:
        raise unsupported(source_name)
    return load_text(source_name, decoder(data, source_name), path)


def load_document(path: Path) -> Document:
    """Read and decode one file. Raises BadInput (missing, unreadable) or UnsupportedFile."""
    path = Path(path)
    if path.suffix.lower() not in DECODERS:
        raise unsupported(str(path))
    resolved = path.resolve()
    try:
        data = resolved.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist; check the path.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {path} ({exc.strerror}); check that it is a readable file.") from exc
    return load_bytes(resolved.name, data, str(resolved))


def _is_hidden(path: Path, root: Path) -> bool:
    """Dot files and folders under `root` (.git, .venv) and Office lock files (~$report.docx)."""
    parts = path.relative_to(root).parts
    return any(part.startswith(".") for part in parts) or path.name.startswith("~$")


def discover(paths: Iterable[Path]) -> list[Path]:
    """The supported files among `paths`, searching folders recursively; resolved, sorted, unique.

    A named file of an unsupported type raises UnsupportedFile; inside folders such files, and
    hidden ones, are skipped. A path that does not exist raises BadInput.
    """
    found: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            root = path.resolve()
            found.update(
                file
                for file in root.rglob("*")
                if file.suffix.lower() in DECODERS and file.is_file() and not _is_hidden(file, root)
            )
        elif path.is_file():
            if path.suffix.lower() not in DECODERS:
                raise unsupported(str(path))
            found.add(path.resolve())
        else:
            raise BadInput(f"{path} does not exist; check the path.")
    return sorted(found)


__all__ = [
    "DECODERS",
    "SUPPORTED_SUFFIXES",
    "decode_text",
    "discover",
    "document_id",
    "load_bytes",
    "load_document",
    "load_text",
]
