"""The dashboard's main flows in a real browser: sign in and out, approve a pairing request, answer an
approval, pause and resume a job, page through a transcript; and a screenshot of every page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from assistant.agent.tools import ToolContext, Trust
from assistant.keys import APPROVALS, STORE, TOOLS
from assistant.store import memory, pairing, runs
from assistant.store.tables import ChatSummary, Fact, Reply, Run
from tests.conftest import AUTH
from tests.ui.browser.browser import Browser
from tests.ui.browser.live import LiveHearth
from tests.ui.dashboard import add_chat
from tests.ui.pages.test_chats import fill
from tests.ui.pages.test_jobs import add_job


@pytest.fixture
def browser(driver: WebDriver, live: LiveHearth, shots: Path) -> Iterator[Browser]:
    yield Browser(driver, live, shots)
    driver.delete_all_cookies()


def signed_in(browser: Browser, path: str = "/ui/") -> None:
    browser.open(path)
    browser.sign_in()


def test_sign_in_and_out(browser: Browser) -> None:
    browser.open("/ui/jobs")
    assert browser.path == "/ui/login?next=/ui/jobs"
    browser.shot("login", "the sign-in page a visitor is sent to")
    browser.sign_in("not it")
    assert browser.text("#login-error") == "Wrong password."
    browser.sign_in()
    assert browser.path == "/ui/jobs"
    browser.open("/ui/")
    browser.find("#checks")
    assert browser.text("#model") == "qwen3:4b"
    browser.shot("overview", "overview: the doctor's checks, model, queues, turns, teams, failures")
    browser.press("logout")
    assert browser.path.startswith("/ui/login")
    browser.open("/ui/")
    assert browser.path.startswith("/ui/login")


def test_approve_a_pairing_request(browser: Browser, live: LiveHearth) -> None:
    store = live.app[STORE]
    chat = browser.run(add_chat(store, "whatsapp", "whatsapp:+15552223333"))
    asked = browser.run(pairing.request(store, chat.id or 0, ["whatsapp:+15552223333"], datetime.now(UTC)))
    signed_in(browser, "/ui/people")
    assert asked.code in browser.text("#pending")
    browser.shot("people-pending", "people: a stranger's pending pairing request with its code")
    button = browser.find("#pending button[id^=approve-]")
    browser.press(str(button.get_attribute("id")))
    assert "Approved: whatsapp:+15552223333" in browser.text("#flash")
    assert "whatsapp:+15552223333" in browser.text("#members")
    browser.shot("people", "people: the request approved, the person now a member with a Revoke button")
    assert browser.run(pairing.approved(store, ["whatsapp:+15552223333"]))


def test_pause_and_resume_a_job(browser: Browser, live: LiveHearth) -> None:
    job = browser.run(add_job(_Client(live), "water the plants"))
    signed_in(browser, "/ui/jobs")
    assert browser.text(f"#job-{job} .status") == "scheduled"
    browser.press(f"pause-{job}")
    assert browser.text(f"#job-{job} .status") == "paused"
    assert "Paused: #" in browser.text("#flash")
    browser.shot("jobs-paused", "jobs: a reminder just paused, with Resume, Run now and Cancel")
    browser.press(f"resume-{job}")
    assert browser.text(f"#job-{job} .status") == "scheduled"
    browser.press(f"run-{job}")
    assert "Ran now" in browser.text("#flash")
    browser.shot("jobs", "jobs: the reminder resumed and run once now, its next run kept")


def test_page_through_a_transcript(browser: Browser, live: LiveHearth) -> None:
    store = live.app[STORE]
    chat = browser.run(add_chat(store, "api", "api:anna"))
    chat_id = chat.id or 0
    browser.run(fill(_Client(live), chat_id, 60))
    browser.run(memory.add_fact(store, Fact(chat_id=chat_id, text="prefers tea to coffee")))
    summary = ChatSummary(chat_id=chat_id, text="Anna and the assistant planned a trip.", folds=2)
    browser.run(store.write(lambda s: s.add(summary)))
    signed_in(browser, f"/ui/chats/{chat_id}")
    assert "page 1 of 3" in browser.text(".pager")
    assert "reply 59" in browser.text("#transcript")
    browser.shot("chat", "a chat: the newest page of its transcript, its summary, facts and jobs")
    browser.find("a.older").click()
    browser.wait_text(".pager", "page 2 of 3")
    browser.find("a.older").click()
    browser.wait_text(".pager", "page 3 of 3")
    assert browser.text("#transcript li .text") == "message 0"
    browser.shot("chat-oldest", "a chat: the oldest page of its transcript")
    browser.find("a.newer").click()
    browser.wait_text(".pager", "page 2 of 3")


def test_answer_an_approval(browser: Browser, live: LiveHearth) -> None:
    code = browser.run(_held(live, "the spare key is under the blue pot"))
    signed_in(browser, "/ui/approvals")
    assert "remember" in browser.text("#approvals-pending")
    assert "the spare key is under the blue pot" in browser.text("#approvals-pending .arguments")
    browser.shot("approvals", "approvals: a call waiting for the owner, exactly what would run; the history")
    browser.press(f"approve-{code}")
    assert f"Approved {code}: remember" in browser.text("#flash")
    assert "Nothing is waiting for approval." in browser.text("#approvals-pending")
    assert "done" in browser.text("#approvals-history .status")
    browser.shot(
        "approvals-answered", "approvals: the call approved from the dashboard, run once, in the history"
    )
    facts = browser.run(memory.facts(live.app[STORE], _chat_id(browser, live)))
    assert [f.text for f in facts] == ["the spare key is under the blue pot"]


def test_every_other_page(browser: Browser, live: LiveHearth) -> None:
    store = live.app[STORE]
    turn_id = browser.run(_converse(live, "plan my week"))
    browser.run(_add_member(live, turn_id))
    chat = browser.run(add_chat(store, "api", "api:bob"))
    failed = Reply(chat_id=chat.id or 0, text="see you soon", status="failed", error="131047: re-engagement")
    browser.run(store.write(lambda s: s.add(failed)))
    signed_in(browser, "/ui/chats")
    assert "api:anna" in browser.text("#chats")
    browser.shot("chats", "chats: every chat with its channel, role, messages and last activity")
    browser.open("/ui/runs")
    browser.find(f"#turn-{turn_id}")
    browser.shot("runs", "runs: recent turns with model, duration, tokens, steps and team size")
    browser.open(f"/ui/runs/{turn_id}")
    assert "researcher" in browser.text("#tree")
    browser.shot("run", "a turn as a tree: the lead and its team member, with tokens and tool calls")
    browser.open("/ui/outbox")
    assert "131047: re-engagement" in browser.text("#outbox")
    browser.shot("outbox", "outbox: a reply that failed for good, with its reason, Retry and Drop")
    button = browser.find("#outbox button[id^=drop-]")
    browser.press(str(button.get_attribute("id")))
    assert "was dropped" in browser.text("#flash")
    browser.open("/ui/skills")
    browser.find("#sandbox")
    browser.shot("skills", "skills and MCP: loaded skills, the sandbox, MCP servers")
    browser.open("/ui/settings")
    assert "**********" in browser.text("#settings")
    browser.shot("settings", "settings: the effective configuration, secrets masked; the backup button")


async def _held(live: LiveHearth, fact: str) -> str:
    """A call to remember held for approval in the API chat `anna`, as the guard holds one; its code."""
    chat = await add_chat(live.app[STORE], "api", "api:anna")
    tool = live.app[TOOLS].get("remember")
    assert tool is not None
    assert chat.id is not None
    ctx = ToolContext(
        chat.id,
        "api:api:anna",
        ZoneInfo("UTC"),
        datetime.now(UTC),
        trust=Trust(role="owner"),
        turn_key="m1",
        call_key="m1:0",
    )
    await live.app[APPROVALS].request(
        tool, {"fact": fact}, ctx, "the policy always asks before this tool runs"
    )
    [row] = await live.app[APPROVALS].pending()
    return row.code


def _chat_id(browser: Browser, live: LiveHearth) -> int:
    chat = browser.run(add_chat(live.app[STORE], "api", "api:anna"))
    return int(chat.id or 0)


class _Client:
    """Just enough of a test client for the seeding helpers: the live app."""

    def __init__(self, live: LiveHearth) -> None:
        self.app = live.app


async def _converse(live: LiveHearth, text: str) -> int:
    """A message through the HTTP API, answered by the fake model; the id of the turn that answered it."""
    async with aiohttp.ClientSession(base_url=live.url, headers=AUTH) as http:
        async with http.post("/v1/messages", json={"chat": "anna", "text": text}) as response:
            message_id = (await response.json())["id"]
        async with http.get(f"/v1/messages/{message_id}?wait=10") as response:
            assert (await response.json())["status"] == "handled"
    recent = await runs.recent(live.app[STORE])
    return recent[0].turn.id or 0


async def _add_member(live: LiveHearth, turn_id: int) -> None:
    found = await runs.for_turn(live.app[STORE], turn_id)
    assert found is not None
    lead = next(r for r in found.runs if r.role == runs.LEAD)
    turn = found.turn
    member = Run(
        turn_id=turn_id,
        chat_id=turn.chat_id,
        turn_started_at=turn.started_at,
        parent_id=lead.id,
        depth=1,
        role="researcher",
        task="find three free evenings",
        model="qwen3:4b",
        status="done",
        duration_ms=2300,
        prompt_tokens=410,
        eval_tokens=64,
        steps=2,
        tool_calls=[{"name": "list_jobs", "arguments": {}}],
    )
    await runs.add(live.app[STORE], [member])
