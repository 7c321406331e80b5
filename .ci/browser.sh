#!/usr/bin/env bash
# Install what the dashboard's browser tests drive: Debian's Chromium and its matching driver (the
# driver package depends on the browser of the same version); and Caddy, whose deploy/Caddyfile a test
# reads with it. Safe to run again.
set -euo pipefail

say() { echo "ci/browser: $*" >&2; }

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    say "installing chromium and chromium-driver"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >&2
fi
if ! command -v caddy >/dev/null; then
    say "installing caddy"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q caddy >&2
fi
say "$(/usr/bin/chromedriver --version | head -n 1); $(caddy version)"
