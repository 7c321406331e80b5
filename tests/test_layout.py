"""The shape of the package: lower layers never import higher ones, no cycles, small modules, and
commands that import only what they use."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.store.database import migrate_apart

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
# The foundation every part stands on; it knows nothing of the parts.
FOUNDATION = ("assistant.types", "assistant.errors", "assistant.settings", "assistant.store")
ENTRY_POINTS = ("assistant.app", "assistant.cli")
MAX_TOP_LEVEL = 15
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path, known: set[str]) -> Iterator[str]:
    """Every assistant module `path` imports, anywhere in the file (type-only imports included)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name in known)


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(path, known)) - {name} for name, path in found.items()}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_foundation_imports_nothing_above_it() -> None:
    wrong = [
        f"{name} imports {other}"
        for name, others in graph().items()
        if within(name, FOUNDATION)
        for other in others
        if not within(other, FOUNDATION) and other != "assistant"
    ]
    assert wrong == []


def test_only_entry_points_import_the_app_or_the_command_line() -> None:
    def may(name: str) -> bool:
        return name in ("assistant.__main__", *ENTRY_POINTS) or name.endswith(".cli")

    wrong = [
        f"{name} imports {other}"
        for name, others in graph().items()
        for other in others
        if within(other, ENTRY_POINTS) and not may(name)
    ]
    assert wrong == []


def cycle_through(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for other in sorted(edges.get(name, ())):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        path.pop()
        state[name] = 2
        return None

    for name in sorted(edges):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_there_are_no_import_cycles() -> None:
    # A package's __init__ is not part of a cycle through its own modules: importing
    # assistant.store.x runs assistant.store first, which is how Python works, not a loop.
    edges = {name: {o for o in others if not name.startswith(o + ".")} for name, others in graph().items()}
    assert cycle_through(edges) is None


def test_the_cycle_finder_finds_one() -> None:
    assert cycle_through({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_through({"a": {"b"}, "b": set()}) is None


def test_the_top_level_stays_small() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_no_module_is_over_the_size_limit() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_file_name_repeats_its_concept() -> None:
    """`jobs/tools.py`, not `jobtools.py` or `jobs_cli.py`; and no `store/store.py`."""
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        stem, parent = path.stem, path.parent.name
        if stem.endswith(("_cli", "_app")) or stem == parent or stem.startswith(parent.rstrip("s")):
            wrong.append(str(path.relative_to(PACKAGE)))
    assert wrong == []


def loaded_by(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `code`."""
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


HEAVY = {"aiohttp", "sqlalchemy", "sqlmodel", "ollama", "docker", "twilio", "apscheduler", "alembic"}


def test_help_loads_none_of_the_features() -> None:
    code = "from assistant.cli import parser\nparser(['--help'])"
    assert loaded_by(code) & HEAVY == set()


@pytest.mark.parametrize("command", ["jobs", "pair", "runs", "approvals"])
def test_a_store_command_loads_the_store_and_nothing_of_the_server(command: str) -> None:
    code = f"from assistant.cli import parser\nparser(['{command}'])"
    # The jobs' cron maths uses APScheduler's field search, which is cheap to import.
    assert loaded_by(code) & HEAVY <= {"sqlalchemy", "sqlmodel", "apscheduler"}


def test_the_package_imports_without_greenlet() -> None:
    """SQLAlchemy's asyncio extension would need greenlet, which is not a dependency."""
    loaded_by("sys.modules['greenlet'] = None\nimport assistant.cli, assistant.app")


def test_the_app_imports_without_the_postgresql_driver() -> None:
    """psycopg comes with the `postgres` extra: a plain install on SQLite runs without it."""
    loaded_by("sys.modules['psycopg'] = None\nimport assistant.cli, assistant.app, assistant.ops.doctor")


def test_a_server_without_the_optional_parts_leaves_their_libraries_unloaded(tmp_path: Path) -> None:
    """Migrations, Twilio, MCP, skills' argument checks and the dashboard's templates load only when
    used: each costs a small server a few MB for good (idle RSS measured 112 -> 89 MB)."""
    url = f"sqlite:///{tmp_path / 'hearth.db'}"
    migrate_apart(url)  # in a child process, as `hearth serve` does
    settings = f"data_dir=Path({str(tmp_path)!r}), database_url={url!r}, ollama_url='http://127.0.0.1:9'"
    code = f"""
import asyncio
from pathlib import Path
from aiohttp import web
from assistant.app import create_app
from assistant.settings import Settings

async def main():
    runner = web.AppRunner(create_app(Settings({settings}, skills_dir=Path({str(tmp_path / "none")!r}))))
    await runner.setup()
    await runner.cleanup()

asyncio.run(main())"""
    assert loaded_by(code) & {"alembic", "twilio", "mcp_types", "jsonschema", "jinja2"} == set()
