"""Role files: the built-in roles, overrides from the data directory, and errors that name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.team.roles import Role, load_roles, parse_text

GOOD = """
[scout]
description = "Looks around."
instructions = "You are the scout."
tools = ["fetch"]
model = "qwen3:0.6b"
max_steps = 3
timeout_s = 30
"""


def test_the_built_in_roles_load() -> None:
    book = load_roles(None)
    assert book.errors == []
    assert set(book.roles) == {"researcher", "analyst", "writer", "critic"}
    assert book.roles["researcher"].tools == ("web_search", "fetch")
    assert book.roles["analyst"].tools == ("python",)
    assert book.roles["writer"].tools == ()
    assert all(role.model is None for role in book.roles.values())


def test_a_good_role_parses() -> None:
    book = parse_text(GOOD, "scout.toml")
    assert book.errors == []
    assert book.roles["scout"] == Role(
        "scout", "Looks around.", "You are the scout.", ("fetch",), "qwen3:0.6b", 3, 30.0
    )


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[x]\ninstructions = "i"', "'description' is missing"),
        ('[x]\ndescription = "d"\ninstructions = ""', "'instructions' must be a non-empty string"),
        ('[x]\ndescription = "d"\ninstructions = "i"\ntools = "fetch"', "'tools' must be a list"),
        ('[x]\ndescription = "d"\ninstructions = "i"\nmax_steps = 0', "'max_steps' must be a whole number"),
        (
            '[x]\ndescription = "d"\ninstructions = "i"\nmax_steps = true',
            "'max_steps' must be a whole number",
        ),
        ('[x]\ndescription = "d"\ninstructions = "i"\ntimeout_s = -1', "'timeout_s' must be a number"),
        ('[x]\ndescription = "d"\ninstructions = "i"\nmodel = 3', "'model' must be a non-empty string"),
        ('[x]\ndescription = "d"\ninstructions = "i"\ncolour = "red"', "unknown field 'colour'"),
        ('x = "not a table"', "expected a table [x]"),
        ('[Bad_Name]\ndescription = "d"\ninstructions = "i"', "the name must be lowercase"),
    ],
)
def test_a_bad_role_is_an_error_naming_file_role_and_field(text: str, field: str) -> None:
    book = parse_text(text, "/data/roles/mine.toml")
    assert book.roles == {}
    (error,) = book.errors
    assert error.startswith("/data/roles/mine.toml: role ")
    assert field in error


def test_a_file_that_is_not_toml_is_one_error() -> None:
    book = parse_text("[x\n", "broken.toml")
    assert book.roles == {}
    assert book.errors[0].startswith("broken.toml: not valid TOML")


def test_files_in_the_data_dir_add_and_replace_and_bad_ones_do_not_stop_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "roles"
    folder.mkdir()
    (folder / "a.toml").write_text(
        GOOD + '\n[writer]\ndescription = "Mine."\ninstructions = "You are the writer."'
    )
    (folder / "b.toml").write_text('[critic]\ndescription = "d"\ninstructions = "i"\nmax_steps = "many"')
    (folder / "c.toml").write_text("not toml at all [")
    book = load_roles(tmp_path)
    assert set(book.roles) == {"researcher", "analyst", "writer", "critic", "scout"}
    assert book.roles["writer"].description == "Mine."
    assert book.roles["critic"].max_steps == 2  # the built-in one stays when the override is bad
    assert len(book.errors) == 2
    assert "b.toml: role 'critic': field 'max_steps'" in book.errors[0]
    assert "c.toml: not valid TOML" in book.errors[1]
