"""Reading the settings once: the environment first, then a .env file, then the defaults."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant.errors import SettingsError
from assistant.settings.fields import Settings

PREFIX = "HEARTH_"


def env_name(field_name: str) -> str:
    return PREFIX + field_name.upper()


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; blank lines and # comments are skipped, one pair of quotes is removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Environment first, then the .env file, then defaults. A bad value raises SettingsError naming it."""
    source = dict(read_env_file(env_file)) if env_file else {}
    source.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        raw = source.get(env_name(f.name))
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError:
            accepted = f.metadata["accepted"]
            raise SettingsError(f"{env_name(f.name)}={raw!r} is not valid: expected {accepted}") from None
    settings = Settings(**values)
    if not settings.database_url:
        url = f"sqlite:///{settings.data_dir / 'hearth.db'}"
        settings = dataclasses.replace(settings, database_url=url)
    return settings
