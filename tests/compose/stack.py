"""Drive deploy/compose.yaml (or compose.replicas.yaml) with the CI override: compose commands, the HTTP
API, Docker queries."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
OVERRIDE_FILE = Path(__file__).with_name("compose.ci.yaml")
ENV_FILE = Path(__file__).with_name("ci.env")
TOKEN = "compose-e2e-token"
# The owner and the app secret ci.env gives the stack.
OWNER_WA_ID = "15550001111"
APP_SECRET = b"compose-e2e-app-secret"
DOCKER = shutil.which("docker") or "/usr/bin/docker"


def compose_command() -> list[str]:
    """`docker compose` (v2) when the plugin answers, else `docker-compose` (v1)."""
    probe = subprocess.run([DOCKER, "compose", "version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [DOCKER, "compose"]
    found = shutil.which("docker-compose")
    if found is None:
        raise RuntimeError("neither `docker compose` nor `docker-compose` is installed")
    return [found]


def docker(*args: str) -> str:
    """Run `docker ARGS` and return its output; a failure raises with the command's stderr."""
    done = subprocess.run([DOCKER, *args], capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Stack:
    """One compose project of Hearth and the fakes, reachable on loopback ports."""

    project: str = "hearth-e2e"
    hearth_port: int = 18080
    graph_port: int = 19000
    command: list[str] = field(default_factory=compose_command)
    files: tuple[Path, ...] = (COMPOSE_FILE, OVERRIDE_FILE)
    # Read by compose itself: image names, ports, the database password.
    variables: dict[str, str] = field(default_factory=dict)

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
        env.update(
            HEARTH_ENV_FILE=str(ENV_FILE),
            HEARTH_PUBLISHED_PORT=str(self.hearth_port),
            FAKE_GRAPH_PORT=str(self.graph_port),
            HEARTH_IMAGE=os.environ.get("HEARTH_IMAGE", "hearth:local"),
            HEARTH_FAKES_IMAGE=os.environ.get("HEARTH_FAKES_IMAGE", "hearth-fakes:ci"),
        )
        return env | self.variables

    def compose(self, *args: str, timeout_s: float = 300) -> str:
        return self.compose_bytes(*args, timeout_s=timeout_s).decode(errors="replace")

    def compose_bytes(self, *args: str, stdin: bytes = b"", timeout_s: float = 300) -> bytes:
        """Run a compose command on this project; its standard output, or RuntimeError."""
        files = [arg for file in self.files for arg in ("-f", str(file))]
        argv = [*self.command, "-p", self.project, "--env-file", str(ENV_FILE), *files, *args]
        done = subprocess.run(
            argv, input=stdin, capture_output=True, env=self.environ(), check=False, timeout=timeout_s
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout!r}\n{done.stderr.decode()}")
        return done.stdout

    def wait_healthy(self, timeout_s: float = 180) -> None:
        """Block until Hearth's /healthz answers through the published port."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.request("GET", "/healthz", token=None)
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
        port: int | None = None,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or text) of one request; HTTP errors are returned, not raised."""
        url = f"http://127.0.0.1:{port or self.hearth_port}{path}"
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=body, method=method, headers=all_headers)
        try:
            # The URL is always http://127.0.0.1.
            with urllib.request.urlopen(request, timeout=40) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def ask(self, chat: str, text: str, wait_s: float = 120) -> dict[str, Any]:
        """Send a message through the HTTP API and return its view once handled."""
        status, sent = self.request("POST", "/v1/messages", json.dumps({"chat": chat, "text": text}).encode())
        assert status == 202, sent
        deadline = time.monotonic() + wait_s
        while True:
            status, view = self.request("GET", f"/v1/messages/{sent['id']}?wait=20")
            assert status == 200, view
            if view["status"] != "accepted" or time.monotonic() > deadline:
                result: dict[str, Any] = view
                return result

    def containers(self, *labels: str) -> list[dict[str, Any]]:
        """`docker inspect` of every container (running or not) carrying all the labels."""
        filters = [arg for label in labels for arg in ("--filter", f"label={label}")]
        ids = docker("ps", "-aq", *filters).split()
        if not ids:
            return []
        found: list[dict[str, Any]] = json.loads(docker("inspect", *ids))
        return found


def whatsapp_webhook(message_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A text from the owner as Meta posts it to the stack (ci.env's phone number id), and its
    signature header."""
    message: dict[str, object] = {"from": OWNER_WA_ID, "id": message_id, "timestamp": str(int(time.time()))}
    message |= {"type": "text", "text": {"body": text}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550009999", "phone_number_id": "100200300"},
        "contacts": [{"profile": {"name": "Owner"}, "wa_id": OWNER_WA_ID}],
        "messages": [message],
    }
    entry = {"id": "WABA1", "changes": [{"field": "messages", "value": value}]}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()
    return body, {"X-Hub-Signature-256": "sha256=" + hmac.new(APP_SECRET, body, hashlib.sha256).hexdigest()}
