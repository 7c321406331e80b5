"""What the provider webhooks share: storing messages, applying status news, one error boundary."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from assistant.channels import space
from assistant.channels.base import StatusUpdate
from assistant.channels.window import needs_template
from assistant.keys import CLOCK, METRICS, ROUTER, SENDER, STORE
from assistant.store import sent
from assistant.store.batch import AcceptBatcher
from assistant.types import Inbound

logger = logging.getLogger(__name__)

BATCHER = web.AppKey("accept_batcher", AcceptBatcher)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def accept(app: web.Application, inbounds: Sequence[Inbound]) -> None:
    """Store every message in one transaction, then wake the router for the new ones."""
    if not inbounds:
        return
    accepted = await app[BATCHER].accept(inbounds, app[CLOCK]())
    for item in accepted:
        if item.new:
            app[METRICS].accepted.inc()
            app[ROUTER].notify(item.chat_id)


async def apply_statuses(
    app: web.Application, channel: str, updates: Sequence[StatusUpdate], has_template: bool
) -> None:
    """Record delivered/read/failed on the matching replies; a send refused for the 24-hour window
    goes out again as the template when one is configured (for a reply still going out, once it
    settles: the outbox sees to that)."""
    for update in updates:
        error, template = _error(update), needs_template(update) and has_template
        target = await sent.apply_status(
            app[STORE], channel, update.provider_id, update.status, error, template
        )
        if target is None:
            logger.info("%s status %s for unknown message %s", channel, update.status, update.provider_id)
            continue
        if update.status in sent.FAILED:
            logger.warning("%s reply %s failed at the provider: %s", channel, target.reply_id, error)
        # Only the news that failed the reply sends it again: a reply already settled stays so.
        if template and target.failed_now:
            await sent.send_again_as_template(app[STORE], target.reply_id, app[CLOCK]())
            app[SENDER].wake()


def _error(update: StatusUpdate) -> str | None:
    if update.error_code is None and update.error_title is None:
        return None
    return f"{update.error_code or '?'}: {update.error_title or 'no reason given'}"


def setup(app: web.Application) -> None:
    """Give the webhooks one group-commit batcher over the app's store."""
    app[BATCHER] = AcceptBatcher(lambda: app[STORE])


def guarded(name: str, handler: Handler) -> Handler:
    """The one error boundary of a webhook: HTTP answers pass through; anything else is logged and
    answered 503, so the provider delivers again once the fault is gone (the message was not stored).
    While the data volume is almost full a POST is answered 503 before anything is read or stored."""

    async def guard(request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and await space.refused(request.app):
            headers = {"Retry-After": str(space.RETRY_AFTER_S)}
            return web.Response(status=503, text=space.REFUSED, headers=headers)
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            logger.exception("%s webhook failed", name)
            return web.Response(status=503, text="try again later")

    return guard
