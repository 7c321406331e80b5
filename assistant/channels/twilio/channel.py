"""The Twilio channel (SMS and WhatsApp): signed webhooks for messages and statuses, and its sender."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import cast

from aiohttp import web

from assistant.channels import webhook
from assistant.channels.base import PayloadError, SendError
from assistant.channels.outgoing import Outgoing
from assistant.channels.parts import OutFile
from assistant.channels.twilio.config import TwilioConfig
from assistant.channels.twilio.parse import CHANNEL, parse_message, parse_status, public_url, verify_signature
from assistant.channels.twilio.send import TwilioSender
from assistant.keys import CLOCK, SETTINGS, STORE
from assistant.media import links
from assistant.media.files import MediaDir
from assistant.types import Address, Outbound

logger = logging.getLogger(__name__)

NAME = CHANNEL
PATH = "/webhooks/twilio"
STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioChannel:
    """Delivers replies to SMS and WhatsApp chats through Twilio's REST API."""

    name = NAME

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self._sender: TwilioSender | None = None
        self._outgoing: Outgoing | None = None

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Create the async Twilio client inside the running loop; close it on the way out."""
        config = self.config
        sender = TwilioSender.open(
            account_sid=config.account_sid,
            auth_token=config.auth_token,
            api_url=config.api_url,
            sms_from=config.sms_from,
            whatsapp_from=config.whatsapp_from,
            status_callback=public_url(config.public_url, STATUS_PATH),
        )
        folder = MediaDir(app[SETTINGS].data_dir)
        sender.link = file_link(config.public_url, links.load_key(folder.root), app)
        async with sender:
            self._sender = sender
            template = self._send_template if config.template_sid else None
            self._outgoing = Outgoing(NAME, app[STORE], sender, template, app[CLOCK], (sender, folder))
            yield
            self._sender = self._outgoing = None

    async def send(self, reply: Outbound) -> str | None:
        if self._outgoing is None:
            raise SendError("the Twilio channel is not running", retryable=True)
        return await self._outgoing.send(reply)

    async def _send_template(self, to: Address, text: str) -> str:
        assert self._sender is not None
        assert self.config.template_sid is not None
        return await self._sender.send_template(to, self.config.template_sid, text)


def file_link(public_base: str, key: bytes, app: web.Application) -> Callable[[OutFile], str]:
    """Signed links to files, valid for HEARTH_MEDIA_LINK_TTL_S from when the message is sent."""
    ttl = timedelta(seconds=app[SETTINGS].media_link_ttl_s)

    def link(file: OutFile) -> str:
        token = links.sign(key, file.id, app[CLOCK]() + ttl)
        return public_url(public_base, f"/media/{token}")

    return link


KEY = web.AppKey("twilio_channel", TwilioChannel)


async def _signed_form(request: web.Request) -> Mapping[str, str]:
    """The posted form, once its signature over the public URL checks out (else 403)."""
    config = request.app[KEY].config
    form = await request.post()
    url = public_url(config.public_url, request.raw_path)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    # The multidict itself goes to the validator, so repeated keys are signed as Twilio sent them.
    params = cast("Mapping[str, str]", form)
    if len(fields) != len(form) or not verify_signature(config.auth_token, url, params, request.headers):
        logger.warning("twilio webhook with a missing or wrong signature refused (%s)", request.path)
        raise web.HTTPForbidden(text="bad signature")
    return fields


def _twiml() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


async def receive(request: web.Request) -> web.Response:
    """An inbound SMS or WhatsApp message: store it, answer empty TwiML; the reply goes by REST."""
    form = await _signed_form(request)
    try:
        inbound = parse_message(form, request.app[CLOCK]())
    except PayloadError as exc:
        logger.warning("twilio webhook not understood: %s", exc)
        raise web.HTTPBadRequest(text="malformed form") from None
    await webhook.accept(request.app, [inbound])
    return _twiml()


async def status(request: web.Request) -> web.Response:
    """A status callback: record sent/delivered/read/failed on the reply."""
    form = await _signed_form(request)
    try:
        update = parse_status(form)
    except PayloadError as exc:
        logger.warning("twilio status callback not understood: %s", exc)
        raise web.HTTPBadRequest(text="malformed form") from None
    has_template = bool(request.app[KEY].config.template_sid)
    await webhook.apply_statuses(request.app, NAME, [update], has_template)
    return _twiml()


def setup(app: web.Application, channel: TwilioChannel) -> None:
    """Register the channel's state and webhook routes (its client opens in `channel.ctx`)."""
    app[KEY] = channel
    app.router.add_post(PATH, webhook.guarded("twilio", receive))
    app.router.add_post(STATUS_PATH, webhook.guarded("twilio", status))
