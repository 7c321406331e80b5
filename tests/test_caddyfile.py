"""deploy/Caddyfile, read by Caddy itself: the webhooks and signed media links always; the dashboard only with
HEARTH_DASHBOARD_PUBLIC=1; a value Caddy cannot place stops it rather than opening anything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CADDYFILE = Path(__file__).resolve().parents[1] / "deploy" / "Caddyfile"


def adapt(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("HEARTH_REQUIRE_CADDY"):
            pytest.fail("HEARTH_REQUIRE_CADDY is set but caddy is not installed")
        pytest.skip("caddy is not installed")
    # Caddy's own storage goes to the test's folder, not the user's.
    base = {"PATH": os.environ["PATH"], "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    command = [caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, check=False)


def paths(config: Any) -> set[str]:
    """Every path a route matches, anywhere in the adapted JSON."""
    found: set[str] = set()
    if isinstance(config, dict):
        found.update(config.get("path", []) if isinstance(config.get("path"), list) else [])
        for value in config.values():
            found |= paths(value)
    elif isinstance(config, list):
        for value in config:
            found |= paths(value)
    return found


@pytest.mark.parametrize(
    ("public", "expected"), [(None, {"/webhooks/*", "/media/*"}), ("0", {"/webhooks/*", "/media/*"})]
)
def test_only_the_webhooks_are_published_by_default(
    tmp_path: Path, public: str | None, expected: set[str]
) -> None:
    env = {"HEARTH_DOMAIN": "hearth.example.org"} | ({"HEARTH_DASHBOARD_PUBLIC": public} if public else {})
    done = adapt(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    assert paths(config) == expected
    assert "hearth.example.org" in done.stdout


def test_the_dashboard_is_published_when_asked(tmp_path: Path) -> None:
    done = adapt(tmp_path, HEARTH_DOMAIN="hearth.example.org", HEARTH_DASHBOARD_PUBLIC="1")
    assert done.returncode == 0, done.stderr
    assert paths(json.loads(done.stdout)) == {"/webhooks/*", "/media/*", "/ui/*"}


def test_an_unknown_value_stops_caddy(tmp_path: Path) -> None:
    done = adapt(tmp_path, HEARTH_DOMAIN="hearth.example.org", HEARTH_DASHBOARD_PUBLIC="yes")
    assert done.returncode != 0
    assert "dashboard-yes" in done.stderr
