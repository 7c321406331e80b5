"""Media over Twilio end to end: MediaUrls fetched with Basic auth through the redirect to the CDN;
files sent back as MediaUrls at HEARTH_PUBLIC_URL/media/<token>, which the fake fetches."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from twilio.request_validator import RequestValidator

from assistant.app import create_app
from assistant.settings import Settings
from assistant.types import Attachment
from tests.channels.webhooks import OWNER_WA, TWILIO_TOKEN, twilio_form, twilio_settings, until
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.speech import SpeechFake
from tests.fakes.twilio import TwilioFake
from tests.media.samples import make_image, make_pdf, probe, voice_note
from tests.media.stack import VISION, AttachTool, free_port, images_seen, user_messages, with_tool

PERSON = f"whatsapp:+{OWNER_WA}"


@pytest.fixture
async def speech() -> Any:
    async with SpeechFake(text="what is on my list") as server:
        yield server


@pytest.fixture
async def make_tw(
    aiohttp_client: MakeClient, settings: Settings, twilio_api: TwilioFake, speech: SpeechFake
) -> Any:
    """Hearth on a known port, so its public URL is one the fake Twilio can fetch files from."""

    async def make(files: list[Attachment] | None = None, **changes: Any) -> AppClient:
        port = free_port()
        values = {"public_url": f"http://127.0.0.1:{port}", "transcribe_url": speech.url, **changes}
        app = create_app(twilio_settings(settings, twilio_api, **values))
        with_tool(app, AttachTool(files or []))
        client: AppClient = await aiohttp_client(app, server_kwargs={"port": port})
        return client

    return make


async def post(client: AppClient, form: dict[str, str]) -> None:
    url = str(client.make_url("/webhooks/twilio"))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    response = await client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status == 200


def media_form(twilio_api: TwilioFake, data: bytes, mime: str, body: str = "") -> dict[str, str]:
    url = twilio_api.add_media(data, mime)
    return twilio_form(body, PERSON, NumMedia="1", MediaUrl0=url, MediaContentType0=mime)


def bodies(twilio_api: TwilioFake) -> list[str]:
    return [s.get("Body", "") for s in twilio_api.sent]


async def test_a_photo_is_fetched_through_the_redirect_and_seen(
    make_tw: Any, twilio_api: TwilioFake, fake: FakeOllama
) -> None:
    fake.models["qwen3:4b"] = VISION
    client = await make_tw()
    photo = make_image(1000, 750)
    await post(client, media_form(twilio_api, photo, "image/jpeg", "what is this?"))
    await until(lambda: len(twilio_api.sent) == 1)
    [message] = user_messages(fake)
    assert message["content"] == "what is this?"
    [seen] = images_seen(fake)
    with Image.open(io.BytesIO(seen)) as image:
        assert image.size == (1000, 750)  # within the default budget, so not scaled
    assert not twilio_api.cdn_saw_credentials


async def test_a_voice_note_is_transcribed(
    make_tw: Any, twilio_api: TwilioFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    client = await make_tw()
    await post(client, media_form(twilio_api, voice_note(1.5), "audio/ogg"))
    await until(lambda: len(twilio_api.sent) == 1)
    assert speech.heard[0]["rate"] == 16000
    assert "what is on my list" in user_messages(fake)[0]["content"]


async def test_a_pdf_is_read(make_tw: Any, twilio_api: TwilioFake, fake: FakeOllama) -> None:
    client = await make_tw()
    await post(client, media_form(twilio_api, make_pdf(["Lease ends 31 March 2027"]), "application/pdf"))
    await until(lambda: len(twilio_api.sent) == 1)
    content = user_messages(fake)[0]["content"]
    assert content.startswith("<untrusted source=\"document 'document.pdf' (1 pages)\">\n")
    assert "Lease ends 31 March 2027" in content


async def test_a_media_url_that_expired_gets_a_short_reply(
    make_tw: Any, twilio_api: TwilioFake, fake: FakeOllama
) -> None:
    client = await make_tw()
    form = media_form(twilio_api, b"some notes", "text/plain")
    twilio_api.expired.update(twilio_api.media)
    await post(client, form)
    await until(lambda: len(twilio_api.sent) == 1)
    assert bodies(twilio_api)[0].startswith("I couldn't download that file")
    assert fake.chat_requests == []


async def test_a_file_goes_back_as_a_signed_media_url_that_twilio_fetches(
    make_tw: Any, twilio_api: TwilioFake, fake: FakeOllama
) -> None:
    png = make_image(64, 48, "PNG")
    client = await make_tw([Attachment("chart.png", png)])
    fake.push(Step(tool_calls=[{"name": "make_file", "arguments": {}}]), Step(content="Your chart."))
    await post(client, twilio_form("chart please", PERSON))
    await until(lambda: len(twilio_api.sent) == 1)
    [sent] = twilio_api.sent
    assert sent["Body"] == "Your chart."
    [url] = sent["MediaUrl"]
    assert url.startswith(f"{client.make_url('/media/')}")
    [fetched] = twilio_api.fetched
    assert fetched["status"] == 200
    assert fetched["content_type"] == fetched["head_type"] == "image/png"
    assert fetched["data"] == png
    assert fetched["disposition"] == 'inline; filename="chart.png"'


async def test_a_voice_reply_goes_as_ogg_opus(
    make_tw: Any, twilio_api: TwilioFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    client = await make_tw(speech_url=speech.url, voice_replies="inbound")
    fake.push(Step(content="Milk and eggs."))
    await post(client, media_form(twilio_api, voice_note(1.0), "audio/ogg"))
    await until(lambda: len(twilio_api.sent) == 1)
    [sent] = twilio_api.sent
    assert "Body" not in sent
    [fetched] = twilio_api.fetched
    assert fetched["content_type"] == "audio/ogg"
    assert probe(fetched["data"])["codec"] == "opus"
