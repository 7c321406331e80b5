"""Typed keys for the state the aiohttp application holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from assistant.agent.memory import Memory
from assistant.agent.model import ModelInfo, OllamaModel
from assistant.agent.tools import ToolRegistry
from assistant.channels import Channel
from assistant.commands import Commands
from assistant.delivery import Sender
from assistant.metrics import Metrics
from assistant.router import Router
from assistant.scheduler import JobService
from assistant.settings import Settings
from assistant.signals import Handled
from assistant.store.store import Store

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
STARTED_AT = web.AppKey("started_at", datetime)
METRICS = web.AppKey("metrics", Metrics)
HANDLED = web.AppKey("handled", Handled)
TOOLS = web.AppKey("tools", ToolRegistry)
COMMANDS = web.AppKey("commands", Commands)
CHANNELS: web.AppKey[dict[str, Channel]] = web.AppKey("channels")
STORE = web.AppKey("store", Store)
MODEL = web.AppKey("model", OllamaModel)
MODEL_INFO = web.AppKey("model_info", ModelInfo)
ROUTER = web.AppKey("router", Router)
SENDER = web.AppKey("sender", Sender)
JOBS = web.AppKey("jobs", JobService)
MEMORY = web.AppKey("memory", Memory)
