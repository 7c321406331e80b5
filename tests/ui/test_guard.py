"""Who gets past the dashboard's guard: the Host header, loopback without a password, CSRF tokens."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store import jobs
from assistant.ui.guard import allowed_hosts, host_name, is_local, is_loopback_host
from tests.conftest import AppClient, MakeClient
from tests.ui.dashboard import CHEAP_HASH, post, token
from tests.ui.pages.test_jobs import add_job


@pytest.mark.parametrize(
    ("remote", "headers", "local"),
    [
        ("127.0.0.1", [], True),
        ("127.8.9.1", [], True),
        ("::1", ["Host"], True),
        ("192.168.1.5", [], False),
        ("10.0.0.2", [], False),
        ("172.17.0.1", [], False),  # Docker's bridge: a published port seen from the host
        ("127.0.0.1", ["X-Forwarded-For"], False),  # a proxy on this machine, passing on a stranger
        ("127.0.0.1", ["Forwarded"], False),
        ("127.0.0.1", ["X-Real-IP"], False),
        (None, [], False),
        ("not an address", [], False),
    ],
)
def test_only_direct_loopback_clients_are_local(remote: str | None, headers: list[str], local: bool) -> None:
    assert is_local(remote, headers) is local


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8080", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8080", "::1"),
        ("hearth.example.org", "hearth.example.org"),
        ("evil.example:8080", "evil.example"),
        ("[bad", None),
        ("", None),
    ],
)
def test_the_host_header_is_read_without_its_port(header: str, name: str | None) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("hearth.lan", False),
    ],
)
def test_which_listening_addresses_stay_on_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_the_allowed_hosts_come_from_the_settings() -> None:
    base = Settings()
    assert allowed_hosts(base) == {"localhost", "127.0.0.1", "::1"}
    wide = dataclasses.replace(
        base, host="0.0.0.0", public_url="https://Hearth.Example.org", dashboard_hosts=("hearth.lan",)
    )
    assert allowed_hosts(wide) == {"localhost", "127.0.0.1", "::1", "hearth.example.org", "hearth.lan"}
    assert "192.168.1.5" in allowed_hosts(dataclasses.replace(base, host="192.168.1.5"))


async def test_a_foreign_host_header_is_refused(client: AppClient) -> None:
    response = await client.get("/ui/", headers={"Host": "rebind.example:8080"})
    assert response.status == 400
    assert "Host" in await response.text()
    assert "Set-Cookie" not in response.headers
    response = await client.get("/ui/", headers={"Host": "localhost:8080"})
    assert response.status == 200
    # The rest of Hearth is not the dashboard's business.
    assert (await client.get("/healthz", headers={"Host": "rebind.example"})).status == 200


async def test_without_a_password_a_proxied_client_is_refused(client: AppClient) -> None:
    response = await client.get("/ui/jobs", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status == 403
    assert "only on this machine" in await response.text()
    assert (await client.get("/ui/static/hearth.css", headers={"X-Forwarded-For": "1.2.3.4"})).status == 403


async def test_with_a_password_a_proxied_client_is_sent_to_sign_in(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    response = await client.get("/ui/jobs", headers={"X-Forwarded-For": "203.0.113.9"}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/ui/login?next=/ui/jobs"


async def test_a_form_without_the_right_token_changes_nothing(client: AppClient) -> None:
    job = await add_job(client)
    await token(client)  # the session exists; only the token is missing or wrong
    for data in ({}, {"csrf": "guessed"}):
        response = await client.post(f"/ui/jobs/{job}/cancel", data=data, allow_redirects=False)
        assert response.status == 403
        assert "expired" in await response.text()
    stored = await jobs.get(client.app[STORE], job)
    assert stored is not None
    assert stored.cancelled_at is None
    status, _, _ = await post(client, f"/ui/jobs/{job}/cancel")
    assert status == 303
    stored = await jobs.get(client.app[STORE], job)
    assert stored is not None
    assert stored.cancelled_at is not None


async def test_a_token_belongs_to_its_session(make_client: MakeClient) -> None:
    """Another browser's token (an attacker's own session) does not work in the owner's."""
    owner = await make_client()
    job = await add_job(owner)
    await token(owner)
    stolen = await token(owner, "/ui/jobs")
    owner.session.cookie_jar.clear()
    response = await owner.post(f"/ui/jobs/{job}/pause", data={"csrf": stolen}, allow_redirects=False)
    assert response.status == 403


async def test_pages_carry_the_protective_headers_and_cookie(client: AppClient) -> None:
    response = await client.get("/ui/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie
    client.session.cookie_jar.clear()
    behind_https = await client.get("/ui/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in behind_https.headers["Set-Cookie"]
