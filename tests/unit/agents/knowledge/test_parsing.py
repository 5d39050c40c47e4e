"""Parsing real files made here with the format libraries (docx, PDF) or by hand."""

from __future__ import annotations

import io

import pytest

from agents.knowledge.parsing import DocumentError, detect_kind, parse


def pdf_with_text(text: str) -> bytes:
    """A minimal valid one-page PDF showing ``text`` (built by hand, offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def test_pdf_text() -> None:
    doc = parse(pdf_with_text("Ray Serve scales models"), "guide.pdf")
    assert "Ray Serve scales models" in doc.text
    assert doc.title == "guide" and doc.metadata["pages"] == "1"


def test_encrypted_pdf_is_refused_with_reason() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_text("secret"))))
    writer.encrypt("pw")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match="encrypted") as info:
        parse(buf.getvalue(), "locked.pdf")
    assert info.value.code == "encrypted"


def test_corrupt_pdf() -> None:
    with pytest.raises(DocumentError, match="not a readable PDF"):
        parse(b"%PDF-1.4\n this is not really a pdf \x00\x01\x02", "broken.pdf")


def test_docx_paragraphs_and_tables() -> None:
    from docx import Document

    document = Document()
    document.core_properties.title = "Handbook"
    document.add_paragraph("Chorus runs on Ray.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "engine"
    table.rows[0].cells[1].text = "llama.cpp"
    buf = io.BytesIO()
    document.save(buf)
    doc = parse(buf.getvalue(), "handbook.docx")
    assert "Chorus runs on Ray." in doc.text and "engine | llama.cpp" in doc.text
    assert doc.title == "Handbook"


def test_html_main_text() -> None:
    html = (
        "<html><head><title>Pandas</title></head><body><nav>Home | About</nav>"
        "<article><h1>Giant pandas</h1><p>Giant pandas live in the mountains of central "
        "China and eat bamboo for most of the day, up to fourteen hours.</p>"
        "<p>大熊猫生活在中国中部的山区。</p></article><footer>(c) zoo</footer></body></html>"
    )
    doc = parse(html.encode(), "pandas.html")
    assert "eat bamboo" in doc.text and "大熊猫" in doc.text
    assert doc.title in ("Pandas", "Giant pandas")


def test_text_encodings_and_markdown() -> None:
    chinese = "# 大熊猫\n\n大熊猫生活在中国中部的山区，主要以竹子为食，每天要花十几个小时进食。"
    assert parse(chinese.encode("gb18030"), "notes.md").text == chinese
    assert parse("hello".encode("utf-16"), "a.txt").text == "hello"


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [(b"", "empty.txt", "empty_document"), (b"  \n ", "blank.md", "empty_document"),
     (b"MZ\x90\x00", "tool.exe", "unsupported_type")],
)  # fmt: skip
def test_bad_files(data: bytes, name: str, code: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse(data, name)
    assert info.value.code == code


def test_kind_from_content_type() -> None:
    assert detect_kind("upload", "text/html; charset=utf-8") == ".html"
