"""`hearth serve | doctor | init | backup | restore`: running Hearth and looking after its data."""

from __future__ import annotations

import argparse
import asyncio
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings

# How long SIGTERM waits for open HTTP requests before the turns' drain starts. Webhooks answer once
# a message is stored, in milliseconds; only a long `?wait=` on the HTTP API is cut short.
HTTP_SHUTDOWN_S = 10.0


def serve(settings: Settings, _args: argparse.Namespace) -> int:
    """Run the HTTP server until SIGTERM or SIGINT: open requests get HTTP_SHUTDOWN_S, then running
    turns get the drain timeout to finish."""
    from aiohttp import web

    from assistant.app import create_app
    from assistant.ops.lock import hold, shared
    from assistant.store.database import migrate_apart

    # What start-up made lives as long as the process: frozen, the collector does not walk it again
    # and again while the interpreter exits (measured: exit after the drain 4 s -> 0.3 s, busy host).
    gc.freeze()
    # On PostgreSQL several replicas may share the data directory: the database coordinates them.
    with shared() if settings.replicated else hold(settings.data_dir):
        migrate_apart(settings.database_url)
        app = create_app(settings)
        app.on_startup.append(_freeze)  # last: after everything start-up builds
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            shutdown_timeout=HTTP_SHUTDOWN_S,
            print=lambda text: print(text, flush=True),
            access_log=None,
        )
    return 0


async def _freeze(_app: object) -> None:
    # Start-up's objects live as long as the process: frozen, the collector's full passes skip them
    # (measured in-process: collection 1.5 -> 0.4 ms per message).
    gc.freeze()


def doctor(settings: Settings, args: argparse.Namespace) -> int:
    if getattr(args, "model", False):
        from assistant.ops import modelcheck

        return asyncio.run(modelcheck.run(settings, args.threshold))
    from assistant.ops import doctor

    return asyncio.run(doctor.run(settings))


def doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="store_true",
        help="instead, hold a set of probe conversations with the model and score how it uses the tools",
    )
    parser.add_argument(
        "--threshold", type=float, default=0.75, help="the share of probes that must pass (default 0.75)"
    )


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
ARGUMENTS = {
    "doctor": doctor_arguments,
    "init": init_arguments,
    "backup": archive_arguments,
    "restore": archive_arguments,
}
