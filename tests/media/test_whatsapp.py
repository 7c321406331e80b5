"""Media over the WhatsApp Cloud API, end to end: a webhook names a media id, Hearth fetches it from
the fake Graph API, and the fake model sees a photo, hears a voice note, reads a PDF."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from assistant.app import create_app
from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store.tables import MediaFile, Message
from tests.channels.webhooks import post_whatsapp, until, wa_body, wa_message, whatsapp_settings
from tests.conftest import AppClient, MakeClient
from tests.fakes.base import Failure
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.speech import SpeechFake
from tests.media.samples import make_image, make_pdf, voice_note
from tests.media.stack import VISION, images_seen, user_messages


@pytest.fixture
async def speech() -> Any:
    async with SpeechFake(text="remind me to water the plants") as server:
        yield server


@pytest.fixture
async def make_wa(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, speech: SpeechFake
) -> Any:
    async def make(**changes: Any) -> AppClient:
        values = {"transcribe_url": speech.url, "image_max_pixels": 640 * 480, **changes}
        client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph, **values)))
        return client

    return make


def texts(graph: GraphFake) -> list[str]:
    return [s["text"]["body"] for s in graph.sent if s["type"] == "text"]


async def send_media(
    client: AppClient, graph: GraphFake, mtype: str, data: bytes, mime: str, **part: str
) -> None:
    media_id = graph.add_media(data, mime)
    body = wa_body(wa_message(None, mtype=mtype, part={"id": media_id, "mime_type": mime, **part}))
    assert (await post_whatsapp(client, body)).status == 200


async def test_a_photo_reaches_a_model_that_sees_as_an_image(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    fake.models["qwen3:4b"] = VISION
    client = await make_wa()
    photo = make_image(3000, 2000)
    await send_media(client, graph, "image", photo, "image/jpeg", caption="what plant is this?")
    await until(lambda: len(texts(graph)) == 1)
    [message] = user_messages(fake)
    assert message["content"] == "what plant is this?"
    [seen] = images_seen(fake)
    with Image.open(io.BytesIO(seen)) as image:
        assert image.format == "JPEG"
        assert image.width * image.height <= 640 * 480
        assert image.width / image.height == pytest.approx(1.5, rel=0.01)
    stored = await client.app[STORE].read(lambda s: list(s.exec(select(MediaFile))))
    assert [(f.kind, f.mime, f.size) for f in stored] == [("image", "image/jpeg", len(photo))]


async def test_without_vision_a_vision_model_describes_the_photo(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    fake.models["gemma3:4b"] = ["completion", "vision"]
    client = await make_wa(vision_model="gemma3:4b")

    def answer(body: dict[str, Any]) -> Step:
        if body["model"] == "gemma3:4b":
            return Step(content="A fern in a blue pot. Text: 'water me'.")
        return Step(content="echo: " + user_messages_of(body)[-1]["content"])

    fake.responder = answer
    await send_media(client, graph, "image", make_image(800, 600, "PNG"), "image/png", caption="look")
    await until(lambda: len(texts(graph)) == 1)
    described = fake.chat_requests[0]
    assert described["model"] == "gemma3:4b"
    assert len(described["messages"][0]["images"]) == 1
    [message] = user_messages(fake)
    assert message["content"].startswith('look\n\n<untrusted source="description of the photo">\n')
    assert "A fern in a blue pot" in message["content"]
    assert "images" not in message


def user_messages_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "user"]


async def test_without_any_vision_the_person_is_told_and_nothing_is_fetched(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa()
    await send_media(client, graph, "image", make_image(64, 64), "image/jpeg")
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0].startswith("I can't see pictures")
    assert fake.chat_requests == []
    assert await client.app[STORE].read(lambda s: list(s.exec(select(MediaFile)))) == []


async def test_a_voice_note_is_heard_as_16_khz_wav_and_its_transcript_is_the_message(
    make_wa: Any, graph: GraphFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    client = await make_wa(echo_transcript=True)
    await send_media(client, graph, "audio", voice_note(2.0), "audio/ogg; codecs=opus", voice="true")
    await until(lambda: len(texts(graph)) == 2)
    assert speech.heard == [{"rate": 16000, "channels": 1, "seconds": pytest.approx(2.0, abs=0.1)}]
    assert speech.sent == [{"model": "Systran/faster-whisper-small", "response_format": "json"}]
    [message] = user_messages(fake)
    assert message["content"] == "remind me to water the plants"  # the person's own words, not content
    assert texts(graph)[0] == "I heard: “remind me to water the plants”"
    stored = await client.app[STORE].read(lambda s: list(s.exec(select(Message))))
    assert stored[0].meta["voice"] == "1"


async def test_a_command_said_aloud_is_answered_by_hearth(
    make_wa: Any, graph: GraphFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    speech.text = "/help"
    client = await make_wa()
    await send_media(client, graph, "audio", voice_note(1.0), "audio/ogg; codecs=opus")
    await until(lambda: len(texts(graph)) == 1)
    assert "/reset" in texts(graph)[0]
    assert fake.chat_requests == []


async def test_a_pdf_is_read_with_its_name_as_untrusted_content(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa()
    pdf = make_pdf(["Invoice 2026-117", "Total due: 42.50 EUR by 15 December"])
    await send_media(
        client, graph, "document", pdf, "application/pdf", filename="invoice.pdf", caption="pay?"
    )
    await until(lambda: len(texts(graph)) == 1)
    [message] = user_messages(fake)
    content = message["content"]
    assert content.startswith("pay?\n\n<untrusted source=\"document 'invoice.pdf' (2 pages)\">\n")
    assert "Invoice 2026-117\n\nTotal due: 42.50 EUR by 15 December" in content


@pytest.mark.parametrize(
    ("mtype", "data", "mime", "reply"),
    [
        ("document", make_pdf(["", ""]), "application/pdf", "That document has no text I can read"),
        ("document", b"PK\x03\x04" + b"\x00" * 64, "application/msword", "I can read PDFs and text"),
        ("image", make_pdf(["not a photo"]), "image/jpeg", "That file isn't what it says it is"),
        ("image", b"\xff\xd8\xff" + b"\x00" * 64, "image/jpeg", "I couldn't open that picture"),
        ("audio", b"OggS" + b"\x00" * 200, "audio/ogg", "I couldn't play that recording"),
    ],
)
async def test_media_that_cannot_be_used_gets_a_short_reply(
    make_wa: Any, graph: GraphFake, fake: FakeOllama, mtype: str, data: bytes, mime: str, reply: str
) -> None:
    fake.models["qwen3:4b"] = VISION
    client = await make_wa()
    await send_media(client, graph, mtype, data, mime)
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0].startswith(reply)
    assert fake.chat_requests == []


async def test_oversized_media_is_refused_by_its_announced_size(make_wa: Any, graph: GraphFake) -> None:
    client = await make_wa(media_max_mb=1)
    await send_media(client, graph, "document", make_pdf(["x"]) + b" " * (1024 * 1024 + 1), "application/pdf")
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0] == "That file is too large for me: the limit is 1 MB."


async def test_a_media_url_that_expired_is_asked_for_again(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa()
    graph.expired_urls = 1
    await send_media(client, graph, "document", b"# Shopping\n- milk\n", "text/plain", filename="list.md")
    await until(lambda: len(texts(graph)) == 1)
    assert "- milk" in user_messages(fake)[0]["content"]


async def test_media_gone_for_good_gets_a_short_reply(make_wa: Any, graph: GraphFake) -> None:
    client = await make_wa()
    graph.expired_urls = 2
    await send_media(client, graph, "document", b"notes", "text/plain")
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0].startswith("I couldn't download that file")


async def test_a_transcriber_that_is_down_gets_a_short_reply(
    make_wa: Any, graph: GraphFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    client = await make_wa()
    speech.fail(Failure(503))
    await send_media(client, graph, "audio", voice_note(1.0), "audio/ogg; codecs=opus")
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0].startswith("I couldn't transcribe your voice message just now")
    assert fake.chat_requests == []


async def test_without_a_transcriber_a_voice_note_gets_a_specific_reply(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa(transcribe_url=None)
    await send_media(client, graph, "audio", voice_note(1.0), "audio/ogg; codecs=opus")
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0].startswith("I can't listen to voice messages here")


async def test_media_is_fetched_once_when_the_model_was_down_at_first(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    fake.models["qwen3:4b"] = VISION
    client = await make_wa()
    fake.down = True
    await send_media(client, graph, "image", make_image(100, 100), "image/jpeg", caption="and now?")
    await until(lambda: len(texts(graph)) == 1)  # the notice that the model is away
    fake.down = False
    await until(lambda: len(texts(graph)) == 2, timeout_s=15)
    assert len(images_seen(fake)) == 1
    stored = await client.app[STORE].read(lambda s: list(s.exec(select(MediaFile))))
    assert len(stored) == 1


async def test_a_vision_model_that_fails_gets_a_short_reply(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    fake.models["gemma3:4b"] = ["completion", "vision"]
    client = await make_wa(vision_model="gemma3:4b")
    fake.push(Step(status=500, error="out of memory"))
    await send_media(client, graph, "image", make_image(100, 100), "image/jpeg")
    await until(lambda: len(texts(graph)) == 1)
    assert texts(graph)[0].startswith("I couldn't look at that picture just now")
