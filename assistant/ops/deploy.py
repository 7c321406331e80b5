"""`hearth doctor` checks for a deployment: the Docker engine, the worker image, the public URL and
the providers' settings. Provider settings are read with getattr, so a build without a channel
simply has nothing to check for it."""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from assistant.ops.check import Check
from assistant.sandbox.engine import describe, workspace_kind
from assistant.sandbox.image import worker_image_tag
from assistant.sandbox.manifest import load_skills
from assistant.settings import Settings

DOCKER_FIX = "start Docker, or give Hearth the engine's socket (compose mounts /var/run/docker.sock)"
PHONE = re.compile(r"^\+\d{6,15}$")
WHATSAPP = ("whatsapp_token", "whatsapp_app_secret", "whatsapp_phone_number_id", "whatsapp_verify_token")
TWILIO = ("twilio_account_sid", "twilio_auth_token")


def engine_session(environ: Mapping[str, str]) -> tuple[aiohttp.ClientSession, str]:
    """A session to the engine DOCKER_HOST names (a unix socket by default) and its base URL,
    over TLS when DOCKER_TLS_VERIFY or DOCKER_CERT_PATH asks for it, as the Docker client does."""
    host = environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    timeout = aiohttp.ClientTimeout(total=5)
    if host.startswith("unix://"):
        connector = aiohttp.UnixConnector(path=host.removeprefix("unix://"))
        return aiohttp.ClientSession(connector=connector, timeout=timeout), "http://docker"
    context = engine_tls(environ)
    if context is None:
        return aiohttp.ClientSession(timeout=timeout), host.replace("tcp://", "http://", 1)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), timeout=timeout)
    return session, host.replace("tcp://", "https://", 1)


def engine_tls(environ: Mapping[str, str]) -> ssl.SSLContext | None:
    """The client's TLS context from DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem; ~/.docker by
    default), checking the engine's certificate only when DOCKER_TLS_VERIFY is set and not empty."""
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    cert_path = environ.get("DOCKER_CERT_PATH")
    if not verify and not cert_path:
        return None
    certs = Path(cert_path) if cert_path else Path.home() / ".docker"
    if verify:
        context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(certs / "cert.pem", certs / "key.pem")
    return context


async def has_image(environ: Mapping[str, str], image: str) -> bool:
    """Whether the engine has `image`; raises aiohttp.ClientError when no engine answers."""
    session, base = engine_session(environ)
    async with session:
        async with session.get(f"{base}/_ping") as ping:
            ping.raise_for_status()
        async with session.get(f"{base}/images/{quote(image, safe='')}/json") as found:
            return found.status == 200


def worker_tag(settings: Settings) -> str:
    if settings.worker_image:
        return settings.worker_image
    return worker_image_tag(settings.worker_base_image, settings.skills_dir, settings.worker_dir)


async def check_docker(settings: Settings) -> list[Check]:
    """The engine answers, the worker image for these skills exists, and where the skills'
    workspaces live (folders here or volumes on the engine); no skills, no Docker."""
    if not load_skills(settings.skills_dir).skills:
        return [Check("docker", True, f"not needed: no skills in {settings.skills_dir}")]
    kind = workspace_kind(settings.skill_workspaces, os.environ)
    workspaces = Check("skill workspaces", True, describe(kind, settings.skill_workspaces, os.environ))
    tag = worker_tag(settings)
    try:
        present = await has_image(os.environ, tag)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return [Check("docker", False, f"no engine answered ({type(exc).__name__})", DOCKER_FIX), workspaces]
    build = f"python -m assistant.sandbox.build --base-image {settings.worker_base_image}"
    return [
        Check("docker", True, "the engine answers"),
        workspaces,
        Check(
            "worker image",
            present,
            f"{tag} is built" if present else f"{tag} is not built",
            f"start Hearth once (it builds the image from {settings.worker_base_image}) or run `{build}`",
        ),
    ]


def url_problem(url: str) -> str | None:
    """Why `url` cannot be the address providers call, or None when it can."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "it is not https:// (WhatsApp and Twilio call HTTPS webhooks only)"
    if not parts.hostname:
        return "it has no host name"
    if parts.query or parts.fragment:
        return "it has a query or fragment; give the base URL only"
    return None


async def reachable(url: str, timeout_s: float = 5) -> str | None:
    """None when GET `url`/healthz answers 200, else what happened instead."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url.rstrip("/") + "/healthz") as response,
        ):
            return None if response.status == 200 else f"/healthz answered {response.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"no answer ({type(exc).__name__})"


async def check_public_url(settings: Settings) -> Check:
    """The public URL is HTTPS and leads to this Hearth's /healthz."""
    url = getattr(settings, "public_url", None)
    if not url:
        needed = bool(provider_values(settings, WHATSAPP[:1] + TWILIO[:1]))
        detail = "HEARTH_PUBLIC_URL is not set" + ("" if needed else " (only webhooks need it)")
        return Check("public url", not needed, detail, "set HEARTH_PUBLIC_URL to the https:// address")
    problem = url_problem(url) or await reachable(url)
    if problem is None:
        return Check("public url", True, f"{url} reaches Hearth")
    fix = "point the domain at this machine and serve it over HTTPS (`docker compose --profile tls up -d`)"
    return Check("public url", False, f"{url}: {problem}", fix)


def provider_values(settings: Settings, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(settings, n, None) for n in names if getattr(settings, n, None)}


def provider_checks(values: Mapping[str, Any]) -> list[Check]:
    """One check per provider that has any setting: all its required settings, in the right shape."""
    checks: list[Check] = []
    whatsapp = {k: v for k, v in values.items() if k.startswith("whatsapp_")}
    if whatsapp:
        missing = [f"HEARTH_{n.upper()}" for n in WHATSAPP if n not in whatsapp]
        if not str(whatsapp.get("whatsapp_phone_number_id", "0")).isdigit():
            missing.append("HEARTH_WHATSAPP_PHONE_NUMBER_ID (digits only)")
        checks.append(_provider("whatsapp", missing))
    twilio = {k: v for k, v in values.items() if k.startswith("twilio_")}
    if twilio:
        missing = [f"HEARTH_{n.upper()}" for n in TWILIO if n not in twilio]
        if not str(twilio.get("twilio_account_sid", "AC")).startswith("AC"):
            missing.append("HEARTH_TWILIO_ACCOUNT_SID (starts with AC)")
        senders = [str(twilio[n]) for n in ("twilio_sms_from", "twilio_whatsapp_from") if n in twilio]
        if not senders or not all(PHONE.match(s.removeprefix("whatsapp:")) for s in senders):
            missing.append("HEARTH_TWILIO_SMS_FROM or HEARTH_TWILIO_WHATSAPP_FROM (+15551234567)")
        checks.append(_provider("twilio", missing))
    return checks


def _provider(name: str, missing: list[str]) -> Check:
    if not missing:
        return Check(name, True, "every setting it needs is present")
    return Check(
        name, False, "incomplete: " + ", ".join(missing), "set these in .env (see deploy/.env.example)"
    )


async def check_providers(settings: Settings) -> list[Check]:
    names = (*WHATSAPP, *TWILIO, "twilio_sms_from", "twilio_whatsapp_from")
    checks = provider_checks(provider_values(settings, names))
    owners = getattr(settings, "owners", None)
    if checks and not owners:
        checks.append(Check("owners", False, "nobody is an owner", "set HEARTH_OWNERS"))
    return checks or [Check("providers", True, "none configured (only the HTTP API and the terminal)")]
