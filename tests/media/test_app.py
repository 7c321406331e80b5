"""The public media route, its signed links, and the sweep that lets old files go."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assistant.keys import MEDIA, STORE
from assistant.media import links
from assistant.media.sweep import sweep
from assistant.store import media as stored
from assistant.store.inbox import chat_for
from assistant.store.tables import MediaFile, Reply
from tests.conftest import AppClient

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_token_names_its_file_until_it_expires(tmp_path: Path) -> None:
    key = links.load_key(tmp_path)
    assert links.load_key(tmp_path) == key
    assert (tmp_path / links.KEY_FILE).stat().st_mode & 0o777 == 0o600
    token = links.sign(key, 7, NOW + timedelta(hours=1))
    assert links.verify(key, token, NOW) == 7
    with pytest.raises(links.Expired):
        links.verify(key, token, NOW + timedelta(hours=2))


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("7-", "8-", 1),
        lambda t: t[:-1] + ("1" if t.endswith("0") else "0"),
        lambda t: "x",
        lambda t: t + "-1",
    ],
)
def test_a_changed_or_garbled_token_is_refused(tmp_path: Path, change: object) -> None:
    key = links.load_key(tmp_path)
    token = links.sign(key, 7, NOW + timedelta(hours=1))
    assert callable(change)
    with pytest.raises(links.BadToken):
        links.verify(key, change(token), NOW)
    with pytest.raises(links.BadToken):
        links.verify(b"another key", token, NOW)


async def file_on(client: AppClient, *, on_reply: bool, data: bytes = b"\x89PNG fake") -> MediaFile:
    media = client.app[MEDIA]
    path = media.folder.save(1, data, ".png")

    def write(session: Session) -> int:
        chat = chat_for(session, "api", "api:owner", datetime.now(UTC))
        reply = Reply(chat_id=chat.id or 0, text="here")
        session.add(reply)
        session.flush()
        return reply.id or 0

    reply_id = await client.app[STORE].write(write)
    row = MediaFile(
        chat_id=1,
        reply_id=reply_id if on_reply else None,
        kind="image",
        mime="image/png",
        name="my chart.png",
        path=path,
        size=len(data),
    )
    [row] = await stored.add(client.app[STORE], [row])
    return row


async def test_a_file_on_a_reply_is_served_with_its_type_and_name(client: AppClient) -> None:
    row = await file_on(client, on_reply=True)
    token = links.sign(client.app[MEDIA].key, row.id or 0, datetime.now(UTC) + timedelta(minutes=5))
    for method in (client.get, client.head):
        response = await method(f"/media/{token}")
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"] == 'inline; filename="my_chart.png"'
    assert await (await client.get(f"/media/{token}")).read() == b"\x89PNG fake"


async def test_forged_expired_and_private_files_are_not_served(client: AppClient) -> None:
    key = client.app[MEDIA].key
    row = await file_on(client, on_reply=True)
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert (await client.get(f"/media/{row.id}-{int(later.timestamp())}-{'0' * 32}")).status == 403
    assert (await client.get(f"/media/{links.sign(key, row.id or 0, NOW)}")).status == 410
    sent_by_a_person = await file_on(client, on_reply=False)
    assert (await client.get(f"/media/{links.sign(key, sent_by_a_person.id or 0, later)}")).status == 410
    client.app[MEDIA].folder.remove(row.path)
    assert (await client.get(f"/media/{links.sign(key, row.id or 0, later)}")).status == 410


async def test_the_sweep_removes_old_files_and_rows_and_leaves_new_ones(client: AppClient) -> None:
    media, store = client.app[MEDIA], client.app[STORE]
    old, new = await file_on(client, on_reply=True), await file_on(client, on_reply=True)
    await store.write(lambda s: setattr(s.get(MediaFile, old.id), "created_at", NOW - timedelta(days=31)))
    stray = media.folder.path(media.folder.save(1, b"left by a crash", ".bin"))
    os.utime(stray, (0, 0))
    removed = await sweep(store, media.folder, NOW - timedelta(days=30))
    assert removed == 2
    assert not media.folder.path(old.path).exists()
    assert not stray.exists()
    assert media.folder.path(new.path).exists()
    rows = await store.read(lambda s: [r.id for r in s.exec(select(MediaFile))])
    assert rows == [new.id]
