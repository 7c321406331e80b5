"""A fake model for memory tests: it writes summaries when asked and reports real-looking token counts."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from assistant.memory.summary import SUMMARY_PROMPT
from tests.fakes.ollama import Step, echo_responder

CHARS_PER_TOKEN = 3.0
SUMMARY_MARK = SUMMARY_PROMPT.split(".")[0]
_NAME = re.compile(r"[^.\n]*\bname is\b[^.\n]*")


def tokens(body: dict[str, Any]) -> int:
    """What this fake's tokenizer makes of a request: a token per three characters read."""
    chars = sum(len(str(m.get("content") or "")) for m in body.get("messages") or [])
    chars += sum(len(json.dumps(m["tool_calls"])) for m in body.get("messages") or [] if m.get("tool_calls"))
    chars += len(json.dumps(body["tools"])) if body.get("tools") else 0
    return math.ceil(chars / CHARS_PER_TOKEN)


def is_summary(body: dict[str, Any]) -> bool:
    messages = body.get("messages") or []
    return bool(messages) and str(messages[0].get("content", "")).startswith(SUMMARY_MARK)


def summary_of(body: dict[str, Any]) -> str:
    """Keep the old summary's and the new lines' sentences that say someone's name, nothing else."""
    text = str(body["messages"][-1]["content"])
    old, _, new = text.partition("\n\nNew lines:\n")
    kept: list[str] = []
    for sentence in _NAME.findall(old + "\n" + new):
        sentence = sentence.strip().removeprefix("Person: ")
        if sentence not in kept:
            kept.append(sentence)
    return ". ".join(kept) + "." if kept else "Small talk."


def responder(body: dict[str, Any]) -> Step:
    """Summaries for summary requests, the echo otherwise; both with this fake's token count."""
    if is_summary(body):
        return Step(content=summary_of(body), prompt_eval_count=tokens(body))
    step = echo_responder(body)
    step.prompt_eval_count = tokens(body)
    return step
