"""Signing in and out with a password: the lockout, a new session id, nowhere to be sent but the dashboard."""

from __future__ import annotations

from assistant.ui.auth import MAX_FAILURES
from assistant.ui.guard import COOKIE
from tests.conftest import MakeClient
from tests.ui.dashboard import CHEAP_HASH, PASSWORD, csrf_in, post, sign_in


async def test_every_page_needs_signing_in(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    for page in ("/ui/", "/ui/chats", "/ui/settings", "/ui/runs/1"):
        response = await client.get(page, allow_redirects=False)
        assert response.status == 303, page
        assert response.headers["Location"].startswith("/ui/login?next=")
    response = await client.post("/ui/jobs/1/cancel", data={"csrf": "x"}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/ui/static/hearth.css")).status == 200


async def test_the_right_password_signs_in_with_a_fresh_session(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    login = await client.get("/ui/login?next=/ui/jobs")
    before = login.cookies[COOKIE].value
    page = await login.text()
    assert 'type="password"' in page
    data = {"csrf": csrf_in(page), "password": PASSWORD, "next": "/ui/jobs"}
    response = await client.post("/ui/login", data=data, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/ui/jobs"
    after = response.cookies[COOKIE]
    assert after.value != before
    assert after["httponly"]
    assert after["samesite"] == "Strict"
    overview = await client.get("/ui/")
    assert overview.status == 200
    assert 'id="logout"' in await overview.text()


async def test_a_wrong_password_is_told_and_the_lockout_holds(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    for _ in range(MAX_FAILURES):
        assert await sign_in(client, "wrong") == 401
    assert await sign_in(client, PASSWORD) == 429
    response = await client.get("/ui/", allow_redirects=False)
    assert response.status == 303
    page = await (await client.get("/ui/login")).text()
    data = {"csrf": csrf_in(page), "password": PASSWORD}
    text = await (await client.post("/ui/login", data=data)).text()
    assert "Too many wrong passwords" in text


async def test_logout_ends_the_session_for_good(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    assert await sign_in(client) == 303
    old = client.session.cookie_jar.filter_cookies(client.make_url("/ui/"))[COOKIE].value
    status, location, _ = await post(client, "/ui/logout")
    assert (status, location) == (303, "/ui/login")
    client.session.cookie_jar.update_cookies({COOKIE: old}, client.make_url("/ui/"))
    response = await client.get("/ui/", allow_redirects=False)
    assert response.status == 303


async def test_sign_in_sends_only_to_dashboard_pages(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    for target in ("//evil.example/ui/", "https://evil.example/", "/ui/\\\\evil.example", "/v1/chats"):
        page = await (await client.get("/ui/login")).text()
        data = {"csrf": csrf_in(page), "password": PASSWORD, "next": target}
        response = await client.post("/ui/login", data=data, allow_redirects=False)
        assert response.headers["Location"] == "/ui/", target


async def test_the_login_form_itself_needs_its_token(make_client: MakeClient) -> None:
    client = await make_client(dashboard_password=CHEAP_HASH)
    response = await client.post("/ui/login", data={"password": PASSWORD}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/ui/", allow_redirects=False)).status == 303


async def test_without_a_password_there_is_nothing_to_sign_in_to(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.get("/ui/login?next=/ui/jobs", allow_redirects=False)
    assert response.headers["Location"] == "/ui/jobs"
    assert 'id="logout"' not in await (await client.get("/ui/")).text()
