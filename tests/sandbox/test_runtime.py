"""The in-container runtime, run here as a plain process against skills in a temporary tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import WORKER_DIR

RUNTIME = WORKER_DIR / "runtime" / "hearth_worker.py"

SKILLS = {
    "chatty": (
        "import os, sys\n"
        "def run(args, ctx):\n"
        "    print('printed, not an answer')\n"
        "    os.write(1, b'written to fd 1\\n')\n"
        "    sys.__stdout__.write('via __stdout__\\n')\n"
        "    return {'echo': args, 'skill': ctx['skill']}\n"
    ),
    "raises": "def run(args, ctx):\n    raise ValueError('bad input')\n",
    "exits": "import sys\ndef run(args, ctx):\n    sys.exit(4)\n",
    "opaque": "def run(args, ctx):\n    return object()\n",
    "broken": "import no_such_module\n",
    "writes": (
        "from pathlib import Path\n"
        "def run(args, ctx):\n"
        "    for i in range(args.get('files', 1)):\n"
        "        Path(ctx['outbox'], f'f{i}.txt').write_bytes(b'x' * args.get('size', 3))\n"
        "    if args.get('fail'):\n"
        "        raise RuntimeError('after writing')\n"
        "    return 'wrote'\n"
    ),
}


@pytest.fixture
def skills_dir(tmp_path: Path) -> Path:
    for name, code in SKILLS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.py").write_text(code)
    return tmp_path


def converse(skills_dir: Path, lines: list[str], only: str = "") -> tuple[list[Any], str]:
    """The answers to `lines`, after checking the ready line the worker starts with."""
    (ready, *answers), stderr = run_worker(skills_dir, lines, only)
    assert ready == {"id": "ready", "ok": True, "result": ""}
    return answers, stderr


def run_worker(
    skills_dir: Path, lines: list[str], only: str = "", outbox: Path | None = None
) -> tuple[list[Any], str]:
    """Everything the worker wrote on its protocol channel, and its standard error."""
    env = {**os.environ, "HEARTH_SKILLS_DIR": str(skills_dir), "HEARTH_SKILL": only}
    env["HEARTH_OUTBOX"] = str(outbox or skills_dir / "no-outbox")
    done = subprocess.run(
        [sys.executable, str(RUNTIME)],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=20,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def request(request_id: str, skill: str, args: dict[str, Any] | None = None) -> str:
    return json.dumps({"id": request_id, "skill": skill, "args": args or {}})


def test_printing_never_corrupts_the_answers(skills_dir: Path) -> None:
    answers, stderr = converse(skills_dir, [request("1", "chatty", {"a": 1}), request("2", "chatty")])
    assert answers == [
        {"id": "1", "ok": True, "result": {"echo": {"a": 1}, "skill": "chatty"}},
        {"id": "2", "ok": True, "result": {"echo": {}, "skill": "chatty"}},
    ]
    assert "printed, not an answer" in stderr
    assert "written to fd 1" in stderr


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (request("r", "raises"), "ValueError: bad input"),
        (request("r", "exits"), "SystemExit: 4"),
        (request("r", "opaque"), "TypeError"),
        (request("r", "missing"), "LookupError"),
        (request("r", "../raises"), "LookupError"),
        ('{"id": "r"}', "KeyError"),
    ],
)
def test_failures_become_error_answers(skills_dir: Path, line: str, error: str) -> None:
    answers, _ = converse(skills_dir, [line, request("after", "chatty")])
    assert answers[0]["id"] == "r"
    assert answers[0]["ok"] is False
    assert error in answers[0]["error"]
    assert answers[1]["ok"] is True


def test_garbage_gets_an_answer_without_an_id(skills_dir: Path) -> None:
    answers, _ = converse(skills_dir, ["not json"])
    assert answers == [{"id": None, "ok": False, "error": answers[0]["error"]}]


def test_a_worker_serves_only_its_own_skill(skills_dir: Path) -> None:
    answers, _ = converse(skills_dir, [request("r", "chatty")], only="raises")
    assert answers[0]["ok"] is False
    assert "PermissionError" in answers[0]["error"]


def test_a_worker_loads_its_skill_before_saying_it_is_ready(skills_dir: Path) -> None:
    (ready, answer), _ = run_worker(skills_dir, [request("1", "chatty")], only="chatty")
    assert ready == {"id": "ready", "ok": True, "result": ""}
    assert answer["ok"] is True


def test_a_skill_that_cannot_load_says_so_instead_of_ready(skills_dir: Path) -> None:
    (ready,), _ = run_worker(skills_dir, [], only="broken")
    assert ready["id"] == "ready"
    assert ready["ok"] is False
    assert "no_such_module" in ready["error"]


def test_files_left_in_the_outbox_go_back_with_the_answer_and_are_cleared(
    skills_dir: Path, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    lines = [request("1", "writes", {"files": 2}), request("2", "chatty")]
    (_, first, second), _ = run_worker(skills_dir, lines, outbox=outbox)
    assert first["result"] == "wrote"
    assert first["files"] == [{"name": "f0.txt", "data": "eHh4"}, {"name": "f1.txt", "data": "eHh4"}]
    assert "files" not in second
    assert list(outbox.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"files": 6}, "at most 5"),
        ({"files": 2, "size": 9 * 1024 * 1024}, "more than 16 MB"),
        ({"files": 1, "fail": True}, "after writing"),
    ],
)
def test_an_outbox_over_the_caps_or_a_failed_call_sends_nothing_back(
    skills_dir: Path, tmp_path: Path, args: dict[str, Any], error: str
) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (_, answer), _ = run_worker(skills_dir, [request("1", "writes", args)], outbox=outbox)
    assert answer["ok"] is False
    assert error in answer["error"]
    assert list(outbox.iterdir()) == []
