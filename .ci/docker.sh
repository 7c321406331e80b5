#!/usr/bin/env bash
# Make sure a Docker engine runs and the images the sandbox and MCP tests need exist; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${HEARTH_WORKER_BASE_IMAGE:-hearth-base:bookworm}"
PYTHON="${PYTHON:-.venv/bin/python}"

say() { echo "ci/docker: $*"; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    # The workspace volume tests reach the engine over TLS with certificates openssl makes.
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    # The compose end-to-end stage needs Compose: the v2 plugin if present, else Debian's v1.
    docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 \
        || missing+=(docker-compose)
    if ((${#missing[@]} == 0)); then
        say "docker.io, debootstrap, openssl and compose already installed"
        return
    fi
    say "installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

start_engine() {
    if docker info >/dev/null 2>&1; then
        say "engine already running"
        return
    fi
    say "starting dockerd (log in /var/log/dockerd.log)"
    # No engine answers, so pid files here are left over from one that is gone.
    rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            say "engine is up"
            return
        fi
        sleep 1
    done
    say "dockerd did not answer within 60 s; its log follows"
    tail -n 50 /var/log/dockerd.log >&2
    exit 1
}

build_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "base image $BASE_IMAGE already present"
        return
    fi
    # No registry is reachable on CI, so the base comes from Debian's own packages.
    local rootfs
    rootfs="$(mktemp -d)"
    trap 'rm -rf "$rootfs"' RETURN
    say "building base image $BASE_IMAGE with debootstrap (about a minute)"
    debootstrap --variant=minbase --include=python3 bookworm "$rootfs" >/tmp/debootstrap.log 2>&1 \
        || { tail -n 30 /tmp/debootstrap.log >&2; exit 1; }
    tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
    say "imported $BASE_IMAGE"
}

build_worker_image() {
    # The module decides the tag (a hash of the runtime and skills) and skips the build when it exists.
    say "making sure the worker and egress proxy images exist"
    "$PYTHON" -m assistant.sandbox.build --base-image "$BASE_IMAGE"
}

build_mcp_test_image() {
    # The MCP tests' server image: the SDK is installed on the host into a folder (binary wheels for
    # the base image's Python, from the package index) and copied in, so no registry is needed.
    say "making sure the test MCP server image exists"
    "$PYTHON" -m tests.mcp.image --base-image "$BASE_IMAGE"
}

install_packages
start_engine
build_base_image
build_worker_image
build_mcp_test_image
