"""`hearth doctor`'s media checks against the fakes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from assistant.media.checks import check_speech, check_transcriber, check_vision
from assistant.settings import Settings
from tests.fakes.ollama import FakeOllama
from tests.fakes.speech import STT_MODEL, SpeechFake


@pytest.fixture
async def speech() -> AsyncIterator[SpeechFake]:
    async with SpeechFake() as server:
        yield server


async def test_a_working_speech_server_passes_both_checks(settings: Settings, speech: SpeechFake) -> None:
    configured = dataclasses.replace(settings, transcribe_url=speech.url, speech_url=speech.url)
    [heard] = await check_transcriber(configured)
    [spoken] = await check_speech(configured)
    assert heard.ok, heard.line()
    assert spoken.ok, spoken.line()
    assert speech.heard[0]["rate"] == 16000


async def test_a_missing_model_and_a_server_that_is_down_fail_with_a_fix(
    settings: Settings, speech: SpeechFake
) -> None:
    speech.installed.discard(STT_MODEL)
    [missing] = await check_transcriber(dataclasses.replace(settings, transcribe_url=speech.url))
    assert not missing.ok
    assert f"/v1/models/{STT_MODEL}" in missing.fix
    url = speech.url
    await speech.close()
    [down] = await check_speech(dataclasses.replace(settings, speech_url=url))
    assert not down.ok
    assert "--profile voice" in down.fix


async def test_voice_replies_without_a_speech_server_fail(settings: Settings) -> None:
    [check] = await check_speech(dataclasses.replace(settings, voice_replies="inbound"))
    assert not check.ok
    [quiet] = await check_speech(settings)
    assert quiet.ok


@pytest.mark.parametrize(
    ("models", "vision_model", "ok", "words"),
    [
        ({"qwen3:4b": ["completion", "vision"]}, "", True, "sees images itself"),
        ({"qwen3:4b": ["completion"]}, "", True, "short reply"),
        ({"qwen3:4b": ["completion"], "gemma3:4b": ["completion", "vision"]}, "gemma3:4b", True, "describes"),
        ({"qwen3:4b": ["completion"], "qwen3:1b": ["completion"]}, "qwen3:1b", False, "no vision capability"),
        ({"qwen3:4b": ["completion"]}, "gemma3:4b", False, "not pulled"),
    ],
)
async def test_vision(
    settings: Settings,
    fake: FakeOllama,
    models: dict[str, list[str]],
    vision_model: str,
    ok: bool,
    words: str,
) -> None:
    fake.models = models
    [check] = await check_vision(dataclasses.replace(settings, vision_model=vision_model))
    assert check.ok is ok
    assert words in check.detail
