"""Pages from Jinja2 templates, every value escaped unless a template says otherwise (none does)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from assistant.keys import CLOCK, SETTINGS
from assistant.ui.guard import SESSION

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
NAV = (
    ("overview", "/ui/", "Overview"),
    ("chats", "/ui/chats", "Chats"),
    ("jobs", "/ui/jobs", "Jobs"),
    ("people", "/ui/people", "People"),
    ("approvals", "/ui/approvals", "Approvals"),
    ("runs", "/ui/runs", "Runs"),
    ("outbox", "/ui/outbox", "Outbox"),
    ("skills", "/ui/skills", "Skills and MCP"),
    ("settings", "/ui/settings", "Settings"),
)


class Templates:
    """The dashboard's templates, loaded with the first page: a server whose dashboard is never
    opened does not keep Jinja2 in its memory."""

    def __init__(self) -> None:
        self._environment: jinja2.Environment | None = None

    def get(self, name: str) -> jinja2.Template:
        if self._environment is None:
            self._environment = environment()
        return self._environment.get_template(name)


ENVIRONMENT = web.AppKey("dashboard_templates", Templates)


def when(at: datetime | None, zone: ZoneInfo) -> str:
    """`2026-12-01 08:00:05` in the owner's zone; a dash for nothing."""
    return "-" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def seconds(duration_ms: int | None) -> str:
    return "-" if duration_ms is None else f"{duration_ms / 1000:.1f} s"


def environment() -> jinja2.Environment:
    """Templates from the package; autoescape is on for every template whatever its name, and an
    undefined name is an error rather than an empty string."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = seconds
    return env


def render(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    """The template `name` with the page's values and what every page shows (menu, CSRF token,
    the message left by the last action)."""
    app = request.app
    session = request.get(SESSION)
    zone = app[SETTINGS].timezone
    context = {
        "nav": NAV,
        "csrf": session.csrf if session else "",
        "flash": session.take_flash() if session else "",
        "signed_in": bool(session and session.signed_in and app[SETTINGS].dashboard_password),
        "path": request.path,
        "now": app[CLOCK](),
        "when": lambda at: when(at, zone),
        **values,
    }
    text = app[ENVIRONMENT].get(name).render(context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def done(request: web.Request, message: str, to: str) -> web.Response:
    """After an action: remember what happened for the next page and send the browser there."""
    session = request.get(SESSION)
    if session is not None:
        session.flash = message
    return web.Response(status=303, headers={"Location": to})
