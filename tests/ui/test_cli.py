"""`hearth dashboard password`: a hash for the .env, and a clear refusal of an empty password."""

from __future__ import annotations

from pathlib import Path

from assistant.ui.auth import parse_hash, verify
from tests.fakes.ollama import FakeOllama
from tests.process import hearth_env, run_hearth


async def test_the_password_command_prints_a_hash_that_checks(tmp_path: Path, fake: FakeOllama) -> None:
    env = hearth_env(tmp_path, fake.url)
    code, out, _err = await run_hearth("dashboard", "password", env=env, cwd=tmp_path, stdin=b"hunter two\n")
    assert code == 0
    name, _, value = out.strip().partition("=")
    assert name == "HEARTH_DASHBOARD_PASSWORD"
    assert verify("hunter two", parse_hash(value))
    code, _out, err = await run_hearth("dashboard", "password", env=env, cwd=tmp_path, stdin=b"\n")
    assert code == 2
    assert "empty" in err
