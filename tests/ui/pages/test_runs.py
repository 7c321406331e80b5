"""The runs pages: recent turns, and one turn as a tree of its lead and members with their tool calls."""

from __future__ import annotations

from assistant.keys import STORE
from assistant.store import runs
from assistant.store.tables import Run
from tests.api import send, wait_handled
from tests.conftest import AppClient


async def test_a_turn_shows_as_a_tree_with_its_team(client: AppClient) -> None:
    await wait_handled(client, await send(client, "anna", "plan my <week>"))
    recent = await runs.recent(client.app[STORE])
    turn = recent[0].turn
    found = await runs.for_turn(client.app[STORE], turn.id or 0)
    assert found is not None
    lead = next(r for r in found.runs if r.role == runs.LEAD)
    member = Run(
        turn_id=turn.id,
        chat_id=turn.chat_id,
        turn_started_at=turn.started_at,
        parent_id=lead.id,
        depth=1,
        role="researcher",
        task="find the <weather>",
        model="qwen3:4b",
        status="done",
        duration_ms=1500,
        prompt_tokens=120,
        eval_tokens=30,
        steps=2,
        tool_calls=[{"name": "fetch", "arguments": {"url": "https://example.org/<x>"}}],
    )
    await runs.add(client.app[STORE], [member])
    listing = await (await client.get("/ui/runs")).text()
    assert f'id="turn-{turn.id}"' in listing
    tree = await (await client.get(f"/ui/runs/{turn.id}")).text()
    assert "plan my &lt;week&gt;" in tree
    assert "<strong>lead</strong>" in tree
    assert "<strong>researcher</strong>" in tree
    assert "find the &lt;weather&gt;" in tree
    assert "120/30 tokens" in tree
    assert "1.5 s" in tree
    assert "<code>fetch</code>" in tree
    assert "&lt;x&gt;" in tree or "\\u003cx\\u003e" in tree
    # The member hangs below the lead, not beside it.
    assert tree.index("<strong>lead</strong>") < tree.index("<strong>researcher</strong>")


async def test_an_unknown_turn_is_not_found(client: AppClient) -> None:
    assert (await client.get("/ui/runs/999")).status == 404
