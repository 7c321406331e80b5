"""`hearth voice` against the fake speech server, and the Caddyfile that makes media links public."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.media.cli import voice
from assistant.settings import Settings
from tests.fakes.speech import STT_MODEL, TTS_MODEL, SpeechFake

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"
CADDY = shutil.which("caddy")


@pytest.fixture
async def speech() -> AsyncIterator[SpeechFake]:
    async with SpeechFake() as server:
        server.installed.clear()
        yield server


async def test_voice_installs_both_models_once(
    settings: Settings, speech: SpeechFake, capsys: pytest.CaptureFixture[str]
) -> None:
    configured = dataclasses.replace(settings, transcribe_url=speech.url, speech_url=speech.url + "/")
    assert await asyncio.to_thread(voice, configured, argparse.Namespace()) == 0
    assert speech.installed == {STT_MODEL, TTS_MODEL}
    assert await asyncio.to_thread(voice, configured, argparse.Namespace()) == 0
    assert capsys.readouterr().out.count("is installed at") == 4


async def test_voice_says_when_the_server_is_down(
    settings: Settings, speech: SpeechFake, capsys: pytest.CaptureFixture[str]
) -> None:
    url = speech.url
    await speech.close()
    configured = dataclasses.replace(settings, transcribe_url=url)
    assert await asyncio.to_thread(voice, configured, argparse.Namespace()) == 1
    assert "is the speech server running?" in capsys.readouterr().out


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed")
def test_the_caddyfile_forwards_only_webhooks_and_media() -> None:
    env = {**os.environ, "HEARTH_DOMAIN": "hearth.example.org"}
    done = subprocess.run(
        [str(CADDY), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    text = json.dumps(json.loads(done.stdout))
    assert '"path": ["/webhooks/*", "/media/*"]' in text
    assert '"status_code": 404' in text
    assert '"host": ["hearth.example.org"]' in text
