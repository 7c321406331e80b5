"""deploy/compose.replicas.yaml end to end: PostgreSQL, N replicas and Caddy, with the fakes behind them.

Runs only with HEARTH_REPLICAS_E2E=1 (`.ci/compose.sh` then builds the replica, PostgreSQL and Caddy images);
HEARTH_REPLICAS_E2E_SCALE sets N (3). Signed webhooks go through Caddy's public site: each is accepted
by exactly one replica, Caddy spreads them over every replica, and each is answered once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compose.stack import OVERRIDE_FILE, OWNER_WA_ID, Stack, whatsapp_webhook

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("HEARTH_REPLICAS_E2E") != "1",
        reason="the replica stack needs HEARTH_REPLICAS_E2E=1 and its images (.ci/compose.sh)",
    ),
    pytest.mark.timeout(300),
]

REPLICAS_FILE = Path(__file__).resolve().parents[2] / "deploy" / "compose.replicas.yaml"
SCALE = int(os.environ.get("HEARTH_REPLICAS_E2E_SCALE", "3"))
PUBLIC_PORT = 18082
MESSAGES = 30


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    variables = {
        "HEARTH_IMAGE": os.environ.get("HEARTH_REPLICA_IMAGE", "hearth:ci-postgres"),
        "POSTGRES_IMAGE": os.environ.get("HEARTH_POSTGRES_IMAGE", "hearth-postgres:ci"),
        "CADDY_IMAGE": os.environ.get("HEARTH_CADDY_IMAGE", "hearth-caddy:ci"),
        "POSTGRES_PASSWORD": "replicae2e",
        "HEARTH_DOMAIN": ":80",
        "HEARTH_HTTP_PORT": str(PUBLIC_PORT),
        "HEARTH_HTTPS_PORT": "18443",
    }
    stack = Stack(
        project="hearth-replicas-e2e",
        hearth_port=18081,
        graph_port=19001,
        files=(REPLICAS_FILE, OVERRIDE_FILE),
        variables=variables,
    )
    stack.compose("down", "-v", "--remove-orphans")
    try:
        stack.compose("up", "-d", "--no-build", "--scale", f"hearth={SCALE}")
        stack.wait_healthy()
        yield stack
    finally:
        print(stack.compose("logs", "--no-color", "--tail", "40", "hearth", "caddy", "postgres"))
        stack.compose("down", "-v", "--remove-orphans")


def counter(stack: Stack, index: int, name: str) -> int:
    """One counter from the /metrics of replica `index` (1-based), asked inside its container."""
    fetch = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/metrics').read().decode())"
    text = stack.compose("exec", "-T", "--index", str(index), "hearth", "python3", "-c", fetch)
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return int(float(line.split()[1]))


def test_every_replica_runs(stack: Stack) -> None:
    assert len(stack.compose("ps", "-q", "hearth").split()) == SCALE


def test_the_public_site_passes_only_webhooks(stack: Stack) -> None:
    for path in ("/metrics", "/readyz", "/healthz"):
        assert stack.request("GET", path, port=PUBLIC_PORT)[0] == 404
        # Every path is served on loopback, through the same Caddy.
        assert stack.request("GET", path)[0] == 200


def test_webhooks_are_spread_over_the_replicas_and_answered_once(stack: Stack) -> None:
    for n in range(MESSAGES):
        body, headers = whatsapp_webhook(f"wamid.REPLICA{n:04d}", f"message {n}")
        status, answer = stack.request(
            "POST", "/webhooks/whatsapp", body, token=None, headers=headers, port=PUBLIC_PORT
        )
        assert status == 200, answer
    accepted = [counter(stack, index, "hearth_messages_accepted_total") for index in range(1, SCALE + 1)]
    assert sum(accepted) == MESSAGES
    assert all(accepted), f"Caddy left a replica out: {accepted}"
    deadline = time.monotonic() + 120
    while True:
        handled = sum(counter(stack, i, "hearth_messages_handled_total") for i in range(1, SCALE + 1))
        if handled >= MESSAGES or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert handled == MESSAGES
    sent = sum(counter(stack, i, "hearth_replies_sent_total") for i in range(1, SCALE + 1))
    _, delivered = stack.request("GET", "/_fake/sent", token=None, port=stack.graph_port)
    assert len([s for s in delivered if OWNER_WA_ID in str(s.get("to", ""))]) == sent
