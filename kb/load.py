"""Source files → SourceDoc: decoding, HTML main text, PDF pages, DOCX paragraphs and tables."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

from . import fields as fields_mod
from .errors import LoadError
from .pdftable import pages_text
from .types import Page, SourceDoc

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, ".pdf", ".docx")

# PDF producers fill /Title with placeholders; such values say nothing about the document.
_RUBBISH_TITLES = re.compile(
    r"^(标题|无标题|untitled|title|document|文档\d*|microsoft word.*|.*\.(docx?|wps|pdf))$", re.I
)
MB = 1024 * 1024
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def check_size(path: Path, max_mb: float) -> None:
    """Refuse a file larger than `max_mb` megabytes without reading it.

    Raises:
        LoadError: the file is too large, or cannot be looked at.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    if size > max_mb * MB:
        raise LoadError(
            str(path),
            f"file too large: {size / MB:.1f} MB, over the limit of {max_mb:g} MB; raise KB_MAX_FILE_MB to ingest it",
        )


def load(path: Path) -> SourceDoc:
    """Read one file into a SourceDoc.

    Raises:
        LoadError: the file is empty, unreadable, of an unknown encoding, encrypted, or has no text.
    """
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        raise LoadError(str(path), f"unsupported file type {suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError(str(path), "empty file")
    doc = loader(path, data)
    if not doc.text.strip():
        raise LoadError(str(path), "no text found in the file")
    return doc


def decode_text(data: bytes, path: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK; refuse anything else."""
    candidates = ["utf-16"] if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ["utf-8-sig", "gb18030", "big5"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8-sig" and len(_PRIVATE_USE.findall(text)) > max(1, len(text) // 500):
            continue  # Big5 bytes decode as GB18030 too, into private-use mojibake: not this encoding
        _reject_binary(text, path)
        return text.replace("\r\n", "\n").replace("\r", "\n")
    if b"\x00" in data:
        raise LoadError(path, "binary data, not text (contains NUL bytes)")
    raise LoadError(path, "unknown text encoding (expected UTF-8 or GB18030/GBK); re-save the file as UTF-8")


def _reject_binary(text: str, path: str) -> None:
    controls = len(_CONTROL.findall(text))
    if controls and controls > max(2, len(text) // 200):
        raise LoadError(path, "binary data, not text (control characters throughout)")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load_text(path: Path, data: bytes) -> SourceDoc:
    text = decode_text(data, str(path))
    return SourceDoc(path=str(path), text=text, content_hash=_sha256(data), format="txt")


_BLOCK_TAGS = (
    "p", "div", "li", "tr", "table", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "dd", "dt", "ul", "ol",
)  # fmt: skip
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "button",
    "select",
    "svg",
    "template",
)
_MAIN_HINT = re.compile(r"content|article|zoom|main|detail|trs_editor|text", re.I)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)


def _load_html(path: Path, data: bytes) -> SourceDoc:
    from bs4 import BeautifulSoup

    declared = _CHARSET.search(data[:4096])
    text = None
    if declared:
        try:
            text = data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        text = decode_text(data, str(path))
    soup = BeautifulSoup(text, "lxml")
    title_tag = soup.find("meta", attrs={"name": re.compile("^ArticleTitle$", re.I)})
    title = title_tag.get("content") if title_tag else None
    if not title and soup.title and soup.title.string:
        title = soup.title.string
    for br in soup.find_all("br"):
        br.replace_with("\n")
    page_fields = _metadata_table(soup)  # before page furniture goes: some sites put the table in a <header>
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(["td", "th"]):
        tag.append(" ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append("\n")
    main = _main_block(soup)
    body = main.get_text("") if main is not None else ""
    body = re.sub(r"[ \t\u3000]*\n[ \t\u3000\n]*", "\n", body).strip()
    return SourceDoc(
        path=str(path),
        text=body,
        content_hash=_sha256(data),
        format="html",
        title_hint=(title or "").strip() or None,
        fields=tuple(page_fields.items()),
    )


# Elements whose text is one cell of a page, unless they hold such elements themselves; text between them is a cell
# of its own. Table cells and definitions count even when empty: an empty 发文字号 cell is the value "".
_CELL_TAGS = ("td", "th", "dt", "dd", "li", "p", "div", "section", "caption", "h1", "h2", "h3", "h4", "h5", "h6")
_SLOT_TAGS = ("td", "th", "dd")
_NO_TEXT_TAGS = ("script", "style", "noscript", "template", "svg", "select", "button", "iframe")
_MAX_TABLE_CELL = 200  # a metadata table's cells are short: a longer cell in its span is the page's own text


def _metadata_table(soup) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The fields of the policy library's metadata table (kb/fields.py), removed from the page: they are not its
    text. {} when the page has no such table."""
    from bs4 import NavigableString

    cells: list[tuple[str, list]] = []  # (text, the nodes it came from)
    loose: list = []

    def flush() -> None:
        text = "".join(str(node) for node in loose)
        if text.strip():
            cells.append((text, list(loose)))
        loose.clear()

    holders: set[int] = set()  # ids of the elements with a cell inside: found bottom-up, not by a search per element
    for cell in soup.find_all(_CELL_TAGS):
        parent = cell.parent
        while parent is not None and id(parent) not in holders:
            holders.add(id(parent))
            parent = parent.parent
    stack: list = [(soup, False)]  # a stack, not recursion: pages can nest deeper than Python's recursion limit
    while stack:
        node, leaving = stack.pop()
        if leaving:
            flush()
        elif isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not a comment, doctype or CDATA
                loose.append(node)
        elif node.name not in _NO_TEXT_TAGS:
            if node.name in _CELL_TAGS:
                flush()
                if id(node) not in holders:
                    text = node.get_text()
                    if text.strip() or node.name in _SLOT_TAGS:
                        cells.append((text, [node]))
                    continue
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.children)))
    flush()
    texts = [text for text, _nodes in cells]
    span = fields_mod.table_span(texts)
    if span is None:
        return {}
    found = fields_mod.read_cells(texts)
    for text, nodes in cells[span[0] : span[1] + 1]:
        if len(text.strip()) <= _MAX_TABLE_CELL:
            for node in nodes:
                node.extract()
    return found


def _main_block(soup):  # type: ignore[no-untyped-def]
    """The element holding the article: <article>/<main> or a content-like block with the most text."""
    candidates = list(soup.find_all(["article", "main"]))
    candidates += [
        tag
        for tag in soup.find_all(["div", "section", "td"])
        if any(_MAIN_HINT.search(v) for v in [tag.get("id", ""), *tag.get("class", [])])
    ]
    body = soup.body or soup
    body_len = len(body.get_text(strip=True))
    best = max(candidates, key=lambda t: len(t.get_text(strip=True)), default=None)
    # A "content" block that holds only a sliver of the page is a widget, not the article.
    if best is not None and len(best.get_text(strip=True)) >= 0.3 * body_len:
        return best
    return body


def _load_pdf(path: Path, data: bytes) -> SourceDoc:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    where = str(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(where, "encrypted PDF (a password is needed to read it); save an unprotected copy")
        # a ruled table's page is rebuilt row by row (kb/pdftable.py); other pages as pypdf reads them
        texts = pages_text(list(reader.pages))
        raw_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise LoadError(where, "encrypted PDF (a password is needed to read it); save an unprotected copy") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise LoadError(where, f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pypdf raises many private types on broken files
        raise LoadError(where, f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if not texts:
        raise LoadError(where, "PDF has no pages")
    if not any(t.strip() for t in texts):
        raise LoadError(where, "PDF has no extractable text (a scanned image?); run OCR first")
    pages, parts, offset = [], [], 0
    for number, text in enumerate(texts, start=1):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        pages.append(Page(number, offset, offset + len(text)))
        parts.append(text)
        offset += len(text) + 1  # the "\f" between pages
    title = str(raw_title).strip() if raw_title else ""
    return SourceDoc(
        path=where,
        text="\f".join(parts),
        content_hash=_sha256(data),
        format="pdf",
        pages=tuple(pages),
        title_hint=None if not title or _RUBBISH_TITLES.match(title) else title,
    )


def _load_docx(path: Path, data: bytes) -> SourceDoc:
    import zipfile

    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml.etree import LxmlError

    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise LoadError(str(path), f"corrupt or not a .docx file ({type(exc).__name__})") from exc
    lines: list[str] = []
    table_cells: list[str] = []  # every table's cells in reading order, for a metadata table among them
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                lines.append(" ".join(cells))
                table_cells += cells
    title = (document.core_properties.title or "").strip()
    return SourceDoc(
        path=str(path),
        text="\n".join(lines),
        content_hash=_sha256(data),
        format="docx",
        title_hint=None if not title or _RUBBISH_TITLES.match(title) else title,
        fields=tuple(fields_mod.read_cells(table_cells).items()),
    )


_LOADERS: dict[str, Callable[[Path, bytes], SourceDoc]] = {
    ".txt": _load_text,
    ".md": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
