"""Files from skills through real containers: the python skill writes a PNG and a CSV to /outbox,
and they reach the person over the Cloud API and over Twilio."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from assistant.app import create_app
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.protocol import SkillOutput
from assistant.sandbox.runner import DockerSandbox
from assistant.sandbox.tool import call_skill
from assistant.settings import SKILLS_DIR, Settings
from tests.channels.webhooks import (
    OWNER_WA,
    TWILIO_TOKEN,
    post_whatsapp,
    twilio_form,
    twilio_settings,
    until,
    wa_body,
    wa_message,
    whatsapp_settings,
)
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.twilio import TwilioFake
from tests.media.stack import free_port
from tests.sandbox.docker_env import BASE_IMAGE

pytestmark = pytest.mark.docker

# What a model would write: a 4 x 3 red PNG with nothing but the standard library, and a CSV.
DRAW = """
import struct, zlib
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
rows = b''.join(b'\\x00' + bytes([255, 0, 0] * 4) for _ in range(3))
png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 4, 3, 8, 2, 0, 0, 0))
png += chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')
open('/outbox/red.png', 'wb').write(png)
open('/outbox/sums.csv', 'w').write('n,sum\\n10,45\\n')
print('drawn')
"""
CALL = {"name": "python", "arguments": {"code": DRAW}}


@pytest.mark.timeout(120)
async def test_the_python_skill_returns_the_files_it_wrote(
    sandbox: DockerSandbox, skills: dict[str, SkillManifest]
) -> None:
    output = await call_skill(sandbox, skills["python"], CALL["arguments"], "outbox-test")
    assert isinstance(output, SkillOutput)
    assert output.strip() == "drawn"
    assert [f.name for f in output.files] == ["red.png", "sums.csv"]
    assert output.files[0].data.startswith(b"\x89PNG\r\n\x1a\n")
    assert output.files[1].data == b"n,sum\n10,45\n"
    again = await call_skill(sandbox, skills["python"], {"code": "print(1)"}, "outbox-test")
    assert isinstance(again, SkillOutput)
    assert again.files == ()  # the warm container's outbox was emptied


@pytest.mark.timeout(180)
async def test_a_skills_png_reaches_the_person_over_the_cloud_api(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama, docker_client: Any
) -> None:
    changes = {"skills_dir": SKILLS_DIR, "worker_base_image": BASE_IMAGE}
    client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph, **changes)))
    fake.push(Step(tool_calls=[CALL]), Step(content="Here is the chart and the numbers."))
    await post_whatsapp(client, wa_body(wa_message("chart the sums")))
    await until(lambda: len(graph.sent) == 2, timeout_s=120)
    assert [s["type"] for s in graph.sent] == ["image", "document"]
    assert graph.sent[0]["image"]["caption"] == "Here is the chart and the numbers."
    png = graph.media[graph.sent[0]["image"]["id"]]
    assert (png.mime, png.filename) == ("image/png", "red.png")
    assert png.data.startswith(b"\x89PNG")
    assert graph.sent[1]["document"]["filename"] == "sums.csv"
    tool_result = fake.chat_requests[1]["messages"][-1]["content"]
    assert "[attached to your reply: red.png" in tool_result


@pytest.mark.timeout(180)
async def test_a_skills_png_reaches_the_person_over_twilio(
    aiohttp_client: MakeClient,
    settings: Settings,
    twilio_api: TwilioFake,
    fake: FakeOllama,
    docker_client: Any,
) -> None:
    port = free_port()
    changes = {
        "skills_dir": SKILLS_DIR,
        "worker_base_image": BASE_IMAGE,
        "public_url": f"http://127.0.0.1:{port}",
    }
    app = create_app(twilio_settings(settings, twilio_api, **changes))
    client: AppClient = await aiohttp_client(app, server_kwargs={"port": port})
    fake.push(Step(tool_calls=[CALL]), Step(content="Here is the chart."))
    form = twilio_form("chart the sums", f"whatsapp:+{OWNER_WA}")
    url = str(client.make_url("/webhooks/twilio"))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    await client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})
    await until(lambda: len(twilio_api.sent) == 2, timeout_s=120)
    assert twilio_api.sent[0]["Body"] == "Here is the chart."
    assert [f["content_type"] for f in twilio_api.fetched] == ["image/png", "text/csv"]
    assert twilio_api.fetched[0]["data"].startswith(b"\x89PNG")
