"""The deployment checks of `hearth doctor`: Docker, the public URL, the providers' settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from assistant.ops.deploy import (
    check_docker,
    check_providers,
    check_public_url,
    provider_checks,
    reachable,
    url_problem,
)
from assistant.settings import SKILLS_DIR, Settings

WHATSAPP = {
    "whatsapp_token": "t",
    "whatsapp_app_secret": "s",
    "whatsapp_phone_number_id": "123",
    "whatsapp_verify_token": "v",
}
TWILIO = {"twilio_account_sid": "AC1", "twilio_auth_token": "a", "twilio_sms_from": "+15551234567"}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hearth.example.org", None),
        ("https://hearth.example.org/base", None),
        ("http://hearth.example.org", "not https://"),
        ("https://", "no host name"),
        ("https://hearth.example.org/?x=1", "query or fragment"),
    ],
)
def test_url_problem(url: str, problem: str | None) -> None:
    found = url_problem(url)
    assert found is None if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, []),
        (WHATSAPP, [("whatsapp", True, "")]),
        ({**WHATSAPP, "whatsapp_phone_number_id": "+1 555"}, [("whatsapp", False, "digits only")]),
        ({"whatsapp_token": "t"}, [("whatsapp", False, "HEARTH_WHATSAPP_APP_SECRET")]),
        (TWILIO, [("twilio", True, "")]),
        ({**TWILIO, "twilio_account_sid": "XX1"}, [("twilio", False, "starts with AC")]),
        ({"twilio_account_sid": "AC1", "twilio_auth_token": "a"}, [("twilio", False, "SMS_FROM")]),
        ({**TWILIO, "twilio_whatsapp_from": "whatsapp:+14155238886"}, [("twilio", True, "")]),
        ({**WHATSAPP, **TWILIO}, [("whatsapp", True, ""), ("twilio", True, "")]),
    ],
)
def test_provider_checks(values: dict[str, Any], expected: list[tuple[str, bool, str]]) -> None:
    checks = provider_checks(values)
    assert [(c.name, c.ok) for c in checks] == [(name, ok) for name, ok, _ in expected]
    for check, (_, _, words) in zip(checks, expected, strict=True):
        assert words in check.detail
        assert check.ok or check.fix


async def test_providers_without_settings_pass() -> None:
    (check,) = await check_providers(Settings())
    assert check.ok
    assert "none configured" in check.detail


async def test_reachable_wants_healthz_to_answer() -> None:
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/"))
        assert await reachable(url) is None
        assert await reachable(url + "nowhere") == "/healthz answered 404"
    assert "no answer" in (await reachable(url, timeout_s=1) or "")


async def test_public_url_unset_is_fine_without_providers() -> None:
    check = await check_public_url(Settings())
    assert check.ok


async def test_docker_is_not_needed_without_skills(tmp_path: Path) -> None:
    (check,) = await check_docker(Settings(skills_dir=tmp_path))
    assert check.ok
    assert "not needed" in check.detail


async def test_docker_missing_says_how_to_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no.sock'}")
    check, workspaces = await check_docker(dataclasses.replace(Settings(), skills_dir=SKILLS_DIR))
    assert not check.ok
    assert "start Docker" in check.fix
    assert workspaces.detail.startswith("folders under the data directory")


async def test_docker_with_the_engine_finds_the_worker_image_or_says_how_to_build_it() -> None:
    checks = await check_docker(dataclasses.replace(Settings(), skills_dir=SKILLS_DIR))
    if not checks[0].ok:
        pytest.skip("no Docker engine here")
    engine, workspaces, image = checks
    assert engine.detail == "the engine answers"
    assert workspaces.ok
    assert image.ok or "assistant.sandbox.build" in image.fix


@pytest.mark.parametrize(
    ("setting", "docker_host", "says"),
    [
        (
            "auto",
            "unix:///nowhere.sock",
            "folders under the data directory, bind-mounted (the engine is unix://",
        ),
        ("volume", "unix:///nowhere.sock", "named Docker volumes on the engine"),
    ],
)
async def test_doctor_says_where_skill_workspaces_live(
    monkeypatch: pytest.MonkeyPatch, setting: Literal["auto", "volume"], docker_host: str, says: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    settings = dataclasses.replace(Settings(), skills_dir=SKILLS_DIR, skill_workspaces=setting)
    checks = await check_docker(settings)
    (found,) = [check for check in checks if check.name == "skill workspaces"]
    assert says in found.detail
