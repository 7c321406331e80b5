"""The short, fixed sentences a person gets when their media cannot be used, and why."""

from __future__ import annotations

from assistant.media.errors import Gone, MediaError, Mistyped, NoText, TooLarge, Unreachable, Unreadable

NO_VISION = "I can't see pictures with the model I run on. Could you tell me in words what it shows?"
NO_EARS = "I can't listen to voice messages here: no speech-to-text server is set up. Could you type it?"
UNSUPPORTED_DOCUMENT = "I can read PDFs and text, Markdown or CSV files, but not this kind of document."
HEARD = "I heard: “{text}”"

_BY_ERROR: dict[type[MediaError], str] = {
    TooLarge: "That file is too large for me: the limit is {mb} MB.",
    Gone: "I couldn't download that file (the link may have expired). Could you send it again?",
    Unreachable: "I couldn't get that file just now. Could you send it again in a little while?",
    Mistyped: "That file isn't what it says it is, so I left it alone.",
}
_BY_KIND: dict[tuple[type[MediaError], str], str] = {
    (Unreadable, "image"): "I couldn't open that picture. Could you send it again as a photo?",
    (Unreadable, "audio"): "I couldn't play that recording. Could you send it again, or type it?",
    (Unreadable, "document"): "I couldn't read that document: it may be damaged or protected by a password.",
    (NoText, "document"): "That document has no text I can read (a scan?). Photos of the pages might work.",
    (NoText, "audio"): "I couldn't make out any words in that recording.",
    (Unreachable, "image"): "I couldn't look at that picture just now. Could you send it again later?",
    (Unreachable, "audio"): "I couldn't transcribe your voice message just now. Try again later, or type it.",
}
GENERIC = "I couldn't use that file."


def reply_for(exc: MediaError, kind: str, max_mb: int) -> str:
    """The sentence for `exc` raised while handling media of `kind` (image, audio, document)."""
    for cls in type(exc).__mro__:
        found = _BY_KIND.get((cls, kind)) if issubclass(cls, MediaError) else None
        found = found or _BY_ERROR.get(cls)
        if found:
            return found.format(mb=max_mb)
    return GENERIC
