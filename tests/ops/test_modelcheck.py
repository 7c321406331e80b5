"""`hearth doctor --model` against the fake model: scripted to do what a good model does, it passes;
answering only in words, it fails, and the command says what to try."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.ops import modelcheck
from assistant.ops.probes import PROBES
from assistant.settings import Settings
from tests.fakes.ollama import FakeOllama, Step, echo_responder
from tests.process import hearth_env, run_hearth

CLOCK = re.compile(r"It is now \w+ (\d{2} \w+ \d{4}, \d{2}:\d{2})")


def call(name: str, **arguments: Any) -> Step:
    return Step(tool_calls=[{"name": name, "arguments": arguments}])


def job_id(results: list[tuple[str, str]], word: str) -> int:
    listed = json.loads(next(content for name, content in results if name == "list_jobs"))
    return int(next(job["id"] for job in listed["jobs"] if word in json.dumps(job)))


def good_model(body: dict[str, Any]) -> Step:
    """What a model that works with Hearth does with each probe (written apart from the checks)."""
    messages = body["messages"]
    user_at = max(i for i, m in enumerate(messages) if m["role"] == "user")
    asked = messages[user_at]["content"]
    results = [(m.get("tool_name", ""), str(m["content"])) for m in messages[user_at:] if m["role"] == "tool"]
    clock = next(CLOCK.search(m["content"]) for m in messages if CLOCK.search(str(m["content"])))
    assert clock is not None
    now = datetime.strptime(clock.group(1), "%d %B %Y, %H:%M")
    if results and "error" in results[-1][1] and "Lisbon" in asked and len(results) == 1:
        return call("get_time", timezone="Europe/Lisbon")
    if results and not any(w in asked for w in ("cancel", "Pause")):
        return Step(content="Done.")
    rules: list[tuple[str, Step]] = [
        ("Tokyo", call("get_time", timezone="Asia/Tokyo")),
        ("What time is it?", call("get_time")),
        ("Lisbon", call("get_time", timezone="Europe/Lisbon")),
        (
            "pizza",
            call(
                "schedule_reminder",
                text="Take the pizza out",
                at=f"{now + timedelta(minutes=10):%Y-%m-%dT%H:%M}",
            ),
        ),
        (
            "dentist",
            call(
                "schedule_reminder", text="Call the dentist", at=f"{now + timedelta(days=1):%Y-%m-%d}T08:00"
            ),
        ),
        ("Every day", call("schedule_reminder", text="Take your vitamins", cron="30 7 * * *")),
        (
            "weekday",
            call("schedule_task", prompt="Look up the news and summarise it", cron="0 9 * * mon-fri"),
        ),
        ("Which reminders", call("list_jobs")),
        ("remember", call("remember", fact="Their daughter's name is Mia.")),
        ("Berlin", call("set_timezone", timezone="Europe/Berlin")),
        ("capital", Step(content="Paris.")),
        ("Thank", Step(content="You're welcome!")),
    ]
    if "cancel" in asked or "Pause" in asked:
        if not results:
            return call("list_jobs")
        if len(results) == 1:
            action = "cancel_job" if "cancel" in asked else "pause_job"
            return call(action, id=job_id(results, "plants" if "cancel" in asked else "vitamins"))
        return Step(content="Done.")
    return next((step for word, step in rules if word in asked), Step(content="Hm."))


async def test_a_good_model_passes_every_probe(settings: Settings, fake: FakeOllama) -> None:
    fake.responder = good_model
    rows = await modelcheck.run_all(settings)
    assert len(rows) >= 12
    failed = [(row.probe.name, row.got) for row in rows if not row.ok]
    assert failed == []
    lines, ok = modelcheck.summary(rows, "qwen3:4b", 0.75)
    assert ok
    assert lines[0] == f"score: {len(rows)}/{len(rows)} (100%) for qwen3:4b; passing needs 75%"


async def test_a_model_that_only_talks_fails(settings: Settings, fake: FakeOllama) -> None:
    fake.responder = echo_responder
    rows = await modelcheck.run_all(settings)
    passed = [row.probe.name for row in rows if row.ok]
    assert passed == ["no tool: thanks"]
    lines, ok = modelcheck.summary(rows, "tiny:1b", 0.75)
    assert not ok
    assert "try a model good at tools" in lines[-1]


async def test_the_command_prints_the_table_and_fails_below_the_threshold(tmp_path: Path) -> None:
    async with FakeOllama(responder=good_model) as fake:
        code, out, _ = await run_hearth("doctor", "--model", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
        assert code == 0, out
        assert re.search(
            r"^reminder in 10 min\s+schedule_reminder, due in 10 minutes\s+schedule_reminder .*yes$",
            out,
            re.M,
        )
        assert f"score: {len(PROBES)}/{len(PROBES)} (100%)" in out
        assert re.search(
            r"^first turn: \d+\.\d\d s for the first request of a conversation \(10 prompt tokens, \d+ char",
            out,
            re.M,
        )
        fake.responder = echo_responder
        code, out, _ = await run_hearth("doctor", "--model", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
        assert code == 1
        assert "NO" in out
        assert "try a model good at tools, such as" in out
