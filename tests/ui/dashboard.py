"""Helpers for driving the dashboard over HTTP: a cheap password hash, reading CSRF tokens, posting forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web

from assistant.settings import Secret
from assistant.store import Store
from assistant.store.inbox import chat_for
from assistant.store.tables import Chat
from assistant.ui.auth import hash_password
from tests.conftest import AppClient

PASSWORD = "correct horse"
# Tests need no slow hash; the format and the check are the same as the real one's.
CHEAP_HASH = Secret(str(hash_password(PASSWORD, n=16, r=8, p=1)))
CSRF = re.compile(r'name="csrf" (?:value|content)="([^"]+)"')


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def token(client: AppClient, page: str = "/ui/") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    response = await client.get(page)
    assert response.status == 200, await response.text()
    return csrf_in(await response.text())


async def post(client: AppClient, path: str, page: str = "/ui/", **fields: str) -> tuple[int, str, str]:
    """Submit a form as the page would: (status, Location, body), redirects not followed."""
    data = {"csrf": await token(client, page), **fields}
    response = await client.post(path, data=data, allow_redirects=False)
    return response.status, response.headers.get("Location", ""), await response.text()


async def sign_in(client: AppClient, password: str = PASSWORD) -> int:
    response = await client.get("/ui/login")
    data = {"csrf": csrf_in(await response.text()), "password": password, "next": "/ui/"}
    response = await client.post("/ui/login", data=data, allow_redirects=False)
    return response.status


async def add_chat(store: Store, channel: str, address: str) -> Chat:
    now = datetime.now(UTC)
    return await store.write(lambda s: chat_for(s, channel, address, now))


class HasApp(Protocol):
    """A test client, or anything else that holds the running app (the browser tests' live server)."""

    @property
    def app(self) -> web.Application: ...
