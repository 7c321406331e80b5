"""The compose `search` profile: a SearXNG that speaks JSON to one private client, reachable only inside."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS = DEPLOY / "searxng" / "settings.yml"


def test_the_settings_enable_json_and_keep_the_limiter_off() -> None:
    lines = [line.strip() for line in SETTINGS.read_text().splitlines()]
    formats = lines.index("formats:")
    assert lines[formats + 1 : formats + 3] == ["- html", "- json"]
    assert "limiter: false" in lines
    assert "public_instance: false" in lines
    assert "use_default_settings: true" in lines


def compose(*args: str) -> str:
    """`docker-compose … config ARGS` on deploy/compose.yaml, as both Compose versions print it."""
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    env = {**os.environ, "HEARTH_ENV_FILE": ".env.example"}
    done = subprocess.run(
        [tool, "-f", "compose.yaml", "--profile", "search", "config", *args],
        cwd=DEPLOY,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def service_block(config: str, name: str) -> list[str]:
    """The lines of one service in the printed YAML (indented under `  name:`)."""
    lines = config.splitlines()
    start = lines.index(f"  {name}:")
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


def test_the_search_profile_adds_an_unpublished_searxng() -> None:
    assert {"search", "tls"} <= set(compose("--profiles").split())
    searxng = service_block(compose(), "searxng")
    assert "- search" in searxng
    assert not any(line.startswith("ports:") for line in searxng)
    assert f"- {SETTINGS}:/etc/searxng/settings.yml:ro" in searxng
