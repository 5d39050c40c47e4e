"""Documents to text: pure functions over bytes, one per supported type.

Parsing uses libraries made for each format (pypdf, python-docx, trafilatura); a
file that cannot be read raises :class:`DocumentError` with a reason a user can act
on (the document is then marked failed with it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import PurePath

from agents import error_codes
from agents.errors import InvalidInputError

SUPPORTED = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html",
    ".htm": "text/html",
}
_BY_MIME: dict[str, str] = {}
for _ext, _mime in SUPPORTED.items():
    _BY_MIME.setdefault(_mime, _ext)


class DocumentError(InvalidInputError):
    """A document that cannot be turned into text."""

    code = error_codes.DOCUMENT_UNREADABLE


@dataclass
class ParsedDocument:
    text: str
    title: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def detect_kind(filename: str, content_type: str = "") -> str:
    """The file extension that decides the parser (from the name, else the MIME type)."""
    ext = PurePath(filename).suffix.lower()
    if ext in SUPPORTED:
        return ext
    mime = content_type.split(";")[0].strip().lower()
    if mime in _BY_MIME:
        return _BY_MIME[mime]
    supported = ", ".join(sorted({e.lstrip(".") for e in SUPPORTED}))
    raise DocumentError(
        f"unsupported file type {ext or mime or 'unknown'!r}; supported: {supported}",
        code=error_codes.UNSUPPORTED_TYPE,
    )


def parse(data: bytes, filename: str, content_type: str = "") -> ParsedDocument:
    kind = detect_kind(filename, content_type)
    if not data.strip():
        raise DocumentError(f"{filename} is empty", code=error_codes.EMPTY_DOCUMENT)
    if kind == ".pdf":
        doc = _pdf(data, filename)
    elif kind == ".docx":
        doc = _docx(data, filename)
    elif kind in (".html", ".htm"):
        doc = _html(data, filename)
    else:
        doc = ParsedDocument(text=_decode(data, filename))
    doc.text = doc.text.strip()
    if not doc.text:
        raise DocumentError(f"{filename} contains no text", code=error_codes.EMPTY_DOCUMENT)
    doc.title = doc.title or PurePath(filename).stem
    return doc


def _decode(data: bytes, filename: str) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
            if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                continue
            return text
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(f"{filename} is not text in any encoding we recognise")
    return str(best)


def _pdf(data: bytes, filename: str) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(
                f"{filename} is encrypted; upload a copy without a password",
                code=error_codes.ENCRYPTED,
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{filename} is not a readable PDF: {exc}") from exc
    title = ""
    if reader.metadata and reader.metadata.title:
        title = str(reader.metadata.title)
    return ParsedDocument(
        text="\n\n".join(p.strip() for p in pages if p.strip()),
        title=title,
        metadata={"pages": str(len(pages))},
    )


def _docx(data: bytes, filename: str) -> ParsedDocument:
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{filename} is not a readable .docx file: {exc}") from exc
    blocks = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(" | ".join(cells))
    title = document.core_properties.title or ""
    return ParsedDocument(text="\n\n".join(blocks), title=title)


def _html(data: bytes, filename: str) -> ParsedDocument:
    import trafilatura

    html = _decode(data, filename)
    text = trafilatura.extract(html, include_tables=True, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None and meta.title else ""
    return ParsedDocument(text=text, title=title)
