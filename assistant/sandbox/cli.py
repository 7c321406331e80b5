"""`hearth skills list | run NAME ARGS | build`: the skills, one run through the real sandbox, the image."""

from __future__ import annotations

import argparse
import asyncio
import sys

from assistant.sandbox.config import sandbox_config
from assistant.sandbox.errors import SandboxError
from assistant.sandbox.service import build_images, format_skills, list_skills, run_skill
from assistant.settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="skills_command", required=True, metavar="ACTION")
    sub.add_parser("list", help="the skills and any manifest that did not load")
    run = sub.add_parser("run", help="run one skill in the sandbox and print its result")
    run.add_argument("name")
    run.add_argument("arguments", nargs="?", default="{}", help="the skill's arguments as JSON")
    run.add_argument("--chat", default="cli", help="whose workspace the skill sees")
    sub.add_parser("build", help="build the worker and egress proxy images if missing, and print their tags")


def main(settings: Settings, args: argparse.Namespace) -> int:
    config = sandbox_config(settings)
    try:
        if args.skills_command == "list":
            skills = list_skills(config)
            print(format_skills(skills))
            return 1 if skills.errors else 0
        if args.skills_command == "run":
            print(asyncio.run(run_skill(config, args.name, args.arguments, args.chat)))
            return 0
        print("\n".join(build_images(config)))
        return 0
    except SandboxError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 1


RUN = {"skills": main}
ARGUMENTS = {"skills": arguments}
