"""A nearly full data volume: webhooks and the API answer 503 and store nothing, the owner is told
once, and messages are taken again by themselves once space is back. The data directory is a real
16 MB tmpfs, filled with a real file."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from assistant.app import create_app
from assistant.channels.space import LOW_NOTICE, MB, free_bytes
from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store.tables import Message
from tests.channels.webhooks import post_whatsapp, until, wa_body, wa_message, whatsapp_settings
from tests.conftest import AUTH, AppClient, MakeClient
from tests.fakes.graph import GraphFake

VOLUME_MB = 16
MIN_FREE_MB = 6


@pytest.fixture
def small_volume() -> Iterator[Path]:
    """A 16 MB tmpfs of its own; skipped where this process may not mount one (not root)."""
    where = Path(tempfile.mkdtemp(prefix="hearth-volume-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={VOLUME_MB}m", "tmpfs", str(where)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=True)  # noqa: S607
    where.rmdir()


def fill(volume: Path, leave_mb: int) -> Path:
    """A file that leaves about `leave_mb` free on the volume."""
    filler = volume / "filler.bin"
    size = free_bytes(volume) - leave_mb * MB
    with filler.open("wb") as out:
        out.write(os.urandom(1024) * (size // 1024))
    return filler


async def stored(client: AppClient) -> int:
    count: int = await client.app[STORE].read(lambda s: s.exec(select(func.count(col(Message.id)))).one())
    return count


def notices(graph: GraphFake) -> list[str]:
    texts = [s["text"]["body"] for s in graph.sent if s["type"] == "text"]
    return [t for t in texts if t.startswith(LOW_NOTICE.split("(")[0])]


async def test_a_full_disk_is_refused_told_once_and_recovered_from(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, small_volume: Path
) -> None:
    base = whatsapp_settings(settings, graph)
    changes: dict[str, Any] = {
        "data_dir": small_volume,
        "database_url": f"sqlite:///{small_volume / 'hearth.db'}",
        "min_free_mb": MIN_FREE_MB,
    }
    client: AppClient = await aiohttp_client(create_app(dataclasses.replace(base, **changes)))
    # The owner writes first, so there is an owner chat to tell.
    assert (await post_whatsapp(client, wa_body(wa_message("/help")))).status == 200
    await until(lambda: len(graph.sent) == 1)
    before = await stored(client)
    filler = fill(small_volume, leave_mb=MIN_FREE_MB - 2)

    refused = [await post_whatsapp(client, wa_body(wa_message(f"full {n}"))) for n in range(3)]
    api = await client.post("/v1/messages", json={"chat": "script", "text": "hello"}, headers=AUTH)

    assert [r.status for r in refused] == [503, 503, 503]
    assert refused[0].headers["Retry-After"] == "60"
    assert api.status == 503
    assert "disk is almost full" in (await api.json())["error"]
    assert await stored(client) == before
    await until(lambda: len(notices(graph)) == 1)
    await asyncio.sleep(0.2)
    assert len(notices(graph)) == 1

    filler.unlink()
    again = await post_whatsapp(client, wa_body(wa_message("/help")))

    assert again.status == 200
    assert await stored(client) == before + 1
    await until(lambda: len(graph.sent) == 3)
    api = await client.post("/v1/messages", json={"chat": "script", "text": "hello"}, headers=AUTH)
    assert api.status == 202


async def test_no_floor_when_min_free_is_zero(make_client: MakeClient, small_volume: Path) -> None:
    client = await make_client(
        data_dir=small_volume, database_url=f"sqlite:///{small_volume / 'hearth.db'}", min_free_mb=0
    )
    fill(small_volume, leave_mb=1)
    response = await client.post("/v1/messages", json={"chat": "script", "text": "hi"}, headers=AUTH)
    assert response.status == 202
