"""Why a piece of media could not be used; each maps to one short, fixed reply."""

from __future__ import annotations

from assistant.errors import HearthError


class MediaError(HearthError):
    """Media that cannot be used. `reason` says why, for the log; the class picks the reply."""


class TooLarge(MediaError):
    """Over HEARTH_MEDIA_MAX_MB."""


class Gone(MediaError):
    """The provider no longer has it (an expired link or media id)."""


class Unreachable(MediaError):
    """The provider, or a speech server, did not answer well; trying later may work."""


class Mistyped(MediaError):
    """Its bytes are not what its declared type says, or are of no kind Hearth reads."""


class Unreadable(MediaError):
    """The right kind of file, but it could not be decoded (a broken image, a locked PDF)."""


class NoText(MediaError):
    """A document without extractable text (a scan), or a voice note without words."""
