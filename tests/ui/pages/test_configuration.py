"""The settings page with every secret masked, and the backup it downloads."""

from __future__ import annotations

import io
import sqlite3
import tarfile
from contextlib import closing
from pathlib import Path

from assistant.settings import Secret
from tests.api import send, wait_handled
from tests.conftest import TOKEN, MakeClient
from tests.ui.dashboard import csrf_in


async def test_settings_show_with_secrets_masked(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(
        whatsapp_app_secret=Secret("app-secret-value"),
        whatsapp_token=Secret("wa-token-value"),
        whatsapp_verify_token=Secret("verify-value"),
        whatsapp_phone_number_id="123",
        twilio_api_url="https://user:pa55word@twilio.example",
        num_ctx=8192,
    )
    page = await (await client.get("/ui/settings")).text()
    for secret in (TOKEN, "app-secret-value", "wa-token-value", "verify-value", "pa55word"):
        assert secret not in page, secret
    assert "<code>HEARTH_API_TOKEN</code></td><td>**********</td>" in page
    assert "https://user:**********@twilio.example" in page
    assert '<tr class="changed"><td><code>HEARTH_NUM_CTX</code></td><td>8192</td>' in page
    assert "<td><code>HEARTH_DASHBOARD_PASSWORD</code></td><td>None</td>" in page


async def test_the_backup_downloads_a_consistent_archive(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client()
    await wait_handled(client, await send(client, "anna", "keep this"))
    page = await (await client.get("/ui/settings")).text()
    assert 'id="backup"' in page
    response = await client.post("/ui/backup", data={"csrf": csrf_in(page)})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/gzip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="hearth-')
    body = await response.read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        assert {"backup.json", "hearth.db"} <= set(archive.getnames())
        archive.extract("hearth.db", tmp_path / "out", filter="data")
    with closing(sqlite3.connect(tmp_path / "out" / "hearth.db")) as db:
        texts = [row[0] for row in db.execute("select text from message")]
    assert texts == ["keep this"]


async def test_a_backup_needs_the_form_token(make_client: MakeClient) -> None:
    client = await make_client()
    await client.get("/ui/settings")
    response = await client.post("/ui/backup", data={"csrf": "nope"})
    assert response.status == 403
    assert response.headers["Content-Type"].startswith("text/plain")
