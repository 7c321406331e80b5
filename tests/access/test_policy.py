"""The policy: narrow defaults for members, policy.toml laid over them, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.access.policy import DEFAULT_POLICY, PolicyError, load_policy, parse_policy


@pytest.mark.parametrize(
    ("role", "tool", "allowed"),
    [
        ("owner", "delegate", True),
        ("owner", "mcp_search_web", True),
        ("member", "remember", True),
        ("member", "schedule_task", True),
        ("member", "python", True),
        ("member", "notes", True),
        ("member", "fetch", False),
        ("member", "delegate", False),
        ("member", "mcp_search_web", False),
        ("stranger", "remember", True),  # an unknown role gets the member's policy
        ("stranger", "fetch", False),
    ],
)
def test_the_defaults(role: str, tool: str, allowed: bool) -> None:
    assert DEFAULT_POLICY.may_use(role, tool) is allowed


def test_member_caps() -> None:
    member = DEFAULT_POLICY.role("member")
    assert (member.max_active_jobs, member.min_interval_s, member.teams) == (10, 900.0, False)
    assert DEFAULT_POLICY.role("owner").tokens_per_day == 0


def test_a_file_grants_narrows_and_asks() -> None:
    policy = parse_policy(
        {
            "member": {"grant": ["fetch", "mcp_*"], "teams": True, "approve": ["fetch"]},
            "owner": {"deny": ["beacon"], "approve": ["delegate"], "max_active_jobs": 50},
        },
        "policy.toml",
    )
    assert policy.may_use("member", "fetch")
    assert policy.may_use("member", "mcp_calendar")
    assert policy.may_use("member", "delegate")
    assert policy.may_use("member", "remember")
    assert policy.needs_approval("member", "fetch")
    assert not policy.may_use("owner", "beacon")
    assert policy.needs_approval("owner", "delegate")
    assert policy.role("owner").max_active_jobs == 50
    assert policy.role("member").min_interval_s == 900.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"guest": {}}, "policy.toml: role 'guest': is not a role"),
        ({"member": {"tool": []}}, "policy.toml: role 'member': tool: is not a known field"),
        ({"member": {"tools": "python"}}, "policy.toml: role 'member': tools: must be a list"),
        ({"member": {"teams": "yes"}}, "policy.toml: role 'member': teams: must be true or false"),
        ({"member": {"min_interval_s": 10}}, "role 'member': min_interval_s: must be a number of seconds"),
        ({"owner": {"max_active_jobs": -1}}, "role 'owner': max_active_jobs: must be a whole number"),
        ({"owner": []}, "role 'owner': (table): must be a table"),
        ({"members": {"owner": {}}}, "policy members.owner: a name is 1 to 16 of a-z"),
        ({"members": {"Family Plan": {}}}, "policy members.Family Plan: a name is 1 to 16"),
        ({"members": {"kids": {"tool": []}}}, "policy members.kids: tool: is not a known field"),
        ({"members": ["kids"]}, "members: must hold tables such as"),
    ],
)
def test_a_bad_file_names_the_file_role_and_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(data, "policy.toml")


def test_named_member_policies_lie_over_the_member_policy() -> None:
    policy = parse_policy(
        {
            "member": {"grant": ["fetch"]},
            "members": {"family": {"teams": True}, "kids": {"deny": ["fetch", "schedule_*"]}},
        },
        "policy.toml",
    )
    assert policy.member_policies() == ("member", "family", "kids")
    assert policy.may_use("family", "delegate")
    assert policy.may_use("family", "fetch")  # from [member]
    assert not policy.may_use("member", "delegate")
    assert not policy.may_use("kids", "fetch")
    assert not policy.may_use("kids", "schedule_task")
    assert policy.may_use("kids", "remember")
    assert policy.role("kids").tokens_per_day == 200_000
    assert policy.role("gone") == policy.role("member")  # a policy removed from the file: the member's
    assert DEFAULT_POLICY.member_policies() == ("member",)


def test_loading_from_the_data_directory(tmp_path: Path) -> None:
    assert load_policy(tmp_path) is DEFAULT_POLICY
    (tmp_path / "policy.toml").write_text("[member]\ngrant = ['fetch']\n")
    assert load_policy(tmp_path).may_use("member", "fetch")
    (tmp_path / "policy.toml").write_text("[member\n")
    with pytest.raises(PolicyError, match=r"policy.toml: is not valid TOML"):
        load_policy(tmp_path)
