"""The test MCP server's image, built offline: the `mcp` SDK is installed on the host into a folder
(`pip install --target`, binary wheels for the base image's Python), which the image copies.

`python -m tests.mcp.image` builds it (CI does, in .ci/docker.sh); the tests build it when missing.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from assistant.sandbox.errors import EngineUnavailableError
from assistant.sandbox.image import context_digest, ensure_image

HERE = Path(__file__).parent
SERVER_DIR = HERE / "server"
REPOSITORY = "hearth-mcp-test"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "linux_x86_64")


def sdk_version() -> str:
    return importlib.metadata.version("mcp")


def image_tag(base_image: str) -> str:
    """A tag from the Dockerfile, the server's code, the SDK's version and the base image."""
    digest = context_digest(HERE / "Dockerfile", {"server": SERVER_DIR}, f"{base_image}|mcp=={sdk_version()}")
    return f"{REPOSITORY}:{digest}"


def python_version(client: Any, base_image: str) -> str:
    """`3.11` for the base image's python3 (blocking: runs it once, without a network)."""
    output: bytes = client.containers.run(
        base_image,
        ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        network_mode="none",
        remove=True,
    )
    return output.decode().strip()


def install_sdk(target: Path, version: str) -> None:
    """The SDK and its dependencies as binary wheels for `version` of CPython on Linux, into `target`."""
    platforms = [arg for name in PLATFORMS for arg in ("--platform", name)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--target",
        str(target),
    ]
    command += ["--only-binary=:all:", "--implementation", "cp", "--python-version", version, *platforms]
    done = subprocess.run([*command, f"mcp=={sdk_version()}"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EngineUnavailableError(f"pip could not prepare the MCP SDK: {done.stderr.strip()[-500:]}")


def ensure_test_image(client: Any, base_image: str) -> str:
    """The image's tag, built first when missing. Blocking; raises EngineUnavailableError."""
    tag = image_tag(base_image)
    try:
        client.images.get(tag)
        return tag
    except Exception as exc:
        if type(exc).__name__ != "ImageNotFound":
            raise
    with tempfile.TemporaryDirectory(prefix="hearth-mcp-sdk-") as folder:
        site = Path(folder)
        install_sdk(site, python_version(client, base_image))
        trees = {"server": SERVER_DIR, "site-packages": site}
        ensure_image(client, tag, HERE / "Dockerfile", trees, {"BASE_IMAGE": base_image})
    return tag


def main() -> None:
    import docker

    parser = argparse.ArgumentParser(description="Build the test MCP server's image.")
    parser.add_argument("--base-image", default="hearth-base:bookworm")
    args = parser.parse_args()
    client = docker.from_env()
    try:
        print(ensure_test_image(client, args.base_image))
    finally:
        client.close()


if __name__ == "__main__":
    main()
