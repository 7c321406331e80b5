"""Arguments from the model checked against a skill's JSON Schema before any container runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assistant.sandbox.errors import ArgumentsError

if TYPE_CHECKING:
    # jsonschema (with its dependencies, some 2 MB) loads when a skill is first checked or called.
    from jsonschema.exceptions import ValidationError


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """What is wrong with `schema` as a JSON Schema (2020-12), or None if it is sound."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"is not a valid JSON Schema: {exc.message}"
    return None


def validate_arguments(schema: Mapping[str, Any], args: Any) -> dict[str, Any]:
    """`args` as a dict if it satisfies `schema`; raises ArgumentsError saying where and why."""
    from jsonschema import Draft202012Validator

    if not isinstance(args, Mapping):
        raise ArgumentsError("the arguments must be a JSON object")
    errors = sorted(Draft202012Validator(schema).iter_errors(args), key=_where)
    if errors:
        raise ArgumentsError("; ".join(_describe(error) for error in errors[:3]))
    return dict(args)


def _where(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path)


def _describe(error: ValidationError) -> str:
    # Messages quote the offending value, which may be long; the model needs only the gist.
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    where = _where(error)
    return f"{where}: {message}" if where else message
