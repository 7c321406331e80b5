"""The password hash, the sessions and the lockout, as pure parts with a hand-driven clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.ui.auth import (
    LOCKED_FOR,
    MAX_ANONYMOUS,
    MAX_FAILURES,
    SESSION_TTL,
    Lockout,
    Sessions,
    hash_password,
    parse_hash,
    stored_hash,
    verify,
)
from tests.jobs.scheduling import FakeClock

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_hash_checks_its_password_and_no_other() -> None:
    stored = hash_password("open sesame", n=16)
    assert verify("open sesame", stored)
    assert not verify("open sesame ", stored)
    assert not verify("", stored)
    assert parse_hash(str(stored)) == stored
    assert "$" not in str(stored)


def test_the_default_cost_is_the_owasp_equivalent() -> None:
    stored = hash_password("x")
    assert (stored.n, stored.r, stored.p) == (2**14, 8, 4)
    assert verify("x", parse_hash(str(stored)))


def test_two_hashes_of_one_password_differ() -> None:
    assert str(hash_password("same", n=16)) != str(hash_password("same", n=16))


def test_the_setting_may_hold_the_password_itself() -> None:
    assert verify("plain words", stored_hash("plain words"))
    hashed = str(hash_password("hashed words", n=16))
    assert verify("hashed words", stored_hash(hashed))
    assert not verify(hashed, stored_hash(hashed))


@pytest.mark.parametrize(
    "text",
    [
        "scrypt:16:8:1:c2FsdA",  # a part missing
        "bcrypt:16:8:1:c2FsdA:a2V5",
        "scrypt:15:8:1:c2FsdA:a2V5",  # N not a power of two
        "scrypt:2097152:8:1:c2FsdA:a2V5",  # N too large to compute
        "scrypt:16:0:1:c2FsdA:a2V5",
        "scrypt:16:8:x:c2FsdA:a2V5",
        "scrypt:16:8:1:c2FsdA:",
        "scrypt:16:8:1:!!:a2V5",
    ],
)
def test_a_malformed_hash_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="hash"):
        parse_hash(text)


def test_an_empty_password_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_a_session_ends_at_logout_and_after_its_time() -> None:
    clock = FakeClock(START)
    sessions = Sessions(clock)
    first, second = sessions.new(signed_in=True), sessions.new(signed_in=True)
    assert sessions.get(first.id) is first
    assert first.csrf != second.csrf
    sessions.end(first.id)
    assert sessions.get(first.id) is None
    clock.now = START + SESSION_TTL
    assert sessions.get(second.id) is None
    assert sessions.get(None) is None
    assert sessions.get("made-up") is None


def test_anonymous_sessions_are_capped_and_signed_in_ones_kept() -> None:
    clock = FakeClock(START)
    sessions = Sessions(clock)
    kept = sessions.new(signed_in=True)
    made = []
    for index in range(MAX_ANONYMOUS + 5):
        clock.now = START + timedelta(seconds=index)
        made.append(sessions.new(signed_in=False))
    assert sessions.get(kept.id) is kept
    assert sessions.get(made[0].id) is None
    assert sessions.get(made[-1].id) is made[-1]


def test_the_lockout_starts_at_the_limit_and_lasts_its_time() -> None:
    clock = FakeClock(START)
    lockout = Lockout(clock)
    for _ in range(MAX_FAILURES - 1):
        lockout.failed("10.0.0.1")
    assert lockout.locked_until("10.0.0.1") is None
    lockout.failed("10.0.0.1")
    assert lockout.locked_until("10.0.0.1") == START + LOCKED_FOR
    assert lockout.locked_until("10.0.0.2") is None
    clock.now = START + LOCKED_FOR
    assert lockout.locked_until("10.0.0.1") is None


def test_old_failures_and_a_success_reset_the_count() -> None:
    clock = FakeClock(START)
    lockout = Lockout(clock)
    for _ in range(MAX_FAILURES - 1):
        lockout.failed("a")
    clock.now = START + timedelta(minutes=16)
    lockout.failed("a")
    assert lockout.locked_until("a") is None
    for _ in range(MAX_FAILURES - 2):
        lockout.failed("a")
    lockout.succeeded("a")
    lockout.failed("a")
    assert lockout.locked_until("a") is None
