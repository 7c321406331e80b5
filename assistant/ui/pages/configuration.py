"""Settings: the effective configuration with every secret masked; and a backup to download."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from assistant.keys import CLOCK, SETTINGS
from assistant.ops.archive import verify
from assistant.ops.backup import BackupError, write_archive
from assistant.settings import Secret, Settings, env_name, masked_url
from assistant.ui.render import done, render

ROUTES = web.RouteTableDef()
CHUNK_BYTES = 256 * 1024


def shown(value: Any) -> str:
    """A setting as the page shows it: secrets as asterisks, passwords in URLs too."""
    if isinstance(value, Secret):
        return Secret.MASK
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return masked_url(text) if "://" in text else text


def rows(settings: Settings) -> list[tuple[str, str, bool]]:
    """(variable, value, whether it differs from the default) for every setting."""
    defaults = Settings()
    found = []
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        found.append((env_name(f.name), shown(value), value != getattr(defaults, f.name)))
    return found


@ROUTES.get("/ui/settings")
async def settings_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    return render(
        request,
        "settings.html",
        title="Settings",
        rows=rows(settings),
        sqlite=settings.sqlite_path is not None,
    )


def _archive(settings: Settings, path: Path) -> None:
    with path.open("w+b") as out:
        write_archive(settings, out)
        out.seek(0)
        verify(out)  # what the dashboard offers must restore


@ROUTES.post("/ui/backup")
async def backup(request: web.Request) -> web.StreamResponse:
    """The same archive as `hearth backup`, streamed from a temporary file that is removed after."""
    settings = request.app[SETTINGS]
    stamp = request.app[CLOCK]().strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "backup.tar.gz"
        try:
            await asyncio.to_thread(_archive, settings, path)
        except BackupError as exc:
            return done(request, f"No backup: {exc}.", "/ui/settings")
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/gzip",
                "Content-Disposition": f'attachment; filename="hearth-{stamp}.tar.gz"',
                "Content-Length": str(path.stat().st_size),
            }
        )
        await response.prepare(request)
        with path.open("rb") as source:
            while chunk := await asyncio.to_thread(source.read, CHUNK_BYTES):
                await response.write(chunk)
        await response.write_eof()
        return response
