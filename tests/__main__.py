"""Run every check the project holds itself to: lint, format, types, then the tests."""

from __future__ import annotations

import subprocess
import sys

CHECKS: list[list[str]] = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["mypy"],
    ["pytest", "-p", "no:cacheprovider", *sys.argv[1:]],
]


def main() -> int:
    for check in CHECKS:
        print("$", " ".join(check), flush=True)
        code = subprocess.call([sys.executable, "-m", *check])
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
