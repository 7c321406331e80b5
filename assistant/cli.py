"""The `hearth` command: serve, chat, doctor, pull, jobs, init, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from aiohttp import web

from assistant import backup, doctor, init_cli, jobs_cli, logs, pairing_cli, runs_cli, skills_cli
from assistant.agent.model import OllamaModel
from assistant.app import create_app, model_options
from assistant.channels.console import ConsoleChannel, converse, stdin_lines
from assistant.errors import HearthError, ModelMissing
from assistant.lock import hold
from assistant.settings import Settings, load_settings

MISSING_MODEL = "model {model} is not on the Ollama server at {url}; run `hearth pull` to fetch it"


def serve(settings: Settings, _args: argparse.Namespace) -> int:
    """Run the HTTP server until SIGTERM or SIGINT; in-flight turns get the drain timeout to finish."""
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


async def _chat(settings: Settings) -> None:
    channel = ConsoleChannel()
    runner = web.AppRunner(create_app(settings, channels=[channel]))
    await runner.setup()
    try:
        await converse(runner.app, channel, stdin_lines("you> "))
    finally:
        await runner.cleanup()


def chat(settings: Settings, _args: argparse.Namespace) -> int:
    """A conversation in the terminal; history is kept in the same store as every other chat."""
    with hold(settings.data_dir):
        try:
            asyncio.run(_chat(settings))
        except KeyboardInterrupt:
            print()
    return 0


async def _pull(settings: Settings) -> None:
    model = OllamaModel(model_options(settings))
    try:
        async for progress in model.pull():
            print("\r" + bar(progress.status or "", progress.completed, progress.total), end="")
            print("", flush=True, end="")
        print()
    finally:
        await model.close()


def bar(status: str, completed: int | None, total: int | None, width: int = 30) -> str:
    """`pulling abc… [#########.....]  45%` for a status with sizes, the bare status otherwise."""
    if not total:
        return f"{status:<60}"
    share = min((completed or 0) / total, 1.0)
    filled = int(share * width)
    return f"{status[:40]:<40} [{'#' * filled}{'.' * (width - filled)}] {share:4.0%}"


def pull(settings: Settings, _args: argparse.Namespace) -> int:
    """Pull the configured model into Ollama, with a progress bar."""
    asyncio.run(_pull(settings))
    print(f"{settings.model} is ready.")
    return 0


def run_doctor(settings: Settings, _args: argparse.Namespace) -> int:
    return asyncio.run(doctor.run(settings))


COMMANDS: dict[str, tuple[str, Callable[[Settings, argparse.Namespace], int]]] = {
    "serve": ("run the HTTP server, the router and the channels", serve),
    "chat": ("talk to Hearth in this terminal", chat),
    "doctor": ("check the configuration, the database and the model", run_doctor),
    "pull": ("pull the configured model into Ollama", pull),
    "runs": ("recent turns, and one turn's team as a tree", runs_cli.main),
    "jobs": ("list, add, cancel, pause or resume scheduled jobs", jobs_cli.run),
    "skills": ("list the skills, run one in the sandbox, or build the worker image", skills_cli.main),
    "init": ("write a .env: owners, providers, model and time zone", init_cli.run),
    "backup": ("copy the database and workspaces into one archive", backup.backup),
    "restore": ("put a backup archive back (Hearth must be stopped)", backup.restore),
    "pair": ("list, approve or revoke people who asked to talk to Hearth", pairing_cli.pair),
}
# Subcommands that take arguments of their own.
ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "runs": runs_cli.arguments,
    "jobs": jobs_cli.arguments,
    "skills": skills_cli.arguments,
    "init": init_cli.arguments,
    "backup": backup.arguments,
    "restore": backup.arguments,
    "pair": pairing_cli.arguments,
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hearth", description="A self-hosted personal assistant.")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, _) in COMMANDS.items():
        command = sub.add_parser(name, help=summary, description=summary)
        if name in ARGUMENTS:
            ARGUMENTS[name](command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_format, settings.log_level)
    try:
        return COMMANDS[args.command][1](settings, args)
    except ModelMissing:
        print("hearth: " + MISSING_MODEL.format(model=settings.model, url=settings.ollama_url))
        return 1
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 1
