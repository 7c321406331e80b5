"""The `hearth` command: the parser is built from each feature's `cli` module, and only the module of
the command asked for is imported, so every command starts fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assistant.errors import HearthError, ModelMissing, ModelUnavailable

if TYPE_CHECKING:
    from assistant.settings import Settings

Run = Callable[["Settings", argparse.Namespace], int]

# command: (the module that runs it, what it does). The module has RUN[command] and maybe ARGUMENTS[command].
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("assistant.ops.cli", "run the HTTP server, the router and the channels"),
    "chat": ("assistant.channels.cli", "talk to Hearth in this terminal"),
    "doctor": ("assistant.ops.cli", "check the configuration, the database and the model"),
    "pull": ("assistant.agent.cli", "pull the configured model into Ollama"),
    "voice": ("assistant.media.cli", "install the configured speech models on the speech server"),
    "runs": ("assistant.team.cli", "recent turns, and one turn's team as a tree"),
    "jobs": ("assistant.jobs.cli", "list, add, cancel, pause or resume scheduled jobs"),
    "skills": ("assistant.sandbox.cli", "list the skills, run one in the sandbox, or build the worker image"),
    "mcp": ("assistant.mcp.cli", "list the MCP servers, connect to one, list or call its tools, approve it"),
    "init": ("assistant.ops.cli", "write a .env: owners, providers, model and time zone"),
    "backup": ("assistant.ops.cli", "copy the database, workspaces and media into one archive"),
    "restore": ("assistant.ops.cli", "put a backup archive back (Hearth must be stopped)"),
    "pair": ("assistant.access.cli", "list, approve or revoke people who asked to talk to Hearth"),
    "dashboard": ("assistant.ui.cli", "hash a password for the dashboard (HEARTH_DASHBOARD_PASSWORD)"),
    "approvals": ("assistant.access.cli", "every request for approval: who, what, when, and its outcome"),
}
DEBUG_HINT = " (run with --debug for the details)"
MISSING_MODEL = "model {model} is not on the Ollama server at {url}; run `hearth pull` to fetch it"
NO_OLLAMA = "Ollama is not answering at {url} ({reason}); start it (`ollama serve`) or set HEARTH_OLLAMA_URL"
LOCKED = "the database is locked by another process (a backup, a second Hearth?); try again, or stop it first"
NO_DATABASE = "cannot use the database {url}: {reason}; check HEARTH_DATABASE_URL"


def explain(exc: BaseException, settings: Settings) -> tuple[str, bool]:
    """One line for a person about why a command failed, and whether the failure was an expected one
    (Ollama down, the model missing, the database locked, Docker absent, a file not readable)."""
    from assistant.sandbox.errors import SandboxError
    from assistant.settings import masked_url

    if isinstance(exc, ModelMissing):
        return MISSING_MODEL.format(model=settings.model, url=settings.ollama_url), True
    if isinstance(exc, ModelUnavailable):
        return NO_OLLAMA.format(url=settings.ollama_url, reason=exc), True
    if isinstance(exc, HearthError | SandboxError):
        return str(exc), True
    if type(exc).__module__.startswith("sqlalchemy"):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if "database is locked" in reason:
            return LOCKED, True
        return NO_DATABASE.format(url=masked_url(settings.database_url), reason=reason), True
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}", True
    return f"unexpected {type(exc).__name__}: {exc}", False


def parser(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, Run | None]:
    """The whole parser, with the arguments of the one command named in `argv` (if any) filled in
    from its module; that module's runner comes back with it."""
    root = argparse.ArgumentParser(prog="hearth", description="A self-hosted personal assistant.")
    root.add_argument("--debug", action="store_true", help="log everything and show tracebacks")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((word for word in argv if not word.startswith("-")), None)
    run: Run | None = None
    for name, (module_name, summary) in COMMANDS.items():
        command = sub.add_parser(name, help=summary, description=summary)
        if name == chosen:
            module = importlib.import_module(module_name)
            if name in getattr(module, "ARGUMENTS", {}):
                module.ARGUMENTS[name](command)
            run = module.RUN[name]
    return root, run


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    root, run = parser(words)
    args = root.parse_args(words)
    assert run is not None  # a command is required, and parsing it loaded its runner
    from assistant import logs
    from assistant.settings import load_settings

    try:
        settings = load_settings()
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    debug = args.debug or settings.log_level.lower() == "debug"
    logs.configure(settings.log_format, "debug" if debug else settings.log_level)
    try:
        return run(settings, args)
    except KeyboardInterrupt:
        print()
        return 130
    except Exception as exc:
        if debug:
            logging.getLogger("hearth").exception("the %s command failed", args.command)
        message, expected = explain(exc, settings)
        print(f"hearth: {message}{'' if expected or debug else DEBUG_HINT}", file=sys.stderr)
        return 1
