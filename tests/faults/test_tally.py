"""The counting behind the fault table, on runs written out by hand."""

from __future__ import annotations

import pytest

from tests.faults.tally import Send, answered_texts, count


@pytest.mark.parametrize(
    ("reply", "texts"),
    [
        ("r3: c0-m0", ["c0-m0"]),
        ("r12: c0-m1 | c0-m2", ["c0-m1", "c0-m2"]),
        ("The assistant's model is not available right now.", []),
        ("a partial answer: c0-m0", []),
        ("rx: c0-m0", []),
    ],
)
def test_a_reply_names_the_messages_it_answers(reply: str, texts: list[str]) -> None:
    assert answered_texts(reply) == texts


def test_a_clean_run_counts_nothing() -> None:
    tally = count("f", ["a", "b"], ["r1: a | b"], [Send("r1: a | b", 1.0)])
    assert (tally.messages, tally.broken) == (2, 0)


def test_each_failure_is_counted_once_in_its_own_column() -> None:
    stored = ["r1: a", "r2: a", "r3: c", "r4: d"]
    sends = [Send("r1: a", 1.0), Send("r2: a", 2.0), Send("r4: d", 3.0), Send("r4: d", 9.0), Send("x", 4.0)]
    tally = count("f", ["a", "b", "c", "d"], stored, sends)
    assert tally.lost == 1  # b: no reply names it
    assert tally.answered_twice == 1  # a: two replies
    assert tally.replies_lost == 1  # r3 never reached the provider
    assert tally.sent_twice == 2  # r4 twice, and x, which the store never held
    assert tally.sent_twice_in_window == 0
    assert tally.broken == 5


@pytest.mark.parametrize(
    ("kills_at_s", "excused"),
    [
        ([], 0),
        ([5.2], 1),  # the first copy was accepted just before the kill, the second after it
        ([4.5], 1),  # the kill came while the provider held the first copy's request
        ([2.0], 0),  # too long before the first copy
        ([7.0], 0),  # after both copies
    ],
)
def test_a_copy_is_excused_only_next_to_a_kill(kills_at_s: list[float], excused: int) -> None:
    sends = [Send("r1: a", 5.0), Send("r1: a", 6.5)]
    tally = count("f", ["a"], ["r1: a"], sends, kills_at_s, window_s=1.0)
    assert tally.sent_twice == 1
    assert tally.sent_twice_in_window == excused
    assert tally.broken == 1 - excused
