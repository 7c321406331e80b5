"""Access control in the application: the policy and approvals first, the gate for the pipeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from assistant.access.approvals import Approvals
from assistant.access.commands import add_approval_commands, add_pairing_commands
from assistant.access.gate import Gate
from assistant.access.guard import PolicyGuard
from assistant.access.policy import load_policy
from assistant.access.roles import admission_from
from assistant.channels.app import PROVIDERS
from assistant.keys import APPROVALS, CLOCK, COMMANDS, GUARD, POLICY, SENDER, SETTINGS, STORE, TOOLS

logger = logging.getLogger(__name__)

SMS_OWNER = (
    "HEARTH_OWNERS names %s: an SMS sender's number can be spoofed, so anyone could write as this "
    "owner. Set HEARTH_SMS_OWNER_PIN to require a PIN at the end of every owner SMS"
)


async def access_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the policy (a bad policy.toml stops Hearth here, naming what is wrong), make the
    approvals service and the guard, and expire approvals until the app stops."""
    settings = app[SETTINGS]
    policy = load_policy(settings.data_dir)
    logger.info("policy from %s", policy.source)
    for owner in settings.owners:
        if owner.kind == "sms":
            log = logger.info if settings.sms_owner_pin else logger.warning
            log(SMS_OWNER + ("; it is set" if settings.sms_owner_pin else ""), owner)
    approvals = Approvals(
        app[STORE],
        app[TOOLS],
        policy,
        clock=app[CLOCK],
        wake=lambda: app[SENDER].wake() if SENDER in app else None,
        timeout_s=settings.approval_timeout_s,
        timezone=settings.timezone,
    )
    app[POLICY], app[APPROVALS], app[GUARD] = policy, approvals, PolicyGuard(policy, approvals)
    add_approval_commands(app[COMMANDS], approvals)
    add_pairing_commands(app[COMMANDS], app[STORE])
    expiring = asyncio.create_task(approvals.run(), name="approvals-expiry")
    yield
    expiring.cancel()
    await asyncio.gather(expiring, return_exceptions=True)


def gate(app: web.Application, on_reply: Callable[[], None]) -> Gate:
    """The access gate for the pipeline, built from the settings once the store is open."""
    settings = app[SETTINGS]
    pin = settings.sms_owner_pin.value if settings.sms_owner_pin else ""
    admission = admission_from(settings.owners, settings.strangers, settings.rate_limit_per_min, pin)
    starting = app[PROVIDERS].starting if PROVIDERS in app else {}
    return Gate(app[STORE], admission, app[CLOCK], on_reply, starting, policy=app[POLICY])
