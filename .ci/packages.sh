#!/usr/bin/env bash
# Debian packages the tests use on the host: caddy, to check deploy/Caddyfile in front of a real
# Hearth, and wrk, the load generator of the ingest benchmark, whose request script a test runs for a
# second (the benchmark itself is run by hand, and falls back to a Python client without wrk).
# (Squid runs in the egress proxy's image, which .ci/docker.sh builds.) Safe to run again.
set -euo pipefail

missing=()
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ((${#missing[@]} == 0)); then
    echo "ci/packages: caddy and wrk already installed"
    exit 0
fi
echo "ci/packages: installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
# No init system runs in CI, but if one did, the package's own Caddy would hold port 80.
systemctl disable --now caddy >/dev/null 2>&1 || true
