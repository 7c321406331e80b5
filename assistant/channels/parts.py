"""A reply with files as the provider messages it becomes, in a fixed order, so a retry can resume
after the parts already sent: the text in parts (or as one file's caption), then each file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant.channels.split import split_text
from assistant.types import Address


@dataclass(frozen=True)
class OutFile:
    """A stored file a reply carries, as a channel needs it."""

    id: int
    kind: str  # image, audio, document, video
    mime: str
    name: str
    path: Path
    voice: bool = False


class FileSender(Protocol):
    """A provider client able to deliver a file, with a caption where the kind of file takes one."""

    caption_limit: int

    def captions(self, file: OutFile) -> bool:
        """Whether `file` can carry a caption."""
        ...

    async def send_file(self, to: Address, file: OutFile, caption: str) -> str:
        """Deliver one file and return the provider's message id; raise SendError."""
        ...


@dataclass(frozen=True)
class Part:
    """One provider message: a piece of text, or a file with an optional caption."""

    text: str = ""
    file: OutFile | None = None


def plan(
    text: str,
    files: Sequence[OutFile],
    text_limit: int,
    caption_limit: int,
    captions: Callable[[OutFile], bool],
    voice_only: bool = False,
) -> list[Part]:
    """The parts of a reply. A short text rides as the caption of the first file that takes one;
    otherwise it goes first, split at `text_limit`. A voice-only reply sends no text at all."""
    text = text.strip()
    if voice_only and any(f.voice for f in files):
        return [Part(file=f) for f in files]
    host = next((f for f in files if captions(f)), None) if len(text) <= caption_limit else None
    if host is not None:
        return [Part(text, host), *(Part(file=f) for f in files if f is not host)]
    heads = [Part(piece) for piece in split_text(text, text_limit)] if text else []
    return [*heads, *(Part(file=f) for f in files)]
