"""ingest.loading: decoding, formats, ids and discovery, on files written to tmp_path."""

import hashlib
from pathlib import Path

import pytest

from ingest.errors import BadInput, UnsupportedFile
from ingest.loading import SUPPORTED_SUFFIXES, discover, document_id, load_document, load_text

REPORT = Path(__file__).resolve().parents[2] / "ingest" / "corpus" / "000_a507548b56e5d456.txt"
CHINESE = "长三角一体化发展\n\n长三角地区主要领导座谈会在上海举行。会议确定，明年在安徽省召开。\n"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def pdf_bytes(*pages: str) -> bytes:
    """A minimal valid PDF, one Helvetica text line per page (ASCII only)."""
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {count} >>"]
    font = 3 + 2 * count
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET" if text else ""
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_utf8_text_is_the_file_content_exactly(tmp_path):
    path = write(tmp_path / "report.txt", "标题\r\n\r\n正文。\r\n".encode())
    doc = load_document(path)
    assert doc.text == "标题\r\n\r\n正文。\r\n"  # line endings untouched: offsets are file characters
    assert doc.source == "report.txt"
    assert doc.path == str(path.resolve())
    assert doc.content_hash == hashlib.sha256(doc.text.encode()).hexdigest()
    assert doc.title == "标题"
    assert doc.id == f"report-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]}"


def test_id_survives_content_changes_but_not_moves(tmp_path):
    path = write(tmp_path / "Annual Report 2025.md", b"# One\n")
    before = load_document(path)
    path.write_bytes(b"# Two\n")
    after = load_document(path)
    assert before.id == after.id and before.id.startswith("annual-report-2025-")
    assert before.content_hash != after.content_hash
    moved = load_document(write(tmp_path / "other" / "Annual Report 2025.md", b"# One\n"))
    assert moved.id != before.id


def test_chinese_file_names_keep_their_characters():
    assert document_id("长三角报告.txt", "/a/长三角报告.txt").startswith("长三角报告-")
    assert document_id("???.txt", "/a/???.txt").startswith("doc-")


def test_upload_gets_the_same_document_as_the_file(tmp_path):
    path = write(tmp_path / "r.txt", CHINESE.encode())
    assert load_text("r.txt", CHINESE, str(path.resolve())) == load_document(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "gbk", "gb18030"])
def test_encodings(tmp_path, encoding):
    data = CHINESE.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    assert load_document(write(tmp_path / "r.txt", data)).text == CHINESE


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"PK\x03\x04\x00\x00binary\x00\x00"])
def test_undecodable_bytes(tmp_path, data):
    with pytest.raises(BadInput, match=r"r\.txt.*Convert it to UTF-8"):
        load_document(write(tmp_path / "r.txt", data))


def test_html_blocks_headings_and_lists(tmp_path):
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<h1>长三角  报告</h1><script>var x = 1;</script>"
        "<p>会议在<b>上海</b>\n   举行。</p><ul><li>第一点。</li><li>第二点。</li></ul>"
        "<p>Line one<br>line two.</p><!-- note --></body></html>"
    )
    doc = load_document(write(tmp_path / "page.html", html.encode()))
    assert doc.text == "# 长三角 报告\n\n会议在上海 举行。\n\n- 第一点。\n\n- 第二点。\n\nLine one\nline two."
    assert doc.title == "长三角 报告"


def test_html_encoding_from_meta(tmp_path):
    html = '<html><head><meta charset="gbk"></head><body><p>会议在上海举行。</p></body></html>'
    assert load_document(write(tmp_path / "page.htm", html.encode("gbk"))).text == "会议在上海举行。"


def test_docx_headings_lists_and_tables(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("年度报告", level=1)
    document.add_paragraph("会议在上海举行。")
    document.add_paragraph("第一点。", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("地区", "增长"), ("上海", "5%")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_heading("小结", level=2)
    path = tmp_path / "report.docx"
    document.save(path)
    doc = load_document(path)
    assert doc.text == "# 年度报告\n\n会议在上海举行。\n\n- 第一点。\n\n- 地区 | 增长\n- 上海 | 5%\n\n## 小结"
    assert doc.title == "年度报告"


def test_pdf_pages_are_separated_by_a_blank_line(tmp_path):
    doc = load_document(write(tmp_path / "r.pdf", pdf_bytes("Growth was strong.", "Exports rose.")))
    assert doc.text == "Growth was strong.\n\nExports rose."


def test_pdf_without_text_asks_for_ocr(tmp_path):
    with pytest.raises(BadInput, match="OCR"):
        load_document(write(tmp_path / "scan.pdf", pdf_bytes("")))


@pytest.mark.parametrize(("name", "data"), [("bad.pdf", b"not a pdf"), ("bad.docx", b"not a zip")])
def test_broken_files(tmp_path, name, data):
    with pytest.raises(BadInput, match=name.replace(".", r"\.")):
        load_document(write(tmp_path / name, data))


def test_bundled_report_loads_as_is():
    doc = load_document(REPORT)
    assert doc.text == REPORT.read_bytes().decode("utf-8")
    assert doc.title == "深入推进长三角一体化发展"


def test_discover_searches_folders_skips_hidden_and_unsupported(tmp_path):
    wanted = [
        write(tmp_path / "a.txt", b"a"),
        write(tmp_path / "sub" / "b.MD", b"b"),
        write(tmp_path / "sub" / "deeper" / "c.html", b"c"),
    ]
    write(tmp_path / "notes.csv", b"x")
    write(tmp_path / ".git" / "d.txt", b"d")
    write(tmp_path / "sub" / "~$lock.docx", b"e")
    single = write(tmp_path / "elsewhere" / "e.pdf", b"e")
    found = discover([tmp_path / "sub", tmp_path, single])
    assert found == sorted([p.resolve() for p in wanted] + [single.resolve()])


def test_discover_rejects_missing_paths(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        discover([tmp_path / "missing"])


def test_named_unsupported_file_lists_the_supported_types(tmp_path):
    path = write(tmp_path / "data.csv", b"x")
    for call in (discover, lambda p: load_document(p[0])):
        with pytest.raises(UnsupportedFile) as error:
            call([path])
        assert "data.csv" in str(error.value)
        assert all(suffix in str(error.value) for suffix in SUPPORTED_SUFFIXES)
