"""Fixtures shared by the suite: a fake Ollama, settings on a temporary data directory, a real app."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from assistant.app import create_app
from assistant.settings import DEFAULT_BASE_IMAGE, Secret, Settings
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.fakes.twilio import TwilioFake

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

AppClient = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[AppClient]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with FakeOllama() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeOllama) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'hearth.db'}",
        ollama_url=fake.url,
        api_token=Secret(TOKEN),
        model_retry_s=0.2,
        send_retry_s=0.05,
        drain_timeout_s=2.0,
        skills_dir=tmp_path / "no-skills",
        # What images are built on where no registry answers (CI's Debian base).
        worker_base_image=os.environ.get("HEARTH_WORKER_BASE_IMAGE", DEFAULT_BASE_IMAGE),
    )


@pytest.fixture
async def make_client(aiohttp_client: MakeClient, settings: Settings) -> MakeClient:
    """A client for a real app; keyword arguments replace settings fields."""

    async def make(**changes: Any) -> AppClient:
        return await aiohttp_client(create_app(dataclasses.replace(settings, **changes)))

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> AppClient:
    return await make_client()


@pytest.fixture
async def graph() -> AsyncIterator[GraphFake]:
    """A fake Graph API whose token is "test-token"."""
    async with GraphFake(token="test-token") as server:
        yield server


@pytest.fixture
async def twilio_api() -> AsyncIterator[TwilioFake]:
    """A fake Twilio REST API with the fake's default account and token."""
    async with TwilioFake() as server:
        yield server
