"""`hearth jobs list|add|cancel|pause|resume`: the job table from the command line, for any chat."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import sqlalchemy as sa
from sqlmodel import select

from assistant.access.policy import PolicyError, load_policy
from assistant.access.roles import role_of_chat
from assistant.jobs.rules import JobNotFound, change, line, new_job
from assistant.jobs.triggers import TriggerError, parse_trigger
from assistant.settings import Settings
from assistant.store import Store, jobs, leases
from assistant.store.columns import utcnow
from assistant.store.inbox import chat_for
from assistant.store.jobs import JobKind
from assistant.store.tables import Chat, Job
from assistant.types import Address

logger = logging.getLogger(__name__)

RESTART_NOTE = "A running Hearth runs a job added or resumed here within two minutes of its due time."
TOLD_NOTE = "Any running replica was told: the job runs at its due time."


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list jobs, of every chat or of one")
    listing.add_argument("--chat", help="only this chat's jobs, by address such as whatsapp:+15551234567")
    add = actions.add_parser("add", help="add a reminder (--text) or a task (--prompt)")
    add.add_argument("--chat", required=True, help="the chat's address, such as api:alice")
    add.add_argument("--channel", help="the chat's channel when it is not the address's kind")
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="a reminder's text, sent as is")
    what.add_argument("--prompt", help="a task's prompt, run by the agent")
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", help="ISO 8601 date and time; without an offset it is in --timezone")
    when.add_argument("--every", help="an interval such as 30m, 2h, 1d")
    when.add_argument("--cron", help="a 5-field cron expression such as '0 7 * * mon-fri'")
    add.add_argument("--timezone", help="IANA zone; default the chat's, else HEARTH_TIMEZONE")
    add.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="TOOL",
        help="a tool that changes something (such as notes or remember) the task may use when it runs "
        "on its own; repeatable. Naming it here is the owner's approval",
    )
    for name in ("cancel", "pause", "resume"):
        actions.add_parser(name, help=f"{name} a job by id").add_argument("id", type=int)


async def _chats(store: Store, address: str) -> list[Chat]:
    return await store.read(lambda s: list(s.exec(select(Chat).where(Chat.address == address))))


async def _chat(store: Store, args: argparse.Namespace) -> Chat:
    address = str(Address.parse(args.chat))
    found = [c for c in await _chats(store, address) if args.channel in (None, c.channel)]
    if len(found) > 1:
        raise TriggerError(f"{address} has chats on several channels; pick one with --channel")
    if found:
        return found[0]
    channel = args.channel or Address.parse(args.chat).kind
    return await store.write(lambda s: chat_for(s, channel, address, utcnow()))


async def _allowed(store: Store, settings: Settings, chat: Chat, names: list[str]) -> list[str]:
    """The tools a task of `chat` may use unattended, as `schedule_task`'s approved `allow` grants
    them: only tools the chat's role may use now; ValueError names the first that is not."""
    wanted = sorted({name.strip() for name in names if name.strip()})
    if not wanted:
        return []
    owners = frozenset(str(a) for a in settings.owners)
    role = await role_of_chat(store, chat, owners)
    if role is None:
        raise ValueError(f"{chat.address} has no access, so its tasks may use no tools")
    policy = load_policy(settings.data_dir)
    for name in wanted:
        if not policy.may_use(role, name):
            raise ValueError(f"the {role} policy does not let {chat.address} use {name}")
    return wanted


async def _add(store: Store, settings: Settings, args: argparse.Namespace) -> str:
    kind: JobKind = "reminder" if args.text is not None else "task"
    if args.allow and kind == "reminder":
        raise ValueError("--allow is for a task (--prompt): a reminder's text is sent as is and runs no tool")
    chat = await _chat(store, args)
    allowed = await _allowed(store, settings, chat, args.allow)
    timezone = args.timezone or chat.timezone or str(settings.timezone)
    spec = parse_trigger(args.at, args.every, args.cron, timezone, utcnow())
    job = new_job(chat.id or 0, kind, args.text or args.prompt, spec, settings.job_grace_s, "cli")
    job.approved_tools = allowed
    job = await jobs.add(store, job)
    note = await _announce(store, job.id or 0)
    return f"added {listed(job, chat.timezone or timezone)}\n{note}"


async def _announce(store: Store, job_id: int) -> str:
    """Tell a running Hearth that the job changed, where it can hear: on PostgreSQL every replica
    listens, and the scheduler's leader arms the job as its row now is. On SQLite its sweep finds
    the job instead. What the user is told about when it runs."""
    if store.engine.dialect.name != "postgresql":
        return RESTART_NOTE
    try:
        await store.write(lambda s: leases.wake(s, "job", [job_id]))
    except sa.exc.SQLAlchemyError as exc:
        # The job is stored: failing here would invite running the command again, and a second job.
        logger.warning("could not tell the running replicas about job %d (%s)", job_id, exc)
        return RESTART_NOTE
    return TOLD_NOTE


def listed(job: Job, timezone: str) -> str:
    """The job's line, and the tools it may use on its own when it has any."""
    extra = f"; may use {', '.join(job.approved_tools)} on its own" if job.approved_tools else ""
    return line(job, timezone) + extra


async def _list(store: Store, settings: Settings, args: argparse.Namespace) -> str:
    chats = await _chats(store, str(Address.parse(args.chat))) if args.chat else None
    rows = await jobs.listing(store, [c.id or 0 for c in chats] if chats is not None else None)
    return "\n".join(f"{listed(job, job.timezone)} [chat {job.chat_id}]" for job in rows) or "no jobs"


async def _run(settings: Settings, args: argparse.Namespace) -> str:
    store = await Store.open(settings.database_url)
    try:
        if args.action == "add":
            return await _add(store, settings, args)
        if args.action == "list":
            return await _list(store, settings, args)
        job = await change(store, args.id, None, args.action, utcnow())
        note = await _announce(store, args.id)
        shown = f"\n{note}" if args.action == "resume" else ""
        return f"{args.action}: {line(job, job.timezone)}{shown}"
    finally:
        await store.close()


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Print the outcome; a bad trigger, address or id is one line on stderr and exit code 2."""
    try:
        print(asyncio.run(_run(settings, args)))
    except (TriggerError, JobNotFound, PolicyError, ValueError) as exc:
        print(f"hearth jobs: {exc}", file=sys.stderr)
        return 2
    return 0


RUN = {"jobs": run}
ARGUMENTS = {"jobs": arguments}
