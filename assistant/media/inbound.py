"""The media a stored message refers to, read from what its channel's parser put in `meta`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assistant.media.kinds import Kind, declared_kind

# Kinds of WhatsApp message that carry a file Hearth may use.
USABLE = frozenset({"image", "sticker", "audio", "document"})


@dataclass(frozen=True)
class Reference:
    """One file to fetch: a Cloud API media id or a Twilio URL, with what the sender declared."""

    kind: Kind
    declared: str
    media_id: str = ""
    url: str = ""
    name: str = ""


def references(channel: str, meta: Mapping[str, str]) -> list[Reference]:
    """The files of one message; empty when it carries none Hearth reads (video, location …)."""
    if channel == "whatsapp":
        return _whatsapp(meta)
    if channel == "twilio":
        return _twilio(meta)
    return []


def _whatsapp(meta: Mapping[str, str]) -> list[Reference]:
    mtype = meta.get("type", "")
    if mtype not in USABLE or not meta.get("media_id"):
        return []
    kind = "image" if mtype == "sticker" else declared_kind("", mtype)
    if kind is None or kind == "video":
        return []
    declared = meta.get("mime_type", "")
    return [Reference(kind, declared, media_id=meta["media_id"], name=meta.get("filename", ""))]


def _twilio(meta: Mapping[str, str]) -> list[Reference]:
    found = []
    for index in range(int(meta.get("num_media", "0") or 0)):
        url, declared = meta.get(f"media_url_{index}", ""), meta.get(f"media_type_{index}", "")
        kind = declared_kind(declared)
        if url and kind is not None and kind != "video" and "vcard" not in declared.lower():
            found.append(Reference(kind, declared, url=url))
    return found
