"""Fetch an http(s) URL and return its readable text."""

from __future__ import annotations

import re
import urllib.request
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

DOWNLOAD_LIMIT_BYTES = 2_000_000
TEXT_LIMIT_CHARS = 20_000
REQUEST_TIMEOUT_S = 15
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section"})


class TextExtractor(HTMLParser):
    """Collects the text a reader would see, dropping scripts, styles and the head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self.skipping:
            self.skipping -= 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def readable_text(html: str) -> str:
    parser = TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    """The page's text, at most TEXT_LIMIT_CHARS; raises on a non-http(s) URL or a failed fetch."""
    url = args["url"]
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("only http and https URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "Hearth-fetch/1"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
        body = response.read(DOWNLOAD_LIMIT_BYTES)
        charset = response.headers.get_content_charset() or "utf-8"
        kind = response.headers.get_content_type()
    text = body.decode(charset, errors="replace")
    if kind in {"text/html", "application/xhtml+xml"}:
        text = readable_text(text)
    if len(text) > TEXT_LIMIT_CHARS:
        text = text[:TEXT_LIMIT_CHARS] + "\n[page cut]"
    return text
