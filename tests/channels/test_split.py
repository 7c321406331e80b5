"""Splitting long replies at natural boundaries, and sending the parts in order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.channels.base import SendError
from assistant.channels.split import send_split, split_text
from assistant.types import Address


@pytest.mark.parametrize(
    ("text", "limit", "parts"),
    [
        ("", 10, []),
        ("   \n ", 10, []),
        ("short", 10, ["short"]),
        ("  padded  ", 10, ["padded"]),
        ("First one. Second one.", 12, ["First one.", "Second one."]),
        ("Line one\nline two here", 15, ["Line one", "line two here"]),
        ("Para one.\n\nPara two is here.", 20, ["Para one.", "Para two is here."]),
        ("alpha beta gamma delta", 11, ["alpha beta", "gamma delta"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("Hi. abcdefghijklmnop", 10, ["Hi.", "abcdefghij", "klmnop"]),
        ("Is it? Yes! Good.", 8, ["Is it?", "Yes!", "Good."]),
    ],
)
def test_split_text(text: str, limit: int, parts: list[str]) -> None:
    assert split_text(text, limit) == parts


def test_split_prefers_a_line_end_over_a_late_sentence_end() -> None:
    text = "a" * 50 + "\n" + "b" * 30 + ". " + "c" * 30
    assert split_text(text, 100) == ["a" * 50, "b" * 30 + ". " + "c" * 30]


def test_split_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_text("x", 0)


texts = st.text(
    st.characters(codec="utf-8") | st.sampled_from([" ", "\n", ".", "!", "?", "\t"]), max_size=400
)


@given(texts, st.integers(min_value=1, max_value=60))
def test_parts_fit_and_keep_every_visible_character(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert all(part == part.strip() for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


class Recorder:
    """A TextSender that records texts and fails on the texts it is told to."""

    limit = 10

    def __init__(self, failing: set[str] | None = None) -> None:
        self.sent: list[str] = []
        self.failing = failing or set()

    async def send_text(self, to: Address, text: str) -> str:
        if text in self.failing:
            raise SendError("boom", retryable=True)
        self.sent.append(text)
        return f"id{len(self.sent)}"


TO = Address("sms", "+1555")


async def test_send_split_sends_every_part_in_order() -> None:
    sender = Recorder()
    ids = await send_split(sender, TO, "One two. Three four. Five.")
    assert sender.sent == ["One two.", "Three", "four.", "Five."]
    assert ids == ["id1", "id2", "id3", "id4"]


async def test_send_split_reports_and_skips_delivered_parts() -> None:
    sender = Recorder(failing={"Three"})
    with pytest.raises(SendError) as caught:
        await send_split(sender, TO, "One two. Three four. Five.")
    assert caught.value.delivered_parts == 1
    sender.failing.clear()
    await send_split(sender, TO, "One two. Three four. Five.", skip=caught.value.delivered_parts)
    assert sender.sent == ["One two.", "Three", "four.", "Five."]
