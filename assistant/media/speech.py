"""OpenAI-compatible speech servers: POST /v1/audio/transcriptions and POST /v1/audio/speech."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from assistant.media.errors import MediaError, Unreachable

TRANSCRIBE_PATH = "/v1/audio/transcriptions"
SPEECH_PATH = "/v1/audio/speech"


class SpeechRefused(MediaError):
    """The server answered but would not do it (a model not installed, audio it cannot read)."""


class SpeechClient:
    """Talks to one server in one direction; both directions may be the same server."""

    def __init__(self, session: aiohttp.ClientSession, url: str, model: str, timeout_s: float) -> None:
        self._session = session
        self.url = url.rstrip("/")
        self.model = model
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def transcribe(self, wav: bytes, language: str | None = None) -> str:
        """The words spoken in `wav`; raises Unreachable (down, 5xx, timeout) or SpeechRefused."""
        form = aiohttp.FormData()
        form.add_field("file", wav, filename="voice.wav", content_type="audio/wav")
        form.add_field("model", self.model)
        form.add_field("response_format", "json")
        if language:
            form.add_field("language", language)
        body = await self._post(TRANSCRIBE_PATH, {"data": form})
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise SpeechRefused("the transcription was not JSON") from exc
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str):
            raise SpeechRefused("the transcription had no text")
        return text.strip()

    async def speak(self, text: str, voice: str) -> bytes:
        """Speech for `text` as audio bytes (WAV asked for; any format PyAV reads will do)."""
        payload = {"model": self.model, "input": text, "voice": voice, "response_format": "wav"}
        return await self._post(SPEECH_PATH, {"json": payload})

    async def _post(self, path: str, body: dict[str, Any]) -> bytes:
        try:
            async with self._session.post(self.url + path, timeout=self._timeout, **body) as response:
                data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unreachable(f"{self.url}: {type(exc).__name__}") from exc
        if response.status >= 500:
            raise Unreachable(f"{self.url}{path} answered {response.status}")
        if response.status >= 300:
            raise SpeechRefused(f"{self.url}{path} answered {response.status}: {data[:300]!r}")
        return data
