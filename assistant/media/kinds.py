"""What a file is, told by its first bytes rather than by the type its sender declared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["image", "audio", "document", "video"]

# Text-like documents are recognised by decoding; these say which text it is, by declared type or name.
TEXT_TYPES = {"text/markdown": ".md", "text/csv": ".csv", "text/plain": ".txt"}
TEXT_SUFFIXES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Sniffed:
    """The kind, MIME type and usual file suffix of some bytes."""

    kind: Kind
    mime: str
    suffix: str


def _ftyp(head: bytes) -> Sniffed | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in (b"M4A ", b"M4B "):
        return Sniffed("audio", "audio/mp4", ".m4a")
    if brand.startswith(b"3g"):
        return Sniffed("video", "video/3gpp", ".3gp")
    return Sniffed("video", "video/mp4", ".mp4")


def _riff(head: bytes) -> Sniffed | None:
    if head[:4] != b"RIFF":
        return None
    if head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", ".webp")
    if head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav", ".wav")
    return None


def _ogg(head: bytes) -> Sniffed | None:
    if head[:4] != b"OggS":
        return None
    # The first page holds the codec's identification header.
    if b"OpusHead" in head[:128]:
        return Sniffed("audio", "audio/ogg; codecs=opus", ".ogg")
    return Sniffed("audio", "audio/ogg", ".ogg")


_MAGIC: tuple[tuple[bytes, Sniffed], ...] = (
    (b"\xff\xd8\xff", Sniffed("image", "image/jpeg", ".jpg")),
    (b"\x89PNG\r\n\x1a\n", Sniffed("image", "image/png", ".png")),
    (b"GIF87a", Sniffed("image", "image/gif", ".gif")),
    (b"GIF89a", Sniffed("image", "image/gif", ".gif")),
    (b"%PDF-", Sniffed("document", "application/pdf", ".pdf")),
    (b"#!AMR", Sniffed("audio", "audio/amr", ".amr")),
    (b"ID3", Sniffed("audio", "audio/mpeg", ".mp3")),
    (b"fLaC", Sniffed("audio", "audio/flac", ".flac")),
)


def _frames(head: bytes) -> Sniffed | None:
    """MPEG audio and ADTS AAC frames start with an 11- or 12-bit sync word."""
    if len(head) < 2 or head[0] != 0xFF:
        return None
    if head[1] & 0xF6 == 0xF0:
        return Sniffed("audio", "audio/aac", ".aac")
    if head[1] & 0xE0 == 0xE0:
        return Sniffed("audio", "audio/mpeg", ".mp3")
    return None


def _text(data: bytes, declared: str, name: str) -> Sniffed | None:
    sample = data[:65536]
    if b"\x00" in sample:
        return None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a character at the sample's end is still text.
        if exc.start < len(sample) - 3:
            return None
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    mime = TEXT_SUFFIXES.get(suffix) or (declared if declared in TEXT_TYPES else "text/plain")
    return Sniffed("document", mime, TEXT_TYPES[mime])


def sniff(data: bytes, declared: str = "", name: str = "") -> Sniffed | None:
    """What `data` is, or None when it is nothing Hearth reads. `declared` and `name` only choose
    between kinds of text (Markdown, CSV, plain), which bytes cannot tell apart."""
    head = data[:256]
    for magic, known in _MAGIC:
        if head.startswith(magic):
            return known
    for probe in (_ftyp, _riff, _ogg, _frames):
        if (found := probe(head)) is not None:
            return found
    return _text(data, declared.split(";")[0].strip().lower(), name) if data else None


_MAJOR: dict[str, Kind] = {"image": "image", "audio": "audio", "video": "video", "sticker": "image"}


def declared_kind(mime: str, mtype: str = "") -> Kind | None:
    """The kind a provider's declared MIME type (or else its message type) claims."""
    major = mime.split("/", 1)[0].strip().lower()
    if major:
        return _MAJOR.get(major, "document")
    return _MAJOR.get(mtype, "document" if mtype == "document" else None)
