"""The Docker engine and images the sandbox tests (and the benchmark) run against."""

from __future__ import annotations

import gc
import ipaddress
import os
import warnings
from pathlib import Path
from typing import Any

from assistant.sandbox.errors import EngineUnavailableError
from assistant.sandbox.image import context_digest, ensure_image, ensure_worker_image

HERE = Path(__file__).parent
TEST_SKILLS_DIR = HERE / "skills"
TEST_IMAGE_REPOSITORY = "hearth-worker-test"
BASE_IMAGE = os.environ.get("HEARTH_WORKER_BASE_IMAGE", "hearth-base:bookworm")
REQUIRE_DOCKER = os.environ.get("HEARTH_REQUIRE_DOCKER") == "1"
TEST_INSTANCE = "hearth-test"


def connect() -> Any:
    """A client for the local engine; raises EngineUnavailableError if none answers."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        reason = f"no Docker engine answered ({exc})"
    # docker-py leaves the socket of a failed connection open; once the traceback is gone
    # nothing holds it, so let it go quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    raise EngineUnavailableError(reason)


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
