"""The fixed sentences a person gets when they send something Hearth cannot use yet."""

from __future__ import annotations

from collections.abc import Mapping

_REPLIES = {
    "image": "I can't look at pictures yet. Could you tell me in words what it shows?",
    "sticker": "I can't see stickers yet, only text.",
    "audio": "I can't listen to voice messages yet. Could you type it instead?",
    "video": "I can't watch videos yet. Could you tell me in words?",
    "document": "I can't open documents yet. Could you paste the part that matters?",
    "location": "I can't use shared locations yet. Could you type the place instead?",
    "contacts": "I can't use shared contacts yet. Could you type the details instead?",
    "interactive": "I can't use that kind of reply yet. Could you type your answer?",
}
_GENERIC = "I can only read text messages for now. Could you type it instead?"
# Answering these would only be noise: a reaction is not a request, a system notice is not
# from the person at all.
_SILENT = frozenset({"reaction", "system"})


def unsupported_reply(meta: Mapping[str, str]) -> str | None:
    """The short reply for a stored message of kind "media", by its `meta["type"]`.

    None means stay quiet (reactions and system notices).
    """
    mtype = meta.get("type", "")
    if mtype in _SILENT:
        return None
    return _REPLIES.get(mtype, _GENERIC)
