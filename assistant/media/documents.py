"""Documents as text: PDF through pypdf, plain text, Markdown and CSV decoded; within caps."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from assistant.media.errors import NoText, Unreadable

logger = logging.getLogger(__name__)

MAX_PAGES = 20
MAX_CHARS = 100_000


@dataclass(frozen=True)
class Document:
    """What was read: the text, how many pages there were and were read, and whether it was cut."""

    text: str
    pages: int = 0
    pages_read: int = 0
    cut: bool = False

    def note(self) -> str:
        """A line for the model saying how much of the document it sees."""
        parts = []
        if self.pages:
            parts.append(f"{self.pages} pages" + (f", the first {self.pages_read} read" if self.cut else ""))
        if self.cut:
            parts.append("the text is cut short")
        return "; ".join(parts)


def _cap(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) <= max_chars:
        return text, False
    return text[:max_chars], True


def read_pdf(data: bytes, max_pages: int = MAX_PAGES, max_chars: int = MAX_CHARS) -> Document:
    """The text of the first `max_pages` pages. Blocking (run it in a thread).

    Raises Unreadable for a broken or password-protected PDF, NoText when no page has text."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Unreadable("the PDF is protected by a password")
        pages = reader.pages
        texts = [page.extract_text() or "" for page in list(pages)[:max_pages]]
    except (PdfReadError, DependencyError, ValueError, KeyError, TypeError) as exc:
        raise Unreadable(f"pypdf: {type(exc).__name__}: {exc}") from exc
    joined = "\n\n".join(t.strip() for t in texts if t.strip())
    if not joined:
        raise NoText("no page of the PDF has text (a scan?)")
    text, cut = _cap(joined, max_chars)
    return Document(text, len(pages), len(texts), cut or len(pages) > len(texts))


def read_text(data: bytes, max_chars: int = MAX_CHARS) -> Document:
    """Plain text, Markdown or CSV: UTF-8 (with or without a byte-order mark), else Latin-1."""
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = data.decode("latin-1")
    if not decoded.strip():
        raise NoText("the file is empty")
    text, cut = _cap(decoded, max_chars)
    return Document(text, cut=cut)


def read_document(data: bytes, mime: str, max_pages: int = MAX_PAGES, max_chars: int = MAX_CHARS) -> Document:
    """Dispatch on the sniffed MIME type; Unreadable for documents of other kinds (Word, Excel…)."""
    if mime == "application/pdf":
        return read_pdf(data, max_pages, max_chars)
    if mime.startswith("text/"):
        return read_text(data, max_chars)
    raise Unreadable(f"documents of type {mime} are not read")
