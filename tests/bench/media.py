"""Media benchmark: the time each kind of media adds to a turn. Run: `python -m tests.bench.media`.

A real app on loopback with the Cloud API channel, against the fake Graph API, a fake Ollama that
answers at once and a fake speech server that answers at once: what is measured is Hearth's own work
(fetching, checking, storing, scaling, converting, parsing, encoding), from the signed webhook to the
reply at Graph, minus the same path for a text message. A real transcriber or vision model adds its
own time on top. The CPU work of each conversion is also timed alone. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from assistant.app import create_app
from assistant.media import audio, documents, images
from assistant.settings import Secret, Settings
from tests.channels.webhooks import post_whatsapp, wa_body, wa_message, whatsapp_settings
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.speech import SpeechFake, tone_wav
from tests.media.samples import make_image, make_pdf, voice_note

PHOTO = (3000, 2000)
VOICE_S = 10.0
PDF_PAGES = 10


def samples() -> dict[str, tuple[str, bytes, str, dict[str, str]]]:
    """kind → (WhatsApp type, bytes, MIME type, extra fields), made before any clock starts."""
    pages = [f"Page {n}: " + "the quick brown fox jumps over the lazy dog " * 8 for n in range(PDF_PAGES)]
    return {
        "photo": ("image", make_image(*PHOTO), "image/jpeg", {"caption": "what is this?"}),
        "voice": ("audio", voice_note(VOICE_S), "audio/ogg; codecs=opus", {"voice": "true"}),
        "pdf": ("document", make_pdf(pages), "application/pdf", {"filename": "report.pdf"}),
    }


async def one(client: TestClient[Any, Any], graph: GraphFake, item: dict[str, Any]) -> float:
    """Seconds from posting the webhook to the reply reaching the fake Graph API."""
    before = len(graph.sent)
    began = time.perf_counter()
    await post_whatsapp(client, wa_body(item))
    async with asyncio.timeout(60):
        while len(graph.sent) == before:
            await asyncio.sleep(0.001)
    return time.perf_counter() - began


async def run_kind(client: TestClient[Any, Any], graph: GraphFake, kind: str, repeats: int) -> float:
    made = samples()
    times = []
    for n in range(repeats):
        if kind == "text":
            item = wa_message(f"hello {n}")
        else:
            mtype, data, mime, extra = made[kind]
            part = {"id": graph.add_media(data, mime), "mime_type": mime, **extra}
            item = wa_message(None, mtype=mtype, part=part)
        times.append(await one(client, graph, item))
    return statistics.median(times)


async def through_the_app(repeats: int, voice_reply: bool) -> dict[str, float]:
    async with FakeOllama(models={"qwen3:4b": ["completion", "tools", "vision"]}) as ollama:
        ollama.responder = lambda body: Step(content="Noted.")
        async with GraphFake() as graph, SpeechFake(text="remind me at five") as speech:
            with tempfile.TemporaryDirectory() as data:
                base = Settings(
                    data_dir=Path(data),
                    database_url=f"sqlite:///{data}/hearth.db",
                    ollama_url=ollama.url,
                    api_token=Secret("bench"),
                    skills_dir=Path(data) / "no-skills",
                    transcribe_url=speech.url,
                    speech_url=speech.url,
                    voice_replies="inbound" if voice_reply else "off",
                    rate_limit_per_min=100_000,
                )
                settings = whatsapp_settings(base, graph)
                async with TestClient(TestServer(create_app(settings))) as client:
                    await run_kind(client, graph, "text", 3)  # warm up
                    return {
                        k: await run_kind(client, graph, k, repeats)
                        for k in ("text", "photo", "voice", "pdf")
                    }


def timed(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def conversions(repeats: int) -> dict[str, float]:
    made = samples()
    speech = tone_wav(5.0)
    budget = Settings().image_max_pixels
    return {
        "scale photo": timed(lambda: images.prepare_image(made["photo"][1], budget), repeats),
        "voice note to WAV": timed(lambda: audio.to_speech_wav(made["voice"][1]), repeats),
        "read PDF": timed(lambda: documents.read_pdf(made["pdf"][1]), repeats),
        "5 s of speech to OGG/Opus": timed(lambda: audio.to_voice_note(speech), repeats),
    }


async def main_async(repeats: int) -> dict[str, Any]:
    turns = await through_the_app(repeats, voice_reply=False)
    spoken = await through_the_app(repeats, voice_reply=True)
    added = {k: turns[k] - turns["text"] for k in ("photo", "voice", "pdf")}
    added["voice reply"] = spoken["voice"] - turns["voice"]
    return {"text_turn_s": turns["text"], "added_s": added, "conversion_s": conversions(repeats)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    found = asyncio.run(main_async(args.repeats))
    print(f"text turn, webhook to reply: {found['text_turn_s'] * 1000:7.1f} ms (median of {args.repeats})")
    sizes = {
        "photo": f"{PHOTO[0]}x{PHOTO[1]} JPEG",
        "voice": f"{VOICE_S:g} s OGG/Opus",
        "pdf": f"{PDF_PAGES} pages",
        "voice reply": "spoken and encoded",
    }
    for kind, seconds in found["added_s"].items():
        print(f"added by a {kind:<11} ({sizes[kind]:>20}): {seconds * 1000:7.1f} ms")
    for name, seconds in found["conversion_s"].items():
        print(f"  of which {name:<26} {seconds * 1000:7.1f} ms")
    print(json.dumps(found))


if __name__ == "__main__":
    main()
