"""What a reply carries besides its text: files a skill made, and the answer spoken as a voice note."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from assistant.media import audio
from assistant.media.errors import MediaError
from assistant.media.files import MediaDir
from assistant.media.kinds import sniff
from assistant.media.speech import SpeechClient
from assistant.store.tables import Chat, MediaFile, Message
from assistant.types import Attachment

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
VoiceReplies = Literal["off", "inbound", "always"]
MAX_FILES = 10
# Up to this long, a spoken answer stands alone; a longer one also goes as text.
VOICE_ONLY_CHARS = 600
# About two minutes of speech: longer answers are spoken up to a sentence end near here.
SPEECH_MAX_CHARS = 1500
VOICE_MIME = "audio/ogg"
_SENTENCE_END = re.compile(r"[.!?…](\s|$)")


@dataclass(frozen=True)
class Composed:
    """A reply ready for the outbox: its text, the files it carries (rows not yet stored), its meta."""

    text: str
    files: list[MediaFile] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


def spoken_part(text: str, limit: int = SPEECH_MAX_CHARS) -> str:
    """`text`, or its beginning up to the last sentence end within `limit` characters."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text[: limit + 1])]
    return text[: ends[-1]].strip() if ends else text[:limit].strip()


def kind_of(attachment: Attachment) -> tuple[str, str]:
    """(kind, MIME type) of a file a skill made, by its bytes; by its name for other files."""
    found = sniff(attachment.data, name=attachment.name)
    if found is not None:
        return found.kind, found.mime.split(";")[0]
    guessed, _ = mimetypes.guess_type(attachment.name)
    return "document", guessed or "application/octet-stream"


class Composer:
    """Stores a reply's files under the chat's media directory and speaks the answer when asked."""

    def __init__(
        self,
        folder: MediaDir,
        speaker: SpeechClient | None,
        voice: str,
        mode: VoiceReplies,
        clock: Clock,
    ) -> None:
        self.folder, self.speaker, self.voice, self.mode, self.clock = folder, speaker, voice, mode, clock

    async def compose(
        self, chat: Chat, group: Sequence[Message], text: str, attachments: Sequence[Attachment]
    ) -> Composed:
        files = [await self._file(chat, a) for a in attachments[:MAX_FILES]]
        if len(attachments) > MAX_FILES:
            logger.warning(
                "a reply in chat %s had %d files; sending the first %d", chat.id, len(attachments), MAX_FILES
            )
        meta: dict[str, str] = {}
        if self._speaks(group):
            spoken = await self._speak(chat, text)
            if spoken is not None:
                files.append(spoken)
                if len(text) <= VOICE_ONLY_CHARS:
                    meta["voice_only"] = "1"
        return Composed(text, files, meta)

    def _speaks(self, group: Sequence[Message]) -> bool:
        if self.speaker is None or self.mode == "off":
            return False
        return self.mode == "always" or any(m.meta.get("voice") for m in group)

    async def _file(self, chat: Chat, attachment: Attachment) -> MediaFile:
        kind, mime = kind_of(attachment)
        suffix = "." + attachment.name.rsplit(".", 1)[-1] if "." in attachment.name else ""
        path = await asyncio.to_thread(self.folder.save, chat.id or 0, attachment.data, suffix[:10])
        return self._row(chat, kind, mime, attachment.name, path, len(attachment.data))

    def _row(
        self, chat: Chat, kind: str, mime: str, name: str, path: str, size: int, voice: bool = False
    ) -> MediaFile:
        return MediaFile(
            chat_id=chat.id or 0,
            kind=kind,
            mime=mime,
            name=name[:255],
            path=path,
            size=size,
            voice=voice,
            created_at=self.clock(),
        )

    async def _speak(self, chat: Chat, text: str) -> MediaFile | None:
        """The answer as an OGG/Opus voice note; None (and a log line) when speech fails."""
        assert self.speaker is not None
        try:
            sound = await self.speaker.speak(spoken_part(text), self.voice)
            note = await asyncio.to_thread(audio.to_voice_note, sound)
        except MediaError as exc:
            logger.warning("no voice reply in chat %s: %r", chat.id, exc)
            return None
        path = await asyncio.to_thread(self.folder.save, chat.id or 0, note, ".ogg")
        return self._row(chat, "audio", VOICE_MIME, "reply.ogg", path, len(note), voice=True)
