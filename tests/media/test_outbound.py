"""Replies that carry files and voice over the Cloud API: uploaded, then sent by media id; the
typing indicator while a turn runs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assistant.app import create_app
from assistant.channels.whatsapp.channel import KEY as WHATSAPP
from assistant.settings import Settings
from assistant.types import Attachment
from tests.channels.webhooks import OWNER_BSUID, post_whatsapp, until, wa_body, wa_message, whatsapp_settings
from tests.conftest import AppClient, MakeClient
from tests.fakes.base import Failure
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.speech import SpeechFake
from tests.media.samples import make_image, probe, voice_note
from tests.media.stack import AttachTool, with_tool

CALL = {"name": "make_file", "arguments": {}}


@pytest.fixture
async def speech() -> Any:
    async with SpeechFake(text="how warm is it") as server:
        yield server


@pytest.fixture
async def make_wa(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, speech: SpeechFake
) -> Any:
    async def make(files: list[Attachment] | None = None, **changes: Any) -> AppClient:
        values = {"transcribe_url": speech.url, "speech_url": speech.url, **changes}
        app = create_app(whatsapp_settings(settings, graph, **values))
        client: AppClient = await aiohttp_client(with_tool(app, AttachTool(files or [])))
        return client

    return make


def sent_of(graph: GraphFake, kind: str) -> list[dict[str, Any]]:
    return [s for s in graph.sent if s["type"] == kind]


async def test_a_file_a_tool_made_is_uploaded_and_sent_with_the_text_as_its_caption(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    png = make_image(120, 80, "PNG")
    client = await make_wa([Attachment("chart.png", png)])
    fake.push(Step(tool_calls=[CALL]), Step(content="Here is your chart."))
    await post_whatsapp(client, wa_body(wa_message("draw me a chart")))
    await until(lambda: len(graph.sent) == 1)
    [sent] = graph.sent
    assert sent["type"] == "image"
    assert sent["image"]["caption"] == "Here is your chart."
    assert sent["recipient"] == OWNER_BSUID
    uploaded = graph.media[sent["image"]["id"]]
    assert (uploaded.data, uploaded.mime, uploaded.filename) == (png, "image/png", "chart.png")


async def test_a_long_text_goes_first_and_each_file_after_it(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    files = [Attachment("data.csv", b"day,mm\nmon,3\ntue,0\n"), Attachment("photo.jpg", make_image(40, 40))]
    client = await make_wa(files)
    long = "A rainy week. " * 100
    fake.push(Step(tool_calls=[CALL]), Step(content=long))
    await post_whatsapp(client, wa_body(wa_message("rain this week?")))
    await until(lambda: len(graph.sent) == 3)
    assert [s["type"] for s in graph.sent] == ["text", "document", "image"]
    document = graph.sent[1]["document"]
    assert document["filename"] == "data.csv"
    assert "caption" not in document
    assert graph.media[document["id"]].mime == "text/plain"
    assert "caption" not in graph.sent[2]["image"]


async def test_a_refused_upload_is_retried_and_no_part_goes_twice(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa([Attachment("a.png", make_image(10, 10, "PNG")), Attachment("b.txt", b"b")])
    fake.push(Step(tool_calls=[CALL]), Step(content="two files " * 200))
    # The read receipt and the text go out; the first upload is refused once.
    graph.fail(None, None, Failure(503, 2, "Service temporarily unavailable"))
    await post_whatsapp(client, wa_body(wa_message("files please")))
    await until(lambda: len(graph.sent) == 3)
    assert [s["type"] for s in graph.sent] == ["text", "image", "document"]
    assert len(graph.uploads) == 2


async def test_a_voice_note_is_answered_with_a_voice_note_when_asked_to(
    make_wa: Any, graph: GraphFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    client = await make_wa(voice_replies="inbound")
    media_id = graph.add_media(voice_note(1.0), "audio/ogg; codecs=opus")
    part = {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    fake.push(Step(content="It is 21 degrees."))
    await post_whatsapp(client, wa_body(wa_message(None, mtype="audio", part=part)))
    await until(lambda: len(graph.sent) == 1)
    [sent] = graph.sent
    assert sent["type"] == "audio"
    assert sent["audio"]["voice"] is True
    spoken = graph.media[sent["audio"]["id"]]
    assert spoken.mime == "audio/ogg"
    assert probe(spoken.data) == {
        "format": "ogg",
        "codec": "opus",
        "rate": 48000,
        "channels": 1,
        "seconds": pytest.approx(0.05 * len("It is 21 degrees."), abs=0.1),
    }
    assert speech.sent[-1] == {
        "model": "speaches-ai/Kokoro-82M-v1.0-ONNX",
        "input": "It is 21 degrees.",
        "voice": "af_heart",
        "response_format": "wav",
    }


async def test_a_long_spoken_answer_also_goes_as_text_and_typed_messages_get_text(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa(voice_replies="inbound")
    fake.push(Step(content="typed answer"))
    await post_whatsapp(client, wa_body(wa_message("typed question")))
    await until(lambda: len(graph.sent) == 1)
    assert graph.sent[0]["type"] == "text"
    long = "The forecast, day by day. " * 40
    fake.push(Step(content=long))
    media_id = graph.add_media(voice_note(1.0), "audio/ogg; codecs=opus")
    part = {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    await post_whatsapp(client, wa_body(wa_message(None, mtype="audio", part=part)))
    await until(lambda: len(graph.sent) == 3)
    assert [s["type"] for s in graph.sent[1:]] == ["text", "audio"]


async def test_speech_that_fails_leaves_the_text_answer(
    make_wa: Any, graph: GraphFake, fake: FakeOllama, speech: SpeechFake
) -> None:
    client = await make_wa(voice_replies="always")
    speech.installed.discard("speaches-ai/Kokoro-82M-v1.0-ONNX")
    fake.push(Step(content="short answer"))
    await post_whatsapp(client, wa_body(wa_message("hi")))
    await until(lambda: len(graph.sent) == 1)
    assert graph.sent[0]["text"]["body"] == "short answer"


async def test_the_typing_indicator_shows_and_is_renewed_while_the_turn_runs(
    make_wa: Any, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await make_wa()
    client.app[WHATSAPP].typing_renew_s = 0.1
    item = wa_message("think hard")
    fake.push(Step(content="done", delay_s=0.55))
    await post_whatsapp(client, wa_body(item))
    await until(lambda: len(graph.sent) == 1)
    renewals = len(graph.typing)
    assert graph.typing[0] == item["message"]["id"]
    assert 4 <= renewals <= 7
    await asyncio.sleep(0.3)
    assert len(graph.typing) == renewals  # the reply ended it
