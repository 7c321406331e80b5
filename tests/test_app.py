"""Health, readiness and metrics endpoints of a real app."""

from __future__ import annotations

from tests.api import send, wait_handled
from tests.conftest import AppClient
from tests.fakes.ollama import FakeOllama


async def test_healthz_answers(client: AppClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_readyz_follows_the_model(client: AppClient, fake: FakeOllama) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"ready": True, "database": "ok", "model": "ok"}
    fake.down = True
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["model"] == "ModelUnavailable"


async def test_metrics_count_messages_and_turns(client: AppClient) -> None:
    for text in ("a", "b"):
        await wait_handled(client, await send(client, "m", text))
    response = await client.get("/metrics")
    assert response.content_type == "text/plain"
    lines = set((await response.text()).splitlines())
    assert "hearth_messages_accepted_total 2" in lines
    assert "hearth_messages_handled_total 2" in lines
    assert "hearth_turns_total 2" in lines
    assert "hearth_inbox_depth 0" in lines
    assert "hearth_turn_seconds_count 2" in lines
    assert "# TYPE hearth_model_seconds histogram" in lines
