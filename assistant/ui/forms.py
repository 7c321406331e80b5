"""Reading what a dashboard form posted: ids in the path, a safe page to go back to."""

from __future__ import annotations

from aiohttp import web

from assistant.ui.guard import PREFIX


def path_id(request: web.Request, name: str = "id") -> int:
    """The whole number in the path; 404 for anything else."""
    raw = request.match_info.get(name, "")
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound(text="No such item.")
    return int(raw)


async def back(request: web.Request, default: str) -> str:
    """Where the form asked to return to, when that is a dashboard page; else `default`."""
    raw = (await request.post()).get("back")
    if isinstance(raw, str) and raw.startswith(PREFIX) and "//" not in raw and "\\" not in raw:
        return raw
    return default


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 1
