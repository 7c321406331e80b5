"""Media in the application: the media step and composer, the public `/media/<token>` route for
files Hearth sends, and the sweep that lets files go after HEARTH_MEDIA_KEEP_DAYS."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import aiohttp
from aiohttp import web

from assistant.agent.model import OllamaModel, model_options
from assistant.channels.app import twilio_config, whatsapp_config
from assistant.keys import CLOCK, MEDIA, MODEL, SENDER, SETTINGS, STORE
from assistant.media import links
from assistant.media.download import Downloader, GraphAccess, TwilioAccess
from assistant.media.files import MediaDir
from assistant.media.outbound import Composer
from assistant.media.service import Limits, Media, MediaService
from assistant.media.speech import SpeechClient
from assistant.media.sweep import sweep
from assistant.media.vision import Vision
from assistant.settings import Settings

logger = logging.getLogger(__name__)

PATH = "/media/{token}"
SWEEP_INTERVAL_S = 3600.0
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def downloader(session: aiohttp.ClientSession, settings: Settings) -> Downloader:
    wa, tw = whatsapp_config(settings), twilio_config(settings)
    graph = GraphAccess(wa.api_url, wa.api_version, wa.phone_number_id, wa.token) if wa else None
    twilio = TwilioAccess(tw.account_sid, tw.auth_token, tw.api_url) if tw else None
    max_bytes = settings.media_max_mb * 1024 * 1024
    return Downloader(session, max_bytes, settings.media_timeout_s, graph=graph, twilio=twilio)


def _speech(
    session: aiohttp.ClientSession, url: str | None, model: str, settings: Settings
) -> SpeechClient | None:
    return SpeechClient(session, url, model, settings.media_timeout_s) if url else None


def _describer(settings: Settings) -> OllamaModel | None:
    if not settings.vision_model:
        return None
    return OllamaModel(dataclasses.replace(model_options(settings), model=settings.vision_model))


async def media_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the media's HTTP session and start the sweep; both stop on the way out."""
    settings, store, clock = app[SETTINGS], app[STORE], app[CLOCK]
    folder = MediaDir(settings.data_dir)
    describer = _describer(settings)

    def wake() -> None:
        if SENDER in app:
            app[SENDER].wake()

    async with aiohttp.ClientSession() as session:
        limits = Limits(settings.media_max_mb, settings.image_max_pixels, settings.echo_transcript)
        vision = Vision(app[MODEL], describer, None)
        hearing = _speech(session, settings.transcribe_url, settings.transcribe_model, settings)
        service = MediaService(
            store, folder, downloader(session, settings), vision, hearing, clock, limits, wake
        )
        speaking = _speech(session, settings.speech_url, settings.speech_model, settings)
        composer = Composer(folder, speaking, settings.speech_voice, settings.voice_replies, clock)
        key = await asyncio.to_thread(links.load_key, folder.root)
        app[MEDIA] = Media(service, composer, folder, key)
        keep = timedelta(days=settings.media_keep_days)
        sweeping = asyncio.create_task(_sweep_forever(app, keep), name="media-sweep")
        yield
        sweeping.cancel()
        await asyncio.gather(sweeping, return_exceptions=True)
    if describer is not None:
        await describer.close()


async def _sweep_forever(app: web.Application, keep: timedelta) -> None:
    while True:
        try:
            removed = await sweep(app[STORE], app[MEDIA].folder, app[CLOCK]() - keep)
            if removed:
                logger.info("removed %d media files older than %s", removed, keep)
        except Exception:
            logger.exception("the media sweep failed; trying again later")
        await asyncio.sleep(SWEEP_INTERVAL_S)


def safe_name(name: str) -> str:
    """A file name fit for a Content-Disposition header: no quotes, no spaces, short."""
    return _UNSAFE_NAME.sub("_", name).strip("._")[-40:] or "file"


async def serve(request: web.Request) -> web.StreamResponse:
    """A file a reply carries, for whoever holds a valid link: 403 forged, 410 expired or gone."""
    from assistant.store import media as stored

    media, now = request.app[MEDIA], request.app[CLOCK]()
    try:
        file_id = links.verify(media.key, request.match_info["token"], now)
    except links.Expired:
        raise web.HTTPGone(text="this link has expired") from None
    except links.BadToken:
        raise web.HTTPForbidden(text="not a valid link") from None
    row = await stored.get(request.app[STORE], file_id)
    # Only what Hearth sends is ever served; what people sent stays private.
    if row is None or row.reply_id is None:
        raise web.HTTPGone(text="this file is no longer kept")
    path = media.folder.path(row.path)
    if not path.is_file():
        raise web.HTTPGone(text="this file is no longer kept")
    headers = {
        "Content-Type": row.mime,
        "Content-Disposition": f'inline; filename="{safe_name(row.name)}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return web.FileResponse(path, headers=headers)


def setup(app: web.Application) -> Callable[[web.Application], AsyncIterator[None]]:
    """Add the public media route; return the context to start with the app."""
    app.router.add_get(PATH, serve)
    return media_ctx
