"""`hearth voice` against the fake speech server."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from assistant.media.cli import voice
from assistant.settings import Settings
from tests.fakes.speech import STT_MODEL, TTS_MODEL, SpeechFake


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
