"""deploy/compose.replicas.yaml as compose reads it: PostgreSQL, scalable replicas on one data volume,
and Caddy spreading requests over every replica; and deploy/Caddyfile.replicas as Caddy reads it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistant.ops.cli import HTTP_SHUTDOWN_S
from assistant.settings import load_settings
from tests.ops.test_stop import CLEAN_UP_S, duration_s, hearth_stop_grace_s

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REPLICAS = DEPLOY / "compose.replicas.yaml"
PASSWORD = "s3cretpassword"


def config(file: str, *args: str) -> str:
    """`docker-compose -f FILE config ARGS` with the example settings, as compose prints it."""
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "POSTGRES_"))}
    env |= {"HEARTH_ENV_FILE": ".env.example", "POSTGRES_PASSWORD": PASSWORD}
    done = subprocess.run(
        [tool, "--env-file", ".env.example", "-f", file, "config", *args],
        cwd=DEPLOY,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def block(lines: list[str], key: str, indent: int) -> list[str]:
    """The lines under `key:` at `indent` spaces, up to the next key at that indent or less."""
    start = next(n for n, line in enumerate(lines) if line.startswith(" " * indent + key + ":"))
    found = []
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith("- "):
            break
        found.append(line)
    return found


def service(file: str, name: str) -> list[str]:
    return block(block(config(file).splitlines(), "services", 0), name, 2)


def test_the_stack_is_postgres_replicas_and_caddy() -> None:
    services = set(config(REPLICAS.name, "--services").split())
    assert services == {"ollama", "pull", "postgres", "hearth", "caddy"}


def test_every_replica_uses_the_database_and_one_data_volume() -> None:
    hearth = [line.strip() for line in service(REPLICAS.name, "hearth")]
    assert f"HEARTH_DATABASE_URL: postgresql+psycopg://hearth:{PASSWORD}@postgres:5432/hearth" in hearth
    assert "- hearth-data:/data:rw" in hearth
    # --scale makes N containers of this one service: none may claim a host port or a fixed name.
    assert not [line for line in hearth if line.startswith(("ports:", "container_name:"))]
    assert "HEARTH_EXTRAS: postgres" in hearth


def test_a_replica_starts_once_postgres_is_healthy() -> None:
    postgres = [line.strip() for line in service(REPLICAS.name, "postgres")]
    test = block(service(REPLICAS.name, "postgres"), "test", 6)
    assert [line.strip() for line in test][:2] == ["- CMD", "- pg_isready"]
    assert "- postgres-data:/var/lib/postgresql/data:rw" in postgres
    assert "POSTGRES_PASSWORD: " + PASSWORD in postgres
    depends = [line.strip() for line in block(service(REPLICAS.name, "hearth"), "depends_on", 4)]
    assert depends[depends.index("postgres:") + 1] == "condition: service_healthy"


def test_the_database_password_is_required() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "POSTGRES_"))}
    done = subprocess.run(
        [tool, "--env-file", ".env.example", "-f", REPLICAS.name, "config", "-q"],
        cwd=DEPLOY,
        env={**env, "HEARTH_ENV_FILE": ".env.example"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "set POSTGRES_PASSWORD" in done.stderr


# What may differ between the one Hearth of compose.yaml and a replica; the rest must not drift apart.
MAY_DIFFER = {"environment", "depends_on", "ports", "image", "build"}


def settings_of(file: str) -> dict[str, list[str]]:
    """Each key of the hearth service with its lines (its own, then those under it)."""
    groups: dict[str, list[str]] = {}
    for line in service(file, "hearth"):
        if line[4] not in " -":
            key = line.split(":")[0].strip()
            groups[key] = []
        groups[key].append(line)
    return {key: lines for key, lines in groups.items() if key not in MAY_DIFFER}


def test_a_replica_is_locked_down_like_the_single_hearth() -> None:
    single, replica = settings_of("compose.yaml"), settings_of(REPLICAS.name)
    assert replica == single
    assert {"cap_drop", "security_opt", "read_only", "healthcheck", "stop_grace_period"} <= set(replica)


def test_stopping_a_replica_outlasts_shutdown_and_drain() -> None:
    drain_s = load_settings({}, env_file=None).drain_timeout_s
    assert hearth_stop_grace_s(REPLICAS.read_text()) > HTTP_SHUTDOWN_S + drain_s + CLEAN_UP_S


def test_postgres_stops_fast_and_in_time() -> None:
    postgres = [line.strip() for line in service(REPLICAS.name, "postgres")]
    assert "stop_signal: SIGINT" in postgres
    (grace,) = [line.split()[1] for line in postgres if line.startswith("stop_grace_period:")]
    assert duration_s(grace) >= 30


def caddy_environment() -> dict[str, str]:
    """The variables compose gives the caddy service."""
    lines = block(service(REPLICAS.name, "caddy"), "environment", 4)
    pairs = (line.strip().split(": ", 1) for line in lines)
    return {key: value.strip("'") for key, value in pairs}


def adapt(tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("HEARTH_REQUIRE_CADDY") == "1":
            pytest.fail("HEARTH_REQUIRE_CADDY=1 but there is no caddy (apt-get install caddy)")
        pytest.skip("no caddy binary (apt-get install caddy)")
    base = {"PATH": os.environ["PATH"], "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    command = [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile.replicas"), "--adapter", "caddyfile"]
    done = subprocess.run(command, env=base | env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    adapted: dict[str, Any] = json.loads(done.stdout)
    return adapted


def proxies(config: Any) -> list[dict[str, Any]]:
    """Every reverse_proxy handler, anywhere in the adapted JSON."""
    if isinstance(config, list):
        return [found for value in config for found in proxies(value)]
    if not isinstance(config, dict):
        return []
    own = [config] if config.get("handler") == "reverse_proxy" else []
    return own + [found for value in config.values() for found in proxies(value)]


def test_caddy_sends_every_request_to_the_replicas(tmp_path: Path) -> None:
    env = caddy_environment()
    assert env["HEARTH_REPLICAS"] == "1"
    adapted = adapt(tmp_path, env | {"HEARTH_DASHBOARD_PUBLIC": "1"})
    servers = adapted["apps"]["http"]["servers"]
    assert sorted(server["listen"][0] for server in servers.values()) == [":443", ":8080"]
    found = proxies(adapted)
    # webhooks, media and the dashboard on the public site; the dashboard and everything else on :8080
    assert len(found) == 5
    for proxy in found:
        assert "upstreams" not in proxy
        assert proxy["dynamic_upstreams"] == {"source": "a", "name": "hearth", "port": "8080", "refresh": 5e9}
        assert proxy["load_balancing"]["try_duration"] == 10e9
    policies = sorted(proxy["load_balancing"]["selection_policy"]["policy"] for proxy in found)
    assert policies == ["cookie", "cookie", "least_conn", "least_conn", "least_conn"]


def test_the_compose_file_mounts_both_caddyfiles() -> None:
    caddy = [line.strip() for line in service(REPLICAS.name, "caddy")]
    assert f"- {DEPLOY / 'Caddyfile'}:/etc/caddy/Caddyfile:ro" in caddy
    assert f"- {DEPLOY / 'Caddyfile.replicas'}:/etc/caddy/Caddyfile.replicas:ro" in caddy
    assert "- /etc/caddy/Caddyfile.replicas" in caddy
    assert "- 127.0.0.1:8080:8080/tcp" in caddy
