"""`hearth serve | doctor | init | backup | restore`: running Hearth and looking after its data."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings


def serve(settings: Settings, _args: argparse.Namespace) -> int:
    """Run the HTTP server until SIGTERM or SIGINT; in-flight turns get the drain timeout to finish."""
    from aiohttp import web

    from assistant.app import create_app
    from assistant.ops.lock import hold

    with hold(settings.data_dir):
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            shutdown_timeout=settings.drain_timeout_s,
            print=lambda text: print(text, flush=True),
            access_log=None,
        )
    return 0


def doctor(settings: Settings, _args: argparse.Namespace) -> int:
    from assistant.ops import doctor

    return asyncio.run(doctor.run(settings))


def init(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.ops import init

    return init.run(settings, args)


def backup(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.ops import backup

    return backup.backup(settings, args)


def restore(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.ops import backup

    return backup.restore(settings, args)


def init_arguments(parser: argparse.ArgumentParser) -> None:
    from assistant.ops import init

    init.arguments(parser)


def archive_arguments(parser: argparse.ArgumentParser) -> None:
    from assistant.ops import backup

    backup.arguments(parser)


RUN = {"serve": serve, "doctor": doctor, "init": init, "backup": backup, "restore": restore}
ARGUMENTS = {"init": init_arguments, "backup": archive_arguments, "restore": archive_arguments}
