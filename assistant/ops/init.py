"""`hearth init`: write a `.env` with the owners, the providers, the model and the time zone.

Asks for each value in a terminal; with `--non-interactive` it takes the flags alone, for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.settings import Settings

# (flag, variable, question, secret)
QUESTIONS: list[tuple[str, str, str, bool]] = [
    ("owner", "HEARTH_OWNERS", "Owners, comma-separated (whatsapp:+15551234567, sms:+15551234567)", False),
    ("model", "HEARTH_MODEL", "Ollama model", False),
    ("timezone", "HEARTH_TIMEZONE", "Time zone (IANA name)", False),
    ("public_url", "HEARTH_PUBLIC_URL", "Public HTTPS URL the providers call (blank: none yet)", False),
    ("whatsapp_token", "HEARTH_WHATSAPP_TOKEN", "WhatsApp Cloud API access token (blank: skip)", True),
    ("whatsapp_app_secret", "HEARTH_WHATSAPP_APP_SECRET", "Meta app secret", True),
    ("whatsapp_phone_number_id", "HEARTH_WHATSAPP_PHONE_NUMBER_ID", "WhatsApp phone number id", False),
    ("twilio_account_sid", "HEARTH_TWILIO_ACCOUNT_SID", "Twilio account SID (blank: skip)", False),
    ("twilio_auth_token", "HEARTH_TWILIO_AUTH_TOKEN", "Twilio auth token", True),
    ("twilio_sms_from", "HEARTH_TWILIO_SMS_FROM", "Twilio SMS number (+1555…, blank: none)", False),
    ("twilio_whatsapp_from", "HEARTH_TWILIO_WHATSAPP_FROM", "Twilio WhatsApp number (blank: none)", False),
]
# Asked only when the provider's first answer was given.
FOLLOWS = {
    "whatsapp_app_secret": "whatsapp_token",
    "whatsapp_phone_number_id": "whatsapp_token",
    "twilio_auth_token": "twilio_account_sid",
    "twilio_sms_from": "twilio_account_sid",
    "twilio_whatsapp_from": "twilio_account_sid",
}
GROUPS = [
    ("Who may talk to Hearth", ["HEARTH_OWNERS"]),
    ("Model and time", ["HEARTH_MODEL", "HEARTH_TIMEZONE"]),
    ("HTTP", ["HEARTH_PUBLIC_URL", "HEARTH_API_TOKEN"]),
    (
        "WhatsApp Cloud API",
        [
            "HEARTH_WHATSAPP_TOKEN",
            "HEARTH_WHATSAPP_APP_SECRET",
            "HEARTH_WHATSAPP_PHONE_NUMBER_ID",
            "HEARTH_WHATSAPP_VERIFY_TOKEN",
        ],
    ),
    (
        "Twilio",
        [
            "HEARTH_TWILIO_ACCOUNT_SID",
            "HEARTH_TWILIO_AUTH_TOKEN",
            "HEARTH_TWILIO_SMS_FROM",
            "HEARTH_TWILIO_WHATSAPP_FROM",
        ],
    ),
]
ADDRESS = re.compile(r"^(whatsapp|sms):\+\d{6,15}$")
PHONE = re.compile(r"^\+\d{6,15}$")


def problems(values: Mapping[str, str]) -> list[str]:
    """What is wrong with the answers, one sentence each; empty when they can be written."""
    found: list[str] = []
    owners = [o.strip() for o in values.get("HEARTH_OWNERS", "").split(",") if o.strip()]
    if not owners:
        found.append("at least one owner is needed (such as whatsapp:+15551234567)")
    found += [
        f"owner {o!r} is not kind:+number with kind whatsapp or sms" for o in owners if not ADDRESS.match(o)
    ]
    try:
        ZoneInfo(values.get("HEARTH_TIMEZONE", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        found.append(f"{values['HEARTH_TIMEZONE']!r} is not an IANA time zone such as Europe/Berlin")
    url = values.get("HEARTH_PUBLIC_URL", "")
    if url and not url.startswith("https://"):
        found.append("the public URL must start with https:// (both providers require it)")
    whatsapp = [values.get(f"HEARTH_WHATSAPP_{k}") for k in ("TOKEN", "APP_SECRET", "PHONE_NUMBER_ID")]
    twilio = [values.get(f"HEARTH_TWILIO_{k}") for k in ("ACCOUNT_SID", "AUTH_TOKEN")]
    if not all(whatsapp) and not all(twilio):
        found.append("configure one provider: WhatsApp (token, app secret, phone number id) or Twilio")
    if any(whatsapp) and not all(whatsapp):
        found.append("WhatsApp needs the token, the app secret and the phone number id together")
    if any(twilio) and not all(twilio):
        found.append("Twilio needs the account SID and the auth token together")
    for name in ("HEARTH_TWILIO_SMS_FROM", "HEARTH_TWILIO_WHATSAPP_FROM"):
        if values.get(name) and not PHONE.match(values[name]):
            found.append(f"{name} must be a number such as +15551234567")
    return found


def complete(answers: Mapping[str, str], token: Callable[[], str] = secrets.token_urlsafe) -> dict[str, str]:
    """The answers without blanks, plus generated secrets: the API token and the verify token."""
    values = {k: v.strip() for k, v in answers.items() if v and v.strip()}
    values.setdefault("HEARTH_API_TOKEN", token())
    if values.get("HEARTH_WHATSAPP_TOKEN"):
        values.setdefault("HEARTH_WHATSAPP_VERIFY_TOKEN", token())
    return values


def render(values: Mapping[str, str]) -> str:
    """The `.env` text: grouped, commented, with only the values given."""
    lines = ["# Written by `hearth init`. Every setting is described in deploy/.env.example.", ""]
    for title, names in GROUPS:
        present = [n for n in names if n in values]
        if present:
            lines += [f"# {title}", *(f"{n}={values[n]}" for n in present), ""]
    return "\n".join(lines)


def ask(question: str, default: str, secret: bool) -> str:
    prompt = f"{question}{f' [{default}]' if default else ''}: "
    answer = getpass.getpass(prompt) if secret else input(prompt)
    return answer.strip() or default


def interview(given: Mapping[str, str], asker: Callable[[str, str, bool], str] = ask) -> dict[str, str]:
    """Ask every question, offering the flag's value (or the default) as the answer."""
    answers: dict[str, str] = {}
    by_flag: dict[str, str] = {}
    for flag, name, question, secret in QUESTIONS:
        leader = FOLLOWS.get(flag)
        if leader is not None and not by_flag.get(leader):
            continue
        by_flag[flag] = answers[name] = asker(question, given.get(name, ""), secret)
    return answers


def arguments(parser: argparse.ArgumentParser) -> None:
    for flag, name, question, _ in QUESTIONS:
        parser.add_argument(f"--{flag.replace('_', '-')}", dest=flag, metavar=name, help=question)
    parser.add_argument("--output", type=Path, default=Path(".env"), help="where to write (default .env)")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument("--non-interactive", action="store_true", help="take the flags alone; ask nothing")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Write the `.env`; 2 when an answer is unusable or the file exists without --force."""
    given = {name: getattr(args, flag) or "" for flag, name, _, _ in QUESTIONS}
    given["HEARTH_MODEL"] = given["HEARTH_MODEL"] or settings.model
    given["HEARTH_TIMEZONE"] = given["HEARTH_TIMEZONE"] or str(settings.timezone)
    if args.output.exists() and not args.force:
        print(f"hearth: {args.output} exists; pass --force to replace it", file=sys.stderr)
        return 2
    values = complete(given if args.non_interactive else interview(given))
    found = problems(values)
    if found:
        print("hearth: nothing written:\n  " + "\n  ".join(found), file=sys.stderr)
        return 2
    args.output.write_text(render(values), encoding="utf-8")
    args.output.chmod(0o600)
    print(f"wrote {args.output}; check it with `hearth doctor`")
    return 0
