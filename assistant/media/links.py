"""Signed, expiring links to files Hearth sends: `HEARTH_PUBLIC_URL/media/<token>` (for Twilio,
which fetches what it sends). A token names one file and an expiry and carries an HMAC over both."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path

KEY_FILE = "link.key"
SIGNATURE_CHARS = 32


def load_key(media_root: Path) -> bytes:
    """The signing key, made on first use and kept beside the media (only the owner reads it)."""
    path = media_root / KEY_FILE
    if not path.exists():
        media_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


def _signature(key: bytes, file_id: int, expires: int) -> str:
    digest = hmac.new(key, f"{file_id}.{expires}".encode(), hashlib.sha256).hexdigest()
    return digest[:SIGNATURE_CHARS]


def sign(key: bytes, file_id: int, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{file_id}-{expires}-{_signature(key, file_id, expires)}"


class BadToken(ValueError):
    """Not a token this Hearth signed."""


class Expired(ValueError):
    """A genuine token past its time."""


def verify(key: bytes, token: str, now: datetime) -> int:
    """The file id a token names; BadToken when forged or garbled, Expired when too old."""
    parts = token.split("-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise BadToken(token)
    file_id, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2].encode(), _signature(key, file_id, expires).encode()):
        raise BadToken(token)
    if now.timestamp() > expires:
        raise Expired(token)
    return file_id
