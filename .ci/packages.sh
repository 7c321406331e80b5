#!/usr/bin/env bash
# Debian packages the tests use on the host: caddy, to check deploy/Caddyfile in front of a real
# Hearth. (Squid runs in the egress proxy's image, which .ci/docker.sh builds.) Safe to run again.
set -euo pipefail

if command -v caddy >/dev/null 2>&1; then
    echo "ci/packages: caddy already installed"
    exit 0
fi
echo "ci/packages: installing caddy"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q caddy
# No init system runs in CI, but if one did, the package's own Caddy would hold port 80.
systemctl disable --now caddy >/dev/null 2>&1 || true
