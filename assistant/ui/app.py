"""The dashboard in the application: its routes under /ui/, the guard in front of them, and the refusal
to serve it beyond this machine without a password."""

from __future__ import annotations

from aiohttp import web

from assistant.errors import SettingsError
from assistant.keys import CLOCK, SETTINGS
from assistant.settings import Settings
from assistant.ui.auth import HASH_PREFIX, Lockout, Sessions, stored_hash
from assistant.ui.guard import Guard, allowed_hosts, is_loopback_host, middleware
from assistant.ui.pages import (
    approvals,
    chats,
    configuration,
    jobs,
    login,
    outbox,
    overview,
    people,
    runs,
    skills,
)
from assistant.ui.render import ENVIRONMENT, STATIC, Templates

PAGES = (overview, chats, jobs, people, approvals, runs, outbox, skills, configuration, login)
OPEN_TO_NETWORK = (
    "the dashboard would be served on {host}, beyond this machine, without a password: "
    "set HEARTH_DASHBOARD_PASSWORD (see `hearth dashboard password`), or HEARTH_DASHBOARD=0"
)


def check(settings: Settings) -> None:
    """SettingsError when the dashboard would be open to the network, or the password hash is bad."""
    password = settings.dashboard_password
    if password is None and not is_loopback_host(settings.host):
        raise SettingsError(OPEN_TO_NETWORK.format(host=settings.host))
    if password is not None and password.value.startswith(HASH_PREFIX):
        try:
            stored_hash(password.value)
        except ValueError as exc:
            raise SettingsError(f"HEARTH_DASHBOARD_PASSWORD is not a usable hash: {exc}") from None


def setup(app: web.Application) -> None:
    """Add the dashboard, unless HEARTH_DASHBOARD=0; call before the app starts."""
    settings = app[SETTINGS]
    if not settings.dashboard:
        return
    check(settings)
    password = settings.dashboard_password
    guard = Guard(allowed_hosts(settings), password is not None, Sessions(app[CLOCK]))
    app[login.GUARD], app[login.LOCKOUT] = guard, Lockout(app[CLOCK])
    if password is not None:
        app[login.PASSWORD] = stored_hash(password.value)
    app[ENVIRONMENT] = Templates()
    app[overview.DOCTOR] = overview.Doctor(settings)
    app.middlewares.append(middleware(guard))
    for page in PAGES:
        app.router.add_routes(page.ROUTES)
    app.router.add_static("/ui/static/", STATIC)
