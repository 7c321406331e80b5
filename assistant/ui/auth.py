"""Who may open the dashboard: the password's scrypt hash, sessions with their CSRF tokens, the lockout."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# OWASP lists N=2^14, r=8, p=4 as equal in cost to its 2^16/8/1 minimum; unlike that one it fits
# in OpenSSL's default 32 MiB scrypt memory limit (each lane needs 128 * r * N = 16 MiB).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 4
MAX_SCRYPT_N = 2**20
HASH_PREFIX = "scrypt:"
KEY_BYTES = 32
SESSION_TTL = timedelta(hours=12)
# A session made for the login form (or by a stranger hammering it) lives briefly, and only so many.
ANONYMOUS_TTL = timedelta(hours=1)
MAX_ANONYMOUS = 1000
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKED_FOR = timedelta(minutes=15)

Clock = Callable[[], datetime]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    # validate=True: a character outside the alphabet is an error, not silently skipped.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


@dataclass(frozen=True)
class PasswordHash:
    """`scrypt:N:r:p:salt:key`, salt and key in unpadded URL-safe base64. No `$`, which a shell or
    compose would try to expand."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def __str__(self) -> str:
        return f"scrypt:{self.n}:{self.r}:{self.p}:{_b64(self.salt)}:{_b64(self.key)}"


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=maxmem)


def hash_password(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> PasswordHash:
    """A new hash of `password` with a random salt; ValueError for an empty password."""
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    return PasswordHash(n, r, p, salt, _derive(password, salt, n, r, p))


def parse_hash(text: str) -> PasswordHash:
    """Read a stored hash; ValueError when it is not one this module wrote."""
    parts = text.split(":")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("not an scrypt:N:r:p:salt:key hash")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error) as exc:
        raise ValueError("the hash's numbers or base64 parts are malformed") from exc
    if n < 2 or n & (n - 1) or n > MAX_SCRYPT_N or not 1 <= r <= 64 or not 1 <= p <= 64 or not key:
        raise ValueError("the hash's scrypt parameters are out of range")
    return PasswordHash(n, r, p, salt, key)


def stored_hash(setting: str) -> PasswordHash:
    """HEARTH_DASHBOARD_PASSWORD holds a hash (`scrypt:…`) or the password itself, hashed here."""
    return parse_hash(setting) if setting.startswith(HASH_PREFIX) else hash_password(setting)


def verify(password: str, stored: PasswordHash) -> bool:
    """True when `password` matches; compares in constant time. Slow on purpose: call off the loop."""
    key = _derive(password, stored.salt, stored.n, stored.r, stored.p)
    return hmac.compare_digest(key, stored.key)


@dataclass
class Session:
    """One browser's visit: signed in or not, its CSRF token, and a message for its next page."""

    id: str
    csrf: str
    signed_in: bool
    expires_at: datetime
    flash: str = ""

    def take_flash(self) -> str:
        text, self.flash = self.flash, ""
        return text


@dataclass
class Sessions:
    """Sessions kept in memory: they end at logout, after their time, or when Hearth restarts."""

    clock: Clock
    _by_id: dict[str, Session] = field(default_factory=dict)

    def new(self, signed_in: bool) -> Session:
        now = self.clock()
        self._prune(now)
        ttl = SESSION_TTL if signed_in else ANONYMOUS_TTL
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), signed_in, now + ttl)
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, ended or expired)."""
        session = self._by_id.get(session_id or "")
        if session is None:
            return None
        if session.expires_at <= self.clock():
            self.end(session.id)
            return None
        return session

    def end(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def _prune(self, now: datetime) -> None:
        for sid in [sid for sid, s in self._by_id.items() if s.expires_at <= now]:
            del self._by_id[sid]
        anonymous = [s for s in self._by_id.values() if not s.signed_in]
        for session in sorted(anonymous, key=lambda s: s.expires_at)[
            : max(len(anonymous) - MAX_ANONYMOUS, 0)
        ]:
            del self._by_id[session.id]


@dataclass
class Lockout:
    """After MAX_FAILURES wrong passwords from one client within FAILURE_WINDOW, that client may not
    try again (not even the right password) for LOCKED_FOR."""

    clock: Clock
    _failures: dict[str, list[datetime]] = field(default_factory=dict)
    _locked: dict[str, datetime] = field(default_factory=dict)

    def locked_until(self, client: str) -> datetime | None:
        until = self._locked.get(client)
        if until is not None and until <= self.clock():
            del self._locked[client]
            return None
        return until

    def failed(self, client: str) -> None:
        now = self.clock()
        recent = [at for at in self._failures.get(client, []) if at > now - FAILURE_WINDOW]
        recent.append(now)
        self._failures[client] = recent
        if len(recent) >= MAX_FAILURES:
            self._locked[client] = now + LOCKED_FOR
            del self._failures[client]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
