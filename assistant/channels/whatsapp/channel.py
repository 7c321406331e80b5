"""The WhatsApp Cloud API channel: its webhook (handshake, signed notifications) and its sender."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from assistant.channels import webhook
from assistant.channels.base import PayloadError, SendError
from assistant.channels.outgoing import Outgoing
from assistant.channels.whatsapp.parse import (
    CHANNEL,
    SIGNATURE_HEADER,
    parse_webhook,
    verify_challenge,
    verify_signature,
)
from assistant.channels.whatsapp.send import WhatsAppSender
from assistant.keys import CLOCK, SETTINGS, STORE
from assistant.media.files import MediaDir
from assistant.store.tables import Message
from assistant.types import Address, Outbound

logger = logging.getLogger(__name__)

NAME = CHANNEL
PATH = "/webhooks/whatsapp"
MARK_READ_TIMEOUT_S = 2.0
# The typing indicator lapses after 25 s; it is renewed before then while the turn runs, for at
# most as long as a turn may take.
TYPING_RENEW_S = 20.0
TYPING_MAX_S = 600.0


@dataclass(frozen=True)
class WhatsAppConfig:
    verify_token: str
    app_secret: str
    token: str
    phone_number_id: str
    api_url: str
    api_version: str
    template: str | None
    template_language: str


class WhatsAppChannel:
    """Delivers replies to WhatsApp chats; its HTTP session lives as long as the app runs."""

    name = NAME

    def __init__(self, config: WhatsAppConfig) -> None:
        self.config = config
        self._sender: WhatsAppSender | None = None
        self._outgoing: Outgoing | None = None
        self._typing: dict[Address, asyncio.Task[None]] = {}
        self.typing_renew_s = TYPING_RENEW_S

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Open the HTTP session inside the running loop; close it on the way out."""
        config = self.config
        async with aiohttp.ClientSession() as session:
            self._sender = WhatsAppSender(
                session,
                token=config.token,
                phone_number_id=config.phone_number_id,
                base_url=config.api_url,
                api_version=config.api_version,
            )
            template = self._send_template if config.template else None
            files = (self._sender, MediaDir(app[SETTINGS].data_dir))
            buttons = self._sender.send_buttons
            self._outgoing = Outgoing(
                NAME, app[STORE], self._sender, template, app[CLOCK], files=files, buttons=buttons
            )
            yield
            for task in self._typing.values():
                task.cancel()
            await asyncio.gather(*self._typing.values(), return_exceptions=True)
            self._sender = self._outgoing = None

    async def send(self, reply: Outbound) -> str | None:
        if self._outgoing is None:
            raise SendError("the WhatsApp channel is not running", retryable=True)
        if reply.meta.get("kind") != "notice":
            self._stop_typing(reply.to)
        return await self._outgoing.send(reply)

    async def _send_template(self, to: Address, text: str) -> str:
        assert self._sender is not None
        assert self.config.template is not None
        return await self._sender.send_template(to, self.config.template, text, self.config.template_language)

    async def mark_read(self, message: Message) -> None:
        """Best effort: when a turn starts the person sees blue ticks and "typing…", renewed until
        the reply goes out; failures only get logged."""
        if self._sender is None or message.channel != NAME:
            return
        await self._read_and_type(message.provider_id)
        person = sender_of(message)
        if person is not None:
            self._stop_typing(person)
            self._typing[person] = asyncio.create_task(self._keep_typing(message.provider_id))

    async def _read_and_type(self, provider_id: str) -> None:
        assert self._sender is not None
        try:
            async with asyncio.timeout(MARK_READ_TIMEOUT_S):
                await self._sender.mark_read(provider_id, typing=True)
        except (SendError, TimeoutError) as exc:
            logger.info("could not mark %s read: %r", provider_id, exc)

    async def _keep_typing(self, provider_id: str) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + TYPING_MAX_S
        while loop.time() + self.typing_renew_s < until and self._sender is not None:
            await asyncio.sleep(self.typing_renew_s)
            await self._read_and_type(provider_id)

    def _stop_typing(self, person: Address) -> None:
        task = self._typing.pop(person, None)
        if task is not None:
            task.cancel()


def sender_of(message: Message) -> Address | None:
    """The address replies to this stored message go to (as the parser built it)."""
    user_id, wa_id = message.meta.get("user_id"), message.meta.get("wa_id")
    if user_id:
        return Address(NAME, user_id)
    return Address(NAME, f"+{wa_id}") if wa_id else None


KEY = web.AppKey("whatsapp_channel", WhatsAppChannel)


def _config(request: web.Request) -> WhatsAppConfig:
    return request.app[KEY].config


async def verify(request: web.Request) -> web.Response:
    """The subscription handshake: echo the challenge when the verify token matches."""
    challenge = verify_challenge(request.query, _config(request).verify_token)
    if challenge is None:
        logger.warning("whatsapp verification refused (wrong mode or token)")
        raise web.HTTPForbidden(text="verification failed")
    return web.Response(text=challenge)


async def receive(request: web.Request) -> web.Response:
    """A signed notification: check the signature over the raw body, store, then 200."""
    config = _config(request)
    raw = await request.read()
    if not verify_signature(config.app_secret, raw, request.headers.get(SIGNATURE_HEADER)):
        logger.warning("whatsapp webhook with a missing or wrong signature refused")
        raise web.HTTPForbidden(text="bad signature")
    try:
        batch = parse_webhook(raw)
    except PayloadError as exc:
        logger.warning("whatsapp webhook not understood: %s", exc)
        raise web.HTTPBadRequest(text="malformed payload") from None
    await webhook.accept(request.app, batch.messages)
    await webhook.apply_statuses(request.app, NAME, batch.statuses, bool(config.template))
    return web.Response(text="ok")


def setup(app: web.Application, channel: WhatsAppChannel) -> None:
    """Register the channel's state and webhook routes (its session opens in `channel.ctx`)."""
    app[KEY] = channel
    app.router.add_get(PATH, webhook.guarded("whatsapp", verify))
    app.router.add_post(PATH, webhook.guarded("whatsapp", receive))
