"""The OpenAI-compatible speech client against the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from assistant.media.errors import Unreachable
from assistant.media.speech import SpeechClient, SpeechRefused
from tests.fakes.base import Failure
from tests.fakes.speech import STT_MODEL, SpeechFake, tone_wav


@pytest.fixture
async def speech() -> AsyncIterator[SpeechFake]:
    async with SpeechFake(text=" hello there ") as server:
        yield server


async def test_transcribe_and_speak(speech: SpeechFake) -> None:
    async with aiohttp.ClientSession() as session:
        hearing = SpeechClient(session, speech.url + "/", STT_MODEL, 5)
        assert await hearing.transcribe(tone_wav(0.5, 16000)) == "hello there"
        speaking = SpeechClient(session, speech.url, "speaches-ai/Kokoro-82M-v1.0-ONNX", 5)
        assert (await speaking.speak("hi", "af_heart")).startswith(b"RIFF")


async def test_a_model_not_installed_is_refused_and_a_failing_server_unreachable(speech: SpeechFake) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SpeechRefused, match="not installed"):
            await SpeechClient(session, speech.url, "whisper-none", 5).transcribe(tone_wav(0.1))
        speech.fail(Failure(500))
        with pytest.raises(Unreachable):
            await SpeechClient(session, speech.url, STT_MODEL, 5).transcribe(tone_wav(0.1))
        url = speech.url
        await speech.close()
        with pytest.raises(Unreachable):
            await SpeechClient(session, url, STT_MODEL, 5).transcribe(tone_wav(0.1))
