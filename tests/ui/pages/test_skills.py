"""The skills page: what is loaded, the sandbox's state, manifests that did not load; MCP servers."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MakeClient


async def test_no_skills_means_no_sandbox(make_client: MakeClient) -> None:
    client = await make_client()
    page = await (await client.get("/ui/skills")).text()
    assert "No skills are loaded." in page
    assert "Docker is not used" in page
    assert "No MCP servers are configured." in page


async def test_a_manifest_that_did_not_load_shows_why(make_client: MakeClient, tmp_path: Path) -> None:
    skills = tmp_path / "skills"
    (skills / "broken").mkdir(parents=True)
    (skills / "broken" / "skill.toml").write_text('name = "broken"\ndescription = "<b>x</b>"\n')
    client = await make_client(skills_dir=skills)
    page = await (await client.get("/ui/skills")).text()
    assert "Skills that did not load" in page
    assert "skill &#39;broken&#39;" in page
