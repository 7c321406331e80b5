"""Access control in the application: the gate every batch passes before commands and the agent."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from assistant.access.gate import Gate, policy_from
from assistant.channels.app import PROVIDERS
from assistant.keys import CLOCK, COMMANDS, SETTINGS, STORE


def gate(app: web.Application, on_reply: Callable[[], None]) -> Gate:
    """The access gate for the pipeline, built from the settings once the store is open."""
    settings = app[SETTINGS]
    policy = policy_from(settings.owners, settings.strangers, settings.rate_limit_per_min)
    starting = app[PROVIDERS].starting if PROVIDERS in app else {}
    screen = Gate(app[STORE], policy, app[CLOCK], on_reply, starting)
    screen.add_commands(app[COMMANDS])
    return screen
