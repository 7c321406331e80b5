"""Counting what a fault did to the promise: from what the person sent, the rows the store kept and
what the provider received, how many messages were lost or answered twice and how many replies were
lost or sent twice.

The fake model answers every request with a text of its own, `r<N>: <the turn's message texts>`, so
each reply names the messages it answers and no two replies share a text: a text the provider took
more often than the store holds it is a reply sent twice.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

ANSWER_PREFIX = "r"
SEPARATOR = " | "


def answered_texts(reply: str) -> list[str]:
    """The message texts a reply of the fake model answers; none for any other reply (a notice)."""
    head, found, rest = reply.partition(": ")
    if not found or not head.startswith(ANSWER_PREFIX) or not head[1:].isdigit():
        return []
    return rest.split(SEPARATOR)


@dataclass(frozen=True)
class Send:
    """One send the provider accepted: its text, when (the test's monotonic clock), and to whom."""

    text: str
    at_s: float
    to: str = ""


@dataclass
class Tally:
    """What one run of a fault came to. `sent_twice_in_window` are the second copies of a reply
    whose first copy the provider accepted within `window_s` of a kill: the one duplicate the
    design allows (the provider took it, and Hearth died before it could write that down)."""

    fault: str
    messages: int = 0
    lost: int = 0
    answered_twice: int = 0
    replies_lost: int = 0
    sent_twice: int = 0
    sent_twice_in_window: int = 0
    effects_twice: int = 0
    kills: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def broken(self) -> int:
        """Every count the promise says is zero; a duplicate inside the window is not one of them."""
        outside = self.sent_twice - self.sent_twice_in_window
        return self.lost + self.answered_twice + self.replies_lost + outside + self.effects_twice

    def __str__(self) -> str:
        return (
            f"{self.fault}: {self.messages} messages, {self.kills} kills, lost {self.lost}, "
            f"answered twice {self.answered_twice}, replies lost {self.replies_lost}, sent twice "
            f"{self.sent_twice} ({self.sent_twice_in_window} in the window), effects twice "
            f"{self.effects_twice}; {'; '.join(self.notes)}"
        )


def count(
    fault: str,
    sent_by_person: Iterable[str],
    stored_replies: Sequence[str],
    sends: Sequence[Send],
    kills_at_s: Sequence[float] = (),
    window_s: float = 1.0,
) -> Tally:
    """The tally of one run: `sent_by_person` are the texts the person sent (each acknowledged by
    Hearth in the end), `stored_replies` the texts of every reply row in the store."""
    wanted = list(sent_by_person)
    answers: Counter[str] = Counter()
    for reply in stored_replies:
        answers.update(set(answered_texts(reply)))
    stored, provider = Counter(stored_replies), Counter(s.text for s in sends)
    tally = Tally(fault, messages=len(wanted), kills=len(kills_at_s))
    tally.lost = sum(1 for text in wanted if answers[text] == 0)
    tally.answered_twice = sum(1 for text in set(wanted) if answers[text] > 1)
    tally.replies_lost = sum(max(n - provider[text], 0) for text, n in stored.items())
    tally.sent_twice = sum(max(n - stored[text], 0) for text, n in provider.items())
    tally.sent_twice_in_window = _in_window(sends, stored, kills_at_s, window_s)
    return tally


def _in_window(
    sends: Sequence[Send], stored: Counter[str], kills_at_s: Sequence[float], window_s: float
) -> int:
    """How many extra copies follow a copy of the same text that the provider accepted within
    `window_s` of a kill, with that kill before the extra copy."""
    excused = 0
    by_text: dict[str, list[float]] = {}
    for send in sends:
        by_text.setdefault(send.text, []).append(send.at_s)
    for text, times in by_text.items():
        extra = len(times) - stored[text]
        if extra <= 0:
            continue
        times.sort()
        near_kill = sum(
            1
            for before, after in itertools.pairwise(times)
            if any(abs(before - k) <= window_s and k < after for k in kills_at_s)
        )
        excused += min(extra, near_kill)
    return excused
