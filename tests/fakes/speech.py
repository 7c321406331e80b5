"""A fake OpenAI-compatible speech server (as speaches, LocalAI or whisper.cpp's server answer):
POST /v1/audio/transcriptions (multipart) and POST /v1/audio/speech (JSON), plus /health."""

from __future__ import annotations

import io
import math
import struct
import wave
from typing import Any

from aiohttp import web

from tests.fakes.base import Failure, FakeServer, serve_forever

STT_MODEL = "Systran/faster-whisper-small"
TTS_MODEL = "speaches-ai/Kokoro-82M-v1.0-ONNX"
SPEECH_RATE = 24_000  # Kokoro speaks at 24 kHz


def tone_wav(seconds: float, rate: int = SPEECH_RATE, hertz: float = 440.0) -> bytes:
    """A mono 16-bit WAV sine tone, standing in for speech."""
    frames = int(seconds * rate)
    samples = (int(9000 * math.sin(2 * math.pi * hertz * i / rate)) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


class SpeechFake(FakeServer):
    """`text` is what every transcription hears. Only WAV is decoded (as whisper.cpp's server
    without --convert): anything else gets 400 "failed to read audio data". `heard` records each
    upload's rate, channels and seconds; `sent` records every request's fields."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, text: str = "hello there") -> None:
        super().__init__(host, port)
        self.text = text
        self.installed = {STT_MODEL, TTS_MODEL}
        self.heard: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/models/{model:.+}", self._install)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        app.router.add_post("/v1/audio/speech", self._speech)

    def error_response(self, failure: Failure) -> web.Response:
        return web.json_response({"detail": failure.message}, status=failure.status)

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def _models(self, request: web.Request) -> web.Response:
        data = [{"id": name, "object": "model", "owned_by": "fake"} for name in sorted(self.installed)]
        return web.json_response({"object": "list", "data": data})

    async def _install(self, request: web.Request) -> web.Response:
        """Like speaches: 200 once downloaded, 201 when it was there already."""
        model = request.match_info["model"]
        if model in self.installed:
            return web.json_response({"message": f"Model '{model}' already exists"}, status=201)
        self.installed.add(model)
        return web.json_response({"message": f"Model '{model}' downloaded"})

    def _missing(self, model: str) -> web.Response | None:
        if model in self.installed:
            return None
        message = (
            f"Model '{model}' is not installed locally. You can download the model using POST /v1/models"
        )
        return self.error_response(Failure(404, message=message))

    async def _transcribe(self, request: web.Request) -> web.Response:
        failure = await self.failure_or_none()
        if failure is not None:
            return failure
        form = await request.post()
        upload, model = form.get("file"), str(form.get("model", ""))
        if not isinstance(upload, web.FileField):
            return web.json_response({"error": "no 'file' field in the request"}, status=400)
        if (missing := self._missing(model)) is not None:
            return missing
        try:
            with wave.open(io.BytesIO(upload.file.read())) as wav:
                rate, channels, frames = wav.getframerate(), wav.getnchannels(), wav.getnframes()
        except (wave.Error, EOFError):
            return web.json_response({"error": "failed to read audio data"}, status=400)
        self.heard.append({"rate": rate, "channels": channels, "seconds": frames / rate})
        self.sent.append({"model": model, "response_format": str(form.get("response_format", "json"))})
        return web.json_response({"text": self.text})

    async def _speech(self, request: web.Request) -> web.Response:
        failure = await self.failure_or_none()
        if failure is not None:
            return failure
        body = await request.json()
        if not isinstance(body, dict) or not body.get("input"):
            return self.error_response(Failure(422, message="input is required"))
        if (missing := self._missing(str(body.get("model")))) is not None:
            return missing
        self.sent.append(body)
        seconds = min(0.05 * len(str(body["input"])), 5.0)
        return web.Response(body=tone_wav(seconds), content_type="audio/wav")


def main() -> None:
    serve_forever(lambda host, port: SpeechFake(host, port), "Fake OpenAI-compatible speech server")


if __name__ == "__main__":
    main()
