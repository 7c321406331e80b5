"""Typed keys for the state the aiohttp application holds.

The types are imported for the type checker only, so any part of Hearth can name a key without
importing the parts that fill it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from assistant.access.approvals import Approvals
    from assistant.access.guard import PolicyGuard
    from assistant.access.policy import Policy
    from assistant.agent.model import ModelInfo, OllamaModel
    from assistant.agent.offer import Offer
    from assistant.agent.tools import ToolRegistry
    from assistant.channels import Channel
    from assistant.commands import Commands
    from assistant.delivery import Sender
    from assistant.jobs.service import JobService
    from assistant.media.service import Media
    from assistant.memory.service import Memory
    from assistant.metrics import Metrics
    from assistant.pipeline import Handled
    from assistant.replicas.leases import Leases
    from assistant.router import Router
    from assistant.settings import Settings
    from assistant.store import Store
    from assistant.store.leases import Replica

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
STARTED_AT: web.AppKey[datetime] = web.AppKey("started_at")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
HANDLED: web.AppKey[Handled] = web.AppKey("handled")
TOOLS: web.AppKey[ToolRegistry] = web.AppKey("tools")
OFFER: web.AppKey[Offer] = web.AppKey("offer")
COMMANDS: web.AppKey[Commands] = web.AppKey("commands")
CHANNELS: web.AppKey[dict[str, Channel]] = web.AppKey("channels")
STORE: web.AppKey[Store] = web.AppKey("store")
# This process among replicas on a shared PostgreSQL database; None on SQLite (one process).
REPLICA: web.AppKey[Replica | None] = web.AppKey("replica")
LEASES: web.AppKey[Leases | None] = web.AppKey("leases")
MODEL: web.AppKey[OllamaModel] = web.AppKey("model")
MODEL_INFO: web.AppKey[ModelInfo] = web.AppKey("model_info")
ROUTER: web.AppKey[Router] = web.AppKey("router")
SENDER: web.AppKey[Sender] = web.AppKey("sender")
JOBS: web.AppKey[JobService] = web.AppKey("jobs")
MEMORY: web.AppKey[Memory] = web.AppKey("memory")
MEDIA: web.AppKey[Media] = web.AppKey("media")
POLICY: web.AppKey[Policy] = web.AppKey("policy")
APPROVALS: web.AppKey[Approvals] = web.AppKey("approvals")
GUARD: web.AppKey[PolicyGuard] = web.AppKey("guard")
