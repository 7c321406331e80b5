"""The checks every dashboard request passes: the Host header, loopback or a signed-in session, and a
CSRF token on every form that changes something. Pure decisions first, the middleware after them."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from assistant.settings import Settings
from assistant.ui.auth import Session, Sessions

PREFIX = "/ui/"
COOKIE = "hearth_session"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared with, never bound)
# A request that passed through a proxy carries one of these; its peer address says nothing.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
OPEN_PATHS = frozenset({"/ui/login"})
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback_host(host: str) -> bool:
    """Whether listening on `host` keeps the server to this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The names the dashboard answers to: loopback names, the address Hearth listens on, the public
    URL's host, and HEARTH_DASHBOARD_HOSTS. Anything else is a DNS-rebinding attempt or a mistake."""
    names = set(LOOPBACK_NAMES) | set(settings.dashboard_hosts)
    if settings.host.lower() not in WILDCARDS:
        names.add(settings.host.lower())
    if settings.public_url and (public := urlsplit(settings.public_url).hostname):
        names.add(public.lower())
    return frozenset(names)


def host_name(header: str) -> str | None:
    """The host of a Host header without its port (`[::1]:8080` → `::1`); None when malformed."""
    try:
        name = urlsplit(f"//{header}").hostname
    except ValueError:
        return None
    return name.lower() if name else None


def is_local(remote: str | None, headers: Iterable[str]) -> bool:
    """A client on this machine that came straight here, not through a proxy."""
    if remote is None or any(h in PROXY_HEADERS for h in headers):
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def is_https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


@dataclass(frozen=True)
class Guard:
    """What the middleware needs: the allowed Host names, whether a password is set, the sessions."""

    hosts: frozenset[str]
    password: bool
    sessions: Sessions

    def session_of(self, request: web.Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))


def set_cookie(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        session.id,
        path=PREFIX.rstrip("/"),
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def refuse(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, headers=HEADERS)


SESSION = web.RequestKey("dashboard_session", Session)


def admit(guard: Guard, request: web.Request) -> web.Response | None:
    """The refusal for a request from the wrong Host, or from elsewhere without a password; else None."""
    if host_name(request.host) not in guard.hosts:
        return refuse(400, "Invalid Host header")
    if not guard.password and not is_local(request.remote, request.headers.keys()):
        return refuse(403, "The dashboard answers only on this machine unless a password is set.")
    return None


def session_for(guard: Guard, request: web.Request) -> tuple[Session, bool]:
    """The request's session and whether it was made just now; without a password every visitor on
    this machine gets one, with one only the login page does. Redirects to it otherwise."""
    session = guard.session_of(request)
    if session is None and (not guard.password or request.path in OPEN_PATHS):
        return guard.sessions.new(signed_in=not guard.password), True
    if session is None or (guard.password and not session.signed_in and request.path not in OPEN_PATHS):
        target = quote(request.path_qs if request.method == "GET" else PREFIX, safe="")
        raise web.HTTPSeeOther(f"/ui/login?next={target}", headers=HEADERS)
    return session, False


async def forged(request: web.Request, session: Session) -> bool:
    """A form that changes something without the session's CSRF token."""
    if request.method in ("GET", "HEAD"):
        return False
    token = (await request.post()).get("csrf")
    return not same_token(token if isinstance(token, str) else None, session.csrf)


def middleware(guard: Guard) -> Middleware:
    """The guard around every /ui/ request; other paths pass untouched."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not (request.path + "/").startswith(PREFIX):
            return await handler(request)
        if (refused := admit(guard, request)) is not None:
            return refused
        if request.path.startswith(PREFIX + "static/"):
            return await handler(request)
        session, made = session_for(guard, request)
        if await forged(request, session):
            return refuse(403, "This form has expired. Go back, reload the page and try again.")
        request[SESSION] = session
        response = await handler(request)
        response.headers.update(HEADERS)
        if made:
            set_cookie(request, response, session)
        return response

    return check
