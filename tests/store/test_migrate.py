"""Migrations run when the schema is behind, and a store already up to date opens without Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from assistant.store import Store
from assistant.store.migrate import alembic_config, head_revision

OPEN_AND_REPORT = """
import asyncio, sys
from assistant.store import Store
async def main():
    store = await Store.open(sys.argv[1])
    await store.close()
asyncio.run(main())
print("alembic" in sys.modules)
"""


def test_the_head_read_from_file_names_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def opens_with_alembic(url: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, url], capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "True"


async def test_only_a_store_behind_the_head_loads_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert opens_with_alembic(url)
    assert not opens_with_alembic(url)
    store = await Store.open(url)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "-1")
    await store.close()
    assert opens_with_alembic(url)
    assert not opens_with_alembic(url)
