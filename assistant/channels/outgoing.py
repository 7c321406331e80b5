"""Delivering one reply through a provider: the 24-hour window, split parts, the template path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from assistant.channels.base import SendError, TextSender
from assistant.channels.parts import FileSender, OutFile, Part, plan
from assistant.channels.split import send_split
from assistant.channels.window import delivery_for
from assistant.media.files import MediaDir
from assistant.store import Store, sent
from assistant.store import media as stored
from assistant.types import Address, Outbound

logger = logging.getLogger(__name__)

SendTemplate = Callable[[Address, str], Awaitable[str]]
# Sends an approval request with Approve / Deny buttons: (to, text, approval code) -> provider id.
SendButtons = Callable[[Address, str, str], Awaitable[str]]
BUTTONS_BODY_LIMIT = 1024
Clock = Callable[[], datetime]
OUTSIDE_WINDOW = "outside_window"


def outside_window(code: str | None = None) -> SendError:
    reason = "the person has not written in 24 hours and no WhatsApp template is configured"
    return SendError(reason, retryable=False, code=code or OUTSIDE_WINDOW)


class _Recording:
    """A TextSender that writes down each part the provider accepted before sending the next."""

    def __init__(self, outgoing: Outgoing, inner: TextSender, reply_id: int, skip: int) -> None:
        self.limit = inner.limit
        self._outgoing, self._inner = outgoing, inner
        self._reply_id, self._next_part = reply_id, skip

    async def send_text(self, to: Address, text: str) -> str:
        provider_id = await self._inner.send_text(to, text)
        self._next_part += 1
        await self._outgoing.record(self._reply_id, provider_id, self._next_part)
        return provider_id


class Outgoing:
    """Sends replies for one channel. Each accepted part is recorded at once, so a retry (or a
    restart) resumes with the first part the provider has not taken: nothing is sent twice that
    we could have known was sent."""

    def __init__(
        self,
        name: str,
        store: Store,
        text: TextSender,
        template: SendTemplate | None,
        clock: Clock,
        files: tuple[FileSender, MediaDir] | None = None,
        buttons: SendButtons | None = None,
    ) -> None:
        self.name, self.store, self.text, self.template, self.clock = name, store, text, template, clock
        self.files, self.buttons = files, buttons

    async def record(self, reply_id: int, provider_id: str, parts_sent: int, **meta: str) -> None:
        await sent.record_part(self.store, self.name, reply_id, provider_id, parts_sent, self.clock(), meta)

    async def send(self, reply: Outbound) -> str | None:
        """Deliver `reply` as text or template; return the provider id of its last part."""
        found = await sent.reply_context(self.store, reply.reply_id)
        if found is None:
            raise SendError("the reply is no longer stored", retryable=False)
        row, chat = found
        parts_sent = int(row.meta.get("parts_sent", "0") or 0)
        if row.meta.get("via") == "template":
            return row.provider_id if parts_sent else await self._template(reply)
        mode = delivery_for(reply.to, chat.last_inbound_at, self.clock(), has_template=bool(self.template))
        if mode == "outside_window":
            raise outside_window()
        if mode == "template":
            return await self._template(reply)
        code = reply.meta.get("approval")
        if code and self.buttons is not None and not parts_sent and len(reply.text) <= BUTTONS_BODY_LIMIT:
            provider_id = await self.buttons(reply.to, reply.text, code)
            await self.record(reply.reply_id, provider_id, 1, via="buttons")
            return provider_id
        files = await self._attached(reply)
        try:
            if files:
                return await self._parts(reply, files, parts_sent, row.provider_id)
            return await self._text(reply, parts_sent, row.provider_id)
        except SendError as exc:
            if not exc.template_needed:
                raise
            if self.template is None:
                raise outside_window(exc.code) from exc
            logger.info("reply %s refused outside the window; sending it as a template", reply.reply_id)
            return await self._template(reply)

    async def _text(self, reply: Outbound, skip: int, last_id: str | None) -> str | None:
        ids = await send_split(
            _Recording(self, self.text, reply.reply_id, skip), reply.to, reply.text, skip=skip
        )
        return ids[-1] if ids else last_id

    async def _attached(self, reply: Outbound) -> list[OutFile]:
        """The reply's files that are still on disk, when this channel can send files."""
        if self.files is None:
            return []
        folder = self.files[1]
        found = []
        for row in await stored.for_reply(self.store, reply.reply_id):
            path = folder.path(row.path)
            if await asyncio.to_thread(path.is_file):
                found.append(OutFile(row.id or 0, row.kind, row.mime, row.name, path, row.voice))
            else:
                logger.warning(
                    "file %s of reply %s is no longer kept; sending without it", row.id, reply.reply_id
                )
        return found

    async def _parts(
        self, reply: Outbound, files: list[OutFile], skip: int, last_id: str | None
    ) -> str | None:
        """Send the parts not yet sent, recording each as it is accepted."""
        assert self.files is not None
        sender = self.files[0]
        voice_only = reply.meta.get("voice_only") == "1"
        parts = plan(reply.text, files, self.text.limit, sender.caption_limit, sender.captions, voice_only)
        for number, part in enumerate(parts[skip:], start=skip + 1):
            last_id = await self._part(sender, reply.to, part)
            await self.record(reply.reply_id, last_id, number)
        return last_id

    async def _part(self, sender: FileSender, to: Address, part: Part) -> str:
        if part.file is None:
            return await self.text.send_text(to, part.text)
        return await sender.send_file(to, part.file, part.text)

    async def _template(self, reply: Outbound) -> str:
        assert self.template is not None
        provider_id = await self.template(reply.to, reply.text)
        await self.record(reply.reply_id, provider_id, 1, via="template")
        return provider_id
