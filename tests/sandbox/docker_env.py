"""The Docker engine and images the sandbox tests (and the benchmark) run against."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from assistant.sandbox.image import context_digest, ensure_image, ensure_worker_image

HERE = Path(__file__).parent
TEST_SKILLS_DIR = HERE / "skills"
TEST_IMAGE_REPOSITORY = "hearth-worker-test"
BASE_IMAGE = os.environ.get("HEARTH_WORKER_BASE_IMAGE", "hearth-base:bookworm")
REQUIRE_DOCKER = os.environ.get("HEARTH_REQUIRE_DOCKER") == "1"
TEST_INSTANCE = "hearth-test"


def connect() -> Any:
    """A client for the local engine; raises docker.errors.DockerException if none answers."""
    import docker

    client = docker.from_env()
    client.ping()
    return client


def ensure_test_image(client: Any) -> str:
    """The worker image plus the test skills (hostile, echo), built when missing."""
    worker = ensure_worker_image(client, BASE_IMAGE)
    trees = {"skills": TEST_SKILLS_DIR}
    tag = f"{TEST_IMAGE_REPOSITORY}:{context_digest(HERE / 'Dockerfile', trees, worker)}"
    ensure_image(client, tag, HERE / "Dockerfile", trees, {"WORKER_IMAGE": worker})
    return tag


def bridge_gateway(client: Any) -> str:
    """The host's address on Docker's default bridge, where tests start their own servers."""
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    if "Gateway" in config:
        return str(config["Gateway"])
    # Older engines leave the default bridge's gateway implicit: the subnet's first address.
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
