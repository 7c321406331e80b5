"""The model's arguments checked against a skill's schema."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.sandbox.arguments import schema_problem, validate_arguments
from assistant.sandbox.errors import ArgumentsError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "additionalProperties": False,
    "properties": {
        "action": {"type": "string", "enum": ["add", "list"]},
        "id": {"type": "integer", "minimum": 1},
        "text": {"type": "string", "maxLength": 5},
    },
}


@pytest.mark.parametrize("args", [{"action": "list"}, {"action": "add", "text": "milk", "id": 3}])
def test_valid_arguments_pass_through(args: dict[str, Any]) -> None:
    assert validate_arguments(SCHEMA, args) == args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, "'action' is a required property"),
        ({"action": "drop"}, "action: 'drop' is not one of"),
        ({"action": "add", "id": 0}, "id: 0 is less than the minimum"),
        ({"action": "add", "id": "3"}, "id: '3' is not of type 'integer'"),
        ({"action": "list", "extra": 1}, "Additional properties are not allowed"),
        ({"action": "add", "text": "x" * 5000}, "…"),
        (["action"], "must be a JSON object"),
        ("list", "must be a JSON object"),
    ],
)
def test_invalid_arguments_say_where_and_why(args: Any, expected: str) -> None:
    with pytest.raises(ArgumentsError) as caught:
        validate_arguments(SCHEMA, args)
    assert expected in str(caught.value)
    assert len(str(caught.value)) < 700


@pytest.mark.parametrize(
    ("schema", "sound"),
    [
        (SCHEMA, True),
        ({"type": "object", "properties": {"x": {"type": "nonsense"}}}, False),
        ({"type": "object", "required": "x"}, False),
    ],
)
def test_schemas_are_checked(schema: dict[str, Any], sound: bool) -> None:
    assert (schema_problem(schema) is None) is sound
