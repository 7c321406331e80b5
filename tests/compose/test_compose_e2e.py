"""deploy/compose.yaml end to end: skills in containers from the containerised Hearth, webhooks, restarts.

Runs only with HEARTH_COMPOSE_E2E=1 (`.ci/compose.sh` builds the images and sets it). The tests run
in file order against one stack; the last one takes it down.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from assistant.access.content import as_data
from tests.compose.stack import OWNER_WA_ID, Stack, docker, whatsapp_webhook

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("HEARTH_COMPOSE_E2E") != "1",
        reason="the compose end-to-end run needs HEARTH_COMPOSE_E2E=1 and its images (.ci/compose.sh)",
    ),
    pytest.mark.timeout(300),
]

CHAT = "e2e"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack()
    stack.compose("down", "-v", "--remove-orphans")
    stack.compose("up", "-d", "--no-build")
    try:
        stack.wait_healthy()
        yield stack
    finally:
        print(stack.compose("logs", "--no-color", "--tail", "80", "hearth", "pull"))
        stack.compose("down", "-v", "--remove-orphans")


# The fake model repeats the skill's output, which reaches it wrapped as untrusted data.
FORTY_TWO = "tool said: " + as_data("42\n", "tool python")


def replies(view: dict[str, object]) -> list[str]:
    return [str(r["text"]) for r in view["replies"]]  # type: ignore[attr-defined]


def test_hearth_runs_as_its_own_user(stack: Stack) -> None:
    status = stack.compose("exec", "-T", "hearth", "cat", "/proc/1/status")
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == ["10000"] * 4


def test_python_skill_runs_in_a_container_hearth_started(stack: Stack) -> None:
    view = stack.ask(CHAT, 'call:python {"code": "print(6*7)"}')
    assert view["status"] == "handled", view
    assert replies(view) == [FORTY_TWO]
    workers = stack.containers("org.hearth.sandbox=hearth", "org.hearth.skill=python")
    assert workers, "no skill container was started"
    for worker in workers:
        assert worker["HostConfig"]["NetworkMode"] == "none"
        assert not [m for m in worker["Mounts"] if "docker.sock" in m.get("Source", "")]


def test_workspace_is_mounted_from_the_data_volume(stack: Stack) -> None:
    added = stack.ask(CHAT, 'call:notes {"action": "add", "text": "buy oat milk"}')
    assert added["status"] == "handled", added
    listed = stack.ask(CHAT, 'call:notes {"action": "list"}')
    assert "buy oat milk" in replies(listed)[0]
    (worker,) = stack.containers("org.hearth.sandbox=hearth", "org.hearth.skill=notes")
    (mount,) = worker["Mounts"]
    assert mount["Destination"] == "/workspace"
    assert f"{stack.project}_hearth-data" in mount["Source"], mount


def test_signed_whatsapp_webhook_gets_a_reply_at_graph(stack: Stack) -> None:
    body, headers = whatsapp_webhook("wamid.E2E1", "hello over whatsapp")
    status, answer = stack.request("POST", "/webhooks/whatsapp", body, token=None, headers=headers)
    if status == 404:
        pytest.skip("/webhooks/whatsapp answered 404: this build has no WhatsApp channel")
    assert status == 200, answer
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, sent = stack.request("GET", "/_fake/sent", token=None, port=stack.graph_port)
        if [s for s in sent if OWNER_WA_ID in str(s.get("to", ""))]:
            return
        time.sleep(1)
    pytest.fail(f"no reply reached the fake Graph server; it has {sent}")


def test_restart_keeps_messages_and_workspaces(stack: Stack) -> None:
    stack.compose("restart", "hearth")
    stack.wait_healthy()
    status, transcript = stack.request("GET", f"/v1/chats/{CHAT}/messages")
    assert status == 200, transcript
    texts = [m["text"] for m in transcript["messages"]]
    assert FORTY_TWO in texts
    listed = stack.ask(CHAT, 'call:notes {"action": "list"}')
    assert "buy oat milk" in replies(listed)[0]


def test_backup_and_restore_as_the_readme_says(stack: Stack) -> None:
    archive = stack.compose_bytes("exec", "-T", "-u", "hearth", "hearth", "hearth", "backup", "-")
    assert archive[:2] == b"\x1f\x8b", archive[:200]
    stack.ask(CHAT, "said after the backup")
    stack.compose("stop", "hearth")
    stack.compose_bytes("run", "--rm", "-T", "--no-deps", "hearth", "restore", "-", stdin=archive)
    stack.compose("start", "hearth")
    stack.wait_healthy()
    _, transcript = stack.request("GET", f"/v1/chats/{CHAT}/messages")
    texts = [m["text"] for m in transcript["messages"]]
    assert FORTY_TWO in texts
    assert "said after the backup" not in texts
    # The restored workspace is still writable by the skill's own user.
    added = replies(stack.ask(CHAT, 'call:notes {"action": "add", "text": "after restore"}'))
    listed = replies(stack.ask(CHAT, 'call:notes {"action": "list"}'))[0]
    assert "buy oat milk" in listed
    assert "after restore" in listed, added


def test_down_removes_containers_and_volumes(stack: Stack) -> None:
    stack.compose("down", "-v", "--remove-orphans")
    assert stack.containers(f"com.docker.compose.project={stack.project}") == []
    assert stack.containers("org.hearth.sandbox=hearth") == []
    assert stack.containers("org.hearth.egress=hearth") == []
    assert docker("network", "ls", "-q", "--filter", "label=org.hearth.egress=hearth").split() == []
    volumes = docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.project}")
    assert volumes.split() == []


def test_the_voice_and_tls_profiles_are_valid(stack: Stack) -> None:
    services = stack.compose("--profile", "voice", "--profile", "tls", "config", "--services").split()
    assert {"speech", "speech-models", "caddy", "hearth"} <= set(services)
