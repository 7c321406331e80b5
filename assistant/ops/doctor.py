"""`hearth doctor`: each check prints what it found and, when it failed, how to fix it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from assistant.access.policy import PolicyError, load_policy
from assistant.agent.model import OllamaModel, model_options
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.media.checks import check_speech, check_transcriber, check_vision
from assistant.ops.check import Check
from assistant.ops.deploy import check_docker, check_providers, check_public_url
from assistant.settings import Secret, Settings, masked_url
from assistant.store import Store, views


def masked_in(text: str, url: str) -> str:
    """`text` with the URL's password replaced wherever it appears."""
    password = sa_password(url)
    return text.replace(password, Secret.MASK) if password else text


def sa_password(url: str) -> str:
    credentials = url.partition("://")[2].rpartition("@")[0]
    return credentials.partition(":")[2]


async def check_database(settings: Settings) -> Check:
    try:
        store = await Store.open(settings.database_url)
        await views.counts(store)
        await store.close()
    except Exception as exc:
        return Check(
            "database",
            False,
            # The driver's message may quote the URL, password and all.
            masked_in(f"{type(exc).__name__}: {exc}", settings.database_url),
            "check HEARTH_DATABASE_URL and that the data directory is writable",
        )
    return Check("database", True, f"{masked_url(settings.database_url)} is reachable and migrated")


async def check_model(settings: Settings) -> list[Check]:
    model = OllamaModel(model_options(settings))
    # A server behind a proxy may carry a password in its URL: printed masked.
    shown = ", ".join(masked_url(url.strip()) for url in settings.ollama_url.split(","))
    try:
        info = await model.info()
    except ModelUnavailable as exc:
        fix = "start Ollama (`ollama serve`) or set HEARTH_OLLAMA_URL to where it runs"
        return [Check("ollama", False, f"no answer from {shown}: {exc}", fix)]
    except ModelMissing:
        found = Check("ollama", True, f"answering at {shown}")
        return [
            found,
            Check("model", False, f"{settings.model} is not pulled", "run `hearth pull`"),
        ]
    finally:
        await model.close()
    tools = Check(
        "tools",
        info.tools,
        "the model can call tools" if info.tools else "the model cannot call tools",
        "choose a model with tool support, such as qwen3:4b or llama3.2, in HEARTH_MODEL",
    )
    return [
        Check("ollama", True, f"answering at {shown}"),
        Check("model", True, f"{settings.model} is available"),
        tools,
    ]


async def check_policy(settings: Settings) -> Check:
    try:
        policy = load_policy(settings.data_dir)
    except PolicyError as exc:
        return Check(
            "policy", False, str(exc), "fix that field, or remove the file for the built-in defaults"
        )
    return Check("policy", True, f"who may use which tool: {policy.source}")


async def check_settings(settings: Settings) -> list[Check]:
    token = "set" if settings.api_token else "not set (the HTTP API is off)"
    return [Check("settings", True, f"data in {settings.data_dir}; API token {token}")]


async def check_outbox(settings: Settings) -> list[Check]:
    """Replies waiting for a channel `hearth serve` does not run (a provider taken out of .env, or
    terminal chats, whose replies print only while `hearth chat` runs)."""
    from assistant.channels.app import Providers
    from assistant.channels.console import NAME as CONSOLE
    from assistant.store import outbox

    try:
        served = {c.name for c in Providers.from_settings(settings).channels} | {"api"}
        store = await Store.open(settings.database_url)
    except Exception:
        return []  # the provider and database checks say what is wrong
    try:
        held = await outbox.held(store, served)
    finally:
        await store.close()
    if not held:
        return [Check("outbox", True, "no reply waits for a channel that is not configured")]
    age_s = f"{settings.reply_max_age_s:g}"
    return [
        Check("outbox", True, f"{h.count} replies to terminal chats print when `hearth chat` runs")
        if h.channel == CONSOLE
        else Check(
            "outbox",
            False,
            f"{h.count} replies wait for the {h.channel} channel, which is not configured",
            f"configure {h.channel} again; otherwise they fail {age_s} s after they were written",
        )
        for h in held
    ]


async def check_replicas(settings: Settings) -> list[Check]:
    from assistant.replicas.checks import check_replicas

    return await check_replicas(settings)


async def check_mcp(settings: Settings) -> list[Check]:
    """Each MCP server connected to once (no mcp.toml: nothing to check)."""
    from assistant.mcp.app import server_book
    from assistant.mcp.report import checks

    return await checks(settings, server_book(settings.data_dir))


CHECKS: list[Callable[[Settings], Awaitable[Check | list[Check]]]] = [
    check_settings,
    check_database,
    check_outbox,
    check_replicas,
    check_policy,
    check_model,
    check_docker,
    check_mcp,
    check_public_url,
    check_providers,
    check_transcriber,
    check_speech,
    check_vision,
]


async def run(settings: Settings) -> int:
    """Run every check, print each, and return 0 only when all passed."""
    failed = 0
    for check in CHECKS:
        found = await check(settings)
        for result in found if isinstance(found, list) else [found]:
            print(result.line(), flush=True)
            failed += not result.ok
    return 1 if failed else 0
