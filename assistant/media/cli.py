"""`hearth voice`: install the configured speech-to-text and text-to-speech models on the speech
server (speaches downloads them on `POST /v1/models/{id}`; other servers load theirs at start)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings

INSTALL_TIMEOUT_S = 1800.0


def wanted(settings: Settings) -> list[tuple[str, str]]:
    """(server URL, model) for each configured direction, without repeats."""
    pairs = [
        (settings.transcribe_url, settings.transcribe_model),
        (settings.speech_url, settings.speech_model),
    ]
    return list(dict.fromkeys((url.rstrip("/"), model) for url, model in pairs if url))


async def _install(url: str, model: str) -> str:
    """What became of installing `model` at `url`, as a line for a person."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=INSTALL_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async with session.post(f"{url}/v1/models/{model}") as answer:
                status, body = answer.status, (await answer.text())[:200]
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{url}: no answer ({type(exc).__name__}); is the speech server running?"
    if status in (200, 201):
        return f"{model} is installed at {url}"
    if status in (404, 405):
        return f"{url} installs no models over HTTP; make sure it has {model} loaded"
    return f"{url} refused to install {model}: HTTP {status} {body}"


def voice(settings: Settings, _args: argparse.Namespace) -> int:
    """Install each configured model; 1 when a server could not be reached or refused."""
    pairs = wanted(settings)
    if not pairs:
        print("neither HEARTH_TRANSCRIBE_URL nor HEARTH_SPEECH_URL is set; nothing to install")
        return 0
    lines = [asyncio.run(_install(url, model)) for url, model in pairs]
    for line in lines:
        print(line)
    return 0 if all(" is installed " in line or "installs no models" in line for line in lines) else 1


RUN = {"voice": voice}
