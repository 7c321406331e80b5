"""The overview: the doctor's checks, model and capabilities, queues, turns, teams and recent failures."""

from __future__ import annotations

from tests.api import send, wait_handled
from tests.conftest import AppClient
from tests.fakes.ollama import FakeOllama
from tests.ui.pages.test_outbox import failed_reply


async def test_the_overview_shows_checks_model_and_queues(client: AppClient) -> None:
    await wait_handled(client, await send(client, "anna", "hi"))
    page = await (await client.get("/ui/")).text()
    assert 'data-refresh-s="10"' in page
    assert '<p id="model">qwen3:4b</p>' in page
    assert "tools" in page
    assert '<p class="big" id="inbox">0</p>' in page
    assert '<p class="big" id="in-flight">0</p>' in page
    for check in ("database", "ollama", "model", "docker"):
        assert f"<td>{check}</td><td>ok</td>" in page, check
    assert "Nothing failed recently." in page


async def test_failures_and_a_missing_model_show(client: AppClient, fake: FakeOllama) -> None:
    reply_id = await failed_reply(client, "lost", "131026: receiver incapable")
    fake.down = True
    page = await (await client.get("/ui/")).text()
    assert f"reply {reply_id}" in page
    assert "131026: receiver incapable" in page
    assert "<td>ollama</td><td>FAIL</td>" in page
    assert "start Ollama" in page
    # The checks are kept a while, so a page that refreshes itself does not hammer Ollama or Docker.
    fake.down = False
    assert "<td>ollama</td><td>FAIL</td>" in await (await client.get("/ui/")).text()
