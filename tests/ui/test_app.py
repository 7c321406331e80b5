"""When the dashboard is served: off with HEARTH_DASHBOARD=0, refused beyond loopback without a password."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.app import create_app
from assistant.errors import SettingsError
from assistant.settings import Secret, Settings
from tests.conftest import MakeClient
from tests.fakes.ollama import FakeOllama
from tests.process import hearth_env, run_hearth
from tests.ui.dashboard import CHEAP_HASH


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "hearth.lan"])
def test_no_password_beyond_loopback_stops_the_start(settings: Settings, host: str) -> None:
    with pytest.raises(SettingsError, match="HEARTH_DASHBOARD_PASSWORD"):
        create_app(dataclasses.replace(settings, host=host))


def test_a_password_or_the_dashboard_off_lets_it_start(settings: Settings) -> None:
    create_app(dataclasses.replace(settings, host="0.0.0.0", dashboard_password=CHEAP_HASH))
    create_app(dataclasses.replace(settings, host="0.0.0.0", dashboard=False))
    create_app(dataclasses.replace(settings, host="::1"))


def test_a_broken_hash_stops_the_start(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="not a usable hash"):
        create_app(dataclasses.replace(settings, dashboard_password=Secret("scrypt:16:8:1:salt")))


async def test_off_means_not_there(make_client: MakeClient) -> None:
    client = await make_client(dashboard=False)
    assert (await client.get("/ui/")).status == 404
    assert (await client.get("/ui/static/hearth.css")).status == 404
    assert (await client.get("/healthz")).status == 200


async def test_serve_refuses_to_start_on_all_interfaces_without_a_password(
    tmp_path: Path, fake: FakeOllama
) -> None:
    env = hearth_env(tmp_path, fake.url, HEARTH_HOST="0.0.0.0")
    code, _out, err = await run_hearth("serve", env=env, cwd=tmp_path)
    assert code != 0
    assert "HEARTH_DASHBOARD_PASSWORD" in err
    assert "0.0.0.0" in err
