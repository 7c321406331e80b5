"""The delegate tool's pure parts: validating the tasks and rendering the team's results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.agent.tools import ToolError
from assistant.team.roles import Role
from assistant.team.service import Outcome
from assistant.team.tools import parse_tasks, render

ROLES = {name: Role(name, f"{name} role", f"You are the {name}.") for name in ("writer", "critic")}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, 'give "tasks"'),
        ({"tasks": []}, 'give "tasks"'),
        ({"tasks": "write"}, 'give "tasks"'),
        ({"tasks": [{"role": "writer", "task": "x"}] * 4}, "at most 3 tasks per call; you gave 4"),
        ({"tasks": ["write"]}, "must be an object"),
        ({"tasks": [{"role": "poet", "task": "x"}]}, "unknown role 'poet'; use one of ['critic', 'writer']"),
        ({"tasks": [{"role": "writer", "task": "  "}]}, "the task for writer must be a non-empty text"),
        ({"tasks": [{"role": "writer"}]}, "the task for writer must be a non-empty text"),
    ],
)
def test_bad_tasks_are_errors_the_model_can_act_on(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_tasks(args, ROLES, max_tasks=3)


def test_good_tasks_become_assignments() -> None:
    tasks = [{"role": "writer", "task": " draft it "}, {"role": "critic", "task": "check it"}]
    work = parse_tasks({"tasks": tasks}, ROLES, max_tasks=3)
    assert [(a.role.name, a.task) for a in work] == [("writer", "draft it"), ("critic", "check it")]


def test_results_are_labelled_by_role_with_answers_or_errors() -> None:
    outcomes = [
        Outcome("writer", "t1", "done", answer="Dear Anna"),
        Outcome("critic", "t2", "timeout", error="took too long"),
    ]
    assert json.loads(render(outcomes)) == {
        "results": [
            {"task": 1, "role": "writer", "status": "done", "answer": "Dear Anna"},
            {"task": 2, "role": "critic", "status": "timeout", "error": "took too long"},
        ]
    }


def test_long_answers_share_the_result_limit() -> None:
    outcomes = [Outcome("writer", "t", "done", answer="x" * 10_000)] * 4
    text = render(outcomes, limit_chars=8_000)
    assert len(text) <= 8_000
    assert all(entry["answer"].endswith(" […]") for entry in json.loads(text)["results"])
