"""`hearth doctor` for media: the transcriber, the speech server and vision, when configured."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import wave

import aiohttp

from assistant.agent.model import OllamaModel, model_options
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.media import audio
from assistant.media.errors import MediaError, Unreachable
from assistant.media.speech import SpeechClient
from assistant.ops.check import Check
from assistant.settings import Settings

CHECK_TIMEOUT_S = 60.0
COMPOSE_HINT = "start it (`docker compose --profile voice up -d`)"


def silence_wav(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x00" * int(seconds * rate))
    return out.getvalue()


def _failed(name: str, url: str, model: str, exc: MediaError, setting: str) -> Check:
    if isinstance(exc, Unreachable):
        return Check(name, False, f"no answer from {url}: {exc}", f"{COMPOSE_HINT} or fix {setting}")
    fix = (
        f"install the model on the server (speaches: `curl -X POST {url}/v1/models/{model}`) or fix {setting}"
    )
    return Check(name, False, f"{url} refused: {exc}", fix)


async def check_transcriber(settings: Settings) -> list[Check]:
    url, model = settings.transcribe_url, settings.transcribe_model
    if not url:
        return [
            Check("transcriber", True, "not set: voice messages get a short reply (HEARTH_TRANSCRIBE_URL)")
        ]
    async with aiohttp.ClientSession() as session:
        try:
            await SpeechClient(session, url, model, CHECK_TIMEOUT_S).transcribe(silence_wav())
        except MediaError as exc:
            return [
                _failed("transcriber", url, model, exc, "HEARTH_TRANSCRIBE_URL or HEARTH_TRANSCRIBE_MODEL")
            ]
    return [Check("transcriber", True, f"{url} transcribes with {model}")]


async def check_speech(settings: Settings) -> list[Check]:
    url, model = settings.speech_url, settings.speech_model
    if not url:
        voice = settings.voice_replies != "off"
        return [Check("speech", not voice, "not set", "set HEARTH_SPEECH_URL, or HEARTH_VOICE_REPLIES=off")]
    async with aiohttp.ClientSession() as session:
        try:
            sound = await SpeechClient(session, url, model, CHECK_TIMEOUT_S).speak(
                "Ready.", settings.speech_voice
            )
            await asyncio.to_thread(audio.to_voice_note, sound)
        except MediaError as exc:
            return [_failed("speech", url, model, exc, "HEARTH_SPEECH_URL, _MODEL or _VOICE")]
    return [
        Check("speech", True, f"{url} speaks with {model} ({settings.speech_voice}), encoded as OGG/Opus")
    ]


async def _sees(settings: Settings, name: str) -> bool | None:
    """Whether Ollama says `name` has vision; None when it does not answer or lacks the model."""
    model = OllamaModel(dataclasses.replace(model_options(settings), model=name))
    try:
        return "vision" in (await model.info()).capabilities
    except (ModelMissing, ModelUnavailable):
        return None
    finally:
        await model.close()


async def check_vision(settings: Settings) -> list[Check]:
    direct = await _sees(settings, settings.model)
    if direct:
        return [Check("vision", True, f"{settings.model} sees images itself")]
    if not settings.vision_model:
        return [Check("vision", True, "images get a short reply (set HEARTH_VISION_MODEL to describe them)")]
    sees = await _sees(settings, settings.vision_model)
    if sees:
        return [Check("vision", True, f"{settings.vision_model} describes images for {settings.model}")]
    problem = "is not pulled" if sees is None else "has no vision capability"
    fix = f"`ollama pull {settings.vision_model}`, or choose a vision model such as gemma3:4b"
    return [Check("vision", False, f"{settings.vision_model} {problem}", fix)]
