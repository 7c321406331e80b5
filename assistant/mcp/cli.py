"""`hearth mcp list | test NAME | tools NAME [TOOL [ARGS]] | approve NAME`: the configured servers, one
connection's tools, one call, and approving a server's tools as they are now."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.mcp.config import ServerBook
    from assistant.settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="mcp_command", required=True, metavar="ACTION")
    sub.add_parser("list", help="the servers in mcp.toml, and any entry that did not load")
    test = sub.add_parser("test", help="connect to one server and show its tools")
    test.add_argument("name")
    tools = sub.add_parser("tools", help="list one server's tools, or call one of them")
    tools.add_argument("name")
    tools.add_argument("tool", nargs="?", help="the tool to call (its own name, without NAME__)")
    tools.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as JSON")
    tools.add_argument("--chat", default="cli", help="whose container a per-chat server runs in")
    approve = sub.add_parser("approve", help="approve a server's tools as they are now")
    approve.add_argument("name")


def _book(settings: Settings) -> ServerBook:
    from assistant.mcp.app import server_book

    return server_book(settings.data_dir)


def _list(settings: Settings, book: ServerBook) -> int:
    from assistant.mcp.approvals import FILE_NAME, Approvals
    from assistant.mcp.report import describe_server

    approvals = Approvals(settings.data_dir / FILE_NAME)
    for server in book.servers.values():
        print(describe_server(server, approvals))
    for error in book.errors:
        print(f"BROKEN {error}")
    if not book.servers and not book.errors:
        print(f"no MCP servers: {settings.data_dir / 'mcp.toml'} names none")
    return 1 if book.errors else 0


async def _connected(settings: Settings, book: ServerBook, args: argparse.Namespace) -> int:
    from assistant.mcp.report import connect, standalone, tool_line

    async with standalone(settings, book) as service:
        connected = await connect(service, args.name)
        if args.mcp_command == "tools" and args.tool:
            return await _call(service, args)
        if args.mcp_command == "approve":
            service.approvals.approve(args.name, connected.specs, service.clock())
            print(f"approved {len(connected.specs)} tools of {args.name}")
            return 0
        print(f"{args.name}: {len(connected.specs)} tools in {connected.seconds:.1f} s")
        held = {spec.tool for spec in connected.held}
        for spec in connected.specs:
            print(tool_line(spec, spec.tool in held))
        for line in connected.skipped:
            print(f"  left out: {line}")
        if held:
            print(f"held until approved again: `hearth mcp approve {args.name}` once you trust the change")
        return 1 if held and args.mcp_command == "test" else 0


async def _call(service: Any, args: argparse.Namespace) -> int:
    from assistant.mcp.results import result_text

    try:
        values = json.loads(args.arguments)
    except json.JSONDecodeError:
        print("hearth: the arguments are not valid JSON", file=sys.stderr)
        return 2
    result = await service.call(args.name, args.tool, values, args.chat)
    print(result_text(result))
    return 1 if result.is_error else 0


def main(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.mcp.session import McpError

    book = _book(settings)
    if args.mcp_command == "list":
        return _list(settings, book)
    if args.name not in book.servers:
        known = ", ".join(book.servers) or "none"
        print(f"hearth: no MCP server named {args.name!r} in mcp.toml (known: {known})", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_connected(settings, book, args))
    except McpError as exc:
        print(f"hearth: {args.name}: {exc}", file=sys.stderr)
        return 1


RUN = {"mcp": main}
ARGUMENTS = {"mcp": arguments}
