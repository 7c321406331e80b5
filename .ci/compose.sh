#!/usr/bin/env bash
# Build the images from a local wheelhouse and run deploy/compose.yaml end to end against the fakes.
# With HEARTH_REPLICAS_E2E=1 (as .ci/run sets it), also deploy/compose.replicas.yaml: PostgreSQL,
# three replicas and Caddy. Needs the engine and base image from .ci/docker.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${HEARTH_WORKER_BASE_IMAGE:-hearth-base:bookworm}"
PYTHON="${PYTHON:-.venv/bin/python}"
export HEARTH_IMAGE="${HEARTH_IMAGE:-hearth:ci}" HEARTH_FAKES_IMAGE="${HEARTH_FAKES_IMAGE:-hearth-fakes:ci}"

say() { echo "ci/compose: $*"; }
started=$SECONDS

# The wheels must match the base image's Python, which is Debian's, like the host's.
say "building the wheelhouse"
rm -f wheelhouse/*.whl
"$PYTHON" -m pip wheel -q --disable-pip-version-check '.[postgres]' pip -w wheelhouse/ 2>&1 | grep -v '^WARNING: Location' || true
ls wheelhouse/hearth_assistant-*.whl >/dev/null

say "building $HEARTH_IMAGE on $BASE_IMAGE"
docker build -q -f containers/assistant/Dockerfile --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$HEARTH_IMAGE" . >/dev/null
docker build -q -f tests/compose/Dockerfile.fakes --build-arg HEARTH_IMAGE="$HEARTH_IMAGE" \
    -t "$HEARTH_FAKES_IMAGE" . >/dev/null
say "$HEARTH_IMAGE is $(docker image inspect -f '{{.Size}}' "$HEARTH_IMAGE" | awk '{printf "%d MB", $1/1e6}')"

# Hearth builds the worker image itself when missing; building it here keeps that out of the timing.
"$PYTHON" -m assistant.sandbox.build --base-image "$BASE_IMAGE" >/dev/null

if [ "${HEARTH_REPLICAS_E2E:-0}" = 1 ]; then
    export HEARTH_REPLICA_IMAGE="${HEARTH_REPLICA_IMAGE:-hearth:ci-postgres}"
    export HEARTH_POSTGRES_IMAGE="${HEARTH_POSTGRES_IMAGE:-hearth-postgres:ci}"
    export HEARTH_CADDY_IMAGE="${HEARTH_CADDY_IMAGE:-hearth-caddy:ci}"
    say "building $HEARTH_REPLICA_IMAGE, $HEARTH_POSTGRES_IMAGE and $HEARTH_CADDY_IMAGE for the replica stack"
    docker build -q -f containers/assistant/Dockerfile --build-arg BASE_IMAGE="$BASE_IMAGE" \
        --build-arg HEARTH_EXTRAS=postgres -t "$HEARTH_REPLICA_IMAGE" . >/dev/null
    docker build -q -f tests/compose/postgres/Dockerfile --build-arg BASE_IMAGE="$BASE_IMAGE" \
        -t "$HEARTH_POSTGRES_IMAGE" . >/dev/null
    docker build -q -f tests/compose/Dockerfile.caddy --build-arg BASE_IMAGE="$BASE_IMAGE" \
        -t "$HEARTH_CADDY_IMAGE" . >/dev/null
fi

say "running the stack"
HEARTH_COMPOSE_E2E=1 "$PYTHON" -m pytest -q -p no:cacheprovider tests/compose
say "done in $((SECONDS - started)) s"
