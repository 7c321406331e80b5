"""`hearth dashboard password`: hash a dashboard password for HEARTH_DASHBOARD_PASSWORD."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "password", help="ask for a password (or read one line from standard input) and print its hash"
    )


def read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Dashboard password: ")
    if getpass.getpass("Once more: ") != first:
        raise ValueError("the two passwords differ")
    return first


def dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """Print `HEARTH_DASHBOARD_PASSWORD=scrypt:…` for the .env; the password itself is kept nowhere."""
    from assistant.ui.auth import hash_password

    try:
        hashed = hash_password(read_password())
    except ValueError as exc:
        print(f"hearth dashboard: {exc}", file=sys.stderr)
        return 2
    print(f"HEARTH_DASHBOARD_PASSWORD={hashed}")
    return 0


RUN = {"dashboard": dashboard}
ARGUMENTS = {"dashboard": arguments}
