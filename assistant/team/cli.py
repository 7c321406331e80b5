"""`hearth runs list` and `hearth runs show TURN`: recent turns, and one turn's team as a tree."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator

from assistant.settings import Settings
from assistant.store import Store, runs
from assistant.store.runs import TurnRuns, TurnSummary
from assistant.store.tables import Run

TASK_CHARS = 100


def arguments(parser: argparse.ArgumentParser) -> None:
    """Add `list [--limit N]` and `show TURN_ID` to the `runs` sub-command."""
    sub = parser.add_subparsers(dest="runs_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="the most recent agent turns")
    listing.add_argument("--limit", type=int, default=20)
    show = sub.add_parser("show", help="one turn and its team as a tree")
    show.add_argument("turn_id", type=int)


def _seconds(duration_ms: int | None) -> str:
    return "-" if duration_ms is None else f"{duration_ms / 1000:.1f}s"


def _tokens(prompt_tokens: int, eval_tokens: int) -> str:
    return f"{prompt_tokens}/{eval_tokens} tok"


def _short(text: str, limit: int = TASK_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_list(summaries: list[TurnSummary]) -> list[str]:
    """One line per turn: id, start, chat, model, duration, tokens, team size, outcome."""
    if not summaries:
        return ["no agent turns yet"]
    lines = []
    for item in summaries:
        turn = item.turn
        outcome = "failed" if turn.error else "ok"
        lines.append(
            f"{turn.id:>6}  {turn.started_at:%Y-%m-%d %H:%M:%S}  chat {turn.chat_id}  {turn.model or '-'}  "
            f"{_seconds(turn.duration_ms)}  {_tokens(turn.prompt_tokens, turn.eval_tokens)}  "
            f"helpers {item.members}  {outcome}"
        )
    return lines


def _describe(run: Run) -> str:
    tools = ", ".join(str(call.get("name", "?")) for call in run.tool_calls) or "no tools"
    error = f" ({run.error})" if run.error else ""
    return (
        f"{run.role}  {run.status}{error}  {run.model}  {_seconds(run.duration_ms)}  "
        f"{_tokens(run.prompt_tokens, run.eval_tokens)}  steps {run.steps}  {tools}"
    )


def _branch(children: dict[int | None, list[Run]], parent: int | None, indent: str) -> Iterator[str]:
    kids = children.get(parent, [])
    for index, run in enumerate(kids):
        last = index == len(kids) - 1
        yield f"{indent}{'└─' if last else '├─'} {_describe(run)}"
        below = indent + ("   " if last else "│  ")
        yield f"{below}task: {_short(run.task)}"
        yield from _branch(children, run.id, below)


def render_tree(data: TurnRuns) -> list[str]:
    """The turn as the root (with the lead's own run when recorded), its members below their parents."""
    turn = data.turn
    lead = next((run for run in data.runs if run.role == runs.LEAD), None)
    head = f"turn {turn.id}  chat {turn.chat_id}  {turn.started_at:%Y-%m-%d %H:%M:%S}"
    lines = [f"{head}  {_describe(lead) if lead else turn.model or '-'}"]
    lines += [f"  message: {_short(text)}" for text in data.texts]
    children: dict[int | None, list[Run]] = {}
    for run in data.runs:
        if run is not lead:
            parent = None if lead is not None and run.parent_id == lead.id else run.parent_id
            children.setdefault(parent, []).append(run)
    lines += list(_branch(children, None, ""))
    return lines


async def _runs(settings: Settings, args: argparse.Namespace) -> int:
    store = await Store.open(settings.database_url)
    try:
        if args.runs_command == "list":
            print("\n".join(render_list(await runs.recent(store, args.limit))))
            return 0
        found = await runs.for_turn(store, args.turn_id)
    finally:
        await store.close()
    if found is None:
        print(f"hearth: there is no turn {args.turn_id}")
        return 1
    print("\n".join(render_tree(found)))
    return 0


def main(settings: Settings, args: argparse.Namespace) -> int:
    """The `runs` sub-command."""
    return asyncio.run(_runs(settings, args))


RUN = {"runs": main}
ARGUMENTS = {"runs": arguments}
