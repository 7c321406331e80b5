"""Turning a person's media into model input: fetch, check, keep, then see, hear or read it."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from assistant.channels.replies import unsupported_reply
from assistant.media import audio, documents, images
from assistant.media.download import Downloader
from assistant.media.errors import MediaError, Mistyped, NoText
from assistant.media.files import MediaDir
from assistant.media.inbound import Reference, references
from assistant.media.kinds import Sniffed, sniff
from assistant.media.outbound import Composer
from assistant.media.replies import HEARD, NO_EARS, NO_VISION, UNSUPPORTED_DOCUMENT, reply_for
from assistant.media.speech import SpeechClient
from assistant.media.untrusted import UNTRUSTED, untrusted_text
from assistant.media.vision import Vision
from assistant.store import Store, inbox
from assistant.store import media as stored
from assistant.store.tables import Chat, MediaFile, Message, Reply, Turn

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PHOTO = "(a photo)"
SCALED_KEPT = 8


@dataclass(frozen=True)
class Limits:
    max_mb: int = 16
    image_max_pixels: int = 1_048_576
    echo_transcript: bool = False

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


@dataclass(frozen=True)
class Piece:
    """What one file adds to its message: text for the model, or an image it sees itself."""

    text: str = ""
    image: MediaFile | None = None
    heard: str = ""
    untrusted: bool = True


class Refused(Exception):
    """A message whose media gets a fixed reply instead of a turn."""

    def __init__(self, reply: str | None) -> None:
        super().__init__(reply)
        self.reply = reply


class MediaService:
    """The media step between access control and the agent, and the images a turn sends along."""

    def __init__(
        self,
        store: Store,
        folder: MediaDir,
        downloader: Downloader,
        vision: Vision,
        transcriber: SpeechClient | None,
        clock: Clock,
        limits: Limits,
        on_reply: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.folder, self.downloader = store, folder, downloader
        self.vision, self.transcriber = vision, transcriber
        self.clock, self.limits, self.on_reply = clock, limits, on_reply
        # Photos scaled while preparing, by file id, until their turn sends them (a few at most).
        self._scaled: dict[int, str] = {}

    async def prepare(self, chat: Chat, batch: list[Message]) -> list[Message]:
        """The batch with each media message turned into text and images; messages whose media
        cannot be used are answered with a short reply and closed here."""
        kept: list[Message] = []
        for message in batch:
            if message.kind != "media" or message.meta.get("prepared"):
                kept.append(message)  # text, or media already turned into text by an earlier try
                continue
            try:
                kept.append(await self._prepare(chat, message))
            except Refused as refused:
                await self._close(chat, message, refused.reply)
        return kept

    async def images(self, group: Sequence[Message]) -> list[list[str]]:
        """For each message, the base64 JPEGs of the photos it carries for a model that sees."""
        ids = [m.id for m in group if m.id is not None and m.meta.get("images")]
        rows = {row.id: row for row in await stored.for_messages(self.store, ids)} if ids else {}
        found: list[list[str]] = []
        for message in group:
            wanted = [int(i) for i in message.meta.get("images", "").split(",") if i]
            found.append([await self._jpeg_b64(rows[i]) for i in wanted if i in rows])
        return found

    async def _jpeg_b64(self, row: MediaFile) -> str:
        """The scaled photo, as prepared moments ago for this turn, or again from the file."""
        if row.id in self._scaled:
            return self._scaled.pop(row.id)
        data = await asyncio.to_thread(self.folder.read, row.path)
        jpeg = await asyncio.to_thread(images.prepare_image, data, self.limits.image_max_pixels)
        return base64.b64encode(jpeg).decode()

    async def _prepare(self, chat: Chat, message: Message) -> Message:
        refs = references(message.channel, message.meta)
        if not refs:
            raise Refused(unsupported_reply(message.meta))
        await self._able(refs)
        pieces: list[Piece] = []
        for ref in refs:
            try:
                pieces.append(await self._piece(chat, message, ref))
            except MediaError as exc:
                logger.info("media of message %s not used: %r", message.id, exc)
                raise Refused(reply_for(exc, ref.kind, self.limits.max_mb)) from exc
        return await self._rewrite(chat, message, pieces)

    async def _able(self, refs: Sequence[Reference]) -> None:
        """Refuse before downloading what could not be used anyway."""
        kinds = {ref.kind for ref in refs}
        if "image" in kinds and await self.vision.sight() == "none":
            raise Refused(NO_VISION)
        if "audio" in kinds and self.transcriber is None:
            raise Refused(NO_EARS)

    async def _piece(self, chat: Chat, message: Message, ref: Reference) -> Piece:
        fetched = await self.downloader.get(message.channel, ref)
        found = sniff(fetched.data, ref.declared or fetched.declared, ref.name)
        if found is None and ref.kind == "document":
            raise Refused(UNSUPPORTED_DOCUMENT)
        if found is None or found.kind != ref.kind:
            raise Mistyped(f"declared {ref.kind} ({ref.declared}), found {found}")
        row = await self._keep(chat, message, ref, found, fetched.data)
        if found.kind == "image":
            return await self._see(row, fetched.data)
        if found.kind == "audio":
            return await self._hear(fetched.data)
        return await self._read(row, found, fetched.data)

    async def _keep(
        self, chat: Chat, message: Message, ref: Reference, found: Sniffed, data: bytes
    ) -> MediaFile:
        path = await asyncio.to_thread(self.folder.save, chat.id or 0, data, found.suffix)
        name = ref.name or f"{found.kind}{found.suffix}"
        row = MediaFile(
            chat_id=chat.id or 0,
            message_id=message.id,
            kind=found.kind,
            mime=found.mime,
            name=name[:255],
            path=path,
            size=len(data),
            voice=found.kind == "audio",
            created_at=self.clock(),
        )
        [row] = await stored.add(self.store, [row])
        return row

    async def _see(self, row: MediaFile, data: bytes) -> Piece:
        jpeg = await asyncio.to_thread(images.prepare_image, data, self.limits.image_max_pixels)
        if await self.vision.sight() == "direct":
            while len(self._scaled) >= SCALED_KEPT:
                self._scaled.pop(next(iter(self._scaled)))
            self._scaled[row.id or 0] = base64.b64encode(jpeg).decode()
            return Piece(image=row)
        description = await self.vision.describe(jpeg)
        return Piece(text=untrusted_text(description, "description of the photo"))

    async def _hear(self, data: bytes) -> Piece:
        assert self.transcriber is not None
        wav = await asyncio.to_thread(audio.to_speech_wav, data)
        heard = await self.transcriber.transcribe(wav)
        if not heard:
            raise NoText("the transcript is empty")
        command = spoken_command(heard)
        if command is not None:
            # A command said aloud is answered by Hearth itself.
            return Piece(text=command, heard=heard, untrusted=False)
        return Piece(text=heard, heard=heard, untrusted=False)

    async def _read(self, row: MediaFile, found: Sniffed, data: bytes) -> Piece:
        document = await asyncio.to_thread(documents.read_document, data, found.mime)
        note = document.note()
        source = f'document "{row.name}"' + (f" ({note})" if note else "")
        return Piece(text=untrusted_text(document.text, source))

    async def _rewrite(self, chat: Chat, message: Message, pieces: Sequence[Piece]) -> Message:
        caption = message.text.strip()
        texts = [p.text for p in pieces if p.text]
        image_ids = [str(p.image.id) for p in pieces if p.image is not None]
        commands = [t for t in texts if t.startswith("/")]
        text = commands[0] if commands and not caption else "\n\n".join([caption, *texts]).strip()
        meta = {**message.meta, "prepared": "1"}
        if image_ids:
            meta["images"] = ",".join(image_ids)
        if any(p.heard for p in pieces):
            meta["voice"] = "1"
        if any(p.untrusted for p in pieces):
            meta[UNTRUSTED] = "1"
        updated = replace_message(message, text or PHOTO, meta)
        await self.store.write(lambda s: _save(s, updated))
        heard = [p.heard for p in pieces if p.heard]
        if heard and self.limits.echo_transcript:
            await self._tell(chat, HEARD.format(text=" ".join(heard)))
        return updated

    async def _tell(self, chat: Chat, text: str) -> None:
        reply = Reply(chat_id=chat.id or 0, text=text, meta={"kind": "notice"}, created_at=self.clock())
        await self.store.write(lambda s: s.add(reply))
        self.on_reply()

    async def _close(self, chat: Chat, message: Message, reply: str | None) -> None:
        now = self.clock()
        turn = Turn(chat_id=chat.id or 0, kind="media", started_at=now, finished_at=now, duration_ms=0)
        ids = [message.id] if message.id is not None else []
        await inbox.finish_turn(self.store, turn, ids, [reply] if reply else [], "handled")
        if reply:
            self.on_reply()


@dataclass(frozen=True)
class Media:
    """What the rest of the app uses of media: the two steps, where files live, the link key."""

    service: MediaService
    composer: Composer
    folder: MediaDir
    key: bytes


_SPOKEN_COMMAND = re.compile(r"^\s*(?:/|slash\s+)(\w+)\W*(.*?)[.!?]*\s*$", re.IGNORECASE | re.DOTALL)


def spoken_command(heard: str) -> str | None:
    """`/jobs` for a transcript such as "Slash jobs." or "/jobs"; None for anything else."""
    found = _SPOKEN_COMMAND.match(heard)
    if found is None:
        return None
    name, rest = found.group(1).lower(), found.group(2).strip()
    return f"/{name} {rest}".strip()


def replace_message(message: Message, text: str, meta: dict[str, str]) -> Message:
    """A detached copy of `message` with new text and meta (the stored row is updated apart)."""
    copy = Message.model_validate(message.model_dump())
    copy.text, copy.meta = text, meta
    return copy


def _save(session: object, message: Message) -> None:
    from sqlmodel import Session

    assert isinstance(session, Session)
    row = session.get(Message, message.id)
    if row is not None:
        row.text, row.meta = message.text, dict(message.meta)
